//! Stage 3: what the person generating gives for the rows: `--default` and `--convert`,
//! each `TABLE.COLUMN=SQL_EXPR`, and the checks that each is one SQL expression for a column
//! that needs it (the expression is written into the migration, so anything more would run);
//! a value a column needs and no flag gives is asked of the person at the terminal.

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::generate::plan;
use crate::generate::plan::Defaults;
use crate::schema::model::ColumnKey;
use crate::sqlite::db;
use crate::support::ask::Prompt;

use super::candidate::Given;
use super::Workspace;

impl Workspace {
    /// The checked `--default`s and `--convert`s, with each value a column still needs
    /// asked at the terminal; without one, one error names every value missing.
    pub fn given(
        &self,
        defaults: &[DefaultArg],
        conversions: &[DefaultArg],
        changes: &[Change],
        prompt: Option<&mut (dyn Prompt + '_)>,
    ) -> Result<Given> {
        let head_db = &self.head_db;
        let needed = plan::needs_default(changes, head_db);
        let mut defaults = by_column(defaults);
        check_defaults(
            &super::database(&self.opened)?.db.reader,
            &defaults,
            &needed,
        )?;
        let missing: Vec<ColumnKey> = needed
            .into_iter()
            .filter(|key| !defaults.contains_key(key))
            .collect();
        match prompt {
            // Without a terminal, one run names every value it needs.
            None if !missing.is_empty() => {
                return Err(plan::missing_defaults(&missing, changes, head_db));
            }
            None => {}
            Some(prompt) => {
                for key in missing {
                    let question = plan::missing_default(&key, changes, head_db)
                        .message
                        .clone();
                    let example = plan::working_example(&key, changes, head_db);
                    match prompt.value(&format!("{question}. SQL value for them (e.g. {example}):"))
                    {
                        Some(value) => defaults.insert(key, value),
                        None => return Err(plan::missing_default(&key, changes, head_db)),
                    };
                }
            }
        }
        plan::refuse_defaults_of_another_type(&defaults, changes, head_db)?;
        let conversions = by_column(conversions);
        check_conversions(
            &super::database(&self.opened)?.db.reader,
            &conversions,
            changes,
        )?;
        Ok(Given {
            defaults,
            conversions,
        })
    }
}

/// Flags of the `TABLE.COLUMN=SQL_EXPR` shape, by column; a later flag for a column wins.
fn by_column(args: &[DefaultArg]) -> Defaults {
    args.iter()
        .map(|d| (d.column.clone(), d.expr.clone()))
        .collect()
}

/// `--default TABLE.COLUMN=SQL_EXPR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultArg {
    /// The column that gets the value, by schema.rs's name (by head's for one up drops).
    pub column: ColumnKey,
    /// The SQL expression, trimmed.
    pub expr: String,
}

impl DefaultArg {
    /// Parses `TABLE.COLUMN=SQL_EXPR`; the error is clap's message.
    pub fn parse(arg: &str) -> std::result::Result<DefaultArg, String> {
        let (column, expr) = ColumnKey::parse_assignment(arg, "TABLE.COLUMN=SQL_EXPR")?;
        Ok(DefaultArg { column, expr })
    }
}

/// Every `--convert` must name a column whose type changes, and be one SQL expression over
/// the row (it is written into the rebuild's copy).
fn check_conversions(
    head: &rusqlite::Connection,
    conversions: &Defaults,
    changes: &[Change],
) -> Result<()> {
    for (key, expr) in conversions {
        one_expression(head, key, expr, "convert")?;
        let retyped = changes.iter().any(|c| {
            matches!(c, Change::AlterColumn { table, from, to }
                if *table == key.table && to.name == key.column && from.ty != to.ty)
        });
        if !retyped {
            return Err(Error::input(format!(
                "`--convert {key}=...` names no column whose type changes"
            ))
            .help("give --convert only for a column schema.rs gives another type"));
        }
    }
    Ok(())
}

/// `expr` (given as `--{flag} {key}=expr`) must be one SQL expression, prepared on `head`
/// (the disposable database at head), so it may read its tables (`(SELECT min(id) FROM
/// users)`); a column reference is for the planner to judge on the real table.
fn one_expression(
    head: &rusqlite::Connection,
    key: &ColumnKey,
    expr: &str,
    flag: &str,
) -> Result<()> {
    let prepared = head.prepare(&format!("SELECT ({expr})")).map(|_| ());
    match prepared {
        // rusqlite reports prepare errors with their position, so match on the text.
        Err(e) if e.to_string().contains("no such column") => Ok(()),
        Err(e) => Err(Error::input(format!(
            "`--{flag} {key}={expr}` is not one SQL expression: {}",
            db::sqlite_message(&e)
        ))
        .help(format!("give a single value or expression, e.g. `--{flag} {key}=0`, `--{flag} {key}=''` or `--{flag} {key}=CURRENT_TIMESTAMP`; quote it for your shell"))),
        Ok(_) => Ok(()),
    }
}

/// Every `--default` must name a column that needs a value for existing rows, and be one SQL
/// expression: it is written into the migration as `DEFAULT (expr)` or a `COALESCE` backfill,
/// so anything more (`0); DROP TABLE t; --`) would run as SQL of its own.
fn check_defaults(
    head: &rusqlite::Connection,
    defaults: &Defaults,
    needed: &[ColumnKey],
) -> Result<()> {
    for (key, expr) in defaults {
        one_expression(head, key, expr, "default")?;
    }
    for key in defaults.keys() {
        if !needed.contains(key) {
            return Err(Error::input(format!(
                "`--default {key}=...` names no column that needs a value: only NOT NULL columns added to existing tables or made NOT NULL, and NOT NULL columns without a DEFAULT that are dropped, do"
            ))
            .help(if needed.is_empty() {
                "this migration needs no defaults; drop the flag".to_owned()
            } else {
                let names: Vec<String> = needed.iter().map(ColumnKey::to_string).collect();
                format!("these need one: {}", names.join(", "))
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_may_name_a_column_but_must_be_one_expression() {
        let needed = vec![ColumnKey::new("t", "c")];
        let with = |expr: &str| Defaults::from([(ColumnKey::new("t", "c"), expr.to_owned())]);
        let head = rusqlite::Connection::open_in_memory().unwrap();
        head.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY);")
            .unwrap();
        check_defaults(&head, &with("other_column * 2"), &needed).unwrap();
        check_defaults(&head, &with("CURRENT_TIMESTAMP"), &needed).unwrap();
        check_defaults(&head, &with("(SELECT min(id) FROM users)"), &needed).unwrap();
        for bad in [
            "0); DROP TABLE t; --",
            "((1",
            "SELECT",
            "(SELECT 1 FROM nope)",
        ] {
            let err = check_defaults(&head, &with(bad), &needed).unwrap_err();
            assert!(err.message.contains("is not one SQL expression"), "{err}");
        }
    }

    #[test]
    fn default_flag_syntax() {
        assert_eq!(
            DefaultArg::parse("users.bio=''").unwrap(),
            DefaultArg {
                column: ColumnKey::new("users", "bio"),
                expr: "''".to_owned()
            }
        );
        assert!(DefaultArg::parse("users.bio").is_err());
        assert!(DefaultArg::parse("bio=1").is_err());
        assert!(DefaultArg::parse("users.bio=").is_err());
    }
}
