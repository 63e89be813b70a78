CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER,
    nickname TEXT
);

CREATE VIEW user_names AS SELECT id, name, nickname FROM users;
