//! The migrations directory: which versions exist, in which order, and whether Diesel
//! would accept them.
//!
//! Diesel takes the part of a directory name before the first `_` as the version (dashes
//! removed) and runs versions in that order; a directory without `up.sql` is an error for it.
//! Everything is validated here, before any SQL runs, so a bad tree fails fast and clearly.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One migration directory under `versions/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The directory name, e.g. `2026-11-21-193000_create_runs`.
    pub dir_name: String,
    /// The version as written in the name, e.g. `2026-11-21-193000`.
    pub version: String,
    /// The version as Diesel stores it in `__diesel_schema_migrations` (dashes removed).
    pub key: String,
    /// The directory's path, under the project's migrations directory.
    pub path: PathBuf,
}

impl Version {
    /// The file that applies the version.
    pub fn up_sql(&self) -> PathBuf {
        self.path.join("up.sql")
    }

    /// The file that reverts it; a version may lack one.
    pub fn down_sql(&self) -> PathBuf {
        self.path.join("down.sql")
    }

    /// The name after the version, e.g. `create_users`.
    pub fn slug(&self) -> &str {
        self.dir_name.split_once('_').map_or("", |(_, slug)| slug)
    }

    /// Copies the version's files into a directory of its name under `dir`: a disposable
    /// history (a replay's few pending versions, a squash's candidate) built from this one.
    pub fn copy_into(&self, dir: &Path) -> Result<PathBuf> {
        let target = dir.join(&self.dir_name);
        fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
        for entry in fs::read_dir(&self.path).map_err(|e| Error::io("read", &self.path, e))? {
            let entry = entry.map_err(|e| Error::io("read", &self.path, e))?;
            if entry.path().is_file() {
                fs::copy(entry.path(), target.join(entry.file_name()))
                    .map_err(|e| Error::io("copy", &entry.path(), e))?;
            }
        }
        Ok(target)
    }
}

/// The version Diesel records for a directory name: the part before the first `_`, without
/// dashes.
pub fn key_of(dir_name: &str) -> String {
    dir_name
        .split_once('_')
        .map_or(dir_name, |(version, _)| version)
        .replace('-', "")
}

const EXAMPLE_NAME: &str = "2026-11-21-193000_create_users";

/// Reads `versions_dir` and returns its migrations oldest first. A missing directory holds
/// no migrations.
pub fn scan(versions_dir: &Path) -> Result<Vec<Version>> {
    let versions = list(versions_dir)?;
    match versions.iter().find(|v| !v.up_sql().is_file()) {
        Some(version) => Err(no_up_sql(version)),
        None => Ok(versions),
    }
}

/// The error of a version without up.sql, which Diesel refuses.
pub fn no_up_sql(version: &Version) -> Error {
    Error::input(format!(
        "migration `{}` has no up.sql",
        version.path.display()
    ))
    .help("add an up.sql (and a down.sql) to it, or remove the directory")
}

/// `scan` without looking for each version's up.sql: for a caller that reads every version's
/// files anyway (`checksums::index`), and says `no_up_sql` itself.
pub fn list(versions_dir: &Path) -> Result<Vec<Version>> {
    let entries = match fs::read_dir(versions_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read the migrations directory", versions_dir, e)),
    };
    let mut by_key: BTreeMap<String, Version> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read", versions_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !is_dir(&entry) {
            continue;
        }
        let path = entry.path();
        let version = parse_dir_name(&name).map_err(|reason| {
            Error::input(format!(
                "`{}` is not a migration directory name Diesel accepts: {reason}",
                path.display()
            ))
            .help(format!(
                "name it `<version>_<name>` with a version of letters, digits and dashes, e.g. `{EXAMPLE_NAME}`"
            ))
        })?;
        let key = key_of(&name);
        let found = Version {
            dir_name: name.clone(),
            version: version.to_owned(),
            key: key.clone(),
            path,
        };
        if let Some(other) = by_key.insert(key, found) {
            return Err(Error::input(format!(
                "two migrations have the version {version}: `{}` and `{name}`",
                other.dir_name
            ))
            .help("Diesel records applied migrations by version, so each must be unique: regenerate one of them"));
        }
    }
    Ok(by_key.into_values().collect())
}

/// Whether `entry` is a directory, or a link to one. The kind comes with the listing on
/// most file systems, so only a link (or a file system that does not say) costs a `stat`:
/// a history of a thousand versions is listed in a thousand fewer system calls.
pub fn is_dir(entry: &fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(kind) if !kind.is_symlink() => kind.is_dir(),
        _ => entry.path().is_dir(),
    }
}

/// Whether `entry` is a regular file, or a link to one (see `is_dir`).
pub fn is_file(entry: &fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(kind) if !kind.is_symlink() => kind.is_file(),
        _ => entry.path().is_file(),
    }
}

/// Splits `<version>_<name>` and returns the version, or why the name is not acceptable.
fn parse_dir_name(name: &str) -> std::result::Result<&str, &'static str> {
    let (version, rest) = name
        .split_once('_')
        .ok_or("there is no `_` between the version and the name")?;
    if version.is_empty() || !version.chars().any(|c| c.is_ascii_digit()) {
        return Err("the version before the first `_` has no digits");
    }
    // diesel_cli writes hexadecimal subversions (`2026-12-07-115501-000a`), and takes any
    // `--version`.
    if !version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err("the version before the first `_` may hold only letters, digits and dashes");
    }
    if rest.is_empty() {
        return Err("the name after the version is empty");
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(dir: &Path, name: &str, with_up: bool) {
        let path = dir.join(name);
        fs::create_dir_all(&path).unwrap();
        if with_up {
            fs::write(path.join("up.sql"), "SELECT 1;").unwrap();
        }
    }

    #[test]
    fn lists_versions_in_diesel_order_and_skips_files_and_dot_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        make(tmp.path(), "2026-01-02-000000_b", true);
        make(tmp.path(), "00000000000000_diesel_initial_setup", true);
        make(tmp.path(), ".staging", false);
        fs::write(tmp.path().join("README.md"), "x").unwrap();
        let versions = scan(tmp.path()).unwrap();
        let names: Vec<_> = versions.iter().map(|v| v.dir_name.as_str()).collect();
        assert_eq!(
            names,
            ["00000000000000_diesel_initial_setup", "2026-01-02-000000_b"]
        );
        assert_eq!(versions[1].key, "20260102000000");
    }

    #[test]
    fn missing_directory_has_no_versions() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(scan(&tmp.path().join("nope")).unwrap().is_empty());
    }

    #[test]
    fn rejects_directory_without_up_sql() {
        let tmp = tempfile::tempdir().unwrap();
        make(tmp.path(), "2026-01-02-000000_b", false);
        let err = scan(tmp.path()).unwrap_err();
        assert!(err.message.contains("has no up.sql"), "{err}");
    }

    #[test]
    fn rejects_duplicate_versions_naming_both() {
        let tmp = tempfile::tempdir().unwrap();
        make(tmp.path(), "2026-01-02-000000_a", true);
        make(tmp.path(), "20260102000000_b", true);
        let err = scan(tmp.path()).unwrap_err();
        assert!(err.message.contains("2026-01-02-000000_a"), "{err}");
        assert!(err.message.contains("20260102000000_b"), "{err}");
    }

    #[test]
    fn accepts_every_form_diesel_cli_writes_in_its_order() {
        let tmp = tempfile::tempdir().unwrap();
        for name in [
            "2026-12-07-115501-000a_b",
            "2026-12-07-115501-0000_a",
            "2026-12-07-115500_old",
            "v2_explicit",
        ] {
            make(tmp.path(), name, true);
        }
        let names: Vec<String> = scan(tmp.path())
            .unwrap()
            .into_iter()
            .map(|v| v.dir_name)
            .collect();
        assert_eq!(
            names,
            [
                "2026-12-07-115500_old",
                "2026-12-07-115501-0000_a",
                "2026-12-07-115501-000a_b",
                "v2_explicit"
            ]
        );
    }

    #[test]
    fn rejects_names_diesel_would_not_accept() {
        for bad in [
            "create_users",
            "nounderscore",
            "2026-01-02_",
            "2026.01.02_users",
        ] {
            let tmp = tempfile::tempdir().unwrap();
            make(tmp.path(), bad, true);
            let err = scan(tmp.path()).unwrap_err();
            assert!(
                err.message.contains("not a migration directory name"),
                "{bad}: {err}"
            );
            assert!(err.help.as_ref().unwrap().contains(EXAMPLE_NAME));
        }
    }
}
