CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT, "order" INTEGER);
CREATE INDEX users_order ON users ("order");
