//! The migration history on disk: the version directories, the header each file carries,
//! the checksum chain in `dev.sum`, and what git's index holds of them.

pub mod checksums;
pub mod effect;
pub mod git;
pub mod header;
pub mod staged;
pub mod versions;
