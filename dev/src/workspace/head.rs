//! Head of the history, for `Workspace::open`: the disposable database upgraded to head (from
//! the snapshot cache where it can), and every table of head read from it.
//!
//! Two shortcuts, both keyed by head's snapshot key (the hash chain of every version): when
//! the history's index (`checksums::index`) says which head to expect, that snapshot is
//! restored and read on the other core while the history is hashed, and used if the hashes
//! confirm it; and a run that changes no database (`check`) reads head's tables as a run
//! before read them for the same head (`support::kept`), opening no database at all.

use crate::error::Result;
use crate::generate::cache::Cache;
use crate::generate::replay;
use crate::history::checksums::index::Index;
use crate::history::checksums::Link;
use crate::history::versions::Version;
use crate::project::Project;
use crate::schema::introspect::{self, Database, TableFilter};
use crate::sqlite::db;
use crate::support::kept;
use crate::support::scratch::Scratch;
use crate::support::timing::Timings;

/// Head of `versions` on a disposable database, with the history's links when there is a
/// `cache` (its keys are made of them; empty otherwise). Opened with the database when
/// `database` is asked for, or when the project keeps objects.sql (compared through it).
pub(super) fn find(
    project: &Project,
    versions: &[Version],
    cache: Option<&Cache>,
    database: bool,
    timings: &mut Timings,
) -> Result<(Vec<Link>, Head)> {
    let Some(cache) = cache else {
        let head = Head::upgraded(project, Scratch::create()?, versions, None, timings)?;
        return Ok((Vec::new(), head));
    };
    let database = database || project.objects_file().is_file();
    let index_path = cache.hash_index();
    let index = index_path.as_deref().map(Index::read).unwrap_or_default();
    std::thread::scope(|scope| {
        // Head's key as the index recorded it: while the history is hashed, the other core
        // restores and reads that snapshot, which is head when no file changed since.
        let guess = database
            .then(|| Cache::head_key(&index.recorded_links(versions)?))
            .flatten()
            .map(|key| {
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let head = Head::guessed(versions, cache, &key);
                    (key, head, started.elapsed())
                })
            });
        let links = timings.time("hash versions", || {
            index.links(versions, index_path.as_deref())
        })?;
        let head_key = Cache::head_key(&links);
        let kept = (!database)
            .then(|| Head::kept(cache, head_key.as_deref()?))
            .flatten();
        if let Some(head) = kept {
            timings.notes.push(format!(
                "replayed 0 of {} versions; head's tables came as kept from its snapshot",
                versions.len()
            ));
            return Ok((links, head));
        }
        if let Some(guess) = guess {
            let (key, head, took) = guess.join().expect("reading head does not panic");
            match head {
                Ok(Some(head)) if head_key.as_ref() == Some(&key) => {
                    timings.parallel("restore head", took);
                    timings.notes.push(format!(
                        "replayed 0 of {} versions; head came from a snapshot",
                        versions.len()
                    ));
                    return Ok((links, head));
                }
                // Not head (a version changed since the index was written): its disposable
                // directory goes with it.
                _ => {}
            }
        }
        let scratch = Scratch::create()?;
        let keys = Cache::keys(&links);
        let head = Head::upgraded(project, scratch, versions, Some((cache, &keys)), timings)?;
        Ok((links, head))
    })
}

/// The disposable database at head, open, with its directory.
pub(super) struct Opened {
    /// The harness's connection, for `generate` to prove the new version on, and the reader
    /// that introspects what the proof leaves, sharing its handle.
    pub db: db::Paired,
    /// The disposable directory holding the database, where `generate` plans and stages the
    /// new version; removed after the connections close (fields drop in order).
    pub scratch: Scratch,
}

/// Head: every table as stored, and the database when it was opened.
pub(super) struct Head {
    pub opened: Option<Opened>,
    pub all_db: Database,
}

impl Head {
    /// Reads every table of the database at head, open in `scratch` as `db`: as kept for
    /// `key` (head's snapshot key) when it is, else from the database, then kept.
    fn read(
        scratch: Scratch,
        db: db::Paired,
        key: Option<(&Cache, &str)>,
        timings: &mut Timings,
    ) -> Result<Head> {
        let kept = key.and_then(|(cache, key)| Head::kept(cache, key));
        let all_db = match kept {
            Some(kept) => kept.all_db,
            None => {
                let all_db = timings.time("introspect", || {
                    introspect::inspect(&db.reader, &TableFilter::All)
                })?;
                if let Some((cache, key)) = key {
                    keep(&all_db, cache, key);
                }
                all_db
            }
        };
        Ok(Head {
            opened: Some(Opened { db, scratch }),
            all_db,
        })
    }

    /// `versions` run on the disposable database (from the newest snapshot of a prefix, with
    /// `keys`, the keys of every prefix, when there is a cache), and read.
    fn upgraded(
        project: &Project,
        scratch: Scratch,
        versions: &[Version],
        cache: Option<(&Cache, &[String])>,
        timings: &mut Timings,
    ) -> Result<Head> {
        let conn = replay::upgrade_to_head(
            &scratch.database(),
            &project.versions_dir,
            versions,
            cache,
            timings,
        )?;
        // Opened again as a pair: the reader then shares the harness's connection.
        drop(conn);
        let db = db::open_paired(&scratch.database())?;
        let key = cache.and_then(|(cache, keys)| Some((cache, keys.last()?.as_str())));
        Head::read(scratch, db, key, timings)
    }

    /// Head restored from the snapshot of `key` when there is one that verifies, and read:
    /// head, when no version changed since `key` was recorded.
    fn guessed(versions: &[Version], cache: &Cache, key: &str) -> Result<Option<Head>> {
        let scratch = Scratch::create()?;
        let Some(db) = replay::restore_head(&scratch.database(), versions, cache, key)? else {
            return Ok(None);
        };
        let head = Head::read(scratch, db, Some((cache, key)), &mut Timings::default())?;
        Ok(Some(head))
    }

    /// Head's tables as a run before read them from the snapshot of `key`; no database.
    fn kept(cache: &Cache, key: &str) -> Option<Head> {
        let kept_key = kept::key("head", key.as_bytes())?;
        let all_db = kept::load(&cache.kept_heads(), &kept_key)?;
        Some(Head {
            opened: None,
            all_db,
        })
    }
}

/// Keeps head's tables (`all_db`, read from the snapshot of `key`) for `Head::kept`, unless
/// they are kept already.
fn keep(all_db: &Database, cache: &Cache, key: &str) {
    let Some(kept_key) = kept::key("head", key.as_bytes()) else {
        return;
    };
    let dir = cache.kept_heads();
    if !kept::holds(&dir, &kept_key) {
        kept::store(&dir, &kept_key, all_db);
    }
}
