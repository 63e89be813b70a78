CREATE TABLE posts (
    id INTEGER NOT NULL,
    note BOOLEAN NOT NULL,
    name BOOLEAN NOT NULL,
    PRIMARY KEY (id, note)
);
