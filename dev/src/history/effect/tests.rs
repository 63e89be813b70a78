use super::*;

#[test]
fn each_kind_of_effect_has_its_own_code_listed_in_the_docs() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/machines.md")).unwrap();
    let mut by_kind = std::collections::BTreeMap::new();
    for effect in every_variant("t", "c") {
        let kind = std::mem::discriminant(&effect);
        let code = effect.code();
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "{code} is not listed"
        );
        by_kind.entry(code).or_insert(kind);
        assert_eq!(by_kind[code], kind, "{code} names two kinds");
    }
    assert_eq!(by_kind.len(), 12);
}

fn every_variant(table: &str, column: &str) -> Vec<Effect> {
    vec![
        Effect::DropsTable {
            table: table.into(),
        },
        Effect::DropsColumn {
            table: table.into(),
            column: column.into(),
        },
        Effect::DropsColumns {
            table: table.into(),
            columns: vec![column.into()],
        },
        Effect::DropsColumns {
            table: table.into(),
            columns: vec![column.into(), "b".into()],
        },
        Effect::ChangesType {
            table: table.into(),
            column: column.into(),
            from: "Nullable<Text>".into(),
            to: "Integer".into(),
        },
        Effect::DropsIndex {
            index: column.into(),
            reason: "no such column: a (b)".into(),
        },
        Effect::DropsConstraint {
            table: table.into(),
            constraint: "CHECK (x <> ', of y')".into(),
        },
        Effect::DropsAutoincrement {
            table: table.into(),
        },
        Effect::ChecksReference {
            table: table.into(),
            column: column.into(),
            parent: "par ent".into(),
        },
        Effect::ConvertsColumn {
            table: table.into(),
            column: column.into(),
            expr: "CAST(trim(x) AS INTEGER)".into(),
        },
        Effect::FillsNulls {
            table: table.into(),
            column: column.into(),
            expr: "'none, yet'".into(),
        },
        Effect::RequiresValues {
            table: table.into(),
            column: column.into(),
        },
        Effect::DropsObject {
            kind: ObjectKind::Index,
            name: column.into(),
        },
        Effect::DropsObject {
            kind: ObjectKind::Trigger,
            name: table.into(),
        },
    ]
}

/// A name holding a newline, a quote or a dot cannot end the comment and become SQL: each
/// warning is one comment line, naming the table as SQL quotes it.
#[test]
fn every_effect_stays_one_comment_line_whatever_the_names() {
    for (table, column) in [
        ("users", "bio"),
        ("we.ird", "a b"),
        ("order", "\"q\""),
        ("t\nx", "é\\n"),
        ("t\r\nDROP TABLE x; --", "c\u{2028}d"),
    ] {
        for effect in every_variant(table, column) {
            let line = effect.warning_line();
            assert!(line.starts_with(WARNING_PREFIX), "{line}");
            assert_eq!(line.lines().count(), 1, "{line:?}");
            assert!(!line.contains(['\r', '\u{2028}', '\u{85}']), "{line:?}");
            let names_table = !matches!(
                effect,
                Effect::DropsIndex { .. } | Effect::DropsObject { .. }
            );
            let table = crate::sqlite::quote::quote(table);
            let shown = crate::sqlite::quote::comment(&table);
            assert!(
                !names_table || line.contains(&shown["-- ".len()..]),
                "{line:?} does not name {table}"
            );
        }
    }
}
