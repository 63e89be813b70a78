//! Naming a new version: a UTC timestamp version later than every existing one, and a slug
//! from the message.

use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::error::{Error, Result};
use crate::history::versions::Version;

/// Longest slug, as the issue tracker and Alembic keep names short.
const SLUG_MAX: usize = 40;

/// The slug of a message: its words transliterated to lower-case ASCII (`clé` is `cle`,
/// `日本語` is `ri_ben_yu`) and joined by `_`, cut at a word boundary to at most 40 characters.
/// A message is one line of text: it names the directory and heads both files.
pub fn slug(message: &str) -> Result<String> {
    let message = message.trim();
    if message.is_empty() {
        return Err(Error::input("the migration message is empty")
            .help("say what the migration does, e.g. `generate \"add bio to users\"`"));
    }
    if let Some((at, c)) = message
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}'))
    {
        return Err(Error::input(format!(
            "the migration message has {} at character {}: a message is one line",
            if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}') {
                "a line break".to_owned()
            } else {
                format!("the control character {}", c.escape_default())
            },
            at + 1
        ))
        .help(
            "put the message on one line; say more in a comment inside up.sql after it is written",
        ));
    }
    let ascii = deunicode::deunicode(message).to_ascii_lowercase();
    let words: Vec<&str> = ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(Error::input(format!(
            "the migration message `{message}` has no letters or digits to name the directory after"
        ))
        .help("use a message such as \"add bio to users\""));
    }
    let mut slug = String::new();
    for word in words {
        let needed = slug.len() + usize::from(!slug.is_empty()) + word.len();
        if needed > SLUG_MAX {
            if slug.is_empty() {
                slug.push_str(&word[..SLUG_MAX]);
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('_');
        }
        slug.push_str(word);
    }
    Ok(slug)
}

/// A version for `now`, strictly later than every existing version (Diesel orders them by
/// the text before the first `_`, dashes removed): now, else a second after the newest one's
/// timestamp, else the newest version with `-0001` after it, which always sorts later. The
/// newest may be in any form diesel_cli writes: `2026-12-07-115501`, `2026-12-07-115501-000a`,
/// or a `--version` of its own.
pub fn next_version(now: OffsetDateTime, existing: &[Version]) -> Result<String> {
    let format = format_description!("[year]-[month]-[day]-[hour][minute][second]");
    let key_format = format_description!("[year][month][day][hour][minute][second]");
    let now = PrimitiveDateTime::new(now.date(), now.time())
        .replace_nanosecond(0)
        .map_err(|e| Error::input(format!("cannot read the clock: {e}")))?;
    let Some(newest) = existing.last() else {
        return now
            .format(format)
            .map_err(|e| Error::input(format!("cannot format the version: {e}")));
    };
    let later = |t: PrimitiveDateTime| {
        t.format(key_format)
            .is_ok_and(|key| key > newest.key)
            .then(|| t.format(format).ok())
            .flatten()
    };
    let after_newest = newest
        .key
        .get(..14)
        .and_then(|stamp| PrimitiveDateTime::parse(stamp, key_format).ok())
        .and_then(|t| t.checked_add(Duration::seconds(1)));
    Ok(later(now)
        .or_else(|| after_newest.and_then(later))
        .unwrap_or_else(|| format!("{}-0001", newest.version)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use time::macros::datetime;

    fn version(key: &str) -> Version {
        Version {
            dir_name: format!("{key}_x"),
            version: key.into(),
            key: key.replace('-', ""),
            path: PathBuf::from(key),
        }
    }

    #[test]
    fn slug_rules() {
        assert_eq!(slug("Add bio to users").unwrap(), "add_bio_to_users");
        assert_eq!(slug("  drop   users.age!! ").unwrap(), "drop_users_age");
        assert_eq!(
            slug("ajouter la clé d'accès").unwrap(),
            "ajouter_la_cle_d_acces"
        );
        assert_eq!(slug("日本語").unwrap(), "ri_ben_yu");
        assert_eq!(
            slug(&"word ".repeat(20)).unwrap(),
            "word_".repeat(7) + "word"
        );
        assert_eq!(
            slug("add the extraordinarily long column description to users").unwrap(),
            "add_the_extraordinarily_long_column"
        );
        assert_eq!(slug(&"x".repeat(50)).unwrap(), "x".repeat(40));
        for bad in [
            "tidy logs\nDELETE FROM logs;",
            "a\rb",
            "a\u{2028}b",
            "a\u{7}b",
        ] {
            let err = slug(bad).unwrap_err();
            assert_eq!(err.kind().exit_code(), 2);
            assert!(err.message.contains("a message is one line"), "{err}");
        }
        assert!(slug("").is_err());
        assert!(slug("   ").is_err());
        assert!(slug("!!! ---")
            .unwrap_err()
            .message
            .contains("no letters or digits"));
    }

    #[test]
    fn version_is_utc_now_or_just_after_the_newest() {
        let now = datetime!(2026-11-21 19:30:05.123 UTC);
        assert_eq!(next_version(now, &[]).unwrap(), "2026-11-21-193005");
        assert_eq!(
            next_version(now, &[version("2026-11-21-193005")]).unwrap(),
            "2026-11-21-193006"
        );
        assert_eq!(
            next_version(now, &[version("2027-01-01-000000")]).unwrap(),
            "2027-01-01-000001"
        );
        assert_eq!(
            next_version(now, &[version("00000000000000")]).unwrap(),
            "2026-11-21-193005"
        );
    }

    #[test]
    fn a_version_is_found_after_any_newest_diesel_cli_writes() {
        let now = datetime!(2026-11-21 19:30:05 UTC);
        // diesel_cli's subversions (hexadecimal), ahead of the clock.
        assert_eq!(
            next_version(now, &[version("2027-01-01-000000-0000")]).unwrap(),
            "2027-01-01-000001"
        );
        assert_eq!(
            next_version(now, &[version("2027-01-01-000000-000a")]).unwrap(),
            "2027-01-01-000001"
        );
        // The same second as the clock, with a subversion: later than it.
        assert_eq!(
            next_version(now, &[version("2026-11-21-193005-0000")]).unwrap(),
            "2026-11-21-193006"
        );
        // No second after it: the newest version, extended.
        assert_eq!(
            next_version(now, &[version("9999-12-31-235959")]).unwrap(),
            "9999-12-31-235959-0001"
        );
        // A --version of its own that is no timestamp.
        assert_eq!(
            next_version(now, &[version("99999999999999999999")]).unwrap(),
            "99999999999999999999-0001"
        );
    }
}
