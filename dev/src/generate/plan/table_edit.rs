//! The edits being made to one table's stored `CREATE TABLE` text for a rebuild: what the
//! changes ask of it, the draft of edits and copied values, and the words of its items.

use std::collections::{BTreeMap, BTreeSet};

use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::schema::model::{Column, Joinable};
use crate::sqlite::create_table::{self, Clause, ColumnDef, CreateTable, Edits};
use crate::sqlite::lexer;
use crate::sqlite::quote::quote;

use super::rebuild::{Converted, Copied};

/// What a change list asks of one table's columns, keys and references, sorted by kind.
pub(super) struct Requested<'c> {
    pub(super) dropped: BTreeSet<&'c str>,
    /// By the column's new name: (before, after).
    pub(super) altered: BTreeMap<&'c str, (&'c Column, &'c Column)>,
    pub(super) new_key: Option<&'c Vec<String>>,
    pub(super) added_joinables: BTreeMap<&'c str, &'c Joinable>,
    /// (column, parent).
    pub(super) dropped_joinables: BTreeSet<(&'c str, &'c str)>,
}

impl<'c> Requested<'c> {
    pub(super) fn of(changes: &[&'c Change]) -> Requested<'c> {
        let mut requested = Requested {
            dropped: BTreeSet::new(),
            altered: BTreeMap::new(),
            new_key: None,
            added_joinables: BTreeMap::new(),
            dropped_joinables: BTreeSet::new(),
        };
        for change in changes {
            match change {
                Change::DropColumn { column, .. } => {
                    requested.dropped.insert(column.as_str());
                }
                Change::AlterColumn { from, to, .. } => {
                    requested.altered.insert(to.name.as_str(), (from, to));
                }
                Change::AlterPrimaryKey { to, .. } => {
                    requested.new_key.get_or_insert(to);
                }
                Change::AddJoinable { joinable, .. } => {
                    requested
                        .added_joinables
                        .insert(joinable.column.as_str(), joinable);
                }
                Change::DropJoinable { joinable, .. } => {
                    requested
                        .dropped_joinables
                        .insert((joinable.column.as_str(), joinable.parent.as_str()));
                }
                _ => {}
            }
        }
        requested
    }
}

/// The rebuild being put together: the edits to the stored text, and what the copy carries.
#[derive(Default)]
pub(super) struct Draft {
    pub(super) edits: Edits,
    pub(super) effects: Vec<Effect>,
    pub(super) copy: Vec<Copied>,
    pub(super) converted: Vec<Converted>,
}

/// One column item of the stored `CREATE TABLE`, being edited.
pub(super) struct ColumnItem<'t> {
    pub(super) name: &'t str,
    /// The item's text and where it sits in the statement.
    pub(super) text: &'t str,
    pub(super) range: std::ops::Range<usize>,
    pub(super) def: ColumnDef,
}

impl ColumnItem<'_> {
    /// A range of the item's text, in the statement.
    pub(super) fn at(&self, r: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        self.range.start + r.start..self.range.start + r.end
    }

    /// Takes every `clause` of the column out, with the space before it.
    pub(super) fn remove(&self, edits: &mut Edits, clause: Clause) {
        for (c, r) in &self.def.clauses {
            if *c == clause {
                edits.replace(with_space_before(self.text, r, self.range.start), "");
            }
        }
    }
}

/// The range of `clause` within a definition at `offset`, with the whitespace before it.
pub(super) fn with_space_before(
    def: &str,
    clause: &std::ops::Range<usize>,
    offset: usize,
) -> std::ops::Range<usize> {
    let start = def[..clause.start].trim_end().len();
    offset + start..offset + clause.end
}

/// The lower-case words a table constraint starts with, past `CONSTRAINT name`.
pub(super) fn constraint_words(text: &str) -> Vec<String> {
    let words: Vec<String> = lexer::identifiers(text)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.first().is_some_and(|w| w == "constraint") {
        words.into_iter().skip(2).collect()
    } else {
        words
    }
}

/// Takes out the table constraint that makes `column` reference `parent` (a joinable
/// schema.rs dropped).
pub(super) fn remove_foreign_key_constraint(
    table: &CreateTable,
    column: &str,
    parent: &str,
    edits: &mut Edits,
) {
    let columns: Vec<String> = table.columns().map(|(name, _)| quote(name)).collect();
    for (index, text) in table.constraints() {
        if references(&columns, text, column, parent) {
            edits.replace(create_table::removal_range(table, index), "");
        }
    }
}

/// Whether the table constraint `constraint` is a foreign key of `column` alone to `parent`,
/// asked of SQLite: a scratch table of `columns` (quoted) with that constraint, and its
/// `pragma_foreign_key_list`. Names that only look alike (a quoted word, a parent's column of
/// the same name) do not count.
fn references(columns: &[String], constraint: &str, column: &str, parent: &str) -> bool {
    let asked = || -> rusqlite::Result<bool> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(&format!(
            "CREATE TABLE probe ({}, {constraint});",
            columns.join(", ")
        ))?;
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_foreign_key_list('probe') GROUP BY id
             HAVING count(*) = 1 AND max(\"from\") = ?1 COLLATE NOCASE
                AND max(\"table\") = ?2 COLLATE NOCASE)",
            [column, parent],
            |r| r.get(0),
        )
    };
    asked().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_what_sqlite_reads_as_one_not_a_name_that_looks_alike() {
        let columns = ["a", "user id", "users"].map(quote).to_vec();
        let is = |constraint: &str, column: &str| references(&columns, constraint, column, "users");
        assert!(is(
            "FOREIGN KEY (\"user id\") REFERENCES \"Users\" (id)",
            "user id"
        ));
        assert!(is(
            "CONSTRAINT fk FOREIGN KEY (a) REFERENCES users ON DELETE CASCADE",
            "a"
        ));
        // The parent's name as a column of another table, or as a word in a string.
        assert!(!is(
            "FOREIGN KEY (users) REFERENCES people (users)",
            "users"
        ));
        assert!(!is("CHECK (a <> 'FOREIGN KEY (a) REFERENCES users')", "a"));
        // Two columns are no joinable's reference.
        assert!(!is("FOREIGN KEY (a, users) REFERENCES users (x, y)", "a"));
        assert!(!is("FOREIGN KEY (a) REFERENCES users (id)", "users"));
    }
}
