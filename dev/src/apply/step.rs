//! One migration file to run on a real database: a version and which way it goes. The
//! session plans and runs steps; a failed one is diagnosed from the same description.

use std::path::PathBuf;

use crate::history::versions::Version;

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applies the version: its up.sql runs.
    Up,
    /// Reverts the version: its down.sql runs.
    Down,
}

impl Direction {
    /// The word each line of progress starts with.
    pub fn verb(self) -> &'static str {
        match self {
            Direction::Up => "Upgrade",
            Direction::Down => "Downgrade",
        }
    }
}

/// One migration file to run.
#[derive(Debug, Clone)]
pub struct VersionStep {
    /// The version whose file runs.
    pub version: Version,
    /// Whether its up.sql or its down.sql runs.
    pub direction: Direction,
}

impl VersionStep {
    /// The step that applies `version`.
    pub fn up(version: &Version) -> VersionStep {
        VersionStep {
            version: version.clone(),
            direction: Direction::Up,
        }
    }

    /// The step that reverts `version`.
    pub fn down(version: &Version) -> VersionStep {
        VersionStep {
            version: version.clone(),
            direction: Direction::Down,
        }
    }

    /// The file that runs: the version's up.sql or down.sql.
    pub fn file(&self) -> PathBuf {
        match self.direction {
            Direction::Up => self.version.up_sql(),
            Direction::Down => self.version.down_sql(),
        }
    }
}
