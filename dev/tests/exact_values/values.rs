//! Every value keeps its exact bytes through a type change, up and down, or the migration
//! stops naming the row and the value; defaults and `--convert` give values of the column's
//! type.

use crate::common::{ok_on, run_on, Database, Project};
use crate::{blog_with_events, events};

/// A database at the version before the newest, holding one good row and one `bad` value in
/// `column` at rowid 35.
fn before_newest(project: &Project, column: &str, good: &str, bad: &str) -> Database {
    let db = Database::new();
    let versions = project.versions();
    let previous = &versions[versions.len() - 2];
    ok_on(project, &db, &["upgrade", previous]);
    db.exec(&format!(
        "INSERT INTO events (rowid, name, {column}) VALUES (10, 'good', {good}), (35, 'bad', {bad});"
    ));
    db
}

#[test]
fn a_type_change_keeps_each_value_exactly_or_fails_naming_the_row_and_the_value() {
    // (column, from, to, a value the new type keeps, values it does not, shown as SQLite
    // shows them).
    let cases: [(&str, &str, &str, &str, &[&str]); 6] = [
        (
            "code",
            "Nullable<Text>",
            "Nullable<Integer>",
            "'5'",
            &["'007'", "' 5 '", "'1e2'", "'-0'"],
        ),
        (
            "code",
            "Nullable<Text>",
            "Nullable<Timestamp>",
            "'2026-01-01 10:00:00'",
            &["'0001'", "'1.50'"],
        ),
        (
            "code",
            "Nullable<Text>",
            "Nullable<Double>",
            "'1.5'",
            &["'1e400'", "'00012'"],
        ),
        (
            "size",
            "Nullable<BigInt>",
            "Nullable<Double>",
            "5",
            &["9007199254740993"],
        ),
        (
            "size",
            "Nullable<BigInt>",
            "Nullable<Integer>",
            "2147483647",
            &["3000000000"],
        ),
        (
            "ratio",
            "Nullable<Double>",
            "Nullable<Float>",
            "0.5",
            &["1.0e+300"],
        ),
    ];
    for (column, from, to, good, bad_values) in cases {
        let project = blog_with_events();
        project.edit_schema(
            &format!("        {column} -> {from},"),
            &format!("        {column} -> {to},"),
        );
        let dir = project.generate("retype");
        let up = project.read(&format!("{dir}/up.sql"));
        assert!(
            up.contains(&format!(
                "-- WARNING: changes events.{column} from {from} to {to}"
            )),
            "{up}"
        );
        for bad in bad_values {
            let db = before_newest(&project, column, good, bad);
            let before = (db.schema(), events(&db));
            let failed = run_on(&project, &db, &["upgrade"]);
            assert_eq!(failed.code, Some(2), "{column} {to} {bad}: {failed:?}");
            assert!(
                failed.stderr.contains(&format!(
                    "events.{column} of the row rowid = 35 holds {bad}, which"
                )),
                "{column} {to} {bad}: {failed:?}"
            );
            assert_eq!((db.schema(), events(&db)), before, "{bad}: not atomic");
        }
        // Values the new type keeps are kept exactly, and come back exactly.
        let db = before_newest(&project, column, good, "NULL");
        let before = events(&db);
        ok_on(&project, &db, &["upgrade"]);
        let kept = db.rows(&format!(
            "SELECT quote({column}) FROM events WHERE rowid = 10"
        ));
        ok_on(&project, &db, &["downgrade", "-1"]);
        assert_eq!(
            events(&db),
            before,
            "{column} {to}: down changed values ({kept:?})"
        );
    }
}

#[test]
fn the_down_of_a_type_change_is_guarded_and_warned_too() {
    let project = blog_with_events();
    project.edit_schema(
        "        size -> Nullable<BigInt>,",
        "        size -> Nullable<Text>,",
    );
    let dir = project.generate("sizes as text");
    let down = project.read(&format!("{dir}/down.sql"));
    assert!(
        down.contains("-- WARNING: changes events.size from Nullable<Text> to Nullable<BigInt>"),
        "{down}"
    );
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    for bad in ["'hello'", "'007'"] {
        db.exec(&format!(
            "DELETE FROM events; INSERT INTO events (rowid, name, size) VALUES (10, 'good', '12'), (35, 'bad', {bad});"
        ));
        let before = (db.schema(), events(&db));
        let failed = run_on(&project, &db, &["downgrade", "-1", "--yes"]);
        assert_eq!(failed.code, Some(2), "{bad}: {failed:?}");
        assert!(
            failed.stderr.contains(&format!(
                "events.size of the row rowid = 35 holds {bad}, which"
            )),
            "{bad}: {failed:?}"
        );
        assert_eq!((db.schema(), events(&db)), before, "{bad}: not atomic");
    }
}

#[test]
fn a_default_must_be_a_value_of_its_column_s_type_for_every_use() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        created_at -> Timestamp,\n",
        "        created_at -> Timestamp,\n        score -> Integer,\n",
    );
    for refused in ["'n/a'", "x'00'", "1e999"] {
        let before = project.snapshot();
        let run = project.assert_rejected(&[
            "generate",
            "add score",
            "--default",
            &format!("users.score={refused}"),
        ]);
        assert!(
            run.stderr.contains(&format!(
                "`--default users.score={refused}` is no value of Integer"
            )),
            "{refused}: {run:?}"
        );
        assert!(run.stderr.contains("--default users.score=0"), "{run:?}");
        assert_eq!(
            project.snapshot(),
            before,
            "{refused}: something was written"
        );
    }
    // The backfill of a column made NOT NULL is held to the same rule.
    project.edit_schema("        score -> Integer,\n", "");
    project.edit_schema(
        "        age -> Nullable<Integer>,",
        "        age -> Integer,",
    );
    let run =
        project.assert_rejected(&["generate", "age required", "--default", "users.age='old'"]);
    assert!(
        run.stderr
            .contains("`--default users.age='old'` is no value of Integer"),
        "{run:?}"
    );
    project.generate_with(&["age required", "--default", "users.age=0"]);
}

#[test]
fn convert_gives_the_conversion_a_value_cannot_make_on_its_own_with_a_warning() {
    let project = blog_with_events();
    project.edit_schema(
        "        code -> Nullable<Text>,",
        "        code -> Nullable<Integer>,",
    );
    // Only for a column whose type changes, and only one expression.
    let refused =
        project.assert_rejected(&["generate", "codes as numbers", "--convert", "events.name=1"]);
    assert!(
        refused
            .stderr
            .contains("`--convert events.name=...` names no column whose type changes"),
        "{refused:?}"
    );
    let refused = project.assert_rejected(&[
        "generate",
        "codes as numbers",
        "--convert",
        "events.code=1); DROP TABLE events; --",
    ]);
    assert!(
        refused.stderr.contains("is not one SQL expression"),
        "{refused:?}"
    );

    let dir = project.generate_with(&[
        "codes as numbers",
        "--convert",
        "events.code=CAST(trim(code) AS INTEGER)",
    ]);
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(
        up.contains("-- WARNING: converts events.code with `CAST(trim(code) AS INTEGER)`: its values become what that gives"),
        "{up}"
    );
    let db = before_newest(&project, "code", "'5'", "' 007 '");
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(
        db.rows("SELECT quote(code) FROM events ORDER BY rowid"),
        [["5"], ["7"]]
    );
    // A value the expression gives that Diesel cannot read still stops it.
    let db = before_newest(&project, "code", "'5'", "'3000000000'");
    let failed = run_on(&project, &db, &["upgrade"]);
    assert_eq!(failed.code, Some(2), "{failed:?}");
    assert!(
        failed.stderr.contains("events.code of the row rowid = 35 holds '3000000000', which Diesel cannot read as Integer (i32)"),
        "{failed:?}"
    );
}
