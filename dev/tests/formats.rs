//! Output for machines: `--format json` documents, parsed here as a CI script would, and
//! `--format github` annotations in the workflow-command format GitHub reads.

mod common;

use common::*;
use diesel::connection::SimpleConnection;
use serde_json::Value;

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {run:?}"))
}

#[test]
fn check_as_json_says_clean_or_lists_the_changes_with_the_command() {
    let project = Project::fixture("blog");
    let clean = project.run(&["check", "--format", "json"]);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    let document = json(&clean);
    assert_eq!(document["command"], "check");
    assert_eq!(document["status"], "clean");
    assert_eq!(document["exit"], 0);
    assert_eq!(document["migrations"], 1);
    assert_eq!(document["changes"].as_array().unwrap().len(), 0);

    project.add_posts_views();
    let pending = project.run(&["check", "--format", "json"]);
    assert_eq!(pending.code, Some(1), "{pending:?}");
    let document = json(&pending);
    assert_eq!(document["status"], "out_of_date");
    assert_eq!(document["exit"], 1);
    let changes = document["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0]["text"],
        "add column posts.views (Nullable<BigInt>)"
    );
    assert_eq!(changes[0]["table"], "posts");
    // The same change as data, for a program that must not parse sentences.
    assert_eq!(changes[0]["kind"], "add_column");
    assert_eq!(changes[0]["column"], "views");
    assert_eq!(changes[0]["from"], Value::Null);
    assert_eq!(changes[0]["to"], "Nullable<BigInt>");
    assert!(
        document["generate"]
            .as_str()
            .unwrap()
            .starts_with("cargo run -p dev -- generate \""),
        "{document}"
    );
}

#[test]
fn a_failure_as_json_is_one_document_with_its_place() {
    let project = Project::fixture("blog");
    project.edit_schema("        title -> Text,", "        title -> Txt,");
    let run = project.run(&["check", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let document = json(&run);
    assert_eq!(document["status"], "error");
    assert_eq!(document["exit"], 2);
    assert_eq!(document["meaning"], "bad input");
    let location = &document["error"]["location"];
    assert!(
        location["file"].as_str().unwrap().ends_with("schema.rs"),
        "{document}"
    );
    assert!(location["line"].as_u64().unwrap() > 0, "{document}");
    assert!(
        run.stderr.starts_with("error: "),
        "people still read stderr: {run:?}"
    );
}

#[test]
fn check_as_github_annotations_points_at_the_files() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    let run = project.run(&["check", "--format", "github"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.starts_with(
            "::error file=schema/schema.rs::no migration makes this change: add column posts.views (Nullable<BigInt>); run: cargo run -p dev -- generate \""
        ),
        "{run:?}"
    );

    project.edit_schema("        title -> Text,", "        title -> Txt,");
    let run = project.run(&["check", "--format", "github"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let annotation = run.stdout.lines().next().unwrap();
    assert!(
        annotation.starts_with("::error file=schema/schema.rs,line="),
        "the path from the checkout: {run:?}"
    );
    assert!(annotation.contains(",col="), "{run:?}");
    assert!(annotation.contains("::unknown SQL type `Txt`"), "{run:?}");
}

#[test]
fn drift_as_json_and_github() {
    let project = Project::fixture("blog");
    let (db, conn, _) = seeded_blog(&project);
    drop(conn);
    let path = db.path().join("app.sqlite3");
    application_database(&path)
        .batch_execute("ALTER TABLE users ADD COLUMN nickname TEXT;")
        .unwrap();
    let path = path.to_str().unwrap();
    let run = project.run(&["drift", "--format", "json", "--database", path]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let document = json(&run);
    assert_eq!(document["command"], "drift");
    assert_eq!(document["status"], "drifted");
    assert_eq!(document["applied"], 1);
    assert_eq!(
        document["changes"][0]["text"],
        "add column users.nickname (Nullable<Text>)"
    );

    let run = project.run(&["drift", "--format", "github", "--database", path]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("::error::`{path}` has drifted: add column users.nickname (Nullable<Text>)\n")
    );
}

#[test]
fn a_command_without_machine_output_has_no_format_to_ask_for() {
    let project = Project::fixture("blog");
    let run = project.run(&["show", "create_blog", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("unexpected argument '--format'"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "", "{run:?}");
    let run = project.run(&["history", "--format", "github"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("invalid value 'github'")
            && run.stderr.contains("[possible values: text, json]"),
        "{run:?}"
    );
}

#[test]
fn current_and_history_as_json_say_where_the_database_stands() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    let newest = project.generate("add views");
    let newest = newest.trim_start_matches("versions/");
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("app.sqlite3");
    let path = path.to_str().unwrap();
    let upgraded = project.run(&["upgrade", "2026-01-01-000000", "--database", path]);
    assert_eq!(upgraded.code, Some(0), "{upgraded:?}");

    let current = project.run(&["current", "--format", "json", "--database", path]);
    assert_eq!(current.code, Some(0), "{current:?}");
    let document = json(&current);
    assert_eq!(document["command"], "current");
    assert_eq!(document["position"], "2026-01-01-000000_create_blog");
    assert_eq!(document["head"], false);
    assert_eq!(document["pending"], serde_json::json!([newest]));
    assert_eq!(document["drifted"], false);

    let history = project.run(&["history", "--format", "json", "--database", path]);
    assert_eq!(history.code, Some(0), "{history:?}");
    let document = json(&history);
    let versions = document["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["applied"], true);
    assert_eq!(versions[1]["applied"], false);
    assert_eq!(versions[1]["message"], "add views");
    assert_eq!(
        versions[1]["changes"],
        serde_json::json!(["add column posts.views (Nullable<BigInt>)"])
    );
    let without = json(&project.run(&["history", "--format", "json"]));
    assert_eq!(without["versions"][0]["applied"], Value::Null);
}

#[test]
fn generate_as_json_lists_what_it_wrote_warnings_and_the_proof() {
    let project = Project::fixture("blog");
    let none = json(&project.run(&["generate", "nothing", "--format", "json"]));
    assert_eq!(none["command"], "generate");
    assert_eq!(none["created"], Value::Null);
    assert_eq!(none["changes"].as_array().unwrap().len(), 0);

    // Dropping a column: one change, a warning in up.sql that it drops data, the proof's
    // figures from the seeded rows.
    project.edit_schema("        age -> Nullable<Integer>,\n", "");
    let run = project.run(&["generate", "drop age", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let document = json(&run);
    assert_eq!(document["status"], "ok");
    let created = document["created"].as_str().unwrap();
    assert_eq!(created, project.newest());
    let changes = document["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["text"], "drop column users.age");
    let warnings = document["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["file"] == "up.sql" && w["code"] == "W002"),
        "{document}"
    );
    assert!(
        document["proof"]["rows"].as_u64().unwrap() > 0,
        "{document}"
    );
    assert!(
        document["proof"]["tables"].as_u64().unwrap() >= 3,
        "{document}"
    );
    assert!(
        run.stderr.is_empty(),
        "everything is in the document: {run:?}"
    );
}

#[test]
fn verify_as_json_gives_its_figures() {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    let run = project.run(&["verify", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let document = json(&run);
    assert_eq!(document["command"], "verify");
    assert_eq!(document["versions"], 2);
    assert!(document["rows"].as_u64().unwrap() > 0, "{document}");
}
