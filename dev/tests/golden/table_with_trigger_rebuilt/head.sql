CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER
);

CREATE TABLE audit (
    id INTEGER NOT NULL PRIMARY KEY,
    note TEXT NOT NULL
);

CREATE TRIGGER users_audit AFTER INSERT ON users
BEGIN
    INSERT INTO audit (note) VALUES ('user ' || NEW.id);
END;
