//! The migration history on disk: the version directories, the header each file carries,
//! the checksum chain in `dev.sum`, what git's index holds of them, and the baseline that
//! stands for the versions a squash replaced.

pub mod checksums;
pub mod effect;
pub mod git;
pub mod header;
pub mod squash;
pub mod staged;
pub mod versions;
