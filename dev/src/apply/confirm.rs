//! Confirming what a step drops before it runs on a real database: the rows and values the
//! file drops, counted on the database now, and what a run on a copy removed beyond them;
//! anything to lose needs a yes (`--yes`, or a person at the terminal), and so does a file
//! whose losses cannot be known.

use std::path::Path;

use crate::apply::database;
use crate::apply::losses;
use crate::apply::rehearse::TableChange;
use crate::apply::session::{Dropped, Session};
use crate::error::{Error, Location, Result};
use crate::history::versions::Version;

impl Session<'_> {
    /// Counts the rows and values `drops` (what `sql`, the text of `file`, drops) hold now;
    /// anything to lose needs a yes, and so does a file whose losses cannot be known. What
    /// the step will drop, once confirmed.
    pub(super) fn confirm_losses(
        &mut self,
        drops: losses::Drops,
        removed: &[TableChange],
        version: &Version,
        file: &Path,
        sql: &str,
    ) -> Result<Dropped> {
        let mut counted = Vec::new();
        let mut rows = 0;
        // What a run on a copy removed beyond what is dropped whole: rows gone from tables
        // and values gone from columns that stay.
        for change in removed.iter().filter_map(|c| c.beyond(&drops.losses)) {
            rows += change.removed.0 + change.changed.iter().map(|(_, n, _)| n).sum::<i64>();
            counted.push(change.to_string());
        }
        if !drops.losses.is_empty() {
            let reader = database::reader(&self.database)?;
            for loss in &drops.losses {
                let n = loss
                    .count(&reader)
                    .map_err(|e| database::failed(&self.database, "count the rows of", &e))?;
                if n > 0 {
                    rows += n;
                    counted.push(loss.describe(n));
                }
            }
        }
        let name = format!(
            "{} of {}",
            file.file_name().unwrap_or_default().to_string_lossy(),
            version.dir_name
        );
        let mut what = String::new();
        if !counted.is_empty() {
            what = format!("{name} drops {}", counted.join(", "));
        }
        let dropped = Dropped {
            version: version.dir_name.clone(),
            rows,
            what: counted,
        };
        let location = drops
            .unknown
            .as_ref()
            .and_then(|u| u.offset)
            .map(|offset| Location::at_offset(file, sql, offset));
        if let Some(unknown) = &drops.unknown {
            let at = location
                .as_ref()
                .map(|l| format!(" at line {}", l.line))
                .unwrap_or_default();
            what = if what.is_empty() {
                format!("{name} stops")
            } else {
                format!("{what}, and stops")
            };
            what.push_str(&format!(
                "{at} on a copy of the database's schema ({}), so what it drops cannot be counted",
                unknown.reason
            ));
        }
        if what.is_empty() {
            return Ok(dropped);
        }
        if self.yes {
            (self.report)(format!("warning: {what} (--yes given)"));
            return Ok(dropped);
        }
        if let Some(prompt) = self.prompt.as_deref_mut() {
            if prompt.confirm(&format!("{what}. Continue?")) {
                return Ok(dropped);
            }
        }
        let help = if drops.unknown.is_some() {
            "fix that statement; if it fails only on an empty copy, back the database up (`--backup`) and pass `--yes` to run it anyway"
        } else {
            "back it up (`--backup`) and pass `--yes` to go ahead, or answer yes on a terminal"
        };
        let refusal = Error::input(format!("refusing to run: {what}"))
            .note(format!("the database is at {}", self.position()))
            .help(help);
        Err(match location {
            Some(location) => refusal.at(location),
            None => refusal,
        })
    }
}
