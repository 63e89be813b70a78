//! Values a run derives from its input (a parsed schema file, the model of head's database),
//! kept in the cache directory by a key of that input, so that a warm run reads them back
//! instead of deriving them again.
//!
//! A value also follows from the code that derived it: every key hashes the running
//! executable's size, modification time and inode with the input, so a rebuilt or upgraded
//! tool derives everything afresh. Each value is stored after the SHA-256 of its bytes, as
//! the snapshots are: a value whose bytes do not match (a disk that filled, a file edited by
//! hand) or that does not decode is derived again; one that cannot be written costs the next
//! run its shortcut. Only values are kept, never errors.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::support::files;

/// How many values to keep in one directory; the oldest others are removed.
pub const KEEP: usize = 8;

/// The key of `input` for this executable: SHA-256 in hex. `None` when the executable
/// cannot be identified, and nothing is kept.
pub fn key(kind: &str, input: &[u8]) -> Option<String> {
    let exe = fs::metadata(std::env::current_exe().ok()?).ok()?;
    let modified = exe
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "dev {} {kind} 1\n{} {} {}\n",
        env!("CARGO_PKG_VERSION"),
        exe.len(),
        modified.as_nanos(),
        files::inode(&exe)
    ));
    hasher.update(input);
    Some(format!("{:x}", hasher.finalize()))
}

/// The value kept in `dir` under `key`, if there is one that decodes.
pub fn load<T: DeserializeOwned>(dir: &Path, key: &str) -> Option<T> {
    read_sealed(&file(dir, key))
}

/// Whether `dir` keeps a value under `key`.
pub fn holds(dir: &Path, key: &str) -> bool {
    file(dir, key).is_file()
}

/// Keeps `value` in `dir` under `key`, then removes the oldest values there beyond `KEEP`
/// (never the one just kept: several may share one tick of the file system's clock).
pub fn store<T: Serialize>(dir: &Path, key: &str, value: &T) {
    let kept = file(dir, key);
    if !write_sealed(&kept, value) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|path| path.extension().is_some_and(|x| x == EXTENSION) && *path != kept)
        .filter_map(|path| Some((path.metadata().ok()?.modified().ok()?, path)))
        .collect();
    files.sort();
    let excess = (files.len() + 1).saturating_sub(KEEP);
    for (_, path) in files.into_iter().take(excess) {
        let _ = fs::remove_file(path);
    }
}

/// Writes `value` to `path` after the SHA-256 of its encoding, whole or not at all (under a
/// hidden name beside it, then renamed); whether it was written.
pub fn write_sealed<T: Serialize>(path: &Path, value: &T) -> bool {
    let (Some(dir), Ok(value)) = (path.parent(), postcard::to_stdvec(value)) else {
        return false;
    };
    let mut bytes = Sha256::digest(&value).to_vec();
    bytes.extend(value);
    let partial = files::partial_of(path, std::process::id());
    let written = fs::create_dir_all(dir)
        .and_then(|()| fs::write(&partial, bytes))
        .and_then(|()| fs::rename(&partial, path));
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written.is_ok()
}

/// The value `write_sealed` wrote to `path`; `None` when there is none, or its bytes do not
/// match their digest or do not decode.
pub fn read_sealed<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = fs::read(path).ok()?;
    let (digest, value) = bytes.split_at_checked(DIGEST)?;
    if Sha256::digest(value).as_slice() != digest {
        return None;
    }
    postcard::from_bytes(value).ok()
}

/// The length of the digest a value's bytes are stored after.
const DIGEST: usize = 32;

/// The extension of kept values: postcard's compact encoding, several times faster to
/// decode than JSON (head's tables at 200 tables: 2.4 ms as JSON).
const EXTENSION: &str = "kept";

fn file(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.{EXTENSION}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_by_key_and_only_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let key_of = |n: usize| key("test", n.to_string().as_bytes()).unwrap();
        assert_ne!(key_of(1), key_of(2));
        assert_eq!(key_of(1), key_of(1));
        assert_eq!(load::<Vec<u32>>(dir.path(), &key_of(1)), None);
        store(dir.path(), &key_of(1), &vec![1_u32, 2]);
        assert!(holds(dir.path(), &key_of(1)));
        assert_eq!(load::<Vec<u32>>(dir.path(), &key_of(1)), Some(vec![1, 2]));
        // Bytes that do not match their digest are not a value, even when they decode.
        let path = file(dir.path(), &key_of(1));
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] = 3;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(load::<Vec<u32>>(dir.path(), &key_of(1)), None);
        fs::write(&path, [0xff; 3]).unwrap();
        assert_eq!(load::<Vec<u32>>(dir.path(), &key_of(1)), None);
        for n in 2..KEEP + 4 {
            store(dir.path(), &key_of(n), &n);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), KEEP);
        assert_eq!(load::<usize>(dir.path(), &key_of(KEEP + 3)), Some(KEEP + 3));
    }

    #[test]
    fn the_value_just_kept_is_never_the_one_removed() {
        // Values stored within one tick of the file system's clock look as old as each
        // other, or older than those already there: here the others look newer.
        let dir = tempfile::tempdir().unwrap();
        let key_of = |n: usize| key("test", n.to_string().as_bytes()).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        for n in 0..KEEP {
            store(dir.path(), &key_of(n), &n);
            let path = file(dir.path(), &key_of(n));
            let file = fs::File::options().append(true).open(path).unwrap();
            file.set_modified(later).unwrap();
        }
        store(dir.path(), &key_of(KEEP), &KEEP);
        assert_eq!(load::<usize>(dir.path(), &key_of(KEEP)), Some(KEEP));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), KEEP);
    }

    #[test]
    fn a_key_is_not_the_input_of_another_kind() {
        assert_ne!(key("a", b"x"), key("b", b"x"));
    }
}
