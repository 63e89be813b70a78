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

/// What one step did to the rows, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// How long the step took on the copy.
    pub took: Duration,
    /// Every table that lost rows or values, in name order.
    pub tables: Vec<TableChange>,
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

impl Changed {
    /// Whether every row and value survived.
    pub fn kept_everything(&self) -> bool {
        self.tables.is_empty()
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

    /// Runs `migration` in `direction` on the copy and says what it did to the rows. A step
    /// that fails is SQLite's message.
    pub fn run(
        &mut self,
        migration: &dyn Migration<Sqlite>,
        direction: Direction,
    ) -> Result<std::result::Result<Changed, String>> {
        let before = self.mark("before")?;
        let started = Instant::now();
        let outcome = match direction {
            Direction::Up => self.conn.run_migration(migration).map(|_| ()),
            Direction::Down => self.conn.revert_migration(migration).map(|_| ()),
        };
        let took = started.elapsed();
        if let Err(e) = outcome {
            return Ok(Err(e.to_string()));
        }
        self.peak_bytes = self.peak_bytes.max(size(&self.scratch.database()));
        let tables = compare(&before, &self.scratch.database())?;
        Ok(Ok(Changed { took, tables }))
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

/// What `table` (as it was) lost in `now` (as it is, if it still exists).
fn compare_table(
    conn: &rusqlite::Connection,
    table: &StoredTable,
    now: Option<&StoredTable>,
) -> rusqlite::Result<Option<TableChange>> {
    let name = quote(&table.name);
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM before.{name}"), [], |r| {
        r.get(0)
    })?;
    let Some(now) = now else {
        return Ok((rows > 0).then(|| TableChange {
            table: table.name.clone(),
            rows,
            removed: (rows, Vec::new()),
            changed: Vec::new(),
        }));
    };
    // (the key's SQL, its name as the application knows it)
    let key: Vec<(String, String)> = match (table.rowid_name(), now.rowid_name()) {
        (Some(a), Some(b)) if a == b => {
            let label = table.rowid_alias().map_or(a.to_owned(), |c| c.name.clone());
            vec![(a.to_owned(), label)]
        }
        _ => table
            .primary_key()
            .iter()
            .map(|c| (quote(&c.name), c.name.clone()))
            .collect(),
    };
    if key.is_empty() {
        return Ok(None);
    }
    let matches: Vec<String> = key.iter().map(|(k, _)| format!("a.{k} IS b.{k}")).collect();
    let matches = matches.join(" AND ");
    let shown_key: Vec<String> = key
        .iter()
        .map(|(k, label)| format!("{} || quote(b.{k})", literal(&format!("{label} = "))))
        .collect();
    let shown_key = shown_key.join(" || ', ' || ");
    let examples = |sql: &str| -> rusqlite::Result<(i64, Vec<String>)> {
        let count: i64 = conn.query_row(&format!("SELECT count(*) {sql}"), [], |r| r.get(0))?;
        let shown = conn
            .prepare(&format!("SELECT {shown_key} {sql} LIMIT {EXAMPLES}"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((count, shown))
    };
    let removed = examples(&format!(
        "FROM before.{name} b WHERE NOT EXISTS (SELECT 1 FROM main.{name} a WHERE {matches})"
    ))?;
    let mut changed = Vec::new();
    for column in table.columns.iter().filter(|c| !c.generated) {
        let c = quote(&column.name);
        if now.column(&column.name).is_none() {
            // Renamed when a column that is new holds every one of its values, row by row.
            let renamed = now
                .columns
                .iter()
                .filter(|n| table.column(&n.name).is_none())
                .try_fold(false, |found, n| {
                    if found {
                        return Ok(true);
                    }
                    let kept = values::kept(&format!("b.{c}"), &format!("a.{}", quote(&n.name)));
                    conn.query_row(
                        &format!("SELECT NOT EXISTS (SELECT 1 FROM before.{name} b LEFT JOIN main.{name} a ON {matches} WHERE NOT coalesce({kept}, 0))"),
                        [],
                        |r| r.get::<_, bool>(0),
                    )
                })?;
            let gone: i64 =
                conn.query_row(&format!("SELECT count({c}) FROM before.{name}"), [], |r| {
                    r.get(0)
                })?;
            if gone > 0 && !renamed {
                changed.push((column.name.clone(), gone, vec!["the column is gone".into()]));
            }
            continue;
        }
        let kept = values::kept(&format!("b.{c}"), &format!("a.{c}"));
        let (count, mut shown) = examples(&format!(
            "FROM before.{name} b JOIN main.{name} a ON {matches} WHERE NOT {kept}"
        ))?;
        if count > 0 {
            let values = conn
                .prepare(&format!(
                    "SELECT quote(b.{c}) || ' became ' || quote(a.{c}) FROM before.{name} b JOIN main.{name} a ON {matches} WHERE NOT {kept} LIMIT {EXAMPLES}"
                ))?
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (key, value) in shown.iter_mut().zip(values) {
                *key = format!("{key}: {value}");
            }
            changed.push((column.name.clone(), count, shown));
        }
    }
    Ok((removed.0 > 0 || !changed.is_empty()).then(|| TableChange {
        table: table.name.clone(),
        rows,
        removed,
        changed,
    }))
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
