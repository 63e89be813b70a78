//! What a step of a migration loses, as typed values, and the `-- WARNING:` line each is
//! written as.
//!
//! The planner attaches effects to the steps it plans; `render` writes each as a
//! `-- WARNING:` comment above its statement (the effect's `Display`), and `generate`
//! reports the same values, never the lines read back. Names are written as SQL identifiers
//! (`quote`), so a name holding a dot, a space or a quote shows as itself. Deciding what a
//! file really drops at upgrade is not done from these lines: `apply::losses` asks SQLite,
//! so hand-written files are judged by the same rule.

use std::fmt;

use crate::schema::objects_sql::ObjectKind;
use crate::sqlite::quote::{comment, quote};

/// How every statement that can lose data is marked, in up.sql and down.sql alike.
pub const WARNING_PREFIX: &str = "-- WARNING: ";

/// One way a step loses data, or may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// DROP TABLE: the table and every row in it.
    DropsTable {
        /// The table, by its name when the step runs.
        table: String,
    },
    /// A column dropped by up, in place or by a rebuild.
    DropsColumn {
        /// The table, by its name when the step runs.
        table: String,
        /// The column whose values go.
        column: String,
    },
    /// Columns a rebuild back to a table's stored text leaves out (a down undoing an add).
    DropsColumns {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The columns left out, with their values.
        columns: Vec<String>,
    },
    /// A type change that does not widen: a value that does not convert fails the step.
    ChangesType {
        /// The table, by its name when the step runs.
        table: String,
        /// The retyped column.
        column: String,
        /// The Diesel types as schema.rs writes them (`Nullable<Text>`).
        from: String,
        /// The new Diesel type, written the same way.
        to: String,
    },
    /// An index a rebuild cannot recreate, with SQLite's reason.
    DropsIndex {
        /// The index left out, by name.
        index: String,
        /// SQLite's error when the rebuild tried to recreate it.
        reason: String,
    },
    /// An index, view or trigger `objects.sql` no longer declares.
    DropsObject {
        /// Index, view or trigger.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// AUTOINCREMENT, which a new primary key cannot keep: SQLite may then give a new row
    /// the id of a deleted one. Its sequence stays in `sqlite_sequence` for a down.
    DropsAutoincrement {
        /// The rebuilt table, by its name when the step runs.
        table: String,
    },
    /// A reference an existing column comes to make: a row naming no row of the parent
    /// stops the migration, so such rows are to be fixed first.
    ChecksReference {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The column that references.
        column: String,
        /// The referenced table.
        parent: String,
    },
    /// A retyped column's values made the new type's by the expression `--convert` gave:
    /// they become what it says, and down gives back its conversion of them, not the
    /// values before.
    ConvertsColumn {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The converted column.
        column: String,
        /// The expression, as given.
        expr: String,
    },
    /// A column made NOT NULL whose NULLs become the value `--default` gave: down makes the
    /// column nullable again but cannot tell which rows held NULL.
    FillsNulls {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The column made NOT NULL.
        column: String,
        /// The value its NULLs get, as given.
        expr: String,
    },
    /// A column made NOT NULL again by a down that restores it: a row holding NULL (which
    /// up allowed) stops the migration.
    RequiresValues {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The column made NOT NULL.
        column: String,
    },
    /// A table constraint a rebuild leaves out because it names a dropped column.
    DropsConstraint {
        /// The rebuilt table, by its name when the step runs.
        table: String,
        /// The constraint's text, as the stored `CREATE TABLE` has it.
        constraint: String,
    },
}

impl Effect {
    /// Its stable code (`W002`), shown with the warning in text and JSON so CI and people
    /// can refer to a kind of warning; listed in `dev/docs/machines.md`. A code is never
    /// reused for another kind.
    pub fn code(&self) -> &'static str {
        match self {
            Effect::DropsTable { .. } => "W001",
            Effect::DropsColumn { .. } => "W002",
            Effect::DropsColumns { .. } => "W003",
            Effect::ChangesType { .. } => "W004",
            Effect::DropsIndex { .. } => "W005",
            Effect::DropsObject { .. } => "W006",
            Effect::DropsAutoincrement { .. } => "W007",
            Effect::ChecksReference { .. } => "W008",
            Effect::ConvertsColumn { .. } => "W009",
            Effect::DropsConstraint { .. } => "W010",
            Effect::FillsNulls { .. } => "W011",
            Effect::RequiresValues { .. } => "W012",
        }
    }

    /// The comment line above the statement.
    pub fn warning_line(&self) -> String {
        comment(&format!("WARNING: {self}"))
    }
}

const CHANGES_TYPE_TAIL: &str =
    ", which can lose values; a value that does not convert fails the migration";
const NO_LONGER_DECLARED: &str = ", which objects.sql no longer declares";
const DROPS_CONSTRAINT_MIDDLE: &str = " that uses a dropped column: ";
const CONVERTS_TAIL: &str =
    "`: its values become what that gives, and down does not give the old ones back";
const FILLS_NULLS_TAIL: &str =
    "`: down makes the column nullable again, but those rows keep the value";
const REQUIRES_VALUES_TAIL: &str =
    " again: a row holding NULL stops the migration; give such rows a value first";
const CHECKS_REFERENCE_TAIL: &str =
    ": a row that names no row there stops the migration; fix or clear such rows first";
const DROPS_AUTOINCREMENT_TAIL: &str =
    ", which the new primary key cannot keep: a new row may get the id of a deleted one";

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::DropsTable { table } => {
                write!(f, "drops table {} and every row in it", quote(table))
            }
            Effect::DropsColumn { table, column } => write!(
                f,
                "drops column {}.{} and its values",
                quote(table),
                quote(column)
            ),
            Effect::DropsColumns { table, columns } => {
                let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                write!(
                    f,
                    "drops column{} {} of {} and their values",
                    if columns.len() > 1 { "s" } else { "" },
                    names.join(", "),
                    quote(table)
                )
            }
            Effect::ChangesType {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "changes {}.{} from {from} to {to}{CHANGES_TYPE_TAIL}",
                quote(table),
                quote(column)
            ),
            Effect::DropsIndex { index, reason } => {
                write!(f, "drops index {} ({reason})", quote(index))
            }
            Effect::DropsObject { kind, name } => {
                write!(f, "drops {kind} {}{NO_LONGER_DECLARED}", quote(name))
            }
            Effect::ConvertsColumn {
                table,
                column,
                expr,
            } => write!(
                f,
                "converts {}.{} with `{expr}{CONVERTS_TAIL}",
                quote(table),
                quote(column)
            ),
            Effect::FillsNulls {
                table,
                column,
                expr,
            } => write!(
                f,
                "fills the NULLs of {}.{} with `{expr}{FILLS_NULLS_TAIL}",
                quote(table),
                quote(column)
            ),
            Effect::RequiresValues { table, column } => write!(
                f,
                "makes {}.{} NOT NULL{REQUIRES_VALUES_TAIL}",
                quote(table),
                quote(column)
            ),
            Effect::ChecksReference {
                table,
                column,
                parent,
            } => write!(
                f,
                "makes {}.{} reference {}{CHECKS_REFERENCE_TAIL}",
                quote(table),
                quote(column),
                quote(parent)
            ),
            Effect::DropsAutoincrement { table } => write!(
                f,
                "drops AUTOINCREMENT of {}{DROPS_AUTOINCREMENT_TAIL}",
                quote(table)
            ),
            Effect::DropsConstraint { table, constraint } => write!(
                f,
                "drops a constraint of {}{DROPS_CONSTRAINT_MIDDLE}{constraint}",
                quote(table)
            ),
        }
    }
}

#[cfg(test)]
mod tests;
