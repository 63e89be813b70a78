//! Reading SQL as text: splitting a file into statements and a stored `CREATE TABLE` into its
//! column definitions.
//!
//! The stored CREATE text is the only place SQLite keeps CHECKs, COLLATEs, exact declared
//! types and the like, so restoring a table exactly means working on that text, not on what
//! the pragmas report.

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
pub fn skip_trivia(sql: &str) -> usize {
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

/// A `CREATE TABLE` statement cut at the top-level commas of its definition list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable<'a> {
    pub sql: &'a str,
    /// The text of each top-level item between the parentheses, trimmed, in order: column
    /// definitions first, then table constraints.
    pub items: Vec<Range<usize>>,
}

/// Words that begin a table constraint rather than a column definition.
const CONSTRAINT_WORDS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];

impl<'a> CreateTable<'a> {
    /// Cuts a stored `CREATE TABLE ... ( ... ) [options]`; `None` for `CREATE TABLE ... AS`.
    pub fn parse(sql: &'a str) -> Option<CreateTable<'a>> {
        let mut depth = 0usize;
        let mut items = Vec::new();
        let mut item_start = None;
        let mut chars = sql.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' | '"' | '`' => skip_quoted(&mut chars, c),
                '[' => skip_quoted(&mut chars, ']'),
                '-' if sql[i..].starts_with("--") => {
                    while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                }
                '/' if sql[i..].starts_with("/*") => {
                    chars.next();
                    for (j, _) in chars.by_ref() {
                        if sql[..=j].ends_with("*/") {
                            break;
                        }
                    }
                }
                '(' => {
                    depth += 1;
                    if depth == 1 {
                        item_start = Some(i + 1);
                    }
                }
                ')' => {
                    if depth == 1 {
                        items.push(trimmed(sql, item_start?..i));
                        return Some(CreateTable { sql, items });
                    }
                    depth = depth.saturating_sub(1);
                }
                ',' if depth == 1 => {
                    items.push(trimmed(sql, item_start?..i));
                    item_start = Some(i + 1);
                }
                _ => {}
            }
        }
        None
    }

    /// The column definitions: items that do not start with a constraint keyword.
    pub fn columns(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.items
            .iter()
            .map(|r| &self.sql[r.clone()])
            .filter(|item| !starts_with_constraint(item))
    }

    /// The definition text of the column named `name` (compared case-insensitively).
    pub fn column(&self, name: &str) -> Option<&'a str> {
        self.columns()
            .find(|def| first_identifier(def).is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }
}

fn starts_with_constraint(item: &str) -> bool {
    let word: String = item
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    CONSTRAINT_WORDS.contains(&word.as_str())
}

fn trimmed(sql: &str, range: Range<usize>) -> Range<usize> {
    let text = &sql[range.clone()];
    let start = range.start + skip_trivia(text);
    let end = range.start + text.trim_end().len();
    start..end.max(start)
}

fn skip_quoted(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, close: char) {
    while let Some((_, c)) = chars.next() {
        if c == close {
            // A doubled quote is an escaped quote inside the literal.
            if close != ']' && chars.next_if(|&(_, n)| n == close).is_some() {
                continue;
            }
            return;
        }
    }
}

/// The identifier a column definition starts with, unquoted.
pub fn first_identifier(def: &str) -> Option<String> {
    let def = def.trim_start();
    let mut chars = def.chars();
    let close = match chars.next()? {
        '"' => '"',
        '`' => '`',
        '[' => ']',
        _ => {
            let word: String = def
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '(' && *c != ',')
                .collect();
            return (!word.is_empty()).then_some(word);
        }
    };
    let mut name = String::new();
    let mut rest = chars.peekable();
    while let Some(c) = rest.next() {
        if c == close {
            if close != ']' && rest.peek() == Some(&close) {
                rest.next();
                name.push(c);
                continue;
            }
            return Some(name);
        }
        name.push(c);
    }
    None
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

    #[test]
    fn cuts_create_table_into_columns_and_constraints() {
        let sql = "CREATE TABLE \"t\" (\n  id INTEGER NOT NULL PRIMARY KEY,\n  \"full name\" VARCHAR(255) COLLATE NOCASE CHECK (length(\"full name\") > 0),\n  price DECIMAL(10, 2) DEFAULT (1.0), -- money\n  [weird col] TEXT,\n  UNIQUE (price, id),\n  FOREIGN KEY (id) REFERENCES p(id)\n) STRICT";
        let table = CreateTable::parse(sql).unwrap();
        let columns: Vec<_> = table.columns().collect();
        assert_eq!(columns.len(), 4, "{columns:?}");
        assert_eq!(
            table.column("FULL NAME"),
            Some("\"full name\" VARCHAR(255) COLLATE NOCASE CHECK (length(\"full name\") > 0)")
        );
        assert_eq!(
            table.column("price"),
            Some("price DECIMAL(10, 2) DEFAULT (1.0)")
        );
        assert_eq!(table.items.len(), 6);
        assert_eq!(table.column("weird col"), Some("[weird col] TEXT"));
    }

    #[test]
    fn create_table_as_select_has_no_definition_list() {
        assert!(CreateTable::parse("CREATE TABLE t AS SELECT 1").is_none());
    }
}
