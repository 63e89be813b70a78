//! Editing a stored `CREATE TABLE` column by column.
//!
//! The stored text is the only place SQLite keeps CHECKs, COLLATEs, exact declared types,
//! DEFAULT expressions and AUTOINCREMENT (`PRAGMA table_xinfo` and friends do not carry them
//! all), so a table rebuild edits that text: only the parts `schema.rs` describes change,
//! every other byte stays.

use std::ops::Range;

use crate::sqlite::lexer::{inside, is_word, tokenize, unquote, Token};

/// Words that begin a table constraint rather than a column definition.
const TABLE_CONSTRAINT_WORDS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];

/// Words that begin a column constraint.
const COLUMN_CONSTRAINT_WORDS: [&str; 11] = [
    "constraint",
    "primary",
    "not",
    "null",
    "unique",
    "check",
    "default",
    "collate",
    "references",
    "generated",
    "as",
];

/// One item of the definition list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A column definition.
    Column {
        /// The column's name, unquoted.
        name: String,
        /// Its bytes in the statement, without the separating comma and spaces.
        range: Range<usize>,
    },
    /// A table constraint (`PRIMARY KEY (...)`, `UNIQUE`, `CHECK`, `FOREIGN KEY`).
    Constraint {
        /// Its bytes in the statement, without the separating comma and spaces.
        range: Range<usize>,
    },
}

impl Item {
    /// Where the item is in the statement.
    pub fn range(&self) -> &Range<usize> {
        match self {
            Item::Column { range, .. } | Item::Constraint { range } => range,
        }
    }
}

/// A stored `CREATE TABLE` statement cut into its definition items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    /// The whole statement, exactly as stored; the items' ranges index into it.
    pub sql: String,
    /// The definitions between the parentheses, in order.
    pub items: Vec<Item>,
}

impl CreateTable {
    /// Cuts a stored `CREATE TABLE ... ( ... ) [options]`; `None` for `CREATE TABLE ... AS`.
    pub fn parse(sql: &str) -> Option<CreateTable> {
        let group = tokenize(sql)
            .into_iter()
            .find(|(k, _)| *k == Token::Group)?;
        let inner = inside(sql, &group.1);
        let mut items = Vec::new();
        let mut start = inner.start;
        for (kind, range) in tokenize(&sql[inner.clone()])
            .into_iter()
            .map(|(k, r)| (k, r.start + inner.start..r.end + inner.start))
            .chain(std::iter::once((Token::Other, inner.end..inner.end)))
        {
            let at_end = range.start == inner.end;
            if at_end || (kind == Token::Other && &sql[range.clone()] == ",") {
                let item_range = trim(sql, start..range.start);
                items.push(classify(sql, item_range));
                start = range.end;
            }
        }
        Some(CreateTable {
            sql: sql.to_owned(),
            items,
        })
    }

    /// The column items, in order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Range<usize>)> {
        self.items.iter().filter_map(|item| match item {
            Item::Column { name, range } => Some((name.as_str(), range)),
            Item::Constraint { .. } => None,
        })
    }

    /// The table constraints' texts, in order.
    pub fn constraints(&self) -> impl Iterator<Item = (usize, &str)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Item::Constraint { range } => Some((i, &self.sql[range.clone()])),
                Item::Column { .. } => None,
            })
    }
}

fn trim(sql: &str, range: Range<usize>) -> Range<usize> {
    let tokens = tokenize(&sql[range.clone()]);
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => range.start + first.1.start..range.start + last.1.end,
        _ => range.start..range.start,
    }
}

fn classify(sql: &str, range: Range<usize>) -> Item {
    let tokens = tokenize(&sql[range.clone()]);
    let first = tokens.first();
    let is_constraint = first.is_some_and(|t| {
        t.0 == Token::Word
            && TABLE_CONSTRAINT_WORDS.iter().any(|w| {
                sql[range.start + t.1.start..range.start + t.1.end].eq_ignore_ascii_case(w)
            })
    });
    match first {
        Some(t) if !is_constraint => Item::Column {
            name: unquote(&sql[range.start + t.1.start..range.start + t.1.end]),
            range,
        },
        _ => Item::Constraint { range },
    }
}

/// A column constraint clause of a column definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    /// `PRIMARY KEY`, with its order, conflict clause and `AUTOINCREMENT`.
    PrimaryKey,
    /// `NOT NULL`, with its conflict clause.
    NotNull,
    /// `NULL`: nullable, said explicitly.
    Null,
    /// `UNIQUE`, with its conflict clause.
    Unique,
    /// `CHECK (...)`.
    Check,
    /// `DEFAULT` and its value.
    Default,
    /// `COLLATE` and its collation.
    Collate,
    /// `REFERENCES`, with its columns and actions.
    References,
    /// `GENERATED ALWAYS AS (...)`, or just `AS (...)`.
    Generated,
}

/// A column definition cut into name, type and constraint clauses (byte ranges within the
/// definition text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Where the name is, quotes included.
    pub name: Range<usize>,
    /// Empty (at the end of the name) when the column has no declared type.
    pub declared_type: Range<usize>,
    /// Each clause with its range, a `CONSTRAINT name` before it included, in order.
    pub clauses: Vec<(Clause, Range<usize>)>,
}

impl ColumnDef {
    /// Cuts one column definition (an `Item::Column`'s text); `None` for an empty one.
    pub fn parse(def: &str) -> Option<ColumnDef> {
        let tokens = tokenize(def);
        let (name, rest) = tokens.split_first()?;
        let starts_clause = |i: usize| {
            let t = &rest[i];
            t.0 == Token::Word
                && COLUMN_CONSTRAINT_WORDS
                    .iter()
                    .any(|w| def[t.1.clone()].eq_ignore_ascii_case(w))
        };
        let type_len = (0..rest.len())
            .find(|&i| starts_clause(i))
            .unwrap_or(rest.len());
        let declared_type = match (rest.first(), type_len) {
            (Some(first), n) if n > 0 => first.1.start..rest[n - 1].1.end,
            _ => name.1.end..name.1.end,
        };
        let mut clauses: Vec<(Clause, Range<usize>)> = Vec::new();
        let mut i = type_len;
        while i < rest.len() {
            let start = rest[i].1.start;
            let mut j = i;
            if is_word(def, &rest[j], "constraint") {
                j += 2;
            }
            let Some(keyword) = rest.get(j) else {
                break;
            };
            let word = def[keyword.1.clone()].to_ascii_lowercase();
            let clause = match word.as_str() {
                "primary" => Clause::PrimaryKey,
                "not" => Clause::NotNull,
                "null" => Clause::Null,
                "unique" => Clause::Unique,
                "check" => Clause::Check,
                "default" => Clause::Default,
                "collate" => Clause::Collate,
                "references" => Clause::References,
                _ => Clause::Generated,
            };
            // The clause runs to the next token that starts a clause, with the exceptions
            // of words that belong to this one.
            let mut k = j + 1;
            match clause {
                Clause::NotNull => k += 1,
                Clause::Default | Clause::Collate => {
                    while k < rest.len()
                        && rest[k].0 == Token::Other
                        && matches!(&def[rest[k].1.clone()], "-" | "+")
                    {
                        k += 1;
                    }
                    k += 1;
                }
                _ => {}
            }
            while k < rest.len() {
                let belongs = match clause {
                    Clause::References => {
                        let previous = def[rest[k - 1].1.clone()].to_ascii_lowercase();
                        (is_word(def, &rest[k], "null") && previous == "set")
                            || (is_word(def, &rest[k], "not")
                                && rest
                                    .get(k + 1)
                                    .is_some_and(|n| is_word(def, n, "deferrable")))
                    }
                    Clause::Generated => is_word(def, &rest[k], "as"),
                    _ => false,
                };
                if starts_clause(k) && !belongs {
                    break;
                }
                k += 1;
            }
            let end = rest[k.min(rest.len()) - 1].1.end;
            clauses.push((clause, start..end));
            i = k;
        }
        Some(ColumnDef {
            name: name.1.clone(),
            declared_type,
            clauses,
        })
    }

    /// Whether the definition has a clause of this kind.
    pub fn has(&self, clause: Clause) -> bool {
        self.clauses.iter().any(|(c, _)| *c == clause)
    }
}

/// Byte edits on a text: each replaces a range; applied together, ranges must not overlap.
#[derive(Debug, Default)]
pub struct Edits {
    edits: Vec<(Range<usize>, String)>,
}

impl Edits {
    /// Replaces the bytes of `range` with `text`.
    pub fn replace(&mut self, range: Range<usize>, text: impl Into<String>) {
        self.edits.push((range, text.into()));
    }

    /// Inserts `text` before byte `at`.
    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.replace(at..at, text);
    }

    /// `text` (the one the ranges index) with every edit made.
    pub fn apply(mut self, text: &str) -> String {
        self.edits.sort_by_key(|(r, _)| (r.start, r.end));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (range, replacement) in self.edits {
            out.push_str(&text[at..range.start.max(at)]);
            out.push_str(&replacement);
            at = range.end.max(at);
        }
        out.push_str(&text[at..]);
        out
    }
}

/// The range to delete so that item `index` disappears with one of its separating commas.
pub fn removal_range(table: &CreateTable, index: usize) -> Range<usize> {
    let item = table.items[index].range();
    if index > 0 {
        table.items[index - 1].range().end..item.end
    } else if let Some(next) = table.items.get(1) {
        item.start..next.range().start
    } else {
        item.clone()
    }
}

/// The separator the table uses between items (`",\n    "` for one item a line).
pub fn separator(table: &CreateTable) -> String {
    match table.items.as_slice() {
        [first, second, ..] => table.sql[first.range().end..second.range().start].to_owned(),
        _ => ", ".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = "CREATE TABLE \"t\" (\n  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n  \"full name\" VARCHAR(255) COLLATE NOCASE CHECK (length(\"full name\") > 0),\n  price DECIMAL(10, 2) DEFAULT (1.0), -- money\n  [weird col] TEXT,\n  owner INT CONSTRAINT fk REFERENCES users (id) ON DELETE SET NULL NOT DEFERRABLE NOT NULL,\n  UNIQUE (price, id),\n  FOREIGN KEY (id) REFERENCES p(id)\n) STRICT";

    fn column_text<'a>(table: &'a CreateTable, name: &str) -> Option<&'a str> {
        table
            .columns()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| &table.sql[r.clone()])
    }

    #[test]
    fn cuts_items_into_columns_and_constraints() {
        let table = CreateTable::parse(SQL).unwrap();
        let names: Vec<&str> = table.columns().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "full name", "price", "weird col", "owner"]);
        assert_eq!(
            column_text(&table, "full name"),
            Some("\"full name\" VARCHAR(255) COLLATE NOCASE CHECK (length(\"full name\") > 0)")
        );
        assert_eq!(
            column_text(&table, "price"),
            Some("price DECIMAL(10, 2) DEFAULT (1.0)")
        );
        let constraints: Vec<&str> = table.constraints().map(|(_, c)| c).collect();
        assert_eq!(
            constraints,
            ["UNIQUE (price, id)", "FOREIGN KEY (id) REFERENCES p(id)"]
        );
        assert_eq!(separator(&table), ",\n  ");
    }

    #[test]
    fn create_table_as_select_has_no_definition_list() {
        assert!(CreateTable::parse("CREATE TABLE t AS SELECT 1").is_none());
        // An unterminated definition list is read to the end of the text, never panics.
        assert!(CreateTable::parse("CREATE TABLE t (").is_some());
    }

    #[test]
    fn cuts_a_column_definition_into_clauses() {
        let def = "owner INT CONSTRAINT fk REFERENCES users (id) ON DELETE SET NULL NOT DEFERRABLE NOT NULL DEFAULT -1 COLLATE BINARY";
        let column = ColumnDef::parse(def).unwrap();
        assert_eq!(&def[column.name.clone()], "owner");
        assert_eq!(&def[column.declared_type.clone()], "INT");
        let clauses: Vec<(Clause, &str)> = column
            .clauses
            .iter()
            .map(|(c, r)| (*c, &def[r.clone()]))
            .collect();
        assert_eq!(
            clauses,
            [
                (
                    Clause::References,
                    "CONSTRAINT fk REFERENCES users (id) ON DELETE SET NULL NOT DEFERRABLE"
                ),
                (Clause::NotNull, "NOT NULL"),
                (Clause::Default, "DEFAULT -1"),
                (Clause::Collate, "COLLATE BINARY"),
            ]
        );
        let typeless = ColumnDef::parse("x PRIMARY KEY").unwrap();
        assert_eq!(typeless.declared_type, 1..1);
        assert!(typeless.has(Clause::PrimaryKey));
        let two_words =
            ColumnDef::parse("x UNSIGNED BIG INT GENERATED ALWAYS AS (1) STORED").unwrap();
        assert_eq!(two_words.declared_type, 2..18);
        assert_eq!(two_words.clauses.len(), 1);
    }

    #[test]
    fn edits_keep_every_other_byte() {
        let table = CreateTable::parse(SQL).unwrap();
        let mut edits = Edits::default();
        edits.replace(removal_range(&table, 3), "");
        let out = edits.apply(SQL);
        assert!(!out.contains("weird col"));
        assert!(out.contains("DEFAULT (1.0),\n  owner INT"), "{out}");
        let mut first = Edits::default();
        first.replace(removal_range(&table, 0), "");
        assert!(first
            .apply(SQL)
            .starts_with("CREATE TABLE \"t\" (\n  \"full name\""));
    }
}
