CREATE TABLE posts (
    "id" INTEGER NOT NULL,
    "note" BOOLEAN GENERATED ALWAYS AS ("id" * 2),
    "score" DOUBLE
);
