//! What the properties found, each reduced to its smallest case.

use std::path::Path;

use diesel_migrations::MigrationHarness;

use crate::common::{self, application_database, Project};
use crate::reading::{entries, integrity, rows, schema_readable, views_select};

/// A project whose head is `head_sql` (one hand-written migration) and whose schema.rs is
/// `schema`, and a database file at head with `rows` inserted.
pub fn reduced(
    head_sql: &str,
    schema: &str,
    rows: &str,
) -> (Project, tempfile::TempDir, std::path::PathBuf) {
    let project = Project {
        dir: tempfile::tempdir().unwrap(),
        tmp: tempfile::tempdir().unwrap(),
    };
    project.write(
        "diesel.toml",
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    );
    project.write("schema/schema.rs", schema);
    project.write("versions/2026-01-01-000000_head/up.sql", head_sql);
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("app.sqlite3");
    let mut conn = application_database(&path);
    common::upgrade(&mut conn, &project);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(rows)
        .unwrap();
    (project, db, path)
}

/// Applies the pending migration to `path`, then reverts it: rows, views and sqlite_schema
/// must come through.
pub fn up_and_down(project: &Project, path: &Path, counts: &[(&str, i64)]) {
    let mut conn = application_database(path);
    let sql = rusqlite::Connection::open(path).unwrap();
    let before = entries(&sql);
    common::upgrade(&mut conn, project);
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
    for (table, n) in counts {
        assert_eq!(rows(&sql, table), *n, "{table} after up");
    }
    let newest = project.migrations().pop().unwrap();
    conn.revert_migration(&*newest).unwrap();
    assert_eq!(entries(&sql), before, "down restores sqlite_schema");
    integrity(&sql).unwrap();
    views_select(&sql).unwrap();
}

pub const PARENT_AND_CHILD: &str =
    "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
CREATE VIEW names AS SELECT id, name FROM users;
";
pub const PARENT_AND_CHILD_ROWS: &str = "INSERT INTO users VALUES (1, '1'), (2, NULL);
INSERT INTO posts VALUES (1, 1), (2, 2), (3, NULL);";

/// Found as `the rebuild of users does not run on head: FOREIGN KEY constraint failed`
/// (exit 2): the planner tried the rebuild of a parent with foreign keys on, so dropping the
/// old table deleted rows its children still reference.
#[test]
pub fn a_parent_whose_children_have_no_on_delete_action_can_be_rebuilt() {
    let (project, _db, path) = reduced(
        PARENT_AND_CHILD,
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::joinable!(posts -> users (users_id));
",
        PARENT_AND_CHILD_ROWS,
    );
    project.generate("numeric names");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2), ("posts", 3)]);
}

/// Found as exit 3 (`view names: no such table: main.users`): the file turns
/// `legacy_alter_table` on for its rebuilds, and a table rename under it no longer carries
/// views, triggers and other tables' REFERENCES to the new name, unlike the rename the
/// planner ran.
#[test]
pub fn a_table_renamed_in_a_migration_that_rebuilds_keeps_its_views_and_references() {
    let (project, _db, path) = reduced(
        PARENT_AND_CHILD,
        "diesel::table! { people (id) { id -> Integer, name -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::joinable!(posts -> people (users_id));
",
        PARENT_AND_CHILD_ROWS,
    );
    project.generate_with(&["rename users", "--rename-table", "users=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2), ("posts", 3)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: posts: a row references a missing
/// parent row`): dropping a table with the NOT NULL column that references it, as the
/// refusal to drop a referenced table advises, gave a down that recreates the table empty
/// and re-adds the column with a value referencing nothing. Refused now, saying why; the
/// same with a nullable column works, as down re-adds it NULL.
#[test]
pub fn a_table_dropped_with_a_not_null_reference_to_it_is_refused_a_nullable_one_is_not() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER NOT NULL REFERENCES users (id));
";
    let schema = "diesel::table! { posts (id) { id -> Integer, } }\n";
    let rows = "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1);";
    let (project, _db, _path) = reduced(head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop users", "--default", "posts.users_id=1"]);
    assert!(
        run.stderr.contains("posts.users_id") && run.stderr.contains("NOT NULL"),
        "{run:?}"
    );

    let (project, _db, path) = reduced(
        &head.replace(" NOT NULL REFERENCES", " REFERENCES"),
        schema,
        rows,
    );
    project.generate("drop users");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 1)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: UNIQUE constraint failed: users.name`):
/// a dropped NOT NULL column comes back in down with the one value `--default` gives every
/// row, which a UNIQUE index (or a CHECK) may refuse. That value is the user's input, tried
/// on the planning rows now: refused with what SQLite said, while one the rows accept works.
#[test]
pub fn a_default_that_down_cannot_give_every_row_is_refused_one_that_can_is_not() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name SMALLINT NOT NULL CHECK (name >= 0));
CREATE UNIQUE INDEX users_name ON users (name);
";
    let schema = "diesel::table! { users (id) { id -> Integer, } }\n";
    let rows = "INSERT INTO users VALUES (1, 10), (2, 20);";
    let (project, _db, _path) = reduced(head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop name", "--default", "users.name=9"]);
    assert!(
        run.stderr.contains("UNIQUE constraint failed: users.name")
            && run.stderr.contains("`--default users.name=9`"),
        "{run:?}"
    );

    let head = head.replace("CREATE UNIQUE INDEX", "CREATE INDEX");
    let (project, _db, path) = reduced(&head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop name", "--default", "users.name=-1"]);
    assert!(run.stderr.contains("CHECK constraint failed"), "{run:?}");
    project.generate_with(&["drop name", "--default", "users.name=9"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: SQL logic error`): up renamed a table
/// and SQLite carried a view to the new name; down rebuilt the table back under its old
/// name, which left the view naming a table that no longer exists until down recreated it at
/// its end, and a DROP COLUMN in between failed on that view. Down now drops the views and
/// triggers it restores first, and recreates them last.
#[test]
pub fn down_restores_a_view_of_a_renamed_table_around_its_other_alterations() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE VIEW post_ids AS SELECT id FROM posts;
",
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }
diesel::table! { people (id) { id -> Integer, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1), (2);",
    );
    project.generate_with(&["rename posts", "--rename-table", "posts=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("people", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: table "group" already exists`): a table
/// renamed away and a new one created under its old name; down rebuilt the renamed table
/// back before dropping the new one. Down now drops what up created first.
#[test]
pub fn a_table_renamed_away_and_replaced_by_a_new_one_of_its_name_comes_back() {
    let (project, _db, path) = reduced(
        "CREATE TABLE \"group\" (id INTEGER NOT NULL PRIMARY KEY);\n",
        "diesel::table! { people (id) { id -> Integer, } }
diesel::table! { group (id) { id -> Integer, name -> Text, } }
",
        "INSERT INTO \"group\" VALUES (1), (2);",
    );
    project.generate_with(&["rename group", "--rename-table", "group=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2), ("group", 0)]);
}

/// Found as exit 3 (`down.sql did not restore the schema exactly: trigger tr_0 changed`): a
/// trigger of one table names a column of another that up renames, so SQLite rewrites the
/// trigger; its own table only gained a column, which down drops in place, and the trigger
/// was taken to come back with a rebuild that never happened.
#[test]
pub fn a_trigger_rewritten_by_a_rename_comes_back_when_its_table_only_gained_a_column() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER touch AFTER UPDATE OF id ON posts
BEGIN
    UPDATE users SET id = id WHERE id = NEW.id;
END;
",
        "diesel::table! { users (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1), (2);",
    );
    project.generate_with(&["rename users.id", "--rename", "users.id=title"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("posts", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: UNIQUE constraint failed: items.note`):
/// the same as above with the value coming from the column's own DEFAULT, which no flag can
/// change: refused, naming the DEFAULT.
#[test]
pub fn a_dropped_unique_column_whose_default_down_cannot_give_every_row_is_refused() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, note SMALLINT DEFAULT 0);
CREATE UNIQUE INDEX items_note ON items (note);
",
        "diesel::table! { items (id) { id -> Integer, } }\n",
        "INSERT INTO items VALUES (1, 10), (2, 20);",
    );
    let run = project.assert_rejected(&["generate", "drop note"]);
    assert!(
        run.stderr.contains("UNIQUE constraint failed: items.note")
            && run.stderr.contains("DEFAULT 0"),
        "{run:?}"
    );
}

/// Found as exit 3 (`cannot INSERT into generated column "name"`) when down rebuilt a table
/// with a generated column, and as a refusal (`the rebuild of posts does not run on head`)
/// when up did: both copied every column, generated ones included.
#[test]
pub fn a_table_with_a_generated_column_is_rebuilt_up_and_down() {
    let head = "CREATE TABLE posts (
    id INTEGER NOT NULL PRIMARY KEY,
    score TEXT,
    doubled BOOLEAN NOT NULL GENERATED ALWAYS AS (id * 2),
    stored INTEGER GENERATED ALWAYS AS (id + 1) STORED
);
";
    let rows = "INSERT INTO posts (id, score) VALUES (1, '1'), (2, NULL);";
    let (project, _db, path) = reduced(
        head,
        "diesel::table! { posts (title) { title -> Integer, score -> Nullable<Text>, doubled -> Bool, stored -> Nullable<Integer>, } }\n",
        rows,
    );
    project.generate_with(&["rename id", "--rename", "posts.id=title"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);

    let (project, _db, path) = reduced(
        head,
        "diesel::table! { posts (id) { id -> Integer, score -> Nullable<BigInt>, doubled -> Bool, stored -> Nullable<Integer>, } }\n",
        rows,
    );
    project.generate("numeric scores");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);
}

/// Found as exit 3 (`after up.sql, the values of users.parent_id changed: NULL became 1`):
/// seeds of a nullable column referencing its own table were NULL, and the proof took the
/// backfill of a column made NOT NULL for lost values. Seeds never hold NULL, so a row now
/// references itself.
#[test]
pub fn a_self_reference_made_not_null_is_proven() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER REFERENCES users (id));\n",
        "diesel::table! { users (id) { id -> Integer, parent_id -> Integer, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 1);",
    );
    project.generate_with(&["parents required", "--default", "users.parent_id=1"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`after up.sql the database still differs from schema.rs: change column
/// posts.id from Integer to Nullable<Integer>`): SQLite keeps the key of a WITHOUT ROWID
/// table NOT NULL, declared or not, so schema.rs cannot make it nullable (refused now), and
/// a column that leaves such a key loses that NOT NULL unless the rebuild declares it.
#[test]
pub fn the_key_of_a_without_rowid_table_stays_not_null() {
    let head = "CREATE TABLE posts (id INTEGER PRIMARY KEY, code TEXT, PRIMARY KEY (id, code)) WITHOUT ROWID;\n";
    let head = head.replace("id INTEGER PRIMARY KEY,", "id INTEGER,");
    let rows = "INSERT INTO posts VALUES (1, 'a'), (2, 'b');";
    let (project, _db, _path) = reduced(
        &head,
        "diesel::table! { posts (id, code) { id -> Nullable<Integer>, code -> Text, } }\n",
        rows,
    );
    let run = project.assert_rejected(&["generate", "nullable id"]);
    assert!(run.stderr.contains("WITHOUT ROWID"), "{run:?}");

    let (project, _db, path) = reduced(
        &head,
        "diesel::table! { posts (id) { id -> Integer, code -> Text, } }\n",
        rows,
    );
    project.generate("key by id");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2)]);
}

/// Found by reading the refusals: `table users cannot be dropped: posts.users_id references
/// it` when the same migration renames posts and drops that column, because the check looked
/// the column up under the table's old name.
#[test]
pub fn a_table_can_be_dropped_with_the_reference_to_it_in_a_renamed_table() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
",
        "diesel::table! { people (id) { id -> Integer, } }\n",
        "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1), (2, NULL);",
    );
    project.generate_with(&["drop users", "--rename-table", "posts=people"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("people", 2)]);
}

/// Found as exit 3 (`after up.sql, the values of users.name changed: [.., "NULL", ..] became
/// [.., "0", ..]`): seeding fired a trigger that inserts rows of its own, with NULL where
/// seeds never have one, and the proof took the backfill of a column made NOT NULL for lost
/// values. Seeds stand for rows a database already holds: triggers no longer fire on them.
#[test]
pub fn seeds_do_not_fire_triggers() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TABLE log (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TRIGGER logged AFTER INSERT ON users
BEGIN
    INSERT INTO log (id) SELECT coalesce(max(id), 0) + 1000 FROM log;
END;
",
        "diesel::table! { users (id) { id -> Integer, name -> Nullable<Bool>, } }
diesel::table! { log (id) { id -> Integer, name -> Bool, } }
",
        "INSERT INTO users VALUES (1, 1), (2, NULL);",
    );
    project.generate_with(&["names required", "--default", "log.name=0"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2), ("log", 2)]);
}

/// Found by the properties as exit 3 (`down.sql failed on seeded rows: SQL logic error`): a
/// trigger whose `UPDATE OF` column is dropped fires on no statement, so preparing one never
/// compiled it, and up put it back unreadable (every later ALTER TABLE then fails with
/// `error in trigger touch: no such column: name`). `objects` now looks its `UPDATE OF`
/// columns up by name, and generate refuses (exit 2) as it does for a trigger that fires.
#[test]
pub fn a_trigger_update_of_a_dropped_column_is_refused() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, name BOOLEAN);
CREATE TRIGGER touch AFTER UPDATE OF name ON tags
BEGIN
    UPDATE tags SET name = name WHERE id = NEW.id;
END;
",
        "diesel::table! { tags (id) { id -> Integer, } }\n",
        "INSERT INTO tags VALUES (1, 1);",
    );
    let run = project.assert_rejected(&["generate", "drop name"]);
    assert!(run.stderr.contains("trigger touch"), "{run:?}");
}

/// Found as exit 3 in a second generate (`error in index ix_0 after drop column: no such
/// column: order`): the first one dropped a column named with a keyword, and its index
/// `ON users ("order")` was tried on the rebuilt table, where SQLite reads a double-quoted
/// name it cannot find as a string: the index came back on the constant 'order' (and every
/// later ALTER TABLE fails on it). A view selecting `"order"` would silently select the
/// string. The planner now tries them with double-quoted strings off.
#[test]
pub fn a_dropped_column_named_with_quotes_takes_its_index_and_is_refused_under_a_view() {
    let head = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT, \"order\" INTEGER);
CREATE INDEX users_order ON users (\"order\");
";
    let schema = "diesel::table! { users (id) { id -> Integer, name -> Nullable<Text>, } }\n";
    let rows = "INSERT INTO users VALUES (1, 'a', 1), (2, NULL, 2);";
    let (project, _db, path) = reduced(head, schema, rows);
    let dir = project.generate("drop order");
    assert!(
        project
            .read(&format!("{dir}/up.sql"))
            .contains("WARNING: drops index users_order"),
        "{}",
        project.read(&format!("{dir}/up.sql"))
    );
    up_and_down(&project, &path, &[("users", 2)]);
    let sql = rusqlite::Connection::open(&path).unwrap();
    common::upgrade(&mut application_database(&path), &project);
    schema_readable(&sql).unwrap();

    let head = format!("{head}CREATE VIEW orders AS SELECT id, \"order\" FROM users;\n");
    let (project, _db, _path) = reduced(&head, schema, rows);
    let run = project.assert_rejected(&["generate", "drop order"]);
    assert!(run.stderr.contains("view orders"), "{run:?}");
}

/// Found as exit 3 (`down.sql failed on seeded rows: SQL logic error`): down rebuilt items
/// back with its trigger's stored text, which names tags.id while tags still had the name up
/// gave it, and then dropped a column of posts in place, which SQLite refuses while any
/// trigger names a missing column. Down now drops columns in place after every rebuild.
#[test]
pub fn down_drops_columns_in_place_after_its_rebuilds() {
    let (project, _db, path) = reduced(
        "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER tagged AFTER INSERT ON items
BEGIN
    INSERT INTO tags (id) SELECT coalesce(max(id), 0) + 1000 FROM tags;
END;
",
        "diesel::table! { tags (title) { title -> Integer, } }
diesel::table! { items (title) { title -> Integer, } }
diesel::table! { posts (id) { id -> Integer, name -> Nullable<Text>, } }
",
        "INSERT INTO tags VALUES (1); INSERT INTO items VALUES (1); INSERT INTO posts VALUES (1);",
    );
    project.generate_with(&[
        "rename keys",
        "--rename",
        "tags.id=title",
        "--rename",
        "items.id=title",
    ]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("tags", 2), ("items", 1), ("posts", 1)]);
}

/// Found as `Cannot add a column with non-constant default` when the migration ran on rows:
/// whether ADD COLUMN takes a default was tried on the planning copy's seeded rows, and a
/// table whose CHECK refuses the seeds has none there, so the try succeeded. Whether the
/// default is constant is now tried on a row of its own.
#[test]
pub fn a_non_constant_default_is_rebuilt_in_a_table_seeds_cannot_fill() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name SMALLINT NOT NULL CHECK (name IN (0, 1)));\n",
        "diesel::table! { users (id) { id -> Integer, name -> SmallInt, at -> Timestamp, } }\n",
        "INSERT INTO users VALUES (1, 0), (2, 1);",
    );
    project.generate_with(&["stamp users", "--default", "users.at=CURRENT_TIMESTAMP"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: error in trigger tr_0: no such column:
/// id`): up renamed users.id and dropped tags, whose trigger inserts into users (id); down
/// made tags and its trigger again from their stored text, which names users.id, and then
/// renamed users.title back to id, which SQLite refuses while a trigger names a missing
/// column. Down now renames back before it makes any table again.
#[test]
pub fn down_renames_back_before_it_makes_a_dropped_table_again() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);
CREATE TRIGGER filled AFTER INSERT ON tags
BEGIN
    INSERT INTO users (id) SELECT coalesce(max(id), 0) + 1000 FROM users;
END;
",
        "diesel::table! { users (title) { title -> Integer, } }
",
        "INSERT INTO users VALUES (1); INSERT INTO tags VALUES (1);",
    );
    project.generate_with(&["rename and drop", "--rename", "users.id=title"]);
    project.assert_check_passes();
    // The trigger added a row to users when tags got its own.
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`after down.sql, users lost the row (id, order) = (2147483647, NULL)`):
/// the key grew to (id, order) while order, made NOT NULL, was backfilled; the proof matched
/// down's rows by the new key, which the backfill changed. Rows are matched by the key
/// declared before whenever both sides still read it.
#[test]
pub fn a_key_that_grows_over_a_backfilled_column_is_proven_by_the_old_key() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, \"order\" BOOLEAN);\n",
        "diesel::table! { users (id, order) { id -> Integer, order -> Bool, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 1);",
    );
    project.generate_with(&["key by id and order", "--default", "users.order=0"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: users.seen_at of the row ... holds '0',
/// which the copy as Float turns into 0.0`): a column retyped from Float to Text and made
/// NOT NULL, backfilled with `0`, which Text holds as `'0'` and which down's conversion back
/// cannot give back. Such a `--default` is now exit 2; `'0.0'` comes back.
#[test]
pub fn a_backfill_that_down_cannot_give_back_is_refused_before_the_proof() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, seen_at REAL);\n",
        "diesel::table! { users (id) { id -> Integer, seen_at -> Text, } }\n",
        "INSERT INTO users VALUES (1, NULL), (2, 2.5);",
    );
    let refused =
        project.assert_rejected(&["generate", "seen as text", "--default", "users.seen_at=0"]);
    assert!(
        refused
            .stderr
            .contains("`--default users.seen_at=0` does not come back from Float"),
        "{refused:?}"
    );
    project.generate_with(&["seen as text", "--default", "users.seen_at='0.0'"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 2)]);
}

/// Found as `the rebuild of posts does not run on head: posts.notes_id of the row id =
/// -9223372036854775808 holds -9223372036854775808, which Diesel cannot read as Integer`:
/// a reference retyped from BigInt to Integer held its parent's seeds, which no i32 holds,
/// and the planning copy refused the conversion on them. Seeds decide what is proven, never
/// what is planned: the parent's keys are seeded with values both types keep.
#[test]
pub fn a_reference_narrowed_to_integer_is_planned_whatever_its_parent_s_seeds_are() {
    let (project, _db, path) = reduced(
        "CREATE TABLE notes (id INT8 NOT NULL PRIMARY KEY, body TEXT);
CREATE TABLE posts (id INT8 NOT NULL PRIMARY KEY, notes_id BIGINT NOT NULL REFERENCES notes (id));
",
        "diesel::table! { notes (id) { id -> BigInt, body -> Nullable<Text>, } }
diesel::table! { posts (id) { id -> BigInt, notes_id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(notes, posts,);
",
        "INSERT INTO notes VALUES (1, 'a'), (3000000000, 'b');
INSERT INTO posts VALUES (1, 1), (2, 3000000000);",
    );
    let run = project.run(&["generate", "narrow the reference"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("Proven"), "{run:?}");
    project.assert_check_passes();
    // A real row whose reference no i32 holds stops the upgrade, naming it.
    let mut conn = application_database(&path);
    let source =
        diesel_migrations::FileBasedMigrations::from_path(project.file("versions")).unwrap();
    let refused = conn.run_pending_migrations(source).unwrap_err().to_string();
    assert!(
        refused.contains("posts.notes_id of the row id = 2 holds 3000000000"),
        "{refused}"
    );
    drop(conn);
    let sql = rusqlite::Connection::open(&path).unwrap();
    sql.execute_batch("UPDATE posts SET notes_id = 1 WHERE id = 2;")
        .unwrap();
    up_and_down(&project, &path, &[("posts", 2), ("notes", 2)]);
}

/// Found as exit 3 (`down.sql failed on seeded rows: ... a row references a missing parent
/// row`) once parents' keys were seeded for a retyped reference: Bool keeps two values, so
/// the parent's keys collided and it was not seeded. A reference made Bool names the
/// parent's plain row instead.
#[test]
pub fn a_reference_made_bool_is_proven_on_rows() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id) ON DELETE SET NULL);
",
        "diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (id) { id -> Integer, users_id -> Bool, } }
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
",
        "INSERT INTO users VALUES (1), (2);
INSERT INTO posts VALUES (1, 1), (2, NULL);",
    );
    let run = project.run(&[
        "generate",
        "users_id as bool",
        "--default",
        "posts.users_id=1",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("Proven on seeded data (2 tables, 6 rows)"),
        "{run:?}"
    );
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 2), ("users", 2)]);
}

/// Found as `after up, posts.note holds ["0"] instead of ["2"]`: dropping `id`, which a
/// generated column computes from as `"id" * 2`, rebuilt the table with that expression,
/// and SQLite read `"id"`, no column any more, as the text 'id': every row's value changed
/// with no error. The rebuild is tried with double-quoted strings off, and refused.
#[test]
pub fn dropping_a_column_a_generated_column_reads_is_refused_not_turned_into_text() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE posts (\n    \"id\" INTEGER NOT NULL,\n    \"note\" BOOLEAN GENERATED ALWAYS AS (\"id\" * 2),\n    \"score\" DOUBLE\n);\n",
        "diesel::table! { posts (rowid) { rowid -> Integer, note -> Nullable<Bool>, score -> Nullable<Double>, } }\n",
        "INSERT INTO posts (rowid, id, score) VALUES (10, 1, 0.5);",
    );
    let refused = project.assert_rejected(&["generate", "drop id", "--default", "posts.id=1"]);
    assert!(
        refused
            .stderr
            .contains("the rebuild of posts does not run on head: no such column: \"id\" - should this be a string literal in single-quotes?\n"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("reading a double-quoted name"),
        "{refused:?}"
    );

    // Unquoted, the new table cannot be made at all: said of the rebuild too (it was
    // "cannot read the schema (a table's shape)").
    let (project, _db, _path) = reduced(
        "CREATE TABLE posts (id INT, note BOOLEAN GENERATED ALWAYS AS (id * 2), score DOUBLE);\n",
        "diesel::table! { posts (rowid) { rowid -> Integer, note -> Nullable<Bool>, score -> Nullable<Double>, } }\n",
        "INSERT INTO posts (rowid, id, score) VALUES (10, 1, 0.5);",
    );
    let refused = project.assert_rejected(&["generate", "drop id"]);
    assert!(
        refused
            .stderr
            .contains("the rebuild of posts does not run on head: no such column: id"),
        "{refused:?}"
    );
}

/// Found as exit 3 (`after up.sql the database still differs from schema.rs: add joinable
/// posts.users_id -> users`): dropping posts.id dropped the table constraint `FOREIGN KEY
/// (users_id) REFERENCES users (id)` as one that "uses a dropped column", read from its
/// words (`id`, the parent's key). Whether a constraint survives is now asked of SQLite.
#[test]
pub fn dropping_a_column_keeps_a_foreign_key_that_names_a_parent_column_of_that_name() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);
CREATE TABLE posts (
    id INTEGER NOT NULL,
    users_id INTEGER NOT NULL,
    FOREIGN KEY (users_id) REFERENCES users (id),
    CONSTRAINT posts_pair CHECK (users_id IS NULL OR id IS NULL OR 1)
);
",
        "diesel::table! { users (id) { id -> Integer, } }
diesel::table! { posts (rowid) { rowid -> Integer, users_id -> Integer, } }
diesel::joinable!(posts -> users (users_id));
diesel::allow_tables_to_appear_in_same_query!(users, posts,);
",
        "INSERT INTO users VALUES (1);
INSERT INTO posts (rowid, id, users_id) VALUES (10, 5, 1);",
    );
    let newest = project.generate_with(&["drop posts.id", "--default", "posts.id=1"]);
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(
        up.contains("FOREIGN KEY (users_id) REFERENCES users (id)"),
        "{up}"
    );
    assert!(!up.contains("\n    CONSTRAINT posts_pair"), "{up}");
    project.assert_check_passes();
    up_and_down(&project, &path, &[("posts", 1), ("users", 1)]);
}

/// Skipped by this test for a long time as a known bug: a trigger `UPDATE OF` a generated
/// column fires on no statement (no UPDATE sets one), so preparing statements never
/// compiled its body, and dropping a column the body names left a trigger SQLite cannot
/// read (every later ALTER TABLE fails). Renaming its table, tried and rolled back, makes
/// SQLite read it: the drop is refused naming it.
#[test]
pub fn a_trigger_update_of_a_generated_column_is_read_before_what_it_names_goes() {
    let (project, _db, _path) = reduced(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, g INTEGER GENERATED ALWAYS AS (a * 2));
CREATE TABLE o (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);
CREATE TRIGGER tr AFTER UPDATE OF g ON t BEGIN UPDATE o SET x = x + 1 WHERE id = NEW.id; END;
",
        "diesel::table! { t (id) { id -> Integer, a -> Nullable<Integer>, g -> Nullable<Integer>, } }
diesel::table! { o (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(t, o,);
",
        "INSERT INTO t (id, a) VALUES (1, 2); INSERT INTO o VALUES (1, 0);",
    );
    let refused = project.assert_rejected(&["generate", "drop o.x"]);
    assert!(
        refused
            .stderr
            .contains("drop column o.x would break trigger tr"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("no such column: x"), "{refused:?}");
}

/// Found by the property test in CI (exit 3: `down.sql failed on seeded rows: foreign key
/// mismatch - "posts" referencing "tags"`): round a cycle of references, down made posts
/// again (referencing tags (id)) before it gave tags back its key (id), as the cycle was
/// broken by name. A table whose key comes back now goes first.
#[test]
pub fn down_gives_a_key_back_before_the_cycle_s_references_to_it() {
    let (project, _db, path) = reduced(
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, posts_id INTEGER REFERENCES posts (id));
CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, users_id INTEGER REFERENCES users (id));
CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, tags_id INTEGER REFERENCES tags (id));
",
        "diesel::table! { users (id) { id -> Nullable<Integer>, posts_id -> Nullable<Integer>, } }
diesel::table! { tags (id, users_id) { id -> Integer, users_id -> Nullable<Integer>, } }
diesel::table! { posts (id) { id -> Integer, } }
diesel::allow_tables_to_appear_in_same_query!(users, tags, posts,);
",
        "PRAGMA foreign_keys = OFF;
INSERT INTO users VALUES (1, 1); INSERT INTO tags VALUES (1, 1); INSERT INTO posts VALUES (1, 1);",
    );
    project.generate_with(&["the cycle"]);
    project.assert_check_passes();
    up_and_down(&project, &path, &[("users", 1), ("tags", 1), ("posts", 1)]);
}
