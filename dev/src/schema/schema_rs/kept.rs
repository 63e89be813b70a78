//! Schema files read before, kept by their content (`support::kept`), so that a warm `check`
//! or `generate` does not parse a file it has parsed already: at hundreds of tables, syn's
//! parse is the largest part of a warm run. What a file declares follows from its text alone:
//! the path only places errors, and an error is never kept.

use std::path::Path;

use super::{parse_file, Parsed};
use crate::error::Result;
use crate::support::kept;

/// `parse_file`, or what it gave for the same text before, kept in `dir`.
pub fn parse_kept(path: &Path, source: &str, dir: &Path) -> Result<Parsed> {
    let Some(key) = kept::key("schema.rs", source.as_bytes()) else {
        return parse_file(path, source);
    };
    if let Some(parsed) = kept::load(dir, &key) {
        return Ok(parsed);
    }
    let parsed = parse_file(path, source)?;
    kept::store(dir, &key, &parsed);
    Ok(parsed)
}

#[cfg(test)]
mod tests;
