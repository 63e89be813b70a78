//! Writing a new version directory (named by `naming`): a directory that appears whole or
//! not at all, with its `dev.sum` record, and the journal that finishes or undoes a
//! publication a killed run left half done.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::generate::render::Files;
use crate::support::files::{
    left_by_dead_processes, partial, partial_of, sweep_partials, sync_dir, write_durably, Record,
};

/// Writes `files` into the new directory `dir`, each file flushed to disk.
pub fn write_files(dir: &Path, files: &Files) -> Result<()> {
    // One level at most: recreating a whole path could bring back a scratch directory that a
    // signal's cleanup just removed.
    if let Some(parent) = dir.parent().filter(|p| !p.exists()) {
        fs::create_dir(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    fs::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    write_durably(&dir.join("up.sql"), &files.up)?;
    write_durably(&dir.join("down.sql"), &files.down)?;
    if let Some(metadata) = &files.metadata {
        write_durably(&dir.join("metadata.toml"), metadata)?;
    }
    Ok(())
}

/// The journal of a publication in progress: the version's directory name, then the path
/// of each record, one a line. While it exists, the renames it lists may be half done.
fn journal(versions_dir: &Path, pid: u32) -> PathBuf {
    versions_dir.join(format!(".dev-publish-{pid}"))
}

/// Publishes a new version directory and its records so that they appear together. Every
/// byte is written (and flushed) under hidden names first, so a full disk or a bad path fails
/// before anything is visible; then a journal is written and the renames run. Signals are held
/// off throughout; a run killed even between two renames (SIGKILL) is completed by the next
/// one (`recover`).
pub fn publish(
    versions_dir: &Path,
    dir_name: &str,
    files: &Files,
    records: &[Record],
) -> Result<PathBuf> {
    publish_replacing(versions_dir, dir_name, files, records, &[])
}

/// `publish`, with the version directories `retired` (a squash's replaced versions) gone in
/// the same step: each is first renamed to a hidden name Diesel skips, and removed only once
/// the new directory is in place, so a run that dies leaves either the old history or the new
/// one, never both or neither.
pub fn publish_replacing(
    versions_dir: &Path,
    dir_name: &str,
    files: &Files,
    records: &[Record],
    retired: &[String],
) -> Result<PathBuf> {
    // A few small files: a signal waits for them, and then finds a consistent tree.
    crate::support::scratch::uninterrupted(|| {
        let published = publish_now(versions_dir, dir_name, files, records, retired)?;
        let shown = versions_dir
            .file_name()
            .map_or_else(|| published.clone(), |dir| Path::new(dir).join(dir_name));
        crate::support::scratch::achieved(format!("wrote {} and its records", shown.display()));
        Ok(published)
    })
}

/// The hidden name a retired version directory waits under until its replacement is in place.
fn retired_name(versions_dir: &Path, dir_name: &str, pid: u32) -> PathBuf {
    versions_dir.join(format!(".{dir_name}.retired-{pid}"))
}

/// The journal's prefix for a retired directory's line; a record's line is an absolute path.
const RETIRED_LINE: &str = "- ";

fn publish_now(
    versions_dir: &Path,
    dir_name: &str,
    files: &Files,
    records: &[Record],
    retired: &[String],
) -> Result<PathBuf> {
    let pid = std::process::id();
    fs::create_dir_all(versions_dir)
        .map_err(|e| Error::io("create the migrations directory", versions_dir, e))?;
    let staging = partial(versions_dir, dir_name, pid);
    let target = versions_dir.join(dir_name);
    let journal = journal(versions_dir, pid);
    let partials: Vec<(PathBuf, &Path)> = records
        .iter()
        .map(|r| (partial_of(&r.path, pid), r.path.as_path()))
        .collect();
    let clean_up = || {
        for name in retired {
            let hidden = retired_name(versions_dir, name, pid);
            if hidden.exists() {
                let _ = fs::rename(&hidden, versions_dir.join(name));
            }
        }
        let _ = fs::remove_dir_all(&staging);
        for (partial, _) in &partials {
            let _ = fs::remove_file(partial);
        }
        let _ = fs::remove_file(&journal);
    };
    let prepared = (|| -> Result<()> {
        if target.exists() && !retired.iter().any(|name| name == dir_name) {
            return Err(Error::input(format!(
                "`{}` already exists",
                target.display()
            )));
        }
        write_files(&staging, files)?;
        for ((partial, _), record) in partials.iter().zip(records) {
            write_durably(partial, &record.text)?;
        }
        let mut lines = vec![dir_name.to_owned()];
        lines.extend(records.iter().map(|r| r.path.display().to_string()));
        lines.extend(retired.iter().map(|name| format!("{RETIRED_LINE}{name}")));
        write_durably(&journal, &(lines.join("\n") + "\n"))?;
        sync_dir(versions_dir);
        Ok(())
    })();
    if let Err(err) = prepared {
        clean_up();
        return Err(err.help(format!(
            "make `{}` writable, with room for the new files; nothing was written",
            versions_dir.display()
        )));
    }
    let retiring = (|| -> Result<()> {
        for name in retired {
            let hidden = retired_name(versions_dir, name, pid);
            fs::rename(versions_dir.join(name), &hidden)
                .map_err(|e| Error::io("set aside", &versions_dir.join(name), e))?;
        }
        Ok(())
    })();
    if let Err(err) = retiring {
        clean_up();
        return Err(err.help("nothing was changed: make versions/ writable and run it again"));
    }
    let renamed = (|| -> Result<()> {
        fs::rename(&staging, &target).map_err(|e| Error::io("rename into place", &target, e))?;
        for (partial, path) in &partials {
            fs::rename(partial, path).map_err(|e| Error::io("rename into place", path, e))?;
        }
        sync_dir(versions_dir);
        for name in retired {
            let hidden = retired_name(versions_dir, name, pid);
            fs::remove_dir_all(&hidden).map_err(|e| Error::io("remove", &hidden, e))?;
        }
        fs::remove_file(&journal).map_err(|e| Error::io("remove", &journal, e))
    })();
    if let Err(err) = renamed {
        // Whatever got renamed stays; the journal lets the next run finish the rest.
        return Err(
            err.help("run the command again: it completes or undoes this publication first")
        );
    }
    Ok(target)
}

/// Finishes or undoes what runs that died left in `versions_dir` (and beside the records
/// their journals name): a publication whose version directory is in place is completed,
/// any other is removed, and every hidden partial entry of a dead process goes. Call it while
/// holding the project lock.
pub fn recover(versions_dir: &Path, other_dirs: &[&Path]) {
    let journal_pid = |name: &str| {
        name.strip_prefix(".dev-publish-")
            .and_then(|p| p.parse::<u32>().ok())
    };
    for (journal, pid) in left_by_dead_processes(versions_dir, journal_pid) {
        let text = fs::read_to_string(&journal).unwrap_or_default();
        let mut lines = text.lines();
        let dir_name = lines.next().unwrap_or_default();
        let published = !dir_name.is_empty()
            && versions_dir.join(dir_name).is_dir()
            && !partial(versions_dir, dir_name, pid).exists();
        for line in lines {
            if let Some(name) = line.strip_prefix(RETIRED_LINE) {
                let hidden = retired_name(versions_dir, name, pid);
                if published {
                    let _ = fs::remove_dir_all(&hidden);
                } else if hidden.exists() {
                    let _ = fs::rename(&hidden, versions_dir.join(name));
                }
                continue;
            }
            let record = PathBuf::from(line);
            let partial = partial_of(&record, pid);
            if published && partial.exists() {
                let _ = fs::rename(&partial, &record);
            } else {
                let _ = fs::remove_file(&partial);
            }
        }
        let _ = fs::remove_file(&journal);
    }
    for dir in std::iter::once(versions_dir).chain(other_dirs.iter().copied()) {
        sweep_partials(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files {
            up: "SELECT 1;".into(),
            down: "SELECT 1;".into(),
            metadata: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn publish_shows_the_version_and_its_records_together_or_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let sum = Record {
            path: tmp.path().join("dev.sum"),
            text: "recorded\n".into(),
        };
        let dir = publish(
            tmp.path(),
            "2026-11-21-193005_a",
            &files(),
            std::slice::from_ref(&sum),
        )
        .unwrap();
        assert_eq!(fs::read_to_string(dir.join("up.sql")).unwrap(), "SELECT 1;");
        assert_eq!(fs::read_to_string(&sum.path).unwrap(), "recorded\n");
        assert_eq!(names(tmp.path()), ["2026-11-21-193005_a", "dev.sum"]);
        // The target exists now, so a second publication fails and leaves nothing.
        let again = Record {
            text: "other\n".into(),
            ..sum.clone()
        };
        assert!(publish(tmp.path(), "2026-11-21-193005_a", &files(), &[again]).is_err());
        assert_eq!(names(tmp.path()), ["2026-11-21-193005_a", "dev.sum"]);
        assert_eq!(fs::read_to_string(&sum.path).unwrap(), "recorded\n");
    }

    /// What a run killed (pid 99999999 cannot exist on Linux) at each point leaves, and what
    /// the next run's recovery makes of it.
    #[test]
    fn recovery_completes_a_publication_killed_between_its_renames_and_undoes_earlier_ones() {
        let dead = 99_999_999;
        let tmp = tempfile::tempdir().unwrap();
        let versions = tmp.path();
        let sum = versions.join("dev.sum");
        // Killed after the directory's rename, before the record's.
        fs::create_dir(versions.join("2026-01-01-000000_a")).unwrap();
        fs::write(partial(versions, "dev.sum", dead), "new\n").unwrap();
        fs::write(sum.clone(), "old\n").unwrap();
        fs::write(
            journal(versions, dead),
            format!("2026-01-01-000000_a\n{}\n", sum.display()),
        )
        .unwrap();
        recover(versions, &[]);
        assert_eq!(fs::read_to_string(&sum).unwrap(), "new\n");
        assert_eq!(names(versions), ["2026-01-01-000000_a", "dev.sum"]);

        // Killed before the directory's rename: everything partial goes.
        fs::create_dir(partial(versions, "2026-01-02-000000_b", dead)).unwrap();
        fs::write(partial(versions, "dev.sum", dead), "newer\n").unwrap();
        fs::write(
            journal(versions, dead),
            format!("2026-01-02-000000_b\n{}\n", sum.display()),
        )
        .unwrap();
        recover(versions, &[]);
        assert_eq!(fs::read_to_string(&sum).unwrap(), "new\n");
        assert_eq!(names(versions), ["2026-01-01-000000_a", "dev.sum"]);

        // Killed while writing, before the journal; a live run's partial stays.
        let live = partial(versions, "2026-01-03-000000_c", std::process::id());
        fs::create_dir(partial(versions, "2026-01-03-000000_c", dead)).unwrap();
        fs::create_dir(&live).unwrap();
        recover(versions, &[]);
        assert!(live.exists());
        assert_eq!(names(versions).len(), 3);
    }

    /// A squash killed before its new directory is in place gets the old versions back; one
    /// killed after it loses them, as it meant to.
    #[test]
    fn recovery_of_a_squash_keeps_either_the_old_history_or_the_new_one() {
        let dead = 99_999_999;
        for published in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let versions = tmp.path();
            let old = ["2026-01-01-000000_a", "2026-01-02-000000_b"];
            for name in old {
                fs::create_dir(retired_name(versions, name, dead)).unwrap();
            }
            let baseline = "2026-01-02-000000_baseline";
            if published {
                fs::create_dir(versions.join(baseline)).unwrap();
            } else {
                fs::create_dir(partial(versions, baseline, dead)).unwrap();
            }
            fs::write(
                journal(versions, dead),
                format!(
                    "{baseline}\n{RETIRED_LINE}{}\n{RETIRED_LINE}{}\n",
                    old[0], old[1]
                ),
            )
            .unwrap();
            recover(versions, &[]);
            let expected: Vec<&str> = if published {
                vec![baseline]
            } else {
                old.to_vec()
            };
            assert_eq!(names(versions), expected, "published: {published}");
        }
    }

    #[test]
    fn a_squash_publishes_its_baseline_and_retires_the_replaced_versions_together() {
        let tmp = tempfile::tempdir().unwrap();
        let versions = tmp.path();
        for name in [
            "2026-01-01-000000_a",
            "2026-01-02-000000_b",
            "2026-01-03-000000_c",
        ] {
            fs::create_dir(versions.join(name)).unwrap();
        }
        let retired = [
            "2026-01-01-000000_a".to_owned(),
            "2026-01-02-000000_b".to_owned(),
        ];
        // The baseline may take the very name of the newest replaced version.
        publish_replacing(versions, "2026-01-02-000000_b", &files(), &[], &retired).unwrap();
        assert_eq!(
            names(versions),
            ["2026-01-02-000000_b", "2026-01-03-000000_c"]
        );
        assert_eq!(
            fs::read_to_string(versions.join("2026-01-02-000000_b/up.sql")).unwrap(),
            files().up
        );
    }
}
