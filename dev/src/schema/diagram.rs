//! The schema diagram: a Mermaid `erDiagram` of head (tables, columns with their Diesel
//! types, PK, FK and UK markers, indexed columns noted, relationships from foreign keys), kept in `schema/README.md`
//! between marker comments so the rest of that file stays the user's.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::schema::introspect::Database;
use crate::schema::model::Schema;
use crate::support::files::{self, Record};

/// The line that opens the diagram block; it warns that edits inside are replaced.
pub const BEGIN: &str =
    "<!-- dev diagram: begin (written by `dev diagram`; edits here are replaced) -->";
/// How every form of `BEGIN` starts: files written by earlier builds keep their own words.
const BEGIN_PREFIX: &str = "<!-- dev diagram: begin";
/// The line that closes the block; everything outside the two markers is the user's.
pub const END: &str = "<!-- dev diagram: end -->";

/// The file beside schema.rs that holds the diagram.
pub fn path(schema_file: &Path) -> PathBuf {
    schema_file.with_file_name("README.md")
}

/// The diagram block, markers included.
pub fn render(db: &Database, schema: &Schema) -> String {
    let mut out = format!("{BEGIN}\n```mermaid\nerDiagram\n");
    for table in &db.tables {
        let Some(described) = schema.tables.get(&table.name) else {
            continue;
        };
        out.push_str(&format!("    {} {{\n", entity(&table.name)));
        for column in &described.columns {
            let stored = table.column(&column.name);
            let key = stored.is_some_and(|c| c.pk_position > 0);
            let foreign = table.foreign_keys.iter().any(|fk| fk.column == column.name);
            let shapes = || table.indexes.iter().filter_map(|i| i.index.as_ref());
            let unique = shapes().any(|i| i.makes_unique(&column.name));
            let indexed = !key && !unique && shapes().any(|i| i.leads_with(&column.name));
            let markers = listed(&[(key, "PK"), (foreign, "FK"), (unique, "UK")])
                .map(|m| format!(" {m}"))
                .unwrap_or_default();
            let comment = listed(&[(column.nullable, "nullable"), (indexed, "indexed")])
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default();
            out.push_str(&format!(
                "        {} {}{markers}{comment}\n",
                column.ty.diesel_name(),
                entity(&column.name)
            ));
        }
        out.push_str("    }\n");
    }
    for table in &db.tables {
        let mut ids: Vec<i64> = table.foreign_keys.iter().map(|fk| fk.id).collect();
        ids.dedup();
        for id in ids {
            let key: Vec<_> = table.foreign_keys.iter().filter(|fk| fk.id == id).collect();
            if db.table(&key[0].parent).is_none() {
                continue;
            }
            let optional = key
                .iter()
                .any(|fk| table.column(&fk.column).is_some_and(|c| !c.not_null));
            let columns: Vec<&str> = key.iter().map(|fk| fk.column.as_str()).collect();
            out.push_str(&format!(
                "    {} {}--o{{ {} : \"{}\"\n",
                entity(&key[0].parent),
                if optional { "|o" } else { "||" },
                entity(&table.name),
                columns.join(", ")
            ));
        }
    }
    out.push_str(&format!("```\n{END}\n"));
    out
}

/// The labels whose flag is set, comma-separated; `None` when none is.
fn listed(labels: &[(bool, &str)]) -> Option<String> {
    let set: Vec<&str> = labels
        .iter()
        .filter_map(|(on, label)| on.then_some(*label))
        .collect();
    (!set.is_empty()).then(|| set.join(", "))
}

/// A name Mermaid accepts as an entity or attribute.
fn entity(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `text` with its diagram block replaced by `block` (appended when it has none).
pub fn splice(text: &str, block: &str) -> String {
    match (text.find(BEGIN_PREFIX), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let after = end + END.len();
            let rest = text[after..].strip_prefix('\n').unwrap_or(&text[after..]);
            format!("{}{block}{rest}", &text[..start])
        }
        _ if text.is_empty() => {
            format!("# Schema\n\nThe tables at head of `versions/`.\n\n{block}")
        }
        _ => format!("{}\n\n{block}", text.trim_end()),
    }
}

/// Whether the file holds a diagram block at all (a project opts in by having one).
pub fn has_block(text: &str) -> bool {
    text.contains(BEGIN_PREFIX) && text.contains(END)
}

/// Whether `text` holds `block` as it is, whatever words its opening marker has (an earlier
/// build's are as good) and whatever its line endings.
pub fn holds(text: &str, block: &str) -> bool {
    let text = text.replace("\r\n", "\n");
    let current: String = text
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(marker) if marker.starts_with(BEGIN_PREFIX) => format!("{BEGIN}\n"),
            _ => line.to_owned(),
        })
        .collect();
    current.contains(block)
}

/// Writes the diagram into the file beside schema.rs (never through a link); returns its path.
pub fn write(schema_file: &Path, block: &str) -> Result<PathBuf> {
    let path = path(schema_file);
    files::refuse_link(&path, &path.display().to_string())?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    files::replace(&[Record {
        text: splice(&text, block),
        path: path.clone(),
    }])?;
    Ok(path)
}

/// The diagram file with `block` in place of its diagram, when the project keeps one (the
/// file exists and has the markers) and it differs: what `generate` and `rehash` rewrite so
/// that `check` passes right after them.
pub fn refreshed(schema_file: &Path, block: &str) -> Result<Option<Record>> {
    let path = path(schema_file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if !has_block(&text) || holds(&text, block) {
        return Ok(None);
    }
    Ok(Some(Record {
        text: splice(&text, block),
        path,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::introspect::inspect;
    use crate::schema::introspect::TableFilter;

    #[test]
    fn a_block_under_an_earlier_build_s_marker_is_held_and_replaced_in_place() {
        let earlier = "<!-- dev diagram: begin (written by `cargo run -p dev -- diagram`; edits here are replaced) -->";
        let block = format!("{BEGIN}\nbody\n{END}\n");
        let text = format!("# Mine\r\n\r\n{earlier}\r\nbody\r\n{END}\r\n");
        assert!(holds(&text, &block));
        assert!(!holds(&text.replace("body", "other"), &block));
        assert!(has_block(&text));
        let replaced = splice(
            &text.replace("\r\n", "\n"),
            &format!("{BEGIN}\nnew\n{END}\n"),
        );
        assert_eq!(replaced, format!("# Mine\n\n{BEGIN}\nnew\n{END}\n"));
    }

    #[test]
    fn draws_tables_markers_and_relationships() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, bio TEXT, email TEXT NOT NULL UNIQUE);
             CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), editor_id INTEGER REFERENCES users (id));
             CREATE INDEX posts_editor ON posts (editor_id, id);
             CREATE UNIQUE INDEX users_bio ON users (bio) WHERE bio IS NOT NULL;",
        )
        .unwrap();
        let db = inspect(&conn, &TableFilter::All).unwrap();
        let schema = crate::schema::model::from_database(&db, false).unwrap();
        let block = render(&db, &schema);
        assert!(
            block.contains(
                "    users {\n        Integer id PK\n        Text bio \"nullable, indexed\"\n        Text email UK\n    }\n"
            ),
            "{block}"
        );
        assert!(block.contains("        Integer user_id FK\n"), "{block}");
        assert!(
            block.contains("        Integer editor_id FK \"nullable, indexed\"\n"),
            "{block}"
        );
        assert!(
            block.contains("    users ||--o{ posts : \"user_id\"\n"),
            "{block}"
        );
        assert!(
            block.contains("    users |o--o{ posts : \"editor_id\"\n"),
            "{block}"
        );
    }

    #[test]
    fn splices_between_markers_and_keeps_the_rest() {
        let text = format!("# Mine\n\nintro\n\n{BEGIN}\nold\n{END}\ntail\n");
        let new = format!("{BEGIN}\nnew\n{END}\n");
        assert_eq!(
            splice(&text, &new),
            format!("# Mine\n\nintro\n\n{BEGIN}\nnew\n{END}\ntail\n")
        );
        assert_eq!(splice("# Mine\n", &new), format!("# Mine\n\n{new}"));
        assert!(splice("", &new).starts_with("# Schema\n"));
    }
}
