CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER
);

CREATE VIEW adults AS SELECT id, name, age FROM users WHERE age >= 18;
