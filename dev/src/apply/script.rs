//! `--sql`: the SQL a database command would run, as one script, instead of running it.

use diesel::migration::CREATE_MIGRATIONS_TABLE;

use crate::apply::cost::Copied;
use crate::apply::step::{Direction, VersionStep};
use crate::error::{Error, Result};
use crate::generate::replay;
use crate::history::header;
use crate::sqlite::quote::literal;

/// The SQL `steps` would run, in order, as one script: what the harness runs, with its
/// transactions and bookkeeping spelled out. `whom` names the database (or databases) it is
/// for, in its first line; `copies` (by step) says above a step what its rebuilds copy.
pub fn script(whom: &str, steps: &[VersionStep], copies: &[Copied]) -> Result<String> {
    let mut script = format!(
        "-- {} step{} for {whom}\n",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
    );
    if steps.iter().any(|s| s.direction == Direction::Up) {
        script.push_str(&format!("{}\n", CREATE_MIGRATIONS_TABLE.trim_end()));
    }
    for (at, step) in steps.iter().enumerate() {
        let VersionStep { version, direction } = step;
        let file = step.file();
        let sql = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
        let in_transaction = !replay::own_transaction(version);
        let bookkeeping = match direction {
            Direction::Up => format!(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ({});",
                literal(&version.key)
            ),
            Direction::Down => format!(
                "DELETE FROM __diesel_schema_migrations WHERE version = {};",
                literal(&version.key)
            ),
        };
        script.push_str(&format!(
            "\n-- {} {}: {}\n",
            direction.verb(),
            version.dir_name,
            header::header(version).message
        ));
        for copied in copies.iter().filter(|c| c.step == at) {
            script.push_str(&format!("{}\n", copied.describe()));
        }
        if in_transaction {
            script.push_str(&format!(
                "BEGIN;\n{}\n{bookkeeping}\nCOMMIT;\n",
                sql.trim_end()
            ));
        } else {
            script.push_str(&format!("{}\n{bookkeeping}\n", sql.trim_end()));
        }
    }
    Ok(script)
}
