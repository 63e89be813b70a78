use super::*;

fn database(sql: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(sql).unwrap();
    conn
}

#[test]
fn reads_tables_columns_keys_indexes_and_triggers() {
    let conn = database(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(255) UNIQUE, age INT DEFAULT 3);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users ON DELETE CASCADE);
         CREATE INDEX posts_user ON posts (user_id);
         CREATE TRIGGER t AFTER INSERT ON posts BEGIN SELECT 1; END;
         CREATE TABLE __diesel_schema_migrations (version TEXT PRIMARY KEY);",
    );
    let db = inspect(&conn, &TableFilter::All).unwrap();
    let names: Vec<_> = db.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["posts", "users"]);
    let users = db.table("users").unwrap();
    assert_eq!(users.columns[1].declared_type, "VARCHAR(255)");
    assert_eq!(users.columns[2].default.as_deref(), Some("3"));
    assert_eq!(users.primary_key()[0].name, "id");
    assert!(
        users.indexes[0].sql.is_none(),
        "UNIQUE makes an automatic index"
    );
    let posts = db.table("posts").unwrap();
    assert_eq!(posts.foreign_keys[0].parent, "users");
    assert_eq!(posts.foreign_keys[0].parent_column, None);
    assert_eq!(posts.foreign_keys[0].on_delete, "CASCADE");
    assert_eq!(posts.indexes[0].name, "posts_user");
    assert_eq!(posts.triggers[0].name, "t");
    assert!(!posts.columns[0].not_null);
}

#[test]
fn filter_hides_tables_but_their_foreign_keys_still_count() {
    let conn = database(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));",
    );
    let filter = TableFilter::Except(vec![regex::Regex::new("^b$").unwrap()]);
    let db = inspect(&conn, &filter).unwrap();
    assert_eq!(db.tables.len(), 1);
    assert_eq!(db.all_foreign_keys.len(), 1);
}

/// Reading again only the tables whose entries changed gives what reading every table
/// gives, whatever the change: the oracle is `inspect` itself, after each statement.
#[test]
fn reading_the_changed_tables_again_is_reading_them_all() {
    let conn = database(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email TEXT UNIQUE, age INT);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users ON DELETE CASCADE, title TEXT NOT NULL);
         CREATE TABLE tags (name TEXT PRIMARY KEY, post_id INTEGER REFERENCES posts) WITHOUT ROWID;
         CREATE INDEX posts_user ON posts (user_id);
         CREATE VIEW titles AS SELECT title FROM posts;",
    );
    let entries = |conn: &Connection| catalog::entries(conn).unwrap();
    let mut known = inspect(&conn, &TableFilter::All).unwrap();
    for statement in [
        "ALTER TABLE users ADD COLUMN bio TEXT DEFAULT 'x'",
        "ALTER TABLE users RENAME TO people",
        "ALTER TABLE posts RENAME COLUMN title TO headline",
        "ALTER TABLE posts ALTER COLUMN headline DROP NOT NULL",
        "CREATE UNIQUE INDEX tags_post ON tags (post_id)",
        "CREATE TRIGGER tagged AFTER INSERT ON tags BEGIN SELECT 1; END",
        "ALTER TABLE people DROP COLUMN age",
        // A virtual table makes shadow tables, each an entry of its own.
        "CREATE VIRTUAL TABLE notes USING fts5(body)",
        "DROP TABLE notes",
        "CREATE TABLE extra (a, b REFERENCES people (id))",
        "DROP INDEX posts_user",
        "DROP TABLE tags",
        "DROP VIEW titles",
    ] {
        let before = entries(&conn);
        conn.execute_batch(statement).unwrap();
        let now = entries(&conn);
        let changed = catalog::differing_tables(&before, &now);
        known = reinspect(&conn, &known, &changed).unwrap();
        assert_eq!(
            known,
            inspect(&conn, &TableFilter::All).unwrap(),
            "{statement}"
        );
    }
}

/// A table is found by a binary search of the tables, which SQLite sorted by name: byte
/// order, upper case before lower, as Rust compares strings.
#[test]
fn every_table_is_found_by_its_name_whatever_its_case_or_characters() {
    let names = [
        "b", "Bee", "_x", "Zed", "a b", "é", "a", "\"q\"", "[w]", "1",
    ];
    let sql: String = names
        .iter()
        .map(|n| format!("CREATE TABLE {} (id);", crate::sqlite::quote::quote(n)))
        .collect();
    let db = inspect(&database(&sql), &TableFilter::All).unwrap();
    for name in names {
        assert_eq!(
            db.table(name).map(|t| t.name.as_str()),
            Some(name),
            "{name}"
        );
    }
    assert!(db.table("A").is_none() && db.table("zed").is_none());
}
