INSERT INTO users VALUES (1, '1'), (2, NULL);
INSERT INTO posts VALUES (1, 1), (2, 2), (3, NULL);