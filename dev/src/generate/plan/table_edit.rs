//! The edits being made to one table's stored `CREATE TABLE` text for a rebuild: what the
//! changes ask of it, the draft of edits and copied values, and the words of its items.

use std::collections::{BTreeMap, BTreeSet};

use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::schema::model::{Column, Joinable};
use crate::sqlite::create_table::{self, Clause, ColumnDef, CreateTable, Edits};
use crate::sqlite::lexer;

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

pub(super) fn remove_foreign_key_constraint(
    table: &CreateTable,
    column: &str,
    parent: &str,
    edits: &mut Edits,
) {
    for (index, text) in table.constraints() {
        let words = constraint_words(text);
        let is_key = words.first().is_some_and(|w| w == "foreign");
        let names_column = words.get(2).is_some_and(|w| w.eq_ignore_ascii_case(column));
        if is_key && names_column && mentions_any(text, &BTreeSet::from([parent])) {
            edits.replace(create_table::removal_range(table, index), "");
        }
    }
}

/// Whether `sql` uses any of `names` as an identifier.
pub(super) fn mentions_any(sql: &str, names: &BTreeSet<&str>) -> bool {
    !names.is_empty()
        && lexer::identifiers(sql).any(|word| names.iter().any(|n| n.eq_ignore_ascii_case(&word)))
}
