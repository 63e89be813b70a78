//! The indexes, views and triggers `objects.sql` declares: those it changes or no longer
//! declares are dropped before any table changes (so no in-place ALTER meets an object that
//! is about to go, and no rebuild recreates one), and those it adds or changes are created
//! after every table change, in the file's order, when the tables and columns they use exist.

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::history::effect::Effect;
use crate::sqlite::catalog::Entry;
use crate::sqlite::db::sqlite_message;

use crate::schema::objects_sql::{self, Declared};

use super::up::Planner;
use super::{Script, Step};

impl Planner<'_> {
    /// DROP INDEX, VIEW or TRIGGER for every object that is dropped (with its warning) or
    /// changed.
    pub(super) fn drop_objects(&self, script: &mut Script, changes: &[Change]) -> Result<()> {
        for change in changes {
            let (Change::DropObject(object) | Change::ReplaceObject { from: object, .. }) = change
            else {
                continue;
            };
            let sql = object.kind.kind().drop_statement(&object.name);
            let mut step = Step::statement(sql);
            if matches!(change, Change::DropObject(_)) {
                step.effects.push(Effect::DropsObject {
                    kind: object.kind,
                    name: object.name.clone(),
                });
            }
            self.run(script, step)?;
        }
        Ok(())
    }

    /// The declared statement of every object that is created or changed, in the order of
    /// `objects.sql`. A statement SQLite refuses (a column that does not exist, duplicates
    /// under a new UNIQUE index on the seeded rows) is an error at its line of the file.
    pub(super) fn create_objects(&self, script: &mut Script, changes: &[Change]) -> Result<()> {
        for declared in self.declared {
            let wanted = changes.iter().any(|c| match c {
                Change::CreateObject(o) | Change::ReplaceObject { to: o, .. } => {
                    o.name.eq_ignore_ascii_case(&declared.object.name)
                }
                _ => false,
            });
            if !wanted {
                continue;
            }
            let sql = format!("{};", declared.object.sql);
            if let Err(e) = self.conn.execute_batch(&sql) {
                return Err(refused(declared, &e));
            }
            script.steps.push(Step::statement(sql));
        }
        Ok(())
    }
}

/// After up, every declared object must read as `objects.sql` writes it. SQLite rewrites a
/// view, trigger or index when a table or column it uses is renamed; the file must then say
/// what the migration leaves, or the next `check` would find a difference nobody made.
pub(super) fn refuse_rewritten(after_up: &[Entry], declared: &[Declared]) -> Result<()> {
    let stored = objects_sql::managed(after_up, &crate::schema::introspect::TableFilter::All);
    let rewritten: Vec<(&Declared, &str)> = declared
        .iter()
        .filter_map(|wanted| {
            let found = stored
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&wanted.object.name))?;
            (!found.same_as(&wanted.object)).then_some((wanted, found.sql.as_str()))
        })
        .collect();
    let Some((first, _)) = rewritten.first() else {
        return Ok(());
    };
    let names: Vec<String> = rewritten
        .iter()
        .map(|(d, _)| format!("{} `{}`", d.object.kind, d.object.name))
        .collect();
    let mut err = Error::input(format!(
        "objects.sql: {} not what this migration leaves: SQLite rewrites what uses a renamed table or column",
        if names.len() == 1 {
            format!("{} is", names[0])
        } else {
            format!("{} are", names.join(", "))
        }
    ))
    .at(first.location.clone());
    for (wanted, sql) in &rewritten {
        err = err.note(format!(
            "line {}: after the migration it reads: {sql}",
            wanted.location.line
        ));
    }
    Err(err.help("write them in objects.sql as they read after the rename, then generate again"))
}

/// When only objects change, whether SQLite takes each new or changed declared statement on
/// head as it is (tried in a savepoint, rolled back): so `check` refuses an object on a
/// column that does not exist at its line, as `generate` would, instead of listing it as a
/// change to make. With table changes pending, head is not yet what the statements need,
/// and `generate` judges them after those changes.
pub fn try_declared(
    conn: &rusqlite::Connection,
    changes: &[Change],
    declared: &[Declared],
) -> Result<()> {
    if changes.iter().any(|c| !c.is_object()) {
        return Ok(());
    }
    conn.execute_batch("SAVEPOINT dev_objects_trial")
        .map_err(|e| Error::internal(format!("cannot try objects.sql: {}", sqlite_message(&e))))?;
    let mut outcome = Ok(());
    for change in changes {
        if let Change::DropObject(object) | Change::ReplaceObject { from: object, .. } = change {
            let sql = object.kind.kind().drop_statement(&object.name);
            let _ = conn.execute_batch(&sql);
        }
    }
    for wanted in declared {
        let created = changes.iter().any(|c| match c {
            Change::CreateObject(o) | Change::ReplaceObject { to: o, .. } => {
                o.name.eq_ignore_ascii_case(&wanted.object.name)
            }
            _ => false,
        });
        if created {
            if let Err(e) = conn.execute_batch(&format!("{};", wanted.object.sql)) {
                outcome = Err(refused(wanted, &e));
                break;
            }
        }
    }
    conn.execute_batch("ROLLBACK TO dev_objects_trial; RELEASE dev_objects_trial")
        .map_err(|e| {
            Error::internal(format!(
                "cannot undo the objects.sql trial: {}",
                sqlite_message(&e)
            ))
        })?;
    outcome
}

/// The error for a declared statement SQLite refuses on the tables it is meant for.
fn refused(declared: &Declared, error: &rusqlite::Error) -> Error {
    Error::input(format!(
        "objects.sql: {} `{}` does not run on the tables schema.rs declares: {}",
        declared.object.kind,
        declared.object.name,
        sqlite_message(error)
    ))
    .at(declared.location.clone())
    .help("fix the statement in objects.sql so it uses only tables and columns schema.rs declares")
}
