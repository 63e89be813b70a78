//! `stamp`: marking versions applied without running them, under the migration lock.

use diesel::migration::CREATE_MIGRATIONS_TABLE;

use crate::apply::database;
use crate::apply::session::Session;
use crate::error::{Error, Result};
use crate::history::header;
use crate::sqlite::quote::literal;

impl Session<'_> {
    /// `stamp TARGET`: marks every version up to `target` applied and none after it, running
    /// nothing (`base` clears every mark, `head` marks all).
    pub fn stamp(&mut self, target: &str) -> Result<()> {
        self.locked(|session, conn| {
            // Stamping writes through a connection of its own.
            drop(conn);
            session.stamp_locked(target)
        })
    }

    fn stamp_locked(&mut self, target: &str) -> Result<()> {
        let keep: Vec<String> = if target == "base" {
            Vec::new()
        } else if target == "head" {
            self.versions().iter().map(|v| v.key.clone()).collect()
        } else {
            let last = header::resolve(self.versions(), target)?;
            self.versions()
                .iter()
                .filter(|v| v.key <= last.key)
                .map(|v| v.key.clone())
                .collect()
        };
        let conn = rusqlite::Connection::open_with_flags(
            &self.database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .map_err(|e| {
            Error::input(format!(
                "there is no database at `{}`: {e}",
                self.database.display()
            ))
        })?;
        let values: Vec<String> = keep.iter().map(|k| format!("({})", literal(k))).collect();
        let insert = if values.is_empty() {
            String::new()
        } else {
            format!(
                "INSERT OR IGNORE INTO __diesel_schema_migrations (version) VALUES {};",
                values.join(", ")
            )
        };
        let kept: Vec<String> = keep.iter().map(|k| literal(k)).collect();
        conn.execute_batch(&format!(
            "BEGIN;\n{CREATE_MIGRATIONS_TABLE}\nDELETE FROM __diesel_schema_migrations WHERE version NOT IN ({});\n{insert}\nCOMMIT;",
            kept.join(", ")
        ))
        .map_err(|e| database::failed(&self.database, "stamp", &e))?;
        let unknown: Vec<String> = self
            .unknown_applied()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !unknown.is_empty() {
            (self.report)(format!(
                "Cleared versions versions/ does not contain: {}",
                unknown.join(", ")
            ));
        }
        self.applied = keep;
        let position = self.position();
        (self.report)(format!("Stamped: the database is at {position}."));
        Ok(())
    }
}
