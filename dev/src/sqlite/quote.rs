//! The one way user text becomes SQL text: identifiers, string literals and comments.
//! Every name, `sql_name`, message and constraint text the tool writes into a file goes
//! through here, so no name can end a quote or a comment and run as SQL.

/// An identifier as SQL: bare when it is a plain word and not a keyword, else double-quoted.
pub fn quote(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !crate::sqlite::ffi::is_keyword(name) {
        name.to_owned()
    } else {
        quote_always(name)
    }
}

/// An identifier double-quoted even when it is a plain word: for a constraint name SQLite
/// reports back as written.
pub fn quote_always(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Identifiers as a comma-separated list.
pub fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `text` as one `--` comment line. SQLite ends such a comment at a line break, so a message,
/// name or constraint text holding one would turn the rest of it into live SQL: control
/// characters (and the Unicode separators editors break lines at) are written as escapes,
/// and so is the backslash, so that `uncomment` gives the text back exactly.
pub fn comment(text: &str) -> String {
    let mut line = String::from("-- ");
    for c in text.chars() {
        if c == '\\' || c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

/// The text `comment` wrote after `-- `, with its escapes read back. An escape `comment`
/// never writes is kept as it stands, so a hand-written line reads as typed.
pub fn uncomment(escaped: &str) -> String {
    let mut text = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find('\\') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (c, used) = match after.chars().next() {
            Some('\\') => (Some('\\'), 1),
            Some('n') => (Some('\n'), 1),
            Some('r') => (Some('\r'), 1),
            Some('t') => (Some('\t'), 1),
            Some('u') => after
                .strip_prefix("u{")
                .and_then(|hex| hex.split_once('}'))
                .and_then(|(hex, _)| {
                    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                    Some((Some(c), hex.len() + 3))
                })
                .unwrap_or((None, 0)),
            _ => (None, 0),
        };
        match c {
            Some(c) => text.push(c),
            None => text.push('\\'),
        }
        rest = &after[used..];
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_stay_on_one_line_whatever_the_text() {
        let text = comment("drops t\nDELETE FROM logs;\r\u{2028}x");
        assert_eq!(text, "-- drops t\\nDELETE FROM logs;\\r\\u{2028}x");
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE logs (x); INSERT INTO logs VALUES (1);")
            .unwrap();
        conn.execute_batch(&format!("{text}\nSELECT 1;")).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM logs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("users"), "users");
        assert_eq!(quote("order"), "\"order\"");
        assert_eq!(quote("full name"), "\"full name\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote("1st"), "\"1st\"");
    }

    #[test]
    fn uncomment_gives_back_what_comment_wrote() {
        for text in [
            "plain",
            "a\\nb",
            "line\nbreak\r\t\u{1b}\u{2028}",
            "\\",
            "é \\u{41}",
        ] {
            let line = comment(text);
            assert_eq!(uncomment(line.strip_prefix("-- ").unwrap()), text, "{line}");
        }
        assert_eq!(uncomment("C:\\x \\q"), "C:\\x \\q");
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(quote_always("users"), "\"users\"");
    }
}
