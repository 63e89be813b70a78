//! Naming and writing a new version directory: a UTC timestamp version later than every
//! existing one, a slug from the message, and a directory that appears whole or not at all.

use std::fs;
use std::path::{Path, PathBuf};

use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::error::{Error, Result};
use crate::render::Files;
use crate::versions::Version;

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
        .help("put the message on one line; say more in a comment inside up.sql after it is written"));
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

/// A version for `now`, strictly later than every existing version.
pub fn next_version(now: OffsetDateTime, existing: &[Version]) -> Result<String> {
    let format = format_description!("[year]-[month]-[day]-[hour][minute][second]");
    let key_format = format_description!("[year][month][day][hour][minute][second]");
    let mut candidate = PrimitiveDateTime::new(now.date(), now.time())
        .replace_nanosecond(0)
        .map_err(|e| Error::input(format!("cannot read the clock: {e}")))?;
    if let Some(newest) = existing.last() {
        let newest_time = PrimitiveDateTime::parse(&newest.key, key_format).ok();
        let later = |c: &PrimitiveDateTime| {
            c.format(key_format)
                .map(|k| k > newest.key)
                .unwrap_or(false)
        };
        if !later(&candidate) {
            candidate = newest_time
                .map(|t| t + Duration::seconds(1))
                .filter(later)
                .ok_or_else(|| {
                    Error::input(format!(
                        "cannot make a timestamp version later than the newest one, `{}`",
                        newest.dir_name
                    ))
                    .help("rename that directory to a `YYYY-MM-DD-HHMMSS_name` version")
                })?;
        }
    }
    candidate
        .format(format)
        .map_err(|e| Error::input(format!("cannot format the version: {e}")))
}

/// Writes `files` into the new directory `dir`.
pub fn write_files(dir: &Path, files: &Files) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
    };
    write("up.sql", &files.up)?;
    write("down.sql", &files.down)?;
    if let Some(metadata) = &files.metadata {
        write("metadata.toml", metadata)?;
    }
    Ok(())
}

/// Writes a version directory atomically: into a hidden directory inside `versions_dir`
/// (which Diesel ignores), renamed into place once complete.
pub fn publish(versions_dir: &Path, dir_name: &str, files: &Files) -> Result<PathBuf> {
    fs::create_dir_all(versions_dir)
        .map_err(|e| Error::io("create the migrations directory", versions_dir, e))?;
    let staging = versions_dir.join(format!(".{dir_name}.partial-{}", std::process::id()));
    let target = versions_dir.join(dir_name);
    let written = write_files(&staging, files).and_then(|()| {
        fs::rename(&staging, &target).map_err(|e| Error::io("rename into place", &target, e))
    });
    if let Err(err) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(err.help(format!(
            "make `{}` writable; nothing was written",
            versions_dir.display()
        )));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(slug(&"word ".repeat(20)).unwrap(), "word_".repeat(7) + "word");
        assert_eq!(
            slug("add the extraordinarily long column description to users").unwrap(),
            "add_the_extraordinarily_long_column"
        );
        assert_eq!(slug(&"x".repeat(50)).unwrap(), "x".repeat(40));
        for bad in ["tidy logs\nDELETE FROM logs;", "a\rb", "a\u{2028}b", "a\u{7}b"] {
            let err = slug(bad).unwrap_err();
            assert_eq!(err.kind.exit_code(), 2);
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
    fn publish_leaves_no_partial_directory_when_it_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let files = Files {
            up: "SELECT 1;".into(),
            down: "SELECT 1;".into(),
            metadata: None,
        };
        let dir = publish(tmp.path(), "2026-11-21-193005_a", &files).unwrap();
        assert_eq!(fs::read_to_string(dir.join("up.sql")).unwrap(), "SELECT 1;");
        // The target exists now, so renaming onto it fails.
        fs::write(dir.join("keep"), "x").unwrap();
        assert!(publish(tmp.path(), "2026-11-21-193005_a", &files).is_err());
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
