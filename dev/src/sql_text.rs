//! Reading SQL as text: splitting a migration file into its statements, so a failure can be
//! pinned to a line, with SQLite's own notion of a complete statement.

use std::ffi::CString;
use std::ops::Range;

/// Byte ranges of the complete statements in `sql`, each starting at its first token and
/// ending after its `;`. Text after the last `;` that forms a statement is included too.
pub fn split_statements(sql: &str) -> Vec<Range<usize>> {
    let mut statements = Vec::new();
    let mut start = 0;
    for (pos, _) in sql.match_indices(';') {
        let candidate = &sql[start..=pos];
        if is_complete(candidate) {
            let first = start + skip_trivia(candidate);
            if first <= pos {
                statements.push(first..pos + 1);
            }
            start = pos + 1;
        }
    }
    let tail = &sql[start..];
    let first = skip_trivia(tail);
    if first < tail.len() {
        statements.push(start + first..sql.len());
    }
    statements
}

fn is_complete(sql: &str) -> bool {
    let Ok(c) = CString::new(sql) else {
        return false;
    };
    // SAFETY: sqlite3_complete only reads the NUL-terminated string.
    unsafe { libsqlite3_sys::sqlite3_complete(c.as_ptr()) != 0 }
}

/// Length of the leading whitespace and comments of `sql`.
fn skip_trivia(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if sql[i..].starts_with("/*") {
            i = sql[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_keeping_trigger_bodies_whole() {
        let sql = "-- header\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 'y';\nEND;\nSELECT 1";
        let parts: Vec<_> = split_statements(sql).into_iter().map(|r| &sql[r]).collect();
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[0], "CREATE TABLE a (x TEXT DEFAULT ';');");
        assert!(parts[1].starts_with("CREATE TRIGGER") && parts[1].ends_with("END;"));
        assert_eq!(parts[2], "SELECT 1");
    }

    #[test]
    fn comments_only_file_has_no_statements() {
        assert!(split_statements("-- nothing\n/* here */\n").is_empty());
    }
}
