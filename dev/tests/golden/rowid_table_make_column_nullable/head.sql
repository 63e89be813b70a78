CREATE TABLE events (
    kind TEXT NOT NULL,
    payload TEXT
);
