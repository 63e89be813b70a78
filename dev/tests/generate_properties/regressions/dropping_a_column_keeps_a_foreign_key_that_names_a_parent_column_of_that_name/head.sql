CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (
    id INTEGER NOT NULL,
    users_id INTEGER NOT NULL,
    FOREIGN KEY (users_id) REFERENCES users (id),
    CONSTRAINT posts_pair CHECK (users_id IS NULL OR id IS NULL OR 1)
);
