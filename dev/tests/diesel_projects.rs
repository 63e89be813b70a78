//! Diesel projects as they already are: several `[print_schema.KEY]` sections, a
//! `patch_file` over print-schema's output, and every print-schema option that changes what
//! it writes for SQLite. The fixtures' schema files were written by the pinned diesel_cli
//! (`diesel migration run`); `diesel_cli.rs` writes them again in CI and compares.

mod common;

use common::*;

#[test]
fn two_schema_sections_are_checked_and_generated_together() {
    let project = Project::fixture("sections");
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("the 2 schema files match versions/"),
        "{run:?}"
    );

    let audit = project.read("schema/audit.rs");
    project.write(
        "schema/audit.rs",
        &audit.replace(
            "        note -> Text,\n",
            "        note -> Text,\n        level -> Nullable<Integer>,\n",
        ),
    );
    let newest = project.generate("add level");
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(
        up.contains("ALTER TABLE audit ADD COLUMN level INTEGER"),
        "{up}"
    );
    project.assert_check_passes_with("the 2 schema files match");

    // One section at a time, as diesel_cli's --schema-key: the other file is not read.
    std::fs::remove_file(project.file("schema/audit.rs")).unwrap();
    let blog = project.run(&["--schema-key", "blog", "check"]);
    assert_eq!(blog.code, Some(0), "{blog:?}");
    let unknown = project.run(&["--schema-key", "nope", "check"]);
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(
        unknown.stderr.contains("use one of: audit, blog"),
        "{unknown:?}"
    );
}

#[test]
fn a_table_two_sections_declare_is_refused_naming_both_files() {
    let project = Project::fixture("sections");
    project.write(
        "diesel.toml",
        &project
            .read("diesel.toml")
            .replace("[\"^audit$\"]", "[\"^audit$\", \"^users$\"]"),
    );
    let users = project.read("schema/blog.rs");
    let start = users.find("diesel::table! {\n    users").unwrap();
    let end = start + users[start..].find("\n}\n").unwrap() + 3;
    let audit = project.read("schema/audit.rs");
    project.write(
        "schema/audit.rs",
        &format!("{audit}\n{}", &users[start..end]),
    );
    let run = project.assert_rejected(&["check"]);
    assert!(
        run.stderr
            .contains("table users is declared in both `schema/blog.rs` and `schema/audit.rs`")
            || run
                .stderr
                .contains("table users is declared in both `schema/audit.rs` and `schema/blog.rs`"),
        "{run:?}"
    );
}

#[test]
fn a_patched_schema_file_reads_as_print_schema_wrote_it() {
    let project = Project::fixture("patched");
    assert!(project
        .read("schema/schema.rs")
        .contains("title -> crate::types::Headline"));
    project.assert_check_passes();
    project.edit_schema(
        "        age -> Nullable<Integer>,\n",
        "        age -> Nullable<Integer>,\n        bio -> Nullable<Text>,\n",
    );
    let newest = project.generate("add bio");
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(up.contains("ADD COLUMN bio TEXT"), "{up}");
    assert!(
        !up.contains("title"),
        "the patched column is not a change: {up}"
    );
}

#[test]
fn a_patch_that_no_longer_applies_is_reported_with_its_hunk() {
    let project = Project::fixture("patched");
    project.edit_schema(
        "        user_id -> Integer,\n",
        "        user_id -> BigInt,\n",
    );
    let run = project.assert_rejected(&["check"]);
    assert!(
        run.stderr
            .contains("`schema/schema.patch` no longer applies to `schema/schema.rs`: hunk 1"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("+        title -> crate::types::Headline,"),
        "{run:?}"
    );
    assert!(run.stderr.contains("make the patch again"), "{run:?}");
}

#[test]
fn every_print_schema_option_reads_back_and_a_missing_allow_tables_entry_is_a_hint() {
    let project = Project::fixture("print_options");
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("hint"), "{run:?}");

    project.edit_schema(
        "diesel::allow_tables_to_appear_in_same_query!(stock, warehouses,);",
        "diesel::allow_tables_to_appear_in_same_query!(warehouses,);",
    );
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(0), "a hint does not fail the check: {run:?}");
    assert!(
        run.stderr.contains("hint[C201]: `allow_tables_to_appear_in_same_query!` in `schema/schema.rs` does not list stock"),
        "{run:?}"
    );
    let json = project.run(&["check", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let hints = document["schema_hints"].as_array().unwrap();
    assert_eq!(hints.len(), 1, "{document}");
    assert!(hints[0]["message"].as_str().unwrap().contains("stock"));
    assert_eq!(hints[0]["severity"], "hint", "{document}");
    assert_eq!(hints[0]["code"], "C201", "{document}");
    // On GitHub a hint is a notice, which does not mark the pull request as failing.
    let github = project.run(&["check", "--format", "github"]);
    assert_eq!(github.code, Some(0), "{github:?}");
    assert!(
        github.stdout.starts_with("::notice::") && github.stdout.contains("does not list stock"),
        "{github:?}"
    );
}

#[test]
fn check_staged_reads_every_section_and_patch_from_the_index() {
    for fixture in ["sections", "patched"] {
        let project = Project::fixture(fixture);
        git_ok(project.path(), &["init", "-q"]);
        git_ok(project.path(), &["add", "-A"]);
        git_ok(project.path(), &["commit", "-q", "-m", "base"]);
        let staged = project.run(&["check", "--staged"]);
        assert_eq!(staged.code, Some(0), "{fixture}: {staged:?}");

        let file = if fixture == "sections" {
            "schema/blog.rs"
        } else {
            "schema/schema.rs"
        };
        let text = project.read(file);
        project.write(
            file,
            &text.replace(
                "        name -> Text,\n",
                "        name -> Text,\n        bio -> Nullable<Text>,\n",
            ),
        );
        git_ok(project.path(), &["add", file]);
        let staged = project.run(&["check", "--staged"]);
        assert_eq!(staged.code, Some(1), "{fixture}: {staged:?}");
        assert!(
            staged.stdout.contains("add column users.bio"),
            "{fixture}: {staged:?}"
        );
    }
}

#[test]
fn each_file_answers_for_the_tables_its_section_selects() {
    let project = Project::fixture("sections");
    // audit is selected by the audit section only: gone from its file, it is a change.
    project.write(
        "schema/audit.rs",
        "// @generated automatically by Diesel CLI.\n",
    );
    let run = project.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("drop table audit"), "{run:?}");
    // Under --schema-key blog, audit is no section's table: nothing to say about it.
    let blog = project.run(&["--schema-key", "blog", "check"]);
    assert_eq!(blog.code, Some(0), "{blog:?}");
}

#[test]
fn a_foreign_key_between_sections_is_no_change_and_is_never_dropped() {
    let project = Project::fixture("sections");
    // audit (section audit) references users (section blog): print-schema writes the column
    // in audit.rs and no joinable! anywhere, as each section's filter hides the other side.
    project.add_version(
        "2026-02-01-000000_audit_user",
        "ALTER TABLE audit ADD COLUMN user_id INTEGER REFERENCES users (id);\n",
        "ALTER TABLE audit DROP COLUMN user_id;\n",
    );
    let audit = project.read("schema/audit.rs");
    project.write(
        "schema/audit.rs",
        &audit.replace(
            "        note -> Text,\n",
            "        note -> Text,\n        user_id -> Nullable<Integer>,\n",
        ),
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes_with("the 2 schema files match");

    // A change that rebuilds audit keeps the reference it cannot name.
    let audit = project.read("schema/audit.rs");
    project.write(
        "schema/audit.rs",
        &audit.replace(
            "        note -> Text,\n",
            "        note -> Nullable<Text>,\n",
        ),
    );
    let newest = project.generate("notes may be missing");
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(up.contains("user_id INTEGER REFERENCES users (id)"), "{up}");
    assert!(!up.contains("drop joinable"), "{up}");
    project.assert_check_passes_with("the 2 schema files match");
}

/// Found by the property test: a table renamed into the section of the table it references
/// had its reference read as new (head hid it under the old name, as no section held both
/// tables), and `generate` wrote a second REFERENCES that the proof refused (exit 3).
#[test]
fn a_table_renamed_into_its_parent_s_section_keeps_its_reference_as_it_is() {
    let project = Project::fixture("sections");
    project.write(
        "diesel.toml",
        "[print_schema.blog]\nfile = \"schema/blog.rs\"\nfilter = { except_tables = [\"^audit$\"] }\n\n\
         [print_schema.audit]\nfile = \"schema/audit.rs\"\nfilter = { only_tables = [\"^audit$\"] }\n\n\
         [migrations_directory]\ndir = \"versions\"\n",
    );
    project.add_version(
        "2026-02-01-000000_audit_user",
        "ALTER TABLE audit ADD COLUMN user_id INTEGER REFERENCES users (id);\n",
        "ALTER TABLE audit DROP COLUMN user_id;\n",
    );
    project.write(
        "schema/audit.rs",
        "diesel::table! {\n    audit (id) {\n        id -> Integer,\n        note -> Text,\n        user_id -> Nullable<Integer>,\n    }\n}\n",
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes_with("the 2 schema files match");

    // Renamed to journal, which the blog section selects with users: the joinable is
    // written now, and it is the reference the table already has.
    project.write("schema/audit.rs", "// No tables.\n");
    let blog = project.read("schema/blog.rs");
    project.write(
        "schema/blog.rs",
        &blog
            .replace(
                "diesel::table! {\n    posts",
                "diesel::table! {\n    journal (id) {\n        id -> Integer,\n        note -> Text,\n        user_id -> Nullable<Integer>,\n    }\n}\n\ndiesel::table! {\n    posts",
            )
            .replace(
                "diesel::joinable!(posts -> users (user_id));",
                "diesel::joinable!(journal -> users (user_id));\ndiesel::joinable!(posts -> users (user_id));",
            )
            .replace("(posts, users,)", "(journal, posts, users,)"),
    );
    let newest = project.generate_with(&["journal", "--rename-table", "audit=journal"]);
    let up = project.read(&format!("{newest}/up.sql"));
    assert!(up.contains("ALTER TABLE audit RENAME TO journal"), "{up}");
    assert!(!up.contains("joinable"), "{up}");
    project.assert_check_passes_with("the 2 schema files match");
}

/// diesel_cli 2.3 names versions `2026-12-07-115501-0000_name`, with a hexadecimal
/// subversion. A newest one of that form, dated later than now, is followed by a later
/// version (generate refused: "cannot make a timestamp version later than the newest one").
/// Dated in the year 5000, so it stays ahead of the clock whenever the test runs.
#[test]
fn a_newest_version_in_diesel_cli_s_form_dated_ahead_is_followed() {
    let project = Project::fixture("blog");
    let cli = "5000-01-01-000000-000a_from_diesel_cli".to_owned();
    project.add_version(
        &cli,
        "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY);\n",
        "DROP TABLE notes;\n",
    );
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    let schema = project.read("schema/schema.rs");
    project.write(
        "schema/schema.rs",
        &format!(
            "{schema}\ndiesel::table! {{\n    notes (id) {{\n        id -> Integer,\n    }}\n}}\n"
        ),
    );
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    let newest = project.generate("add user bio");
    let versions = project.versions();
    assert_eq!(versions[versions.len() - 2], cli);
    assert!(
        newest.ends_with("5000-01-01-000001_add_user_bio"),
        "{newest}"
    );
    project.assert_check_passes();
}

/// A newest version at the end of time (`9999-12-31-235959`) made `generate` panic (exit
/// 101) adding a second to it. The newest version, extended, sorts after it.
#[test]
fn a_newest_version_at_the_end_of_time_is_followed_not_a_panic() {
    let project = Project::fixture("blog");
    project.add_version("9999-12-31-235959_end", "SELECT 1;\n", "SELECT 1;\n");
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.edit_schema(
        "        name -> Text,\n",
        "        name -> Text,\n        bio -> Nullable<Text>,\n",
    );
    let newest = project.generate("add user bio");
    assert_eq!(newest, "versions/9999-12-31-235959-0001_add_user_bio");
    project.assert_check_passes();
}

/// What `diesel print-schema` writes for an external-content FTS5 table (the pinned
/// diesel_cli's output): the virtual table with its hidden columns, and its shadow tables.
const FTS_SCHEMA: &str = "
diesel::table! {
    notes (id) {
        id -> Integer,
        body -> Text,
    }
}

diesel::table! {
    notes_fts (rowid) {
        rowid -> Integer,
        body -> Nullable<Binary>,
        #[sql_name = \"notes_fts\"]
        notes_fts_ -> Nullable<Binary>,
        rank -> Nullable<Binary>,
    }
}

diesel::table! {
    notes_fts_config (k) {
        k -> Binary,
        v -> Nullable<Binary>,
    }
}

diesel::table! {
    notes_fts_data (id) {
        id -> Nullable<Integer>,
        block -> Nullable<Binary>,
    }
}

diesel::table! {
    notes_fts_docsize (id) {
        id -> Nullable<Integer>,
        sz -> Nullable<Binary>,
    }
}

diesel::table! {
    notes_fts_idx (segid, term) {
        segid -> Binary,
        term -> Binary,
        pgno -> Nullable<Binary>,
    }
}
";

/// An FTS5 table read as print-schema reads it: `check` failed ("add column
/// notes_fts.notes_fts", its hidden column), and `generate` tried a rebuild writing
/// `fts5(..., notes_fts BLOB, rank BLOB)`. Its schema.rs passes now; other changes are
/// generated and proven around it without touching its shadow tables; a change to it is
/// refused with what to write by hand.
#[test]
fn an_fts5_table_is_read_as_print_schema_reads_it_and_never_altered() {
    let project = Project::fixture("blog");
    project.add_version(
        &project.later_version("notes_search"),
        "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body TEXT NOT NULL);\nCREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');\n",
        "DROP TABLE notes_fts;\nDROP TABLE notes;\n",
    );
    let schema = project.read("schema/schema.rs").replace(
        "diesel::allow_tables_to_appear_in_same_query!(audit, posts, users,);\n",
        "",
    );
    project.write("schema/schema.rs", &format!("{schema}{FTS_SCHEMA}"));
    assert_eq!(project.run(&["rehash"]).code, Some(0));
    project.assert_check_passes();
    let verified = project.run(&["verify"]);
    assert_eq!(verified.code, Some(0), "{verified:?}");

    // Another change, on a database whose index holds rows: the index still answers.
    let db = Database::new();
    ok_on(&project, &db, &["upgrade"]);
    db.exec("INSERT INTO notes VALUES (7, 'hello world'); INSERT INTO notes_fts (rowid, body) VALUES (7, 'hello world');");
    project.edit_schema("        body -> Text,\n    }\n}\n\ndiesel::table! {\n    notes_fts", "        body -> Text,\n        title -> Nullable<Text>,\n    }\n}\n\ndiesel::table! {\n    notes_fts");
    let newest = project.generate("add title to notes");
    assert!(!project
        .read(&format!("{newest}/up.sql"))
        .contains("notes_fts"));
    ok_on(&project, &db, &["upgrade"]);
    assert_eq!(
        db.count("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'hello'"),
        7
    );

    // A change to the virtual table itself.
    project.edit_schema(
        "        rank -> Nullable<Binary>,\n",
        "        rank -> Nullable<Binary>,\n        extra -> Nullable<Text>,\n",
    );
    let refused = project.assert_rejected(&["generate", "extend the index"]);
    assert!(
        refused.stderr.contains(
            "table notes_fts is a virtual table: SQLite cannot alter one, and a rebuild would empty its index; schema.rs asks to add column notes_fts.extra"
        ),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("generate --empty"), "{refused:?}");
}
