//! What schema.rs may say: every SQL type name Diesel compiles for SQLite, aliases included,
//! generates a migration `check` accepts; what Diesel's macros would refuse at `cargo build`
//! is refused first, with exit 2 and the place in schema.rs.

mod common;

use common::Project;

#[test]
fn aliased_types_with_and_without_their_path_generate_what_check_reads_back() {
    let project = Project::fixture("aliases");
    let dir = project.generate("create measurements and documents");
    let up = project.read(&format!("{dir}/up.sql"));
    // Each alias is declared as the type it names, so print-schema reads it back as that type:
    // Float8 is Double (never Float), Numeric and Decimal are sent as doubles.
    for declared in [
        "    id INTEGER NOT NULL PRIMARY KEY,\n    account_id INTEGER REFERENCES accounts (id),\n",
        "    small SMALLINT NOT NULL,\n    small_too SMALLINT NOT NULL,\n",
        "    big BIGINT NOT NULL,\n    big_too BIGINT NOT NULL,\n",
        "    single FLOAT NOT NULL,\n    double DOUBLE NOT NULL,\n",
        "    exact DOUBLE NOT NULL,\n    exact_too DOUBLE\n",
        "    code VARCHAR(40) NOT NULL,\n    label TEXT NOT NULL,\n    initial TEXT NOT NULL,\n",
        "    summary TEXT NOT NULL,\n    body TEXT NOT NULL,\n    appendix TEXT,\n",
        "    raw BLOB NOT NULL,\n    thumbnail BLOB NOT NULL,\n    preview BLOB NOT NULL,\n",
        "    original BLOB,\n    digest BLOB NOT NULL,\n    flags BLOB NOT NULL\n",
        "    handle TEXT NOT NULL\n",
    ] {
        assert!(up.contains(declared), "no `{declared}` in:\n{up}");
    }
    project.assert_check_passes();
}

#[test]
fn aliased_columns_added_to_an_existing_table_read_back() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        score -> Nullable<diesel::sql_types::Float8>,\n        weight -> Nullable<Decimal>,\n        tag -> Nullable<Char>,\n",
    );
    let dir = project.generate("score weight and tag");
    let up = project.read(&format!("{dir}/up.sql"));
    for added in [
        "ADD COLUMN score DOUBLE;",
        "ADD COLUMN weight DOUBLE;",
        "ADD COLUMN tag TEXT;",
    ] {
        assert!(up.contains(added), "no `{added}` in:\n{up}");
    }
    project.assert_check_passes();
}

#[test]
fn types_print_schema_never_writes_for_sqlite_are_refused_with_the_reason() {
    for (name, reason) in [
        ("Json", "SQLite has no JSON column type"),
        ("Jsonb", "SQLite has no JSONB column type"),
        (
            "TimestamptzSqlite",
            "SQLite has no time-zone-aware column type",
        ),
    ] {
        let project = Project::fixture("blog");
        project.edit_schema("        note -> Text,", &format!("        note -> {name},"));
        for args in [&["generate", "add a document"][..], &["check"]] {
            let run = project.assert_rejected(args);
            for expected in [
                format!("error: `{name}` cannot describe a SQLite column"),
                "diesel print-schema never writes it for SQLite".to_owned(),
                "--> schema/schema.rs:6:17".to_owned(),
                reason.to_owned(),
                "help: use `".to_owned(),
            ] {
                assert!(run.stderr.contains(&expected), "no `{expected}`: {run:?}");
            }
        }
    }
}

#[test]
fn a_column_named_like_its_table_is_refused_until_renamed_with_sql_name() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "        title -> Text,\n",
        "        title -> Text,\n        posts -> Nullable<Text>,\n",
    );
    let run = project.assert_rejected(&["generate", "add posts.posts"]);
    for expected in [
        "error: column `posts` cannot be named the same as its table",
        "--> schema/schema.rs:15:9",
        "help: rename it in Rust and keep its SQL name: `#[sql_name = \"posts\"] posts_ -> ...`",
    ] {
        assert!(run.stderr.contains(expected), "no `{expected}`: {run:?}");
    }
    project.assert_rejected(&["check"]);

    project.edit_schema(
        "        posts -> Nullable<Text>,\n",
        "        #[sql_name = \"posts\"]\n        posts_ -> Nullable<Text>,\n",
    );
    let dir = project.generate("add posts.posts");
    let up = project.read(&format!("{dir}/up.sql"));
    assert!(up.contains("ADD COLUMN posts TEXT;"), "{up}");
    project.assert_check_passes();
}

#[test]
fn a_joinable_whose_column_is_not_the_parent_key_type_is_refused() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(posts -> users (title));",
    );
    for args in [&["generate", "join on title"][..], &["check"]] {
        let run = project.assert_rejected(args);
        for expected in [
            "error: `joinable!` joins `posts.title` (Text) to `users.id` (Integer)",
            "--> schema/schema.rs:27:35",
            "help: use a column of `posts` typed `Integer` or `Nullable<Integer>`",
        ] {
            assert!(run.stderr.contains(expected), "no `{expected}`: {run:?}");
        }
    }
}

#[test]
fn a_joinable_to_a_composite_key_is_refused() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::table! {\n    tags (post_id, label) {\n        post_id -> Integer,\n        label -> Text,\n    }\n}\n\ndiesel::joinable!(audit -> tags (id));\ndiesel::joinable!(posts -> users (user_id));",
    );
    for args in [&["generate", "tags"][..], &["check"]] {
        let run = project.assert_rejected(args);
        for expected in [
            "error: `joinable!` needs `tags` to have a single-column primary key, not (post_id, label)",
            "--> schema/schema.rs:34:28",
            "help: remove this `joinable!`",
        ] {
            assert!(run.stderr.contains(expected), "no `{expected}`: {run:?}");
        }
    }
}

#[test]
fn joinables_diesel_would_implement_twice_are_refused() {
    let project = Project::fixture("blog");
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(posts -> users (user_id));\ndiesel::joinable!(users -> posts (id));",
    );
    let run = project.assert_rejected(&["generate", "both ways"]);
    assert!(
        run.stderr
            .contains("error: a second `joinable!` between `posts` and `users`"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--> schema/schema.rs:28:19"), "{run:?}");

    let project = Project::fixture("blog");
    project.edit_schema(
        "        user_id -> Integer,\n",
        "        user_id -> Integer,\n        parent_id -> Nullable<Integer>,\n",
    );
    project.edit_schema(
        "diesel::joinable!(posts -> users (user_id));",
        "diesel::joinable!(posts -> users (user_id));\ndiesel::joinable!(posts -> posts (parent_id));",
    );
    let run = project.assert_rejected(&["generate", "threads"]);
    assert!(
        run.stderr
            .contains("error: `joinable!` cannot join `posts` to itself"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--> schema/schema.rs:29:28"), "{run:?}");
}

/// Each of these passed (`notes (id, id)` with exit 3 from the proof, the others with exit
/// 0) where Diesel's macros refuse to compile: exit 2 at the place in schema.rs, and nothing
/// written, for `check` and for `generate`.
#[test]
fn what_diesel_would_not_compile_is_refused_at_its_place() {
    let cases = [
        (
            "diesel::table! {\n    notes (id, id) {\n        id -> Integer,\n    }\n}\n",
            "primary key `id` of table `notes` is named twice",
            (2, 16),
        ),
        (
            "diesel::table! {\n    notes (id) {\n        id -> Integer,\n        #[sql_name = \"body\"]\n        r#body_ -> Text,\n        body -> Text,\n    }\n}\n",
            "columns `r#body_` and `body` of table `notes` are both the SQL column `body`",
            (6, 9),
        ),
        (
            "diesel::table! {\n    notes (id) {\n        id -> Integer,\n    }\n}\n\ndiesel::allow_tables_to_appear_in_same_query!(notes, posts, users, nope,);\n",
            "`allow_tables_to_appear_in_same_query!` names `nope`, which no `table!` in this file declares",
            (7, 68),
        ),
    ];
    for (notes, message, (line, column)) in cases {
        let project = Project::fixture("blog");
        let schema = project.read("schema/schema.rs");
        project.write("schema/schema.rs", &format!("{schema}\n{notes}"));
        for command in [vec!["check"], vec!["generate", "notes"]] {
            let run = project.assert_rejected(&command);
            assert!(run.stderr.contains(message), "{command:?}: {run:?}");
            assert!(
                run.stderr.contains(&format!(
                    "--> schema/schema.rs:{}:{column}",
                    schema.lines().count() + 1 + line
                )),
                "{command:?}: {run:?}"
            );
        }
    }
}
