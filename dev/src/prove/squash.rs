//! Proving a squash before anything is written, with SQLite as the judge:
//!
//! - the baseline alone, run through the harness on an empty database, gives exactly the
//!   `sqlite_schema` the replayed history gives at the squashed version (every entry's type,
//!   name, table and stored text; only the pages the entries sit on may differ), and exactly
//!   its rows, `sqlite_sequence` included, as SQLite's `quote()` writes them;
//! - the new history (the baseline, then every later version) passes the stairway test:
//!   each version up, down and up again on seeded rows (`verify`).

use std::path::Path;

use crate::error::{Error, Result};
use crate::generate::baseline::{hidden_rowid, inserts};
use crate::generate::replay;
use crate::history::versions;
use crate::prove::verify::{verify, Verified};
use crate::schema::introspect::{inspect, TableFilter};
use crate::sqlite::catalog::{self, Entry, Kind};
use crate::sqlite::db;
use crate::support::timing::Timings;

/// What the proof of a squash established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashProof {
    /// `sqlite_schema` entries the baseline remakes exactly.
    pub entries: usize,
    /// Rows it remakes exactly, over every table.
    pub rows: usize,
    /// The stairway test of the new history.
    pub verified: Verified,
}

impl std::fmt::Display for SquashProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Proven: the baseline alone gives the history's {} sqlite_schema entries and {} rows exactly; {}",
            self.entries, self.rows, self.verified
        )
    }
}

/// Proves the candidate history in `candidate_dir` (the baseline first) against the history
/// replayed into `history_at`; `scratch_db` is a path the baseline alone is run into.
pub fn prove_squash(
    history_at: &Path,
    candidate_dir: &Path,
    scratch_db: &Path,
    timings: &mut Timings,
) -> Result<SquashProof> {
    let candidate = versions::scan(candidate_dir)?;
    drop(replay::upgrade_to_head(
        scratch_db,
        candidate_dir,
        &candidate[..1],
        None,
        timings,
    )?);
    let history = db::open_rusqlite(history_at)?;
    let baseline = db::open_rusqlite(scratch_db)?;
    // The statistics `ANALYZE` keeps (`sqlite_stat1`, ...) describe rows, not the schema: a
    // baseline need not remake them, and the first `ANALYZE` after it writes them again.
    let read = |conn: &rusqlite::Connection| -> Result<Vec<Entry>> {
        let mut entries = catalog::entries(conn).map_err(|e| {
            Error::internal(format!("a disposable database: {}", e.message.clone()))
        })?;
        entries.retain(|e| {
            !e.name.starts_with("sqlite_stat") && !catalog::is_platform_table(&e.table)
        });
        Ok(entries)
    };
    let (expected, made) = (read(&history)?, read(&baseline)?);
    if made != expected {
        let differing: Vec<String> = expected
            .iter()
            .filter(|entry| !made.contains(entry))
            .map(|e| format!("{} {} as the history made it", e.kind, e.name))
            .chain(
                made.iter()
                    .filter(|entry| !expected.contains(entry))
                    .map(|e| format!("{} {} as the baseline made it", e.kind, e.name)),
            )
            .collect();
        return Err(Error::internal(
            "the baseline does not remake the history's sqlite_schema exactly",
        )
        .note(differing.join("\n"))
        .help("nothing was written; this is a bug in the tool, please report it with the versions squashed"));
    }
    let shape = inspect(&history, &TableFilter::All)?;
    let mut rows = 0;
    for Entry { kind, name, .. } in &expected {
        let table = name;
        if *kind != Kind::Table || table == "__diesel_schema_migrations" {
            continue;
        }
        let dump = |conn| {
            inserts(conn, table, hidden_rowid(&shape, table)).map_err(|e| {
                Error::internal(format!(
                    "cannot read the rows of {table}: {}",
                    db::sqlite_message(&e)
                ))
            })
        };
        let kept = dump(&history)?;
        if dump(&baseline)? != kept {
            return Err(Error::internal(format!(
                "the baseline does not remake the rows of {table} exactly"
            ))
            .help("nothing was written; this is a bug in the tool, please report it"));
        }
        rows += kept.len();
    }
    let verified = verify(candidate_dir).map_err(|e| {
        e.note("while proving the squashed history (the baseline, then every later version); nothing was written")
    })?;
    Ok(SquashProof {
        entries: expected.len(),
        rows,
        verified,
    })
}
