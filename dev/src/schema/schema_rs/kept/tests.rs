use super::*;
use std::fs;
use std::path::PathBuf;

const SCHEMA: &str = "diesel::table! { users (id) { id -> Integer, name -> Text, } }\n";

fn kept_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn gives_what_parse_file_gives_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new("schema.rs");
    let parsed = parse_kept(path, SCHEMA, dir.path()).unwrap();
    assert_eq!(parsed, parse_file(path, SCHEMA).unwrap());
    assert_eq!(kept_files(dir.path()).len(), 1);
    assert_eq!(parse_kept(path, SCHEMA, dir.path()).unwrap(), parsed);
}

#[test]
fn reads_the_kept_value_for_the_same_text_and_parses_other_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new("schema.rs");
    let mut forged = parse_kept(path, SCHEMA, dir.path()).unwrap();
    // Forge what was kept: reading it back shows.
    forged.rust_tables = vec!["forged".to_owned()];
    let key = kept::key("schema.rs", SCHEMA.as_bytes()).unwrap();
    kept::store(dir.path(), &key, &forged);
    assert_eq!(parse_kept(path, SCHEMA, dir.path()).unwrap(), forged);
    // One more byte is another file.
    let other = format!("{SCHEMA}\n");
    let parsed = parse_kept(path, &other, dir.path()).unwrap();
    assert_eq!(parsed, parse_file(path, &other).unwrap());
    assert_eq!(kept_files(dir.path()).len(), 2);
}

#[test]
fn parses_again_what_does_not_decode() {
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new("schema.rs");
    parse_kept(path, SCHEMA, dir.path()).unwrap();
    let kept = kept_files(dir.path()).pop().unwrap();
    fs::write(&kept, [0xff; 3]).unwrap();
    assert_eq!(
        parse_kept(path, SCHEMA, dir.path()).unwrap(),
        parse_file(path, SCHEMA).unwrap()
    );
}

#[test]
fn keeps_no_error_and_says_it_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "diesel::table! { users (id) { id -> , } }\n";
    for _ in 0..2 {
        let err = parse_kept(Path::new("schema.rs"), broken, dir.path()).unwrap_err();
        assert!(err.to_string().contains("schema.rs"), "{err}");
    }
    assert!(kept_files(dir.path()).is_empty());
}
