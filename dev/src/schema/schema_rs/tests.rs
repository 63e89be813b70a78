//! Reading whole schema.rs files, and where errors point in them, also on mangled input.

use std::path::Path;

use super::parse;
use crate::error::Error;
use crate::schema::model::{Joinable, Schema};
use crate::schema::types::SqlType;

/// Parses as `schema/schema.rs`; an error fails the test with its full text.
pub(super) fn parse_ok(source: &str) -> Schema {
    parse(Path::new("schema/schema.rs"), source).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses as `schema/schema.rs`, for input that must be refused.
pub(super) fn parse_err(source: &str) -> Error {
    parse(Path::new("schema/schema.rs"), source).unwrap_err()
}

/// A table `t` with an `id` and one more column, written as `column`.
pub(super) fn table_with(column: &str) -> String {
    format!(
        "diesel::table! {{\n    t (id) {{\n        id -> Integer,\n        {column},\n    }}\n}}\n"
    )
}

#[test]
fn reads_print_schema_output() {
    let schema = parse_ok(
        r#"// @generated automatically by Diesel CLI.

diesel::table! {
    posts (id) {
        id -> Integer,
        user_id -> Integer,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        #[sql_name = "e-mail"]
        email -> Text,
    }
}

diesel::joinable!(posts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#,
    );
    let posts = &schema.tables["posts"];
    assert_eq!(posts.primary_key, ["id"]);
    assert_eq!(posts.columns[2].to_string(), "Nullable<Text>");
    assert_eq!(
        posts.joinables.iter().next().unwrap(),
        &Joinable {
            column: "user_id".into(),
            parent: "users".into()
        }
    );
    assert_eq!(schema.tables["users"].columns[1].name, "e-mail");
}

#[test]
fn reads_hand_written_forms() {
    let schema = parse_ok(
        r#"
use diesel::sql_types::*;

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;
}

table! {
    use diesel::sql_types::*;
    use super::sql_types::Uuid;

    /// Pairs of things.
    #[sql_name = "link table"]
    links (left_id, right_id) {
        /// Left side.
        left_id -> diesel::sql_types::BigInt,
        right_id -> Int8,
        token -> Uuid,
        #[max_length = 64]
        label -> diesel::sql_types::Nullable<diesel::sql_types::Varchar>,
    }
}

table! {
    things {
        id -> Integer,
    }
}

diesel::allow_columns_to_appear_in_same_group_by_clause!(things::id,);
"#,
    );
    let links = &schema.tables["link table"];
    assert_eq!(links.primary_key, ["left_id", "right_id"]);
    assert_eq!(links.columns[0].ty, SqlType::BigInt);
    assert_eq!(links.columns[2].ty, SqlType::Text);
    assert_eq!(links.columns[3].max_length, Some(64));
    assert!(links.columns[3].nullable);
    assert_eq!(schema.tables["things"].primary_key, ["id"]);
}

#[test]
fn malformed_macro_reports_line_and_column() {
    let err = parse_err("diesel::table! {\n    users (id) {\n        id Integer,\n    }\n}\n");
    let loc = err.location.clone().unwrap();
    assert_eq!(loc.line, 3, "{err}");
    assert!(err.message.contains("malformed"), "{err}");
    assert!(err.to_string().contains("schema/schema.rs:3:"), "{err}");
}

#[test]
fn invalid_rust_reports_position() {
    let err = parse_err("diesel::table! {\n    users (id) {\n");
    assert!(err.location.is_some(), "{err}");
}

#[test]
fn input_that_ends_early_is_located_where_it_ends() {
    let err = parse_err("diesel::table! {\n    users (id)\n}\n");
    let loc = err.location.clone().unwrap();
    assert_eq!(
        (loc.line, loc.column),
        (3, 1),
        "at the macro's closing brace: {err}"
    );
    let err =
        parse_err("diesel::table! { users (id) { id -> Integer, } }\n\ndiesel::joinable!\n\n");
    let loc = err.location.clone().unwrap();
    assert_eq!(
        (loc.line, loc.column),
        (3, 18),
        "after the last token: {err}"
    );
}

#[test]
fn a_byte_order_mark_does_not_shift_columns() {
    let err = parse_err("\u{feff}diesel::table! { t (id) { id -> Intger, } }\n");
    let loc = err.location.clone().unwrap();
    let text = loc.source_line.clone().unwrap();
    let caret: String = text.chars().skip(loc.column - 1).take(6).collect();
    assert_eq!(caret, "Intger", "{err}");
}

/// A schema.rs using every form the parser reads, to mutate.
const VALID: &str = r#"// @generated automatically by Diesel CLI.
pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Uuid;

    users (id) {
        id -> Integer,
        #[sql_name = "e-mail"]
        email -> Nullable<VarChar>,
        token -> Uuid,
        #[max_length = 64]
        label -> diesel::sql_types::Text,
        score -> Float8,
    }
}

diesel::table! {
    posts (id, user_id) {
        id -> Int4,
        user_id -> Integer,
        body -> Blob,
    }
}

diesel::joinable!(posts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(posts, users,);
"#;

/// An edit to a text: delete, insert or replace one character at a position.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, char),
    Replace(prop::sample::Index, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Characters that matter to Rust's and Diesel's grammar, and any other.
    let character = prop_oneof![
        prop::sample::select(
            "{}()<>[]#!:;,.-=\"'/\\*_ \n\tr0"
                .chars()
                .collect::<Vec<_>>()
        ),
        any::<char>(),
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), character.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (any::<prop::sample::Index>(), character).prop_map(|(i, c)| Mutation::Replace(i, c)),
    ]
}

fn mutate(source: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for mutation in mutations {
        match mutation {
            Mutation::Delete(i) if !chars.is_empty() => {
                chars.remove(i.index(chars.len()));
            }
            Mutation::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
            Mutation::Replace(i, c) if !chars.is_empty() => {
                let at = i.index(chars.len());
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Parses `source` (a panic fails the property) and checks that an error points at a
/// line of the file.
fn parses_or_locates(source: &str) -> std::result::Result<(), TestCaseError> {
    if let Err(err) = parse(Path::new("schema/schema.rs"), source) {
        let Some(loc) = &err.location else {
            return Err(TestCaseError::fail(format!("no location: {err}")));
        };
        prop_assert!(loc.line >= 1 && loc.column >= 1, "{err}");
        let Some(line) = &loc.source_line else {
            return Err(TestCaseError::fail(format!(
                "not on a line of the file: {err}"
            )));
        };
        // The caret is under something written: on a character, or just after the last
        // one, never on blank space.
        let chars: Vec<char> = line.chars().collect();
        let written = |i: Option<usize>| {
            i.and_then(|i| chars.get(i))
                .is_some_and(|c| !c.is_whitespace())
        };
        prop_assert!(
            written(Some(loc.column - 1)) || written(loc.column.checked_sub(2)),
            "under blank space: {err}"
        );
    }
    Ok(())
}

/// A modest number of cases so `cargo test` stays quick; `PROPTEST_CASES` raises it.
fn config() -> ProptestConfig {
    proptest::test_runner::contextualize_config(ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    })
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_arbitrary_text(source in "\\PC{0,300}") {
        parses_or_locates(&source)?;
    }

    #[test]
    fn never_panics_on_arbitrary_schema_tokens(blank in "[ \n]{1,3}", tokens in prop::collection::vec(prop::sample::select(vec![
        "diesel::table!", "table!", "diesel::joinable!", "joinable!", "{", "}", "(", ")", "<", ">", "->", ",",
        ".", "::", "#[sql_name = \"x\"]", "#[max_length = 8]", "#[max_length = -1]", "use diesel::sql_types::*;",
        "users", "posts", "id", "user_id", "Integer", "Nullable", "Json", "Float8", "Text", "Unknown", "r#type",
        "\n", "\u{feff}",
    ]), 0..60)) {
        // Leading blank space, so that an error reported at no place in particular
        // (the file's start) shows.
        parses_or_locates(&format!("{blank}{}", tokens.join(" ")))?;
    }

    #[test]
    fn never_panics_on_a_mutated_valid_schema(mutations in prop::collection::vec(mutation(), 1..8)) {
        parses_or_locates(&mutate(VALID, &mutations))?;
    }
}

#[test]
fn the_mutated_schema_is_valid_to_begin_with() {
    let schema = parse_ok(VALID);
    assert_eq!(schema.tables["users"].columns[4].ty, SqlType::Double);
    assert_eq!(schema.tables["posts"].joinables.len(), 1);
}

#[test]
fn allow_tables_naming_a_table_the_file_does_not_declare_is_refused_at_the_name() {
    let err = parse_err(
        "diesel::table! { users (id) { id -> Integer, } }\ndiesel::table! { posts (id) { id -> Integer, } }\ndiesel::allow_tables_to_appear_in_same_query!(posts, users, nope);\n",
    );
    let loc = err.location.clone().unwrap();
    assert_eq!((loc.line, loc.column), (3, 61));
    assert!(
        err.message
            .contains("`allow_tables_to_appear_in_same_query!` names `nope`, which no `table!` in this file declares"),
        "{err}"
    );
}
