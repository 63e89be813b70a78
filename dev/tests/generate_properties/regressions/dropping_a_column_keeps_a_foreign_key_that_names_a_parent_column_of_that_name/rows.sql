INSERT INTO users VALUES (1);
INSERT INTO posts (rowid, id, users_id) VALUES (10, 5, 1);