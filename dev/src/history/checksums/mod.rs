//! The checksum file of `versions/`: what was recorded, so that `check` can say when history
//! was rewritten.
//!
//! Like Atlas's `atlas.sum`, its first line hashes everything below it, so two branches that
//! each add a version always conflict in git. Each version's line holds a hash of its files
//! and a hash chained over the line before it. A changed file, a removed version, two
//! versions added on the same parent, and a version older than one recorded before it can
//! then each be told apart and explained.
//!
//! Line endings are not an edit. Git for Windows clones with `core.autocrlf=true`, which
//! checks every migration out with CRLF; hashing the bytes as they are would call each one
//! "changed after it was recorded" in such a clone. So CRLF is hashed as LF: a file with only
//! LF hashes exactly as it always did, and recorded checksums stay valid. The cache's keys
//! are built from the same chain, so they ignore line endings too.
//!
//! A changed version git has never committed is one nobody can have applied yet (typically
//! `generate --empty`, then the SQL written into it): the edit only needs recording, and the
//! message says so instead of "never edit a migration".

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Finding, Result};
use crate::history::versions::{self, key_of, Version};
use crate::support::{files, invocation};

pub mod index;

/// The checksum file, inside the migrations directory (Diesel reads only directories).
pub const SUM_FILE: &str = "dev.sum";

const HEADER: &str = "# Checksums of every version: written by `generate`, checked by `check`.\n# After an intended edit of a version, `dev rehash` records it.\n";
const TOTAL: &str = "total ";

/// Where the checksum file of `versions_dir` is.
pub fn sum_path(versions_dir: &Path) -> PathBuf {
    versions_dir.join(SUM_FILE)
}

/// SHA-256 as lower-case hex: the one hash of the checksum chain, which the snapshot cache
/// keys on too.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A hash of every file of a version directory, names included.
fn files_hash(version: &Version) -> Result<String> {
    hash_files(version, &file_names(version)?)
}

/// The names of the files of a version directory that its hash covers (dot-files left out),
/// sorted.
fn file_names(version: &Version) -> Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(&version.path)
        .map_err(|e| Error::io("read", &version.path, e))?
        .filter_map(|e| e.ok())
        .filter(versions::is_file)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

/// The hash of the files `names` (sorted) of a version directory, names included.
fn hash_files(version: &Version, names: &[String]) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    for name in names {
        let path = version.path.join(name);
        files::read_into(&path, &mut bytes).map_err(|e| Error::io("read", &path, e))?;
        let lf = lf_line_endings(&bytes);
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((lf.len() as u64).to_le_bytes());
        hasher.update(&lf);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// `bytes` with every CRLF turned into LF; bytes without CRLF come back untouched.
fn lf_line_endings(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.windows(2).any(|pair| pair == b"\r\n") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut lf = Vec::with_capacity(bytes.len());
    for (index, &byte) in bytes.iter().enumerate() {
        if !(byte == b'\r' && bytes.get(index + 1) == Some(&b'\n')) {
            lf.push(byte);
        }
    }
    std::borrow::Cow::Owned(lf)
}

fn chain(previous: &str, dir_name: &str, files: &str) -> String {
    sha256_hex(format!("{previous}\n{dir_name} {files}").as_bytes())
}

/// A version's place in the checksum chain: the hash of its files, and the chain hash up to
/// and including it, which identifies the whole history up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// SHA-256 of the version's files (names and contents, CRLF read as LF), in hex.
    pub files: String,
    /// SHA-256 of the previous chain hash, this directory's name and `files`, in hex.
    pub chain: String,
}

/// One recorded version.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    dir_name: String,
    files: String,
    chain: String,
}

/// Each version's files hash and the chain hash up to and including it, oldest first: the
/// chain hash of version i identifies the whole history up to i.
pub fn links(versions: &[Version]) -> Result<Vec<Link>> {
    Ok(linked(versions, on_every_core(versions, files_hash)?))
}

/// `work` on each version, on every core (reading a thousand small directories is most of
/// what hashing a history costs), in the versions' order.
fn on_every_core<T: Send>(
    versions: &[Version],
    work: impl Fn(&Version) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = versions.len().div_ceil(threads).max(1);
    let work = &work;
    let done: Vec<Result<Vec<T>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = versions
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(work).collect()))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("hashing files does not panic"))
            .collect()
    });
    Ok(done
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// The chain over `versions`, given each one's files hash, linked in order.
fn linked(versions: &[Version], hashes: Vec<String>) -> Vec<Link> {
    let mut previous = String::new();
    let mut links = Vec::with_capacity(versions.len());
    for (version, files) in versions.iter().zip(hashes) {
        let link = chain(&previous, &version.dir_name, &files);
        previous = link.clone();
        links.push(Link { files, chain: link });
    }
    links
}

/// `links` with `version` added after them.
pub fn extend(links: &mut Vec<Link>, version: &Version) -> Result<()> {
    let previous = links.last().map_or("", |link| link.chain.as_str());
    let files = files_hash(version)?;
    let link = chain(previous, &version.dir_name, &files);
    links.push(Link { files, chain: link });
    Ok(())
}

/// The checksum file's text for `versions` and their `links`, oldest first.
pub fn render(versions: &[Version], links: &[Link]) -> String {
    let lines: Vec<Line> = versions
        .iter()
        .zip(links)
        .map(|(version, link)| Line {
            dir_name: version.dir_name.clone(),
            files: link.files.clone(),
            chain: link.chain.clone(),
        })
        .collect();
    let body = body(&lines);
    format!("{HEADER}{TOTAL}{}\n{body}", sha256_hex(body.as_bytes()))
}

/// The lines below the `total` line, which it hashes.
fn body(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| format!("{} {} {}\n", l.dir_name, l.files, l.chain))
        .collect()
}

/// Whether the project records checksums at all.
pub fn recorded(versions_dir: &Path) -> bool {
    sum_path(versions_dir).is_file()
}

/// Everything wrong with the history (`versions` and their `links`) against its checksum
/// file, each problem explained with what to do; empty when it verifies.
pub fn problems(versions_dir: &Path, versions: &[Version], links: &[Link]) -> Result<Vec<Finding>> {
    problems_judged_at(versions_dir, versions, links, versions_dir)
}

/// `problems` of a copy of the migrations directory (`check --staged` checks one): whether
/// git ever committed a changed version is asked about `tracked_dir`, where the versions live
/// in the user's clone.
pub fn problems_judged_at(
    versions_dir: &Path,
    versions: &[Version],
    links: &[Link],
    tracked_dir: &Path,
) -> Result<Vec<Finding>> {
    let path = sum_path(versions_dir);
    let text = fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let recorded = match Recorded::parse(&text) {
        Ok(recorded) => recorded,
        Err(finding) => return Ok(vec![*finding]),
    };
    let (mut found, chain_broken) = recorded.changed(versions, links, tracked_dir);
    let total = sha256_hex(body(&recorded.lines).as_bytes());
    if recorded.total.as_deref() != Some(total.as_str()) && !chain_broken {
        found.push(merged_parallel().note(format!(
            "the `total` line of {SUM_FILE} does not match its versions"
        )));
    }
    found.extend(recorded.unrecorded(versions));
    Ok(found)
}

/// Two branches that each added a version on the same parent, merged.
fn merged_parallel() -> Finding {
    Finding::new(
        "C101",
        format!("{SUM_FILE}: two branches each added a version on the same parent"),
    )
    .help("keep the other branch's versions: remove your new version directory, take their dev.sum, then run `generate` again so yours comes after theirs")
}

/// The checksum file as read back: its lines, oldest first, and its `total` line.
struct Recorded {
    lines: Vec<Line>,
    total: Option<String>,
}

impl Recorded {
    /// Reads the text `render` writes; a merge conflict or a malformed line is the finding.
    fn parse(text: &str) -> std::result::Result<Recorded, Box<Finding>> {
        if text
            .lines()
            .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>"))
        {
            return Err(Box::new(merged_parallel()));
        }
        let mut recorded = Recorded {
            lines: Vec::new(),
            total: None,
        };
        for (number, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(hash) = line.strip_prefix(TOTAL) {
                recorded.total = Some(hash.to_owned());
                continue;
            }
            let parts: Vec<&str> = line.split(' ').collect();
            let [dir_name, files, link] = parts.as_slice() else {
                return Err(Box::new(
                    Finding::new(
                        "C102",
                        format!(
                            "{SUM_FILE}:{}: expected `<version dir> <files hash> <chain hash>`",
                            number + 1
                        ),
                    )
                    .help(format!(
                        "run `{}` to rewrite it from versions/",
                        invocation::command("rehash")
                    )),
                ));
            };
            recorded.lines.push(Line {
                dir_name: (*dir_name).to_owned(),
                files: (*files).to_owned(),
                chain: (*link).to_owned(),
            });
        }
        Ok(recorded)
    }

    /// The recorded versions that are gone, changed, or recorded on another parent; and
    /// whether the chain broke (once said, the `total` line need not say it again).
    fn changed(
        &self,
        versions: &[Version],
        links: &[Link],
        tracked_dir: &Path,
    ) -> (Vec<Finding>, bool) {
        let mut found = Vec::new();
        let mut previous = String::new();
        let mut chain_broken = false;
        for line in &self.lines {
            let Some(index) = versions.iter().position(|v| v.dir_name == line.dir_name) else {
                found.push(
                    Finding::new(
                        "C103",
                        format!(
                            "version {} was recorded but is gone from versions/",
                            line.dir_name
                        ),
                    )
                    .help(format!(
                        "restore it (databases may have applied it); if it truly must go, run `{}`",
                        invocation::command("rehash")
                    )),
                );
                continue;
            };
            let files = &links[index].files;
            if files != &line.files {
                found.push(changed_version(&line.dir_name, tracked_dir));
            } else if chain(&previous, &line.dir_name, files) != line.chain && !chain_broken {
                chain_broken = true;
                found.push(merged_parallel().note(format!(
                    "{} was recorded on a different parent than the version before it here",
                    line.dir_name
                )));
            }
            previous = line.chain.clone();
        }
        (found, chain_broken)
    }

    /// The versions not recorded: new ones, or ones older than what was recorded before them.
    fn unrecorded(&self, versions: &[Version]) -> Vec<Finding> {
        let newest_recorded = self.lines.iter().map(|l| key_of(&l.dir_name)).max();
        let mut found = Vec::new();
        for version in versions {
            if self.lines.iter().any(|l| l.dir_name == version.dir_name) {
                continue;
            }
            match &newest_recorded {
                Some(newest) if &version.key < newest => found.push(
                    Finding::new("C105", format!(
                        "version {} is older than versions recorded before it arrived",
                        version.dir_name
                    ))
                    .note("databases that applied the newer versions would run it out of order")
                    .help("run `generate` again so it comes after the newest version, and remove this directory"),
                ),
                _ => found.push(
                    Finding::new("C106", format!("version {} is not recorded in {SUM_FILE}", version.dir_name))
                        .help(format!("`generate` records the versions it writes; for a hand-made one run `{}`", invocation::command("rehash"))),
                ),
            }
        }
        found
    }
}

/// A recorded version whose files changed: only to be recorded when git never committed it
/// (nobody can have applied it), else never to be edited.
fn changed_version(dir_name: &str, tracked_dir: &Path) -> Finding {
    let changed = Finding::new(
        "C104",
        format!("version {dir_name} changed after it was recorded"),
    );
    if crate::history::git::ever_committed(&tracked_dir.join(dir_name)) == Some(false) {
        changed
            .note("this version is not committed yet, so nobody can have applied it")
            .help(format!(
                "record your edit with `{}`",
                invocation::command("rehash")
            ))
    } else {
        changed
            .note("never edit a migration others may have applied: write a new one instead")
            .help(format!(
                "if the edit is intended (nobody applied it yet), run `{}`",
                invocation::command("rehash")
            ))
    }
}

#[cfg(test)]
mod tests;
