//! The planner's real output, read back: every effect it attaches to a step is the warning
//! the rendered file holds, and every variant of `Effect` is produced by some change.

use crate::sqlite::catalog;
use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::generate::diff::{diff, diff_objects};
use crate::generate::render::{render, Header};
use crate::history::effect::WARNING_PREFIX;
use crate::schema::introspect::{inspect, TableFilter};
use crate::schema::objects_sql::{self, SqlObject};
use crate::schema::{model, schema_rs};

/// Which variant an effect is. Exhaustive, so a new variant must be added here, and then to
/// the schemas below until the planner is seen producing it.
fn variant(effect: &Effect) -> &'static str {
    match effect {
        Effect::DropsTable { .. } => "drops table",
        Effect::DropsColumn { .. } => "drops column",
        Effect::DropsColumns { .. } => "drops columns of a rebuilt table",
        Effect::ChangesType { .. } => "changes type",
        Effect::DropsIndex { .. } => "drops index",
        Effect::DropsConstraint { .. } => "drops constraint",
        Effect::DropsAutoincrement { .. } => "drops AUTOINCREMENT",
        Effect::ChecksReference { .. } => "checks a new reference",
        Effect::ConvertsColumn { .. } => "converts a column",
        Effect::DropsObject { .. } => "drops an object objects.sql no longer declares",
        Effect::FillsNulls { .. } => "fills the NULLs of a column made NOT NULL",
        Effect::RequiresValues { .. } => "makes a column NOT NULL again",
    }
}
const VARIANTS: usize = 12;

const HEAD: &str = "
CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    age DOUBLE,
    note TEXT,
    score INTEGER,
    CHECK (length(note) < 100)
);
CREATE INDEX users_score ON users (score);
CREATE TABLE posts (id INTEGER PRIMARY KEY NOT NULL, body TEXT, extra TEXT);
CREATE TABLE tags (id INTEGER PRIMARY KEY NOT NULL, label TEXT);
CREATE TRIGGER posts_touch AFTER UPDATE ON posts BEGIN SELECT 1; END;
CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, user_id INTEGER);
CREATE TABLE labels (id INTEGER PRIMARY KEY NOT NULL, caption TEXT);
";

/// users: age narrows, name becomes nullable (so down makes it NOT NULL again), note (which
/// a CHECK uses) and score (indexed) go, email comes; posts
/// drops a plain column in place and loses its trigger, which objects.sql no longer
/// declares; tags goes; counters gets a key that cannot keep AUTOINCREMENT; notes.user_id
/// comes to reference users; labels.caption is made NOT NULL, its NULLs filled.
const TARGET: &str = "
diesel::table! {
    labels (id) {
        id -> Integer,
        caption -> Text,
    }
}

diesel::table! {
    notes (id) {
        id -> Integer,
        user_id -> Nullable<Integer>,
    }
}

diesel::joinable!(notes -> users (user_id));

diesel::table! {
    counters (id, v) {
        id -> Nullable<Integer>,
        v -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Nullable<Text>,
        age -> Nullable<Integer>,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    posts (id) {
        id -> Integer,
        body -> Nullable<Text>,
    }
}
";

#[test]
fn every_effect_is_the_warning_its_file_holds_and_every_variant_occurs() {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("head.sqlite3");
    rusqlite::Connection::open(&head)
        .unwrap()
        .execute_batch(HEAD)
        .unwrap();
    let conn = rusqlite::Connection::open(&head).unwrap();
    let before = inspect(&conn, &TableFilter::All).unwrap();
    let head_schema = model::from_database(&before, false).unwrap();
    let target = schema_rs::parse(Path::new("schema.rs"), TARGET).unwrap();
    let mut changes = diff(&head_schema, &target);
    let stored = objects_sql::managed(&catalog::entries(&conn).unwrap(), &TableFilter::All);
    let kept: Vec<SqlObject> = stored
        .iter()
        .filter(|o| o.name != "posts_touch")
        .cloned()
        .collect();
    changes.extend(diff_objects(&stored, &kept));
    crate::generate::seed::seed_for(&conn, &before, &changes, &target);
    let planned = plan(
        &changes,
        Goal {
            tables: &target,
            objects: None,
        },
        Given {
            defaults: &Defaults::from([(
                crate::schema::model::ColumnKey::new("labels", "caption"),
                "''".to_owned(),
            )]),
            conversions: &Defaults::from([(
                crate::schema::model::ColumnKey::new("users", "age"),
                "CAST(round(age) AS INTEGER)".to_owned(),
            )]),
        },
        Settings {
            integer_primary_key_is_bigint: false,
            oldest_sqlite: &OldestSqlite {
                release: None,
                source: "a test".to_owned(),
            },
        },
        &before,
        &head,
        &dir.path().join("plan.sqlite3"),
    )
    .unwrap();
    let files = render(
        &Header {
            message: "m",
            version: "2026-11-22-000000",
            changes: &changes,
        },
        &planned,
    );
    let mut seen = BTreeSet::new();
    for (script, text) in [(&planned.up, &files.up), (&planned.down, &files.down)] {
        // Each effect is a line of its file, and the file warns of nothing else.
        let lines: Vec<String> = script.effects().map(Effect::warning_line).collect();
        let written: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with(WARNING_PREFIX))
            .collect();
        assert_eq!(written, lines, "{text}");
        seen.extend(script.effects().map(variant));
    }
    assert_eq!(seen.len(), VARIANTS, "variants produced: {seen:?}");
}
