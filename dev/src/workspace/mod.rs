//! The pipeline's workspace: head of `versions/` on a disposable database, compared with
//! schema.rs, and the stages that turn the comparison into a published version. The layer
//! between the engines below (`generate`, `prove`, `apply`) and the commands above, which
//! read as short scripts of these stages:
//!
//! 1. [`Workspace::open`]: read schema.rs, scan versions, upgrade a disposable database to
//!    head, introspect, diff (all `check` needs; `diagram`, `objects`, `init` and `rehash`
//!    start here too);
//! 2. `resolve_renames` (`renames`): the changes, with the renames flags and the terminal
//!    give;
//! 3. `collect_defaults` and `conversions` (`given`): the values existing rows get;
//! 4. `plan` and `prove` (`candidate`): the files, and their round trip on seeded rows;
//! 5. `publish` (`candidate`): the version, dev.sum and the diagram, written at once.
//!
//! `generate --dry-run` is stages 1 to 4.

pub mod candidate;
pub mod given;
mod head;
pub mod problems;
mod renames;

use crate::error::{Error, Finding, Result};
use crate::generate::cache::Cache;
use crate::generate::diff::{diff, diff_objects, Change};
use crate::generate::plan;
use crate::generate::seed::Seeded;
use crate::history::checksums;
use crate::history::versions::{self, Version};
use crate::project::target::{self, Target};
use crate::project::Project;
use crate::schema::diagram;
use crate::schema::introspect;
use crate::schema::model::Schema;
use crate::schema::objects_sql::{self, Declared, SqlObject};
use crate::sqlite::catalog;
use crate::support::timing::Timings;
use head::{Head, Opened};

/// What a command needs of the workspace beyond the comparison `check` makes.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The history's hash chain, even when neither the cache nor dev.sum needs it (generate
    /// records it afterwards).
    pub links: bool,
    /// The database at head, open: for any command that plans, proves or reads it further.
    /// Without it, head may be read as a run before kept it, and no database is opened.
    pub database: bool,
}

/// Head of `versions/` on a disposable database, compared with schema.rs.
pub struct Workspace {
    /// Every version in `versions/`, oldest first.
    pub versions: Vec<Version>,
    /// Each version's files hash and chain hash (`checksums::links`), when the cache or
    /// dev.sum needs them; empty otherwise.
    pub links: Vec<checksums::Link>,
    /// What schema.rs declares, without the tables the `print_schema` filter leaves out.
    pub target: Schema,
    /// What print-schema would have written differently in the schema files (hints only).
    pub hints: Vec<Finding>,
    /// Head as stored, every table; `head_db` is the part print-schema describes.
    pub all_db: introspect::Database,
    /// Head as stored, only the tables the `print_schema` filter keeps.
    pub head_db: introspect::Database,
    /// Head as print-schema would read it: the side compared with `target`.
    pub head: Schema,
    /// What `objects.sql` declares, in its order; `None` when the project has no such file
    /// (indexes, views and triggers are then not managed).
    pub declared: Option<Vec<Declared>>,
    /// What head must change to match `target` (and `declared`), with no renames: a renamed
    /// table shows as a drop and a create.
    pub changes: Vec<Change>,
    /// The database at head, open; `None` for a workspace opened without it, whose head was
    /// read as a run before kept it.
    opened: Option<Opened>,
    /// What seeding head did, once `plan` seeded it for the plan and the proof.
    seeded: Option<Seeded>,
    /// Every table of the database the proof left (the new head), once `prove` ran.
    proven_head: Option<introspect::Database>,
}

impl Workspace {
    /// Head compared with schema.rs: everything `check` does. `need_links` asks for the
    /// history's hash chain even when neither the cache nor dev.sum needs it (generate records
    /// it afterwards).
    pub fn open(
        project: &Project,
        use_cache: bool,
        need_links: bool,
        timings: &mut Timings,
    ) -> Result<Workspace> {
        let cache = use_cache.then(|| Cache::for_root(&project.root));
        let needs = Needs {
            links: need_links,
            database: true,
        };
        Workspace::open_cached(project, cache, needs, timings)
    }

    /// `open` with the snapshot cache `cache` (none: replay every version). `check --staged`
    /// passes the working tree's: the staged copy is thrown away, and its history's snapshots
    /// are keyed by content, so the clone's cache serves it.
    pub fn open_cached(
        project: &Project,
        cache: Option<Cache>,
        needs: Needs,
        timings: &mut Timings,
    ) -> Result<Workspace> {
        // SQLite replays on this core; reading schema.rs (from the start until head has been
        // read) and hashing the history (when the cache does not need it first) run on the
        // other.
        let reading = {
            let project = project.clone();
            let kept = cache.as_ref().map(Cache::parsed_schema_files);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                (target::read(&project, kept.as_deref()), started.elapsed())
            })
        };
        // With the cache, the index reads every version's files, up.sql too.
        let versions = match cache {
            Some(_) => versions::list(&project.versions_dir)?,
            None => versions::scan(&project.versions_dir)?,
        };
        let wants_links = needs.links || checksums::recorded(&project.versions_dir);
        let (
            Target {
                schema: target,
                hints,
            },
            links,
            Head { opened, all_db },
        ) = std::thread::scope(|scope| -> Result<_> {
            let hashing = (wants_links && cache.is_none()).then(|| {
                scope.spawn(|| {
                    let started = std::time::Instant::now();
                    (checksums::links(&versions), started.elapsed())
                })
            });
            let found = head::find(project, &versions, cache.as_ref(), needs.database, timings);
            let (target, read_time) = reading.join().expect("reading schema.rs does not panic");
            timings.parallel("read schema.rs", read_time);
            let hashed = match hashing {
                Some(hashing) => {
                    let (hashed, hash_time) = hashing.join().expect("hashing does not panic");
                    timings.parallel("hash versions", hash_time);
                    Some(hashed?)
                }
                None => None,
            };
            // A broken schema.rs is reported before a failing migration, as it is found first.
            // Tables the print_schema filters leave out are not managed, on either side.
            let target = target?;
            let (links, head) = found?;
            Ok((target, hashed.unwrap_or(links), head))
        })?;
        let head_db = all_db.filtered(&project.filter);
        let head = project.describe(&all_db)?;
        let declared = objects_sql::read(&project.objects_file(), &target)?;
        let changes = timings.time("diff", || -> Result<_> {
            let mut changes = diff(&head, &target);
            if let Some(declared) = &declared {
                let inspector = &database(&opened)?.db.reader;
                let entries = catalog::entries(inspector)?;
                let stored = objects_sql::managed(&entries, &project.filter);
                let wanted: Vec<SqlObject> = declared.iter().map(|d| d.object.clone()).collect();
                changes.extend(diff_objects(&stored, &wanted));
                plan::try_declared(inspector, &changes, declared)?;
            }
            Ok(changes)
        })?;
        Ok(Workspace {
            versions,
            links,
            target,
            hints,
            all_db,
            head_db,
            head,
            declared,
            changes,
            opened,
            seeded: None,
            proven_head: None,
        })
    }

    /// The diagram block for head, as the project's diagram must show it.
    pub fn diagram_block(&self) -> String {
        diagram::render(&self.head_db, &self.head)
    }

    /// The indexes, views and triggers of head that objects.sql would declare.
    pub fn managed_objects(&self, project: &Project) -> Result<Vec<SqlObject>> {
        let entries = catalog::entries(&database(&self.opened)?.db.reader)?;
        Ok(objects_sql::managed(&entries, &project.filter))
    }
}

/// The open database of a workspace opened with it.
fn database(opened: &Option<Opened>) -> Result<&Opened> {
    opened.as_ref().ok_or_else(without_database)
}

/// `database`, to write to.
fn database_mut(opened: &mut Option<Opened>) -> Result<&mut Opened> {
    opened.as_mut().ok_or_else(without_database)
}

/// A stage that needs the database, of a workspace opened without it: a bug.
fn without_database() -> Error {
    Error::internal("the workspace was opened without its database")
}
