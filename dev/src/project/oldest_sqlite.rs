//! The oldest SQLite the project's migrations must run on, which decides the statements a
//! generated migration may use (`sqlite::release`).
//!
//! `diesel.toml` rejects keys diesel_cli does not know, so the setting lives where Cargo
//! keeps tools' settings, in the `Cargo.toml` beside it or above it:
//!
//! ```toml
//! [package.metadata.dev-migrate]   # or [workspace.metadata.dev-migrate]
//! oldest-sqlite = "3.53"
//! ```
//!
//! Without it, the project's `Cargo.lock` decides: the SQLite that the `bundled` feature of
//! its libsqlite3-sys builds (a lock lists `cc` among libsqlite3-sys's dependencies exactly
//! when that feature is on). An application linking the system's SQLite, or a project with
//! no lock, runs on a SQLite nobody can name here, so the plan uses no statement newer than
//! the tool's oldest rules need.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::sqlite::release::Release;

/// The file the setting is read from.
pub const MANIFEST: &str = "Cargo.toml";
/// The key, under `[package.metadata.dev-migrate]` or `[workspace.metadata.dev-migrate]`.
pub const KEY: &str = "oldest-sqlite";

/// The oldest SQLite the project's migrations run on, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldestSqlite {
    /// `None` when nothing names it (the system's SQLite, no lock): assume none of the
    /// statements `Release` lists.
    pub release: Option<Release>,
    /// Where it comes from, for a note in the plan: "`oldest-sqlite` in Cargo.toml",
    /// "libsqlite3-sys 0.38.2, bundled (Cargo.lock)".
    pub source: String,
}

impl OldestSqlite {
    /// Whether every SQLite the migrations run on has what `feature` names.
    pub fn has(&self, feature: Release) -> bool {
        self.release.is_some_and(|r| r.has(feature))
    }
}

/// Reads the setting, else the lock, from `root` (the directory of `diesel.toml`) upwards:
/// the nearest `Cargo.toml` with the setting, up to the directory of the nearest
/// `Cargo.lock` (a workspace's root), and that lock.
pub fn read(root: &Path) -> Result<OldestSqlite> {
    let mut lock = None;
    for dir in root.ancestors() {
        if let Some(found) = setting(&dir.join(MANIFEST))? {
            return Ok(found);
        }
        let candidate = dir.join("Cargo.lock");
        if candidate.is_file() {
            lock = Some(candidate);
            break;
        }
    }
    Ok(lock.map_or_else(
        || OldestSqlite {
            release: None,
            source: "no Cargo.lock names the libsqlite3-sys the application links".to_owned(),
        },
        |lock| from_lock(&lock),
    ))
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Section>,
    workspace: Option<Section>,
}

#[derive(Deserialize)]
struct Section {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "dev-migrate")]
    dev_migrate: Option<Settings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(rename = "oldest-sqlite")]
    oldest_sqlite: Option<toml::Spanned<String>>,
}

/// The setting in the manifest at `path`, if it has one.
fn setting(path: &Path) -> Result<Option<OldestSqlite>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let help = format!(
        "write it as\n  [package.metadata.dev-migrate]\n  {KEY} = \"3.53\"\nnaming the oldest SQLite any database of the application runs on"
    );
    let manifest: Manifest = toml::from_str(&text).map_err(|e| {
        let err = Error::input(format!("{} is malformed: {}", path.display(), e.message()))
            .help(help.clone());
        match e.span() {
            Some(span) => err.at(Location::at_offset(path, &text, span.start)),
            None => err,
        }
    })?;
    let value = [manifest.package, manifest.workspace]
        .into_iter()
        .flatten()
        .find_map(|s| s.metadata?.dev_migrate?.oldest_sqlite);
    let Some(value) = value else {
        return Ok(None);
    };
    let Some(release) = Release::parse(value.get_ref()) else {
        return Err(Error::input(format!(
            "{KEY} = {:?} is no SQLite release",
            value.get_ref()
        ))
        .at(Location::at_offset(path, &text, value.span().start))
        .help(help));
    };
    Ok(Some(OldestSqlite {
        release: Some(release),
        source: format!("`{KEY} = \"{}\"` in {}", value.get_ref(), display(path)),
    }))
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// What the lock at `path` says: the oldest libsqlite3-sys it holds, bundled or not.
fn from_lock(path: &Path) -> OldestSqlite {
    let unnamed = |why: String| OldestSqlite {
        release: None,
        source: why,
    };
    let lock: Option<Lock> = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| toml::from_str(&text).ok());
    let Some(lock) = lock else {
        return unnamed(format!("{} could not be read", display(path)));
    };
    let mut found: Vec<(Option<Release>, &Package)> = lock
        .package
        .iter()
        .filter(|p| p.name == "libsqlite3-sys")
        .map(|p| {
            let bundled = p
                .dependencies
                .iter()
                .any(|d| d == "cc" || d.starts_with("cc "));
            let release = bundled
                .then(|| Release::bundled_by_libsqlite3_sys(&p.version))
                .flatten();
            (release, p)
        })
        .collect();
    found.sort_by_key(|(release, _)| *release);
    match found.first() {
        None => unnamed(format!("{} names no libsqlite3-sys", display(path))),
        Some((None, p)) => unnamed(format!(
            "libsqlite3-sys {} in {}, which links the system's SQLite or bundles one older than this tool knows",
            p.version,
            display(path)
        )),
        Some((Some(release), p)) => OldestSqlite {
            release: Some(*release),
            source: format!(
                "libsqlite3-sys {} in {}, which bundles SQLite {release}",
                p.version,
                display(path)
            ),
        },
    }
}

/// A path as messages show it: its last two components.
fn display(path: &Path) -> String {
    let parts: Vec<_> = path.components().rev().take(2).collect();
    parts
        .into_iter()
        .rev()
        .collect::<PathBuf>()
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const LOCK: &str = "version = 4\n\n[[package]]\nname = \"libsqlite3-sys\"\nversion = \"VERSION\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\nDEPS]\n";

    fn lock(version: &str, deps: &str) -> String {
        LOCK.replace("VERSION", version).replace("DEPS", deps)
    }

    #[test]
    fn the_setting_wins_over_the_lock_from_the_package_or_the_workspace() {
        for table in ["package", "workspace"] {
            let manifest = format!(
                "[{table}]\nname = \"app\"\n\n[{table}.metadata.dev-migrate]\noldest-sqlite = \"3.47\"\n"
            );
            let dir = project(&[
                ("Cargo.toml", &manifest),
                ("Cargo.lock", &lock("0.38.2", " \"cc\",\n")),
            ]);
            let oldest = read(dir.path()).unwrap();
            assert_eq!(oldest.release, Release::parse("3.47"), "{table}");
            assert!(!oldest.has(Release::ALTER_COLUMN_NOT_NULL));
            assert!(
                oldest.source.contains("oldest-sqlite = \"3.47\""),
                "{oldest:?}"
            );
        }
    }

    #[test]
    fn a_workspace_member_reads_the_workspace_root_above_it() {
        let dir = project(&[
            ("Cargo.toml", "[workspace]\nmembers = [\"app\"]\n"),
            (
                "Cargo.lock",
                &lock("0.38.2", " \"cc\",\n \"pkg-config\",\n"),
            ),
            ("app/Cargo.toml", "[package]\nname = \"app\"\n"),
        ]);
        let oldest = read(&dir.path().join("app")).unwrap();
        assert_eq!(oldest.release, Release::parse("3.53.2"));
        assert!(oldest.has(Release::ALTER_COLUMN_NOT_NULL));
    }

    #[test]
    fn without_a_bundled_libsqlite3_sys_the_release_is_unnamed() {
        let manifest = "[package]\nname = \"a\"\n".to_owned();
        for (file, text, why) in [
            ("Cargo.toml", manifest, "no Cargo.lock"),
            (
                "Cargo.lock",
                lock("0.38.2", " \"pkg-config\",\n"),
                "system's SQLite",
            ),
            ("Cargo.lock", lock("0.30.1", " \"cc\",\n"), "older"),
            (
                "Cargo.lock",
                "version = 4\n".to_owned(),
                "names no libsqlite3-sys",
            ),
        ] {
            let dir = project(&[(file, &text)]);
            let oldest = read(dir.path()).unwrap();
            assert_eq!(oldest.release, None, "{why}");
            assert!(oldest.source.contains(why), "{why}: {}", oldest.source);
        }
    }

    #[test]
    fn a_bad_setting_is_named_where_it_is() {
        let manifest =
            "[package]\nname = \"app\"\n\n[package.metadata.dev-migrate]\noldest-sqlite = \"latest\"\n";
        let dir = project(&[("Cargo.toml", manifest)]);
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("\"latest\" is no SQLite release"), "{err}");
        assert!(err.contains("Cargo.toml:5:17"), "{err}");

        let typo = "[package.metadata.dev-migrate]\noldest_sqlite = \"3.53\"\n";
        let dir = project(&[("Cargo.toml", typo)]);
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("oldest_sqlite"), "{err}");
        assert!(err.contains("Cargo.toml:2:1"), "{err}");
    }
}
