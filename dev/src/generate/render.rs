//! Writing a plan out as the files of a Diesel migration: `up.sql` and `down.sql`, each with
//! a header a reviewer reads in seconds, and `metadata.toml` when the SQL must run outside
//! the harness's transaction. Same inputs, byte-identical files.

use crate::generate::baseline::BaselineSql;
use crate::generate::diff::Change;
use crate::generate::plan::{Plan, Script, FOREIGN_KEYS_OFF, FOREIGN_KEYS_ON};
use crate::history::header::{self, Written};

/// The files of one migration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The text of up.sql, header included.
    pub up: String,
    /// The text of down.sql, header included.
    pub down: String,
    /// The text of metadata.toml; `None` when the SQL runs in the harness's transaction.
    pub metadata: Option<String>,
}

/// What the header says about the migration.
pub struct Header<'a> {
    /// What the migration does, in the user's words: the `-- Message:` line.
    pub message: &'a str,
    /// The version as the directory name writes it, e.g. `2026-11-22-000000`.
    pub version: &'a str,
    /// The changes the SQL makes, one line each; empty for a hand-written migration.
    pub changes: &'a [Change],
}

/// Renders a planned migration.
pub fn render(header: &Header<'_>, plan: &Plan) -> Files {
    let outside = plan.outside_transaction();
    Files {
        up: file(header, "up", &plan.up, outside),
        down: file(header, "down", &plan.down, outside),
        metadata: outside.then(|| {
            "# The SQL manages its own transaction: SQLite ignores `PRAGMA foreign_keys = OFF`\n# inside one, and a table rebuild needs foreign keys off so that no ON DELETE action fires.\nrun_in_transaction = false\n".to_owned()
        }),
    }
}

/// An empty migration for hand-written SQL, as `alembic revision -m` makes.
pub fn render_empty(message: &str, version: &str) -> Files {
    let header = Header {
        message,
        version,
        changes: &[],
    };
    let body = |direction: &str| {
        format!(
            "{}-- Write the {direction} SQL here.\n",
            header_text(&header, direction)
        )
    };
    Files {
        up: body("up"),
        down: body("down"),
        metadata: None,
    }
}

/// A squash's baseline: `replaced` (directory names, oldest first) listed under
/// `-- Replaces:` in both files, which is how a database that applied them is recognised.
pub fn render_baseline(header: &Header<'_>, replaced: &[String], sql: &BaselineSql) -> Files {
    let mut changes = change_lines(header.changes);
    for (table, rows) in &sql.rows {
        let plural = if *rows == 1 { "" } else { "s" };
        changes.push(format!(
            "insert {rows} row{plural} into {table}, as the replaced versions did"
        ));
    }
    let written = Written::Baseline {
        replaced,
        changes: &changes,
    };
    let file = |direction: &str, body: &str| {
        header::write(header.message, header.version, direction, &written) + body
    };
    Files {
        up: file("up", &sql.up),
        down: file("down", &sql.down),
        metadata: None,
    }
}

fn header_text(header: &Header<'_>, direction: &str) -> String {
    let changes = change_lines(header.changes);
    let written = if changes.is_empty() {
        Written::Empty
    } else {
        Written::Generated { changes: &changes }
    };
    header::write(header.message, header.version, direction, &written)
}

/// One header line per change.
fn change_lines(changes: &[Change]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

fn file(header: &Header<'_>, direction: &str, script: &Script, outside: bool) -> String {
    let mut text = header_text(header, direction);
    let body = script.text();
    if !outside {
        text.push_str(&body);
        text.push('\n');
        return text;
    }
    if script.rebuilds() {
        text.push_str("-- Foreign keys off (possible only outside a transaction) so rebuilding a table fires no\n-- ON DELETE action; legacy_alter_table so renaming it away leaves other tables' REFERENCES alone.\n");
        text.push_str(FOREIGN_KEYS_OFF);
    }
    text.push_str("BEGIN;\n\n");
    text.push_str(&body);
    text.push_str("\n\n");
    let guards = script.guards();
    if !guards.is_empty() {
        text.push_str("-- PRAGMA foreign_key_check only reports; this turns a broken reference into an error. It\n-- checks the tables this file changed and those referencing them, not the whole database.\n");
        for guard in guards {
            text.push_str(&guard);
            text.push('\n');
        }
    }
    text.push_str("COMMIT;\n");
    if script.rebuilds() {
        text.push_str(FOREIGN_KEYS_ON);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::plan::Step;

    fn plan(up: &[&str], down: &[&str], down_rebuilds: bool) -> Plan {
        let script = |statements: &[&str], rebuild: bool| Script {
            steps: statements
                .iter()
                .map(|sql| Step {
                    rebuild,
                    ..Step::statement(sql.to_string())
                })
                .collect(),
            checked: vec!["t".to_owned()],
        };
        Plan {
            up: script(up, false),
            down: script(down, down_rebuilds),
        }
    }

    #[test]
    fn header_names_message_version_and_changes() {
        let changes = [Change::DropTable("tags".into())];
        let header = Header {
            message: "drop tags",
            version: "2026-11-21-193000",
            changes: &changes,
        };
        let files = render(
            &header,
            &plan(
                &["DROP TABLE tags;"],
                &["CREATE TABLE tags (id INTEGER);"],
                false,
            ),
        );
        assert!(files.up.starts_with("-- Message: drop tags\n-- Version: 2026-11-21-193000\n-- Direction: up\n-- Changes:\n--   - drop table tags\n"));
        assert!(files.up.ends_with("\nDROP TABLE tags;\n"));
        assert!(files.metadata.is_none());
        assert_eq!(
            files,
            render(
                &header,
                &plan(
                    &["DROP TABLE tags;"],
                    &["CREATE TABLE tags (id INTEGER);"],
                    false
                )
            )
        );
    }

    #[test]
    fn rebuild_runs_outside_the_harness_transaction_with_foreign_keys_off() {
        let header = Header {
            message: "m",
            version: "1",
            changes: &[],
        };
        let files = render(
            &header,
            &plan(&["ALTER TABLE t DROP COLUMN c;"], &["REBUILD;"], true),
        );
        assert!(files
            .metadata
            .unwrap()
            .contains("run_in_transaction = false"));
        assert!(files
            .up
            .contains("BEGIN;\n\nALTER TABLE t DROP COLUMN c;\n\nCOMMIT;\n"));
        assert!(!files.up.contains("foreign_keys = OFF"));
        let off = files.down.find("PRAGMA foreign_keys = OFF;").unwrap();
        let begin = files.down.find("BEGIN;").unwrap();
        let guard = files.down.find("pragma_foreign_key_check('t')").unwrap();
        let commit = files.down.find("COMMIT;").unwrap();
        assert!(off < begin && begin < guard && guard < commit);
        assert!(files.down.ends_with("PRAGMA foreign_keys = ON;\n"));
    }
}
