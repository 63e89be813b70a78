//! The one SQL lexer: splitting a migration file into statements (so a failure can be
//! pinned to a line), and reading identifiers however they are quoted.
//!
//! A migration file is whatever its author typed, so nothing here may panic on any text: an
//! unterminated quote, comment or parenthesis runs to the end, and multi-byte characters are
//! never cut. `dev/tests/sql_properties.rs` checks that, and that statements end where
//! SQLite's own `sqlite3_complete` and `sqlite3_prepare` end them.

use std::ops::Range;

/// Byte ranges of the complete statements in `sql`, each from its first token to its `;`
/// (SQLite's own `sqlite3_complete` decides, so trigger bodies stay whole). Text after the
/// last `;` that holds a token counts as a statement too.
pub fn split_statements(sql: &str) -> Vec<Range<usize>> {
    let first_token = |from: usize, to: usize| {
        tokenize(&sql[from..to])
            .first()
            .map(|(_, r)| from + r.start)
    };
    let mut statements = Vec::new();
    let mut start = 0;
    for (pos, _) in sql.match_indices(';') {
        if crate::sqlite::ffi::is_complete(&sql[start..=pos]) {
            if let Some(first) = first_token(start, pos + 1) {
                statements.push(first..pos + 1);
            }
            start = pos + 1;
        }
    }
    if let Some(first) = first_token(start, sql.len()) {
        statements.push(first..sql.len());
    }
    statements
}

/// A lexical token of SQL: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A keyword or identifier, quoted or not.
    Word,
    /// A string or blob literal.
    Literal,
    /// A balanced parenthesised group, as one token.
    Group,
    /// Anything else: numbers, operators, punctuation.
    Other,
}

/// Splits `sql` into tokens, skipping whitespace and comments.
pub fn tokenize(sql: &str) -> Vec<(Token, Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if let Some(after) = end_of_comment(sql, i) {
            i = after;
            continue;
        }
        let kind = match c {
            b'"' | b'`' => {
                i = end_of_quoted(sql, i, c);
                Token::Word
            }
            b'[' => {
                i = sql[i..].find(']').map_or(bytes.len(), |n| i + n + 1);
                Token::Word
            }
            b'\'' => {
                i = end_of_quoted(sql, i, b'\'');
                Token::Literal
            }
            b'x' | b'X' if bytes.get(i + 1) == Some(&b'\'') => {
                i = end_of_quoted(sql, i + 1, b'\'');
                Token::Literal
            }
            b'(' => {
                i = end_of_group(sql, i);
                Token::Group
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] >= 0x80
                        || bytes[i] == b'$')
                {
                    i += 1;
                }
                Token::Word
            }
            _ => {
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                Token::Other
            }
        };
        tokens.push((kind, start..i));
    }
    tokens
}

/// The index after a quoted token starting at `start` (doubled quotes escape).
fn end_of_quoted(sql: &str, start: usize, quote: u8) -> usize {
    let bytes = sql.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The index after the group whose `(` is at `start`.
fn end_of_group(sql: &str, start: usize) -> usize {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if let Some(after) = end_of_comment(sql, i) {
            i = after;
            continue;
        }
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            q @ (b'"' | b'`' | b'\'') => {
                i = end_of_quoted(sql, i, q);
                continue;
            }
            b'[' => {
                i = sql[i..].find(']').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The text between a group's parentheses. A group left open runs to the end of the text.
pub fn inside(sql: &str, group: &Range<usize>) -> Range<usize> {
    let end = if group.len() >= 2 && sql.as_bytes()[group.end - 1] == b')' {
        group.end - 1
    } else {
        group.end
    };
    group.start + 1..end
}

/// The index after a comment starting at `i`, if one does. `i` may be inside a multi-byte
/// character (a group is scanned byte by byte), so this looks at bytes.
fn end_of_comment(sql: &str, i: usize) -> Option<usize> {
    let rest = &sql.as_bytes()[i..];
    if rest.starts_with(b"--") {
        Some(
            rest.iter()
                .position(|&b| b == b'\n')
                .map_or(sql.len(), |n| i + n + 1),
        )
    } else {
        // SQLite reads a `/*` that ends the text as the operators `/` and `*`.
        let body = rest.strip_prefix(b"/*").filter(|body| !body.is_empty())?;
        Some(
            body.windows(2)
                .position(|w| w == b"*/")
                .map_or(sql.len(), |n| i + 2 + n + 2),
        )
    }
}

/// The `i`-th of `tokens` (from `tokenize(sql)`) lower-cased, when it is a word: for reading
/// the keywords a statement starts with.
pub fn keyword_at(sql: &str, tokens: &[(Token, Range<usize>)], i: usize) -> Option<String> {
    tokens
        .get(i)
        .filter(|(k, _)| *k == Token::Word)
        .map(|(_, r)| sql[r.clone()].to_ascii_lowercase())
}

/// Whether `token` is the keyword or bare word `word`, in any case.
pub fn is_word(sql: &str, token: &(Token, Range<usize>), word: &str) -> bool {
    token.0 == Token::Word && sql[token.1.clone()].eq_ignore_ascii_case(word)
}

/// An identifier token's name, unquoted. A quote left open (the tokenizer runs it to the end
/// of the text) yields the rest of the text.
pub fn unquote(token: &str) -> String {
    let close = match token.chars().next() {
        Some(q @ ('"' | '`')) => q,
        Some('[') => ']',
        _ => return token.to_owned(),
    };
    let inner = &token[1..];
    let inner = inner.strip_suffix(close).unwrap_or(inner);
    if close == ']' {
        inner.to_owned()
    } else {
        inner.replace(&format!("{close}{close}"), &close.to_string())
    }
}

/// Every identifier or keyword in `sql`, unquoted, including those inside parentheses.
pub fn identifiers(sql: &str) -> impl Iterator<Item = String> + '_ {
    words(sql).into_iter().map(|r| unquote(&sql[r]))
}

/// Whether `sql` holds `keyword` as a bare word, inside parentheses too: a quoted name is
/// never a keyword.
pub fn has_keyword(sql: &str, keyword: &str) -> bool {
    words(sql)
        .into_iter()
        .any(|r| sql[r].eq_ignore_ascii_case(keyword))
}

/// Where every identifier or keyword of `sql` is, as written.
fn words(sql: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    collect_words(sql, 0..sql.len(), &mut found);
    found
}

fn collect_words(sql: &str, range: Range<usize>, found: &mut Vec<Range<usize>>) {
    let offset = range.start;
    for (kind, r) in tokenize(&sql[range]) {
        let r = offset + r.start..offset + r.end;
        match kind {
            Token::Word => found.push(r),
            Token::Group => collect_words(sql, inside(sql, &r), found),
            _ => {}
        }
    }
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
        assert!(split_statements("-- nothing\n/* here */\n").is_empty());
    }

    #[test]
    fn unterminated_text_is_read_to_the_end_without_cutting_a_character() {
        assert_eq!(identifiers("(é--x").collect::<Vec<_>>(), ["é"]);
        assert_eq!(identifiers("`Ὶ").collect::<Vec<_>>(), ["Ὶ"]);
        assert_eq!(identifiers("(a, \"b").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(unquote("[x"), "x");
        // SQLite reads a final `/*` as two operators, so it is a statement, not a comment.
        assert_eq!(split_statements("SELECT 1; /*"), [0..9, 10..12]);
        assert_eq!(split_statements("SELECT 1; /* x").len(), 1);
    }

    #[test]
    fn identifiers_include_those_in_parentheses() {
        let words: Vec<String> =
            identifiers("CREATE INDEX \"i x\" ON t (age, lower(name)) WHERE [flag] = 'age'")
                .collect();
        assert_eq!(
            words,
            ["CREATE", "INDEX", "i x", "ON", "t", "age", "lower", "name", "WHERE", "flag"]
        );
    }
}
