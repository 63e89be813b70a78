//! Running versions on a copy of a real database, and comparing every row of every table by
//! its key before and after each step: what `upgrade --rehearse` reports, and how `upgrade`
//! counts what a hand-written file really removes before it runs without `--yes` (a file
//! that deletes rows changes no schema; only the rows show it).
//!
//! The copy is SQLite's online backup of the database, in a scratch directory that is
//! removed however the command ends; the real database is only read. Before each step the
//! copy is copied once more, and the two are compared in SQL (`ATTACH`), so memory does not
//! grow with the tables: a row is identified by its rowid (which every copy the tool writes
//! keeps), or by its primary key in a WITHOUT ROWID table, and a value is kept by
//! `sqlite::values`' rule.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::migration::Migration;
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;
use diesel_migrations::MigrationHarness;

use crate::apply::database;
use crate::apply::losses::Loss;
use crate::apply::step::Direction;
use crate::error::Result;
use crate::schema::introspect::{inspect, StoredTable, TableFilter};
use crate::sqlite::db;
use crate::sqlite::quote::{literal, quote};
use crate::sqlite::values;
use crate::support::scratch::Scratch;

/// Rows shown per table and column when values go.
const EXAMPLES: usize = 3;

/// A copy of a real database that steps run on.
pub struct Rehearsal {
    scratch: Scratch,
    conn: SqliteConnection,
    /// The largest the copy's file has been, in bytes.
    pub peak_bytes: u64,
}

/// What a step did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChange {
    /// The table, by its name before the step.
    pub table: String,
    /// Rows it held before the step.
    pub rows: i64,
    /// Rows whose key is gone (every row, for a dropped table), with a few keys.
    pub removed: (i64, Vec<String>),
    /// Per kept column: values not kept, with a few rows' keys and values.
    pub changed: Vec<(String, i64, Vec<String>)>,
}

impl TableChange {
    /// What is left of this change besides `losses` (the tables and columns a file drops
    /// whole, which are counted on their own).
    pub fn beyond(&self, losses: &[Loss]) -> Option<TableChange> {
        if losses.contains(&Loss::Table(self.table.clone())) {
            return None;
        }
        let changed: Vec<(String, i64, Vec<String>)> = self
            .changed
            .iter()
            .filter(|(column, ..)| {
                !losses.contains(&Loss::Column(self.table.clone(), column.clone()))
            })
            .cloned()
            .collect();
        (self.removed.0 > 0 || !changed.is_empty()).then(|| TableChange {
            changed,
            ..self.clone()
        })
    }
}

impl Rehearsal {
    /// Copies `database` into a new scratch directory.
    pub fn of(database: &Path) -> Result<Rehearsal> {
        let scratch = Scratch::create()?;
        database::copy_to(database, &scratch.database())?;
        let conn = db::open_application(&scratch.database())?;
        let peak_bytes = size(&scratch.database());
        Ok(Rehearsal {
            scratch,
            conn,
            peak_bytes,
        })
    }

    /// Runs `migration` in `direction` on the copy; how long it took, or SQLite's message
    /// for a step that fails.
    pub fn run(
        &mut self,
        migration: &dyn Migration<Sqlite>,
        direction: Direction,
    ) -> std::result::Result<Duration, String> {
        let started = Instant::now();
        let outcome = match direction {
            Direction::Up => self.conn.run_migration(migration).map(|_| ()),
            Direction::Down => self.conn.revert_migration(migration).map(|_| ()),
        };
        let took = started.elapsed();
        outcome.map_err(|e| e.to_string())?;
        self.peak_bytes = self.peak_bytes.max(size(&self.scratch.database()));
        Ok(took)
    }

    /// Keeps the copy as it is now under `name`, for `compare_with`.
    pub fn mark(&self, name: &str) -> Result<PathBuf> {
        let kept = self.scratch.path().join(format!("{name}.sqlite3"));
        let _ = std::fs::remove_file(&kept);
        database::copy_to(&self.scratch.database(), &kept)?;
        Ok(kept)
    }

    /// What the copy lost since it was kept at `mark`.
    pub fn compare_with(&self, mark: &Path) -> Result<Vec<TableChange>> {
        compare(mark, &self.scratch.database())
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Every table of the database at `before` that lost rows or values in the one at `after`.
fn compare(before: &Path, after: &Path) -> Result<Vec<TableChange>> {
    let failed = |e: rusqlite::Error| database::failed(after, "compare the rows of", &e);
    let old = db::open_rusqlite(before)?;
    let tables = inspect(&old, &TableFilter::All)?.tables;
    drop(old);
    let conn = db::open_rusqlite(after)?;
    let now = inspect(&conn, &TableFilter::All)?;
    conn.execute("ATTACH ?1 AS before", [before.to_string_lossy()])
        .map_err(failed)?;
    let mut changes = Vec::new();
    for table in &tables {
        let change = compare_table(&conn, table, now.table(&table.name)).map_err(failed)?;
        changes.extend(change);
    }
    Ok(changes)
}

/// What `table` (as it was) lost in `now` (as it is, if it still exists): one pass over its
/// rows, joined by key, counts the rows gone and, per column, the values not kept; a few
/// rows are read again to show, only for what was lost.
fn compare_table(
    conn: &rusqlite::Connection,
    table: &StoredTable,
    now: Option<&StoredTable>,
) -> rusqlite::Result<Option<TableChange>> {
    let name = quote(&table.name);
    let Some(now) = now else {
        let rows: i64 =
            conn.query_row(&format!("SELECT count(*) FROM before.{name}"), [], |r| {
                r.get(0)
            })?;
        return Ok((rows > 0).then(|| TableChange {
            table: table.name.clone(),
            rows,
            removed: (rows, Vec::new()),
            changed: Vec::new(),
        }));
    };
    let Some(join) = Join::of(table, now) else {
        return Ok(None);
    };
    let Join {
        joined,
        gone_row,
        shown_key,
    } = &join;
    let columns: Vec<&crate::schema::introspect::StoredColumn> =
        table.columns.iter().filter(|c| !c.generated).collect();
    let lost: Vec<String> = columns
        .iter()
        .map(|column| {
            let c = quote(&column.name);
            if now.column(&column.name).is_some() {
                let kept = values::kept(&format!("b.{c}"), &format!("a.{c}"));
                format!("sum(NOT {gone_row} AND NOT {kept})")
            } else {
                format!("count(b.{c})")
            }
        })
        .collect();
    let counts: Vec<i64> = conn.query_row(
        &format!(
            "SELECT count(*), sum({gone_row}){} {joined}",
            lost.iter().map(|l| format!(", {l}")).collect::<String>()
        ),
        [],
        |r| {
            (0..lost.len() + 2)
                .map(|i| r.get::<_, Option<i64>>(i).map(|n| n.unwrap_or(0)))
                .collect()
        },
    )?;
    let (rows, removed) = (counts[0], counts[1]);
    let show = |what: &str, filter: &str| -> rusqlite::Result<Vec<String>> {
        conn.prepare(&format!(
            "SELECT {shown_key}{what} {joined} WHERE {filter} LIMIT {EXAMPLES}"
        ))?
        .query_map([], |r| r.get(0))?
        .collect()
    };
    let removed = if removed > 0 {
        (removed, show("", gone_row)?)
    } else {
        (0, Vec::new())
    };
    let mut changed = Vec::new();
    for (column, &count) in columns.iter().zip(&counts[2..]) {
        if count == 0 {
            continue;
        }
        let c = quote(&column.name);
        if now.column(&column.name).is_some() {
            let kept = values::kept(&format!("b.{c}"), &format!("a.{c}"));
            let shown = show(
                &format!(" || ': ' || quote(b.{c}) || ' became ' || quote(a.{c})"),
                &format!("NOT {gone_row} AND NOT {kept}"),
            )?;
            changed.push((column.name.clone(), count, shown));
        } else if !renamed(conn, table, now, &c, joined, gone_row)? {
            changed.push((
                column.name.clone(),
                count,
                vec!["the column is gone".into()],
            ));
        }
    }
    Ok((removed.0 > 0 || !changed.is_empty()).then(|| TableChange {
        table: table.name.clone(),
        rows,
        removed,
        changed,
    }))
}

/// How a table's rows before (`b`, in the attached database) meet its rows now (`a`).
struct Join {
    /// `FROM before.t b LEFT JOIN main.t a ON` the key.
    joined: String,
    /// True of a row that is gone.
    gone_row: String,
    /// The SQL that shows a row's key, `id = 5`.
    shown_key: String,
}

impl Join {
    /// Joined by the rowid both keep, or by a WITHOUT ROWID table's key; `None` when the
    /// rows cannot be matched.
    fn of(table: &StoredTable, now: &StoredTable) -> Option<Join> {
        let name = quote(&table.name);
        // (the key's SQL, its name as the application knows it); a rowid is never NULL, nor
        // is a WITHOUT ROWID table's key, so a row that is gone shows as NULL there after
        // the join.
        let (key, rowid): (Vec<(String, String)>, bool) =
            match (table.rowid_name(), now.rowid_name()) {
                (Some(a), Some(b)) if a == b => {
                    let label = table.rowid_alias().map_or(a.to_owned(), |c| c.name.clone());
                    (vec![(a.to_owned(), label)], true)
                }
                _ if table.without_rowid => (
                    table
                        .primary_key()
                        .iter()
                        .map(|c| (quote(&c.name), c.name.clone()))
                        .collect(),
                    false,
                ),
                _ => return None,
            };
        let (first, _) = key.first()?;
        let matches: Vec<String> = key
            .iter()
            .map(|(k, _)| {
                if rowid {
                    format!("a.{k} = b.{k}")
                } else {
                    format!("a.{k} IS b.{k}")
                }
            })
            .collect();
        let shown_key: Vec<String> = key
            .iter()
            .map(|(k, label)| format!("{} || quote(b.{k})", literal(&format!("{label} = "))))
            .collect();
        Some(Join {
            joined: format!(
                "FROM before.{name} b LEFT JOIN main.{name} a ON {}",
                matches.join(" AND ")
            ),
            gone_row: format!("a.{first} IS NULL"),
            shown_key: shown_key.join(" || ', ' || "),
        })
    }
}

/// Whether the column `c` (quoted) of `table`, which `now` lacks, was renamed: a column that
/// is new in `now` holds every one of its values, row by row.
fn renamed(
    conn: &rusqlite::Connection,
    table: &StoredTable,
    now: &StoredTable,
    c: &str,
    joined: &str,
    gone_row: &str,
) -> rusqlite::Result<bool> {
    for new in now
        .columns
        .iter()
        .filter(|n| table.column(&n.name).is_none())
    {
        let kept = values::kept(&format!("b.{c}"), &format!("a.{}", quote(&new.name)));
        let all: bool = conn.query_row(
            &format!(
                "SELECT NOT EXISTS (SELECT 1 {joined} WHERE {gone_row} OR NOT coalesce({kept}, 0))"
            ),
            [],
            |r| r.get(0),
        )?;
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

impl std::fmt::Display for TableChange {
    /// `2 of 3 rows of posts (id = 1, id = 2), 1 value of posts.title (id = 3: 'a' became 1)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        let (removed, keys) = &self.removed;
        if *removed > 0 {
            let which = if keys.is_empty() {
                String::new()
            } else {
                format!(" ({})", keys.join(", "))
            };
            parts.push(format!(
                "{removed} of {} rows of {}{which}",
                self.rows, self.table
            ));
        }
        for (column, count, shown) in &self.changed {
            let plural = if *count == 1 { "" } else { "s" };
            parts.push(format!(
                "{count} value{plural} of {}.{column} ({})",
                self.table,
                shown.join("; ")
            ));
        }
        write!(f, "{}", parts.join(", "))
    }
}
