//! Nullability changed in place (`ALTER TABLE ... ALTER COLUMN ... SET/DROP NOT NULL`) where
//! the oldest SQLite the project runs on has it, and copied where it may not: both paths
//! generated, proven by `generate`, then run by the `dev` binary on a database with rows.

use crate::common::{ok_on, run_on, Database, Project};

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n";

/// A project whose one hand-written version makes `people`; `cargo` is what its Cargo.toml
/// adds to the manifest and `lock` its Cargo.lock, if any.
fn people(cargo: &str, lock: Option<&str>) -> Project {
    let project = Project::fixture("fresh");
    project.write("Cargo.toml", &format!("{MANIFEST}{cargo}"));
    if let Some(lock) = lock {
        project.write("Cargo.lock", lock);
    }
    project.add_version(
        "2026-01-01-000000_people",
        "CREATE TABLE people (\n    id INTEGER NOT NULL PRIMARY KEY,\n    nick TEXT,\n    name TEXT NOT NULL,\n    bio TEXT\n);\n",
        "DROP TABLE people;\n",
    );
    project.write("schema/schema.rs", &schema("Nullable<Text>", "Text"));
    let init = project.run(&["init"]);
    assert_eq!(init.code, Some(0), "{init:?}");
    project
}

fn schema(nick: &str, name: &str) -> String {
    format!(
        "// @generated automatically by Diesel CLI.\n\ndiesel::table! {{\n    people (id) {{\n        id -> Integer,\n        nick -> {nick},\n        name -> {name},\n        bio -> Nullable<Text>,\n    }}\n}}\n"
    )
}

const SETTING: &str = "\n[package.metadata.dev-migrate]\noldest-sqlite = \"VERSION\"\n";

fn lock(dependencies: &str) -> String {
    format!("version = 4\n\n[[package]]\nname = \"libsqlite3-sys\"\nversion = \"0.38.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\n{dependencies}]\n")
}

/// A database at head with rows chosen to break a copy: rowids with gaps, text that looks
/// like a number, a NUL byte, a blob, and NULLs.
fn seeded(project: &Project) -> Database {
    let db = Database::new();
    ok_on(project, &db, &["upgrade"]);
    db.exec(
        "INSERT INTO people VALUES (3, '007', 'Ann', NULL), (10, NULL, 'Bo', 'x' || char(0) || 'y'), (41, NULL, '1e2', x'00ff'), (9007199254740993, 'z', ' 5 ', '');",
    );
    db
}

/// Every value of `people` by key, as SQLite quotes it, and where the table's pages start.
fn values(db: &Database) -> (Vec<Vec<String>>, i64) {
    let rows = db.rows("SELECT id, quote(nick), quote(name), quote(bio) FROM people ORDER BY id");
    let root = db.count("SELECT rootpage FROM sqlite_schema WHERE name = 'people'");
    (rows, root)
}

#[test]
fn a_column_made_not_null_is_altered_in_place_only_where_every_sqlite_it_runs_on_can() {
    let bundled = lock(" \"cc\",\n \"pkg-config\",\n \"vcpkg\",\n");
    let system = lock(" \"pkg-config\",\n \"vcpkg\",\n");
    for (cargo, lock, in_place) in [
        (SETTING.replace("VERSION", "3.53"), None, true),
        (
            SETTING.replace("VERSION", "3.47.2"),
            Some(bundled.as_str()),
            false,
        ),
        (String::new(), Some(bundled.as_str()), true),
        (String::new(), Some(system.as_str()), false),
        (String::new(), None, false),
    ] {
        let case = format!("{cargo:?} with lock {lock:?}");
        let project = people(&cargo, lock);
        let db = seeded(&project);
        let (before, root) = values(&db);
        project.write("schema/schema.rs", &schema("Text", "Text"));
        let dir = project.generate_with(&["nick required", "--default", "people.nick='anonymous'"]);
        let up = project.read(&format!("{dir}/up.sql"));
        assert_eq!(
            up.contains("ALTER TABLE people ALTER COLUMN nick SET NOT NULL;"),
            in_place,
            "{case}: {up}"
        );
        assert_eq!(
            !up.contains("RENAME TO _dev_old_people"),
            in_place,
            "{case}: {up}"
        );
        if !in_place {
            assert!(
                up.contains(
                    "-- Copied, not altered in place: SQLite 3.53 changes nullability in place"
                ),
                "{case}: {up}"
            );
        }

        ok_on(&project, &db, &["upgrade"]);
        let (after, root_after) = values(&db);
        let filled: Vec<Vec<String>> = before
            .iter()
            .map(|row| {
                let mut row = row.clone();
                if row[1] == "NULL" {
                    row[1] = "'anonymous'".to_owned();
                }
                row
            })
            .collect();
        assert_eq!(after, filled, "{case}: only the NULLs change");
        // A copy makes a new table; in place, the rows stay on the pages they were on.
        assert_eq!(
            root_after == root,
            in_place,
            "{case}: root page {root} then {root_after}"
        );
        assert_eq!(
            db.count("SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'nick'"),
            1,
            "{case}"
        );

        ok_on(&project, &db, &["downgrade", "-1"]);
        assert_eq!(
            values(&db).0,
            filled,
            "{case}: down keeps the filled values"
        );
        assert_eq!(
            db.count("SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'nick'"),
            0,
            "{case}"
        );
    }
}

#[test]
fn a_down_that_makes_a_column_not_null_again_names_the_row_holding_null_and_changes_nothing() {
    let project = people(&SETTING.replace("VERSION", "3.53"), None);
    let db = seeded(&project);
    project.write(
        "schema/schema.rs",
        &schema("Nullable<Text>", "Nullable<Text>"),
    );
    let dir = project.generate("names optional");
    let (up, down) = (
        project.read(&format!("{dir}/up.sql")),
        project.read(&format!("{dir}/down.sql")),
    );
    assert!(
        up.contains("ALTER TABLE people ALTER COLUMN name DROP NOT NULL;"),
        "{up}"
    );
    // The column is not the table's last: SQLite's SET NOT NULL gives its text back exactly.
    assert!(
        down.contains("ALTER TABLE people ALTER COLUMN name SET NOT NULL;"),
        "{down}"
    );
    assert!(!down.contains("_dev_old_people"), "{down}");

    ok_on(&project, &db, &["upgrade"]);
    db.exec("INSERT INTO people (id, name) VALUES (77, NULL);");
    let before = (db.schema(), values(&db), db.applied());
    let run = run_on(&project, &db, &["downgrade", "-1"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("people.name of the row id = 77 is NULL, and down makes the column NOT NULL again; give such rows a value first"),
        "{run:?}"
    );
    assert_eq!(
        (db.schema(), values(&db), db.applied()),
        before,
        "nothing changed"
    );

    db.exec("UPDATE people SET name = 'Cy' WHERE id = 77;");
    ok_on(&project, &db, &["downgrade", "-1"]);
    assert_eq!(
        db.count("SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'name'"),
        1
    );
}

#[test]
fn a_setting_that_names_no_sqlite_release_is_refused_where_it_is_written() {
    let project = people(&SETTING.replace("VERSION", "newest"), None);
    project.write("schema/schema.rs", &schema("Text", "Text"));
    let run = project.assert_rejected(&["generate", "nick", "--default", "people.nick=''"]);
    assert!(
        run.stderr
            .contains("oldest-sqlite = \"newest\" is no SQLite release"),
        "{run:?}"
    );
    assert!(run.stderr.contains("Cargo.toml:6:17"), "{run:?}");
    assert!(run.stderr.contains("oldest-sqlite = \"3.53\""), "{run:?}");
}

/// Hand-written versions may use SQLite 3.53's statements too: the tool replays, verifies
/// and applies them as SQLite runs them.
#[test]
fn hand_written_alter_column_and_add_constraint_run_through_every_command() {
    let project = people("", None);
    let db = seeded(&project);
    let version = project.later_version("constraints");
    project.add_version(
        &version,
        "ALTER TABLE people ALTER COLUMN name DROP NOT NULL;\nALTER TABLE people ADD CONSTRAINT short_nick CHECK (nick IS NOT 'reserved');\n",
        "ALTER TABLE people DROP CONSTRAINT short_nick;\nALTER TABLE people ALTER COLUMN name SET NOT NULL;\n",
    );
    project.write(
        "schema/schema.rs",
        &schema("Nullable<Text>", "Nullable<Text>"),
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    let verify = project.run(&["verify"]);
    assert_eq!(verify.code, Some(0), "{verify:?}");

    let pending = run_on(&project, &db, &["upgrade", "--sql"]);
    assert_eq!(pending.code, Some(0), "{pending:?}");
    assert!(!pending.stdout.contains("Copies every row"), "{pending:?}");
    // Versions run as they stand on a real database: the new CHECK is SQLite's to enforce.
    db.exec("INSERT INTO people (id, nick, name) VALUES (5, 'reserved', 'Di');");
    let run = run_on(&project, &db, &["upgrade"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("constraint failed"), "{run:?}");
    assert!(
        run.stderr.contains("the new `CONSTRAINT short_nick CHECK (nick IS NOT 'reserved')` of people is not true in 1 row: id = 5"),
        "{run:?}"
    );
    db.exec("DELETE FROM people WHERE id = 5;");
    ok_on(&project, &db, &["upgrade"]);
    assert!(db.schema().iter().any(|(name, sql)| name == "people"
        && sql
            .as_deref()
            .is_some_and(|s| s.contains("CONSTRAINT short_nick CHECK"))));
    ok_on(&project, &db, &["downgrade", "-1"]);
}

/// Filling NULLs in place is an `UPDATE`, which fires the table's UPDATE triggers; a copy
/// fires none. So a table with one is copied, and the file says why; a trigger on INSERT
/// alone (the blog's `users_audit`) fires on no UPDATE and keeps nothing from in place.
#[test]
fn a_table_whose_triggers_the_fill_would_fire_is_copied_and_the_file_says_why() {
    for touched in [false, true] {
        let project = Project::fixture("blog");
        project.write(
            "Cargo.toml",
            &format!("{MANIFEST}{}", SETTING.replace("VERSION", "3.53")),
        );
        if touched {
            let version = project.later_version("touch");
            project.add_version(
                &version,
                "CREATE TRIGGER users_touched AFTER UPDATE OF age ON users\nBEGIN\n    INSERT INTO audit (note) VALUES ('age of ' || NEW.id);\nEND;\n",
                "DROP TRIGGER users_touched;\n",
            );
        }
        let (_db, mut conn, _) = crate::common::seeded_blog(&project);
        let count =
            |conn: &mut diesel::SqliteConnection, sql: &str| crate::common::count(conn, sql);
        assert!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM users WHERE age IS NULL"
            ) > 0
        );
        let audited = count(&mut conn, "SELECT count(*) AS n FROM audit");
        project.edit_schema(
            "        age -> Nullable<Integer>,",
            "        age -> Integer,",
        );
        let dir = project.generate_with(&["ages known", "--default", "users.age=0"]);
        let up = project.read(&format!("{dir}/up.sql"));
        assert_eq!(up.contains("RENAME TO _dev_old_users"), touched, "{up}");
        assert_eq!(
            up.contains("-- Copied, not altered in place: filling the NULLs of users.age would fire triggers (users_touched), and a copy fires none."),
            touched,
            "{up}"
        );
        crate::common::upgrade(&mut conn, &project);
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM audit"),
            audited,
            "no trigger fired"
        );
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM users WHERE age IS NULL"
            ),
            0
        );
    }
}
