//! SQLite releases, and the statements a migration may use on each.
//!
//! A migration runs wherever the application runs, on whatever SQLite it links. The plan
//! uses a statement only when the oldest SQLite the project's migrations must run on has it
//! (`project::oldest_sqlite` says which that is); the proof runs on the SQLite bundled here,
//! which has every statement named below.

use std::fmt;

/// A SQLite release, ordered as SQLite numbers them (`3.53.2` is 3053002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release(u32);

impl Release {
    /// `ALTER TABLE t ALTER COLUMN c SET NOT NULL` / `DROP NOT NULL`: a column's
    /// nullability changes without a copy of the table (SET scans the rows and fails on a
    /// NULL).
    pub const ALTER_COLUMN_NOT_NULL: Release = Release(3_053_000);

    /// The release this tool bundles, on which every proof runs.
    pub fn bundled() -> Release {
        Release(u32::try_from(rusqlite::version_number()).unwrap_or(0))
    }

    /// Reads `3.53` or `3.53.2`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Release> {
        let mut parts = text.trim().split('.');
        let mut number = |max: u32| -> Option<u32> {
            match parts.next() {
                None => Some(0),
                Some(part) if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => {
                    part.parse().ok().filter(|n| *n <= max)
                }
                Some(_) => None,
            }
        };
        let (major, minor, patch) = (number(9)?, number(999)?, number(999)?);
        if major != 3 || parts.next().is_some() || !text.contains('.') {
            return None;
        }
        Some(Release(major * 1_000_000 + minor * 1000 + patch))
    }

    /// The release the `bundled` feature of libsqlite3-sys `version` (`0.38.2`) builds, as
    /// far as this tool knows: the newest release below that it knows of, so that a version
    /// it has not seen is taken for no newer than the last one it has. `None` when it is older
    /// than any it knows.
    pub fn bundled_by_libsqlite3_sys(version: &str) -> Option<Release> {
        // Each row: the first libsqlite3-sys seen to bundle that SQLite (from its source).
        const KNOWN: [((u64, u64, u64), u32); 2] =
            [((0, 37, 0), 3_050_002), ((0, 38, 2), 3_053_002)];
        let wanted = semver_triple(version)?;
        KNOWN
            .iter()
            .rev()
            .find(|(first, _)| *first <= wanted)
            .map(|(_, release)| Release(*release))
    }

    /// Whether a migration running on this release may use what `feature` names.
    pub fn has(self, feature: Release) -> bool {
        self >= feature
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(f, "{}.{}.{}", n / 1_000_000, n / 1000 % 1000, n % 1000)
    }
}

/// `0.38.2` (a pre-release or build suffix ignored) as numbers.
fn semver_triple(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let triple = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(triple)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_read_and_print_as_sqlite_numbers_them() {
        assert_eq!(Release::parse("3.53"), Some(Release(3_053_000)));
        assert_eq!(Release::parse(" 3.47.2 "), Some(Release(3_047_002)));
        assert_eq!(Release::parse("3.53.2").unwrap().to_string(), "3.53.2");
        for bad in [
            "", "3", "4.1", "3.x", "3.53.2.1", "3..1", "3.1000", "v3.53", "3.53-rc",
        ] {
            assert_eq!(Release::parse(bad), None, "{bad:?}");
        }
        assert!(Release::parse("3.53.0")
            .unwrap()
            .has(Release::ALTER_COLUMN_NOT_NULL));
        assert!(!Release::parse("3.52.9")
            .unwrap()
            .has(Release::ALTER_COLUMN_NOT_NULL));
    }

    #[test]
    fn a_libsqlite3_sys_version_reads_as_the_newest_release_known_at_or_below_it() {
        let of = |v: &str| Release::bundled_by_libsqlite3_sys(v).map(|r| r.to_string());
        assert_eq!(of("0.38.2").as_deref(), Some("3.53.2"));
        assert_eq!(of("0.39.0").as_deref(), Some("3.53.2"));
        assert_eq!(of("0.38.1").as_deref(), Some("3.50.2"));
        assert_eq!(of("0.37.0").as_deref(), Some("3.50.2"));
        assert_eq!(of("0.30.1"), None);
        assert_eq!(of("not a version"), None);
    }

    /// The table must agree with what this build links: the workspace's lock names the
    /// libsqlite3-sys this tool is built with, and it bundles the SQLite running this test.
    #[test]
    fn the_known_releases_agree_with_the_libsqlite3_sys_this_tool_is_built_with() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
            .expect("the workspace's Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"libsqlite3-sys\""))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .expect("libsqlite3-sys in Cargo.lock")
            .trim_matches('"');
        assert_eq!(
            Release::bundled_by_libsqlite3_sys(version),
            Some(Release::bundled()),
            "libsqlite3-sys {version} bundles {}: add it to `bundled_by_libsqlite3_sys`",
            Release::bundled()
        );
    }
}
