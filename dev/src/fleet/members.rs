//! Which databases a fleet is: the `FLEET` arguments (paths, `sqlite://` URLs, quoted globs)
//! and the lines of `--from FILE` (`-` for standard input), in the order given, each
//! database once.
//!
//! A glob is expanded here, not by the shell, so that ten thousand tenants fit on a command
//! line: `'tenants/*.sqlite3'`. A path that does not exist is still a member: the survey
//! reports it missing, one database among the others, never the failure of the whole run. A
//! glob that matches nothing is a mistake in the command itself, and an error.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::apply::database::locate;
use crate::error::{Error, Result};

/// The databases the arguments name, each once, in the order given; globs expand in
/// alphabetical order.
pub fn gather(arguments: &[String], from: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut named: Vec<(String, String)> = arguments
        .iter()
        .map(|a| ("the command line".to_owned(), a.clone()))
        .collect();
    if let Some(file) = from {
        named.extend(listed(file)?);
    }
    let mut seen = HashSet::new();
    let mut members = Vec::new();
    for (origin, name) in named {
        for path in expand(&origin, &name)? {
            // One database named twice (`a.db`, `./a.db`) is upgraded once.
            let identity = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.insert(identity) {
                members.push(path);
            }
        }
    }
    if members.is_empty() {
        return Err(Error::input("the fleet names no database").help(
            "name databases as paths, sqlite:// URLs or quoted globs ('tenants/*.sqlite3'), or list them one per line with --from FILE",
        ));
    }
    Ok(members)
}

/// The names `file` lists, one per line (blank lines and `#` comments skipped), each with
/// where it was read (`list.txt:3`) for an error about it.
fn listed(file: &str) -> Result<Vec<(String, String)>> {
    let lines: Vec<String> = if file == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io("read", Path::new("standard input"), e))?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Error::io("read", Path::new(file), e))?
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let origin = if file == "-" { "standard input" } else { file };
    Ok(lines
        .iter()
        .enumerate()
        .map(|(at, line)| (at, line.trim_end_matches('\r').trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(at, line)| (format!("{origin}:{}", at + 1), line.to_owned()))
        .collect())
}

/// The databases one name stands for: itself, or what its glob matches.
fn expand(origin: &str, name: &str) -> Result<Vec<PathBuf>> {
    let path = locate(Some(name)).map_err(|e| e.note(format!("named in {origin}")))?;
    let text = path.to_string_lossy();
    if !text.contains(['*', '?', '[']) {
        return Ok(vec![path]);
    }
    let matches = glob::glob(&text).map_err(|e| {
        Error::input(format!("`{name}` is not a glob: {}", e.msg))
            .note(format!("named in {origin}, at character {}", e.pos + 1))
            .help("quote a glob so that the shell leaves it to dev: 'tenants/*.sqlite3'")
    })?;
    let mut found = Vec::new();
    for entry in matches {
        let entry = entry.map_err(|e| {
            let path = e.path().to_path_buf();
            Error::io("read", &path, e.into())
        })?;
        // A tenant's `-wal`, `-shm` or lock file beside it is no database of the fleet.
        if entry.is_file() && !is_companion(&entry) {
            found.push(entry);
        }
    }
    if found.is_empty() {
        return Err(Error::input(format!("`{name}` matches no file"))
            .note(format!("named in {origin}"))
            .help("check the glob; it is matched from the current directory"));
    }
    Ok(found)
}

/// Whether `path` is a file SQLite or the migration lock keeps beside a database.
fn is_companion(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    ["-wal", "-shm", "-journal", "-migrate.lock"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_expand_and_each_database_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.sqlite3",
            "a.sqlite3",
            "a.sqlite3-wal",
            "a.sqlite3-migrate.lock",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let glob = format!("{}/*.sqlite3*", dir.path().display());
        let again = format!("sqlite://{}/b.sqlite3", dir.path().display());
        let members = gather(&[glob, again], None).unwrap();
        let names: Vec<_> = members
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.sqlite3", "b.sqlite3"]);
    }

    #[test]
    fn a_list_skips_blank_lines_and_comments_and_says_where_a_bad_name_is() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("fleet.txt");
        std::fs::write(
            &list,
            "# tenants\r\none.sqlite3\r\n\r\n  two.sqlite3 \n:memory:\n",
        )
        .unwrap();
        let err = gather(&[], Some(list.to_str().unwrap())).unwrap_err();
        assert!(err.to_string().contains("fleet.txt:5"), "{err}");
        std::fs::write(&list, "# tenants\r\none.sqlite3\r\n\r\n  two.sqlite3 \n").unwrap();
        let members = gather(&[], Some(list.to_str().unwrap())).unwrap();
        assert_eq!(
            members,
            [PathBuf::from("one.sqlite3"), PathBuf::from("two.sqlite3")]
        );
    }

    #[test]
    fn a_glob_that_matches_nothing_or_an_empty_fleet_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let glob = format!("{}/*.db", dir.path().display());
        assert!(gather(&[glob], None)
            .unwrap_err()
            .to_string()
            .contains("matches no file"));
        assert!(gather(&[], None)
            .unwrap_err()
            .to_string()
            .contains("names no database"));
    }
}
