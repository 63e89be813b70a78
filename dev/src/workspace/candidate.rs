//! Stages 4 and 5: the version being made, named after head, planned and rendered, proven on
//! the workspace's database, and published with dev.sum and the diagram in one step.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::generate::diff::Change;
use crate::generate::plan::{self, Defaults};
use crate::generate::render::{self, Files, Header};
use crate::generate::{naming, seed, write};
use crate::history::effect::Effect;
use crate::history::{checksums, versions};
use crate::project::{oldest_sqlite, Project};
use crate::prove;
use crate::schema::diagram;
use crate::schema::model;
use crate::support::files;
use crate::support::timing::Timings;

use super::Workspace;

/// The version being made: its number, its directory's name, and where it is staged before
/// it is published.
pub struct Candidate {
    /// The version, after every one of head's and not before the clock.
    pub version: String,
    /// `<version>_<slug>`.
    pub dir_name: String,
    /// Inside the workspace's disposable directory.
    stage: PathBuf,
}

/// The files of the candidate version, and what they do that a reviewer must know: each
/// effect the plan's steps carry, with the file it is written into.
pub struct Planned {
    /// up.sql, down.sql and metadata.toml.
    pub files: Files,
    /// The effects of up's steps, then down's, as the files' `-- WARNING:` lines say them.
    pub warnings: Vec<(&'static str, Effect)>,
}

/// What the person generating gave for the rows: `--default` and `--convert`, checked.
pub struct Given {
    /// The value existing rows get, per column that needs one.
    pub defaults: Defaults,
    /// How retyped columns' values become the new type's.
    pub conversions: Defaults,
}

impl Workspace {
    /// The next version on top of head, its directory named after `slug`.
    pub fn candidate(&self, slug: &str) -> Result<Candidate> {
        let version = naming::next_version(time::OffsetDateTime::now_utc(), &self.versions)?;
        Ok(Candidate {
            dir_name: format!("{version}_{slug}"),
            stage: super::database(&self.opened)?
                .scratch
                .path()
                .join("candidate"),
            version,
        })
    }

    /// Refuses what no plan can do with head: change a virtual table, drop a table others
    /// reference. Before any value is asked for the rows.
    pub fn refuse_unplannable(&self, changes: &[Change]) -> Result<()> {
        plan::refuse_changing_virtual(&self.all_db, changes)?;
        plan::refuse_dropping_referenced(&self.all_db, changes)
    }

    /// Seeds head with the rows the plan and the proof run on, plans `changes` on a copy of
    /// it and renders the files, headed by `message`.
    pub fn plan(
        &mut self,
        project: &Project,
        candidate: &Candidate,
        message: &str,
        changes: &[Change],
        given: &Given,
        timings: &mut Timings,
    ) -> Result<Planned> {
        let oldest_sqlite = oldest_sqlite::read(&project.root)?;
        let inspector = &super::database(&self.opened)?.db.reader;
        // Once, on head: the planning copy is made of the seeded head.
        self.seeded = Some(timings.time("seed", || {
            seed::seed_for(inspector, &self.all_db, changes, &self.target)
        }));
        let plan = timings.time("plan", || {
            plan::plan(
                changes,
                plan::Goal {
                    tables: &self.target,
                    objects: self.declared.as_deref(),
                },
                plan::Given {
                    defaults: &given.defaults,
                    conversions: &given.conversions,
                },
                plan::Settings {
                    integer_primary_key_is_bigint: project.integer_primary_key_is_bigint,
                    oldest_sqlite: &oldest_sqlite,
                },
                &self.all_db,
                &super::database(&self.opened)?.scratch.database(),
                &super::database(&self.opened)?
                    .scratch
                    .path()
                    .join("plan.sqlite3"),
            )
        })?;
        let files = render::render(
            &Header {
                message,
                version: &candidate.version,
                changes,
            },
            &plan,
        );
        let up = plan.up.effects().map(|effect| ("up.sql", effect.clone()));
        let down = plan
            .down
            .effects()
            .map(|effect| ("down.sql", effect.clone()));
        let warnings = up.chain(down).collect();
        Ok(Planned { files, warnings })
    }

    /// Takes `files` up, down and up again on head with seeded rows (`prove`); the database
    /// is left at the new head.
    pub fn prove(
        &mut self,
        project: &Project,
        candidate: &Candidate,
        changes: &[Change],
        given: &Given,
        files: &Files,
        timings: &mut Timings,
    ) -> Result<prove::Proof> {
        let goal = prove::Goal {
            project,
            head: &self.all_db,
            target: &self.target,
            declared: self.declared.as_deref(),
            changes,
            conversions: &given.conversions,
        };
        let db = &mut super::database_mut(&mut self.opened)?.db;
        let seeded = self
            .seeded
            .as_ref()
            .ok_or_else(|| Error::internal("the proof ran before the plan seeded head"))?;
        let (proof, new_head) = timings.time("prove", || {
            prove::prove(
                &mut db.conn,
                &db.reader,
                &goal,
                &candidate.stage,
                &candidate.dir_name,
                files,
                seeded,
            )
        })?;
        self.proven_head = Some(new_head);
        Ok(proof)
    }

    /// Publishes the proven version with the checksum file and the diagram of the new head,
    /// which the proof leaves in the disposable database.
    pub fn publish(
        &self,
        project: &Project,
        candidate: &Candidate,
        files: &Files,
    ) -> Result<PathBuf> {
        let new_head = self
            .proven_head
            .as_ref()
            .ok_or_else(|| Error::internal("the version was published before its proof"))?
            .filtered(&project.filter);
        let new_schema = model::from_database(&new_head, project.integer_primary_key_is_bigint)?;
        let block = diagram::render(&new_head, &new_schema);
        let records = self.records(project, &candidate.stage, block)?;
        write::publish(&project.versions_dir, &candidate.dir_name, files, &records)
    }

    /// Publishes `--empty`'s files, which change nothing: the diagram stays head's.
    pub fn publish_unproven(
        &self,
        project: &Project,
        candidate: &Candidate,
        files: &Files,
    ) -> Result<PathBuf> {
        write::write_files(&candidate.stage.join(&candidate.dir_name), files)?;
        let records = self.records(project, &candidate.stage, self.diagram_block())?;
        write::publish(&project.versions_dir, &candidate.dir_name, files, &records)
    }

    /// What is rewritten with the version staged under `stage`: the checksum file with it
    /// recorded on top of the history compared against, and the diagram showing `block` when
    /// the project keeps one.
    fn records(
        &self,
        project: &Project,
        stage: &Path,
        block: String,
    ) -> Result<Vec<files::Record>> {
        let mut versions = self.versions.clone();
        let mut links = if self.links.len() == versions.len() {
            self.links.clone()
        } else {
            checksums::links(&versions)?
        };
        let staged = versions::scan(stage)?;
        let [added] = staged.as_slice() else {
            return Err(Error::input(format!(
                "`{}` should hold exactly the new version",
                stage.display()
            )));
        };
        checksums::extend(&mut links, added)?;
        versions.push(added.clone());
        let mut records = vec![files::Record {
            path: checksums::sum_path(&project.versions_dir),
            text: checksums::render(&versions, &links),
        }];
        records.extend(diagram::refreshed(&project.schema_file, &block)?);
        Ok(records)
    }
}
