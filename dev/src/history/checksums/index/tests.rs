use super::*;
use crate::history::versions;
use std::time::Duration;

/// A history of two versions and where its index goes.
fn history() -> (tempfile::TempDir, Vec<Version>, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("versions");
    for name in ["2026-01-01-000000_a", "2026-01-02-000000_b"] {
        fs::create_dir_all(root.join(name)).unwrap();
        fs::write(root.join(name).join("up.sql"), format!("-- up {name}\n")).unwrap();
        fs::write(
            root.join(name).join("down.sql"),
            format!("-- down {name}\n"),
        )
        .unwrap();
    }
    let index = dir.path().join("cache").join("versions.index");
    (dir, versions::scan(&root).unwrap(), index)
}

/// Makes the index look written an hour from now, so that every entry is old enough to trust.
fn age(index: &Path) {
    let file = fs::File::options().append(true).open(index).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
}

/// Replaces the recorded hash of `dir_name` with a forged one, keeping the index's time:
/// reusing the entry shows.
fn forge(index: &Path, dir_name: &str) -> String {
    let forged = "f".repeat(64);
    let modified = fs::metadata(index).unwrap().modified().unwrap();
    let mut entries = Index::read(index).entries;
    entries.get_mut(dir_name).unwrap().hash = forged.clone();
    save(index, &entries);
    let file = fs::File::options().append(true).open(index).unwrap();
    file.set_modified(modified).unwrap();
    forged
}

fn files_of(links: &[Link]) -> Vec<&str> {
    links.iter().map(|l| l.files.as_str()).collect()
}

#[test]
fn gives_the_hashes_links_computes_and_records_them() {
    let (_dir, versions, index) = history();
    let expected = super::super::links(&versions).unwrap();
    assert_eq!(
        Index::read(&index).links(&versions, Some(&index)).unwrap(),
        expected
    );
    let recorded = Index::read(&index);
    assert_eq!(recorded.entries.len(), 2);
    assert_eq!(
        recorded.entries[&versions[0].dir_name].hash,
        expected[0].files
    );
    let names: Vec<&str> = recorded.entries[&versions[0].dir_name]
        .files
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["down.sql", "up.sql"]);
    // Read again (the entries too recent to trust), still the same.
    assert_eq!(
        Index::read(&index).links(&versions, Some(&index)).unwrap(),
        expected
    );
}

#[test]
fn reuses_an_old_enough_entry_whose_files_are_unchanged() {
    let (_dir, versions, index) = history();
    let expected = Index::read(&index).links(&versions, Some(&index)).unwrap();
    age(&index);
    let forged = forge(&index, &versions[1].dir_name);
    let reused = Index::read(&index).links(&versions, Some(&index)).unwrap();
    assert_eq!(files_of(&reused), [expected[0].files.as_str(), &forged]);
    // The chain is linked over the hashes given.
    assert_ne!(reused[1].chain, expected[1].chain);
}

#[test]
fn does_not_trust_an_entry_recorded_within_a_clock_tick() {
    let (_dir, versions, index) = history();
    let expected = Index::read(&index).links(&versions, Some(&index)).unwrap();
    forge(&index, &versions[1].dir_name);
    // The index written 1 s after the newest time it records, however long the run took.
    let entry = &Index::read(&index).entries[&versions[1].dir_name];
    let newest = std::iter::once(&entry.dir)
        .chain(entry.files.iter().map(|(_, stamp)| stamp))
        .map(|stamp| stamp.modified.max(stamp.changed))
        .max()
        .unwrap();
    let written = UNIX_EPOCH + Duration::from_nanos(u64::try_from(newest).unwrap());
    fs::File::options()
        .append(true)
        .open(&index)
        .unwrap()
        .set_modified(written + Duration::from_secs(1))
        .unwrap();
    assert_eq!(
        Index::read(&index).links(&versions, Some(&index)).unwrap(),
        expected
    );
}

#[test]
fn rereads_a_file_written_since_even_with_its_size_and_time_kept() {
    let (_dir, versions, index) = history();
    Index::read(&index).links(&versions, Some(&index)).unwrap();
    age(&index);
    forge(&index, &versions[0].dir_name);
    let up = versions[0].up_sql();
    let before = fs::metadata(&up).unwrap().modified().unwrap();
    let text = fs::read_to_string(&up).unwrap().replace("up", "UP");
    std::thread::sleep(Duration::from_millis(20));
    fs::write(&up, text).unwrap();
    fs::File::options()
        .append(true)
        .open(&up)
        .unwrap()
        .set_modified(before)
        .unwrap();
    let found = Index::read(&index).links(&versions, Some(&index)).unwrap();
    assert_eq!(found, super::super::links(&versions).unwrap());
    assert!(found[0].files != "f".repeat(64));
}

#[test]
fn rereads_a_version_given_another_file() {
    let (_dir, versions, index) = history();
    Index::read(&index).links(&versions, Some(&index)).unwrap();
    age(&index);
    let forged = forge(&index, &versions[0].dir_name);
    fs::write(
        versions[0].path.join("metadata.toml"),
        "run_in_transaction = false\n",
    )
    .unwrap();
    let found = Index::read(&index).links(&versions, Some(&index)).unwrap();
    assert_ne!(found[0].files, forged);
    assert_eq!(found, super::super::links(&versions).unwrap());
}

#[test]
fn ignores_an_index_it_did_not_write() {
    let (_dir, versions, index) = history();
    let expected = super::super::links(&versions).unwrap();
    Index::read(&index).links(&versions, Some(&index)).unwrap();
    let mut damaged = fs::read(&index).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let another_format = {
        kept::write_sealed(&index, &(FORMAT + 1, Index::read(&index).entries));
        fs::read(&index).unwrap()
    };
    for garbage in [b"not an index".to_vec(), damaged, another_format] {
        fs::write(&index, garbage).unwrap();
        age(&index);
        assert!(Index::read(&index).entries.is_empty());
        assert_eq!(
            Index::read(&index).links(&versions, Some(&index)).unwrap(),
            expected
        );
    }
}

#[test]
fn recorded_links_are_the_links_of_an_unchanged_history() {
    let (_dir, versions, index) = history();
    assert_eq!(Index::read(&index).recorded_links(&versions), None);
    let expected = Index::read(&index).links(&versions, Some(&index)).unwrap();
    assert_eq!(
        Index::read(&index).recorded_links(&versions),
        Some(expected)
    );
    assert_eq!(
        Index::read(&index)
            .recorded_links(&versions[..1])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn records_nothing_without_a_path() {
    let (_dir, versions, index) = history();
    let expected = super::super::links(&versions).unwrap();
    assert_eq!(Index::default().links(&versions, None).unwrap(), expected);
    assert!(!index.exists());
}
