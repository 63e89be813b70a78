use super::*;

fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("versions");
    for name in ["2026-01-01-000000_a", "2026-01-02-000000_b"] {
        fs::create_dir_all(versions.join(name)).unwrap();
        fs::write(versions.join(name).join("up.sql"), format!("-- {name}")).unwrap();
    }
    (dir, versions)
}

fn scan(versions: &Path) -> Vec<Version> {
    crate::history::versions::scan(versions).unwrap()
}

fn messages(versions: &Path) -> Vec<String> {
    let found = scan(versions);
    problems(versions, &found, &links(&found).unwrap())
        .unwrap()
        .iter()
        .map(|e| e.message.clone())
        .collect()
}

fn write(versions: &Path, found: &[Version]) -> Result<()> {
    fs::write(sum_path(versions), render(found)?)
        .map_err(|e| Error::io("write", &sum_path(versions), e))
}

fn render(found: &[Version]) -> Result<String> {
    Ok(super::render(found, &links(found)?))
}

#[test]
fn written_history_verifies() {
    let (_dir, versions) = project();
    write(&versions, &scan(&versions)).unwrap();
    assert!(messages(&versions).is_empty());
    assert!(
        crate::history::versions::scan(&versions).unwrap().len() == 2,
        "dev.sum is not a version"
    );
}

#[test]
fn detects_edit_removal_out_of_order_and_unrecorded() {
    let (_dir, versions) = project();
    write(&versions, &scan(&versions)).unwrap();
    fs::write(versions.join("2026-01-01-000000_a/up.sql"), "-- edited").unwrap();
    assert_eq!(
        messages(&versions),
        ["version 2026-01-01-000000_a changed after it was recorded"]
    );

    let (_dir, versions) = project();
    write(&versions, &scan(&versions)).unwrap();
    fs::remove_dir_all(versions.join("2026-01-01-000000_a")).unwrap();
    assert!(messages(&versions)[0].contains("is gone from versions/"));

    let (_dir, versions) = project();
    write(&versions, &scan(&versions)).unwrap();
    fs::create_dir(versions.join("2025-12-31-000000_late")).unwrap();
    fs::write(versions.join("2025-12-31-000000_late/up.sql"), "").unwrap();
    fs::create_dir(versions.join("2026-02-01-000000_new")).unwrap();
    fs::write(versions.join("2026-02-01-000000_new/up.sql"), "").unwrap();
    let found = messages(&versions);
    assert!(
        found
            .iter()
            .any(|m| m.contains("2025-12-31-000000_late is older")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("2026-02-01-000000_new is not recorded")),
        "{found:?}"
    );
}

#[test]
fn line_endings_alone_are_not_an_edit_and_lf_hashes_are_unchanged() {
    let (_dir, versions) = project();
    let lf_text = "CREATE TABLE t (\n  id INTEGER\n);\n";
    fs::write(versions.join("2026-01-01-000000_a/up.sql"), lf_text).unwrap();
    let before = links(&scan(&versions)).unwrap();
    write(&versions, &scan(&versions)).unwrap();
    fs::write(
        versions.join("2026-01-01-000000_a/up.sql"),
        lf_text.replace('\n', "\r\n"),
    )
    .unwrap();
    assert_eq!(links(&scan(&versions)).unwrap(), before);
    assert!(messages(&versions).is_empty());
    // The hash of an LF file is the one recorded before line endings were normalised.
    let mut hasher = Sha256::new();
    hasher.update(b"up.sql\0");
    hasher.update((lf_text.len() as u64).to_le_bytes());
    hasher.update(lf_text.as_bytes());
    let recorded: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(before[0].files, recorded);
    // A lone CR is content, not a line ending.
    assert_eq!(lf_line_endings(b"a\rb\r\n").as_ref(), b"a\rb\n");
}

#[test]
fn detects_two_versions_added_on_the_same_parent() {
    let (_dir, versions) = project();
    // Branch one records c on top of b; branch two records d on top of b.
    let add = |name: &str| {
        fs::create_dir(versions.join(name)).unwrap();
        fs::write(versions.join(name).join("up.sql"), name).unwrap();
    };
    add("2026-01-03-000000_c");
    let ours = render(&scan(&versions)).unwrap();
    fs::remove_dir_all(versions.join("2026-01-03-000000_c")).unwrap();
    add("2026-01-04-000000_d");
    let theirs = render(&scan(&versions)).unwrap();
    add("2026-01-03-000000_c");
    // A merge that kept both lines, as a careless conflict resolution does.
    let c_line = ours.lines().last().unwrap();
    let merged: String = theirs
        .lines()
        .map(|l| {
            if l.starts_with("2026-01-04") {
                format!("{c_line}\n{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(sum_path(&versions), merged).unwrap();
    let found = messages(&versions);
    assert!(
        found[0].contains("two branches each added a version on the same parent"),
        "{found:?}"
    );

    fs::write(
        sum_path(&versions),
        "<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> other\n",
    )
    .unwrap();
    assert!(messages(&versions)[0].contains("same parent"));
}
