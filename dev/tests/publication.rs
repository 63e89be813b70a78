//! Writing into the project under pressure: two runs at once, a run killed mid-publication, a
//! full disk, symbolic links. The tree must stay consistent: a version and its dev.sum record
//! appear together or not at all, nothing is left behind, nothing is written outside.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// The blog with its history recorded in dev.sum (one generated version), and the views
/// column added to schema.rs next.
fn recorded_blog() -> Project {
    let project = Project::fixture("blog");
    project.add_posts_views();
    project.generate("add views");
    project.edit_schema(
        "        views -> Nullable<BigInt>,\n",
        "        views -> Nullable<BigInt>,\n        likes -> Nullable<BigInt>,\n",
    );
    project
}

/// Names in `versions/` that are not version directories or dev.sum.
fn strays(project: &Project) -> Vec<String> {
    fs::read_dir(project.file("versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "dev.sum" && !n.starts_with("20"))
        .collect()
}

#[test]
fn two_generates_at_once_write_one_version_and_the_second_says_whom_it_waited_for() {
    let project = recorded_blog();
    // A slow first version keeps the first run busy while it holds the lock.
    project.write(
        "versions/2025-12-31-000000_slow/up.sql",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c;\n",
    );
    project.write("versions/2025-12-31-000000_slow/down.sql", "SELECT 1;\n");
    project.run(&["rehash"]);
    let first = project
        .command(BIN, &["generate", "--no-cache", "add likes"])
        .start()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !project.file("versions/.dev.lock").exists() {
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = project.run(&["generate", "--no-cache", "add likes too"]);
    let first = first.wait().unwrap();
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert_eq!(second.code, Some(0), "{second:?}");
    assert!(
        second.stderr.contains("waiting for another dev run (pid "),
        "{second:?}"
    );
    assert!(
        second.stdout.contains("No changes in schema detected."),
        "the second run must build on the first: {second:?}"
    );
    assert_eq!(project.versions().len(), 4, "{:?}", project.versions());
    assert_eq!(strays(&project), Vec::<String>::new());
    project.assert_check_passes();
}

#[test]
fn a_publication_killed_between_its_renames_is_completed_by_the_next_run() {
    let project = recorded_blog();
    let sum_before = project.read("versions/dev.sum");
    // What `generate` leaves when SIGKILL lands after the version's rename and before
    // dev.sum's: take a real generated result and put dev.sum back into that state.
    let dir = project.generate("add likes");
    let sum_after = project.read("versions/dev.sum");
    let dead = 99_999_999;
    project.write("versions/dev.sum", &sum_before);
    project.write(&format!("versions/.dev.sum.partial-{dead}"), &sum_after);
    project.write(
        &format!("versions/.dev-publish-{dead}"),
        &format!(
            "{}\n{}\n",
            dir.trim_start_matches("versions/"),
            project.file("versions/dev.sum").display()
        ),
    );
    // And a run killed while writing its files, before anything was visible.
    project.write(
        &format!("versions/.2027-01-01-000000_x.partial-{dead}/up.sql"),
        "DROP TABLE users;",
    );
    let run = project.run(&["generate", "nothing new"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("No changes"), "{run:?}");
    assert_eq!(project.read("versions/dev.sum"), sum_after);
    assert_eq!(strays(&project), Vec::<String>::new());
    project.assert_check_passes();
}

#[test]
fn a_full_disk_publishes_nothing() {
    let project = recorded_blog();
    let before = project.snapshot();
    // A tmpfs with a few KiB free, in a private mount namespace (unprivileged users get one
    // through a user namespace); the script reports what the tree looked like afterwards.
    let mount = tempfile::tempdir().unwrap();
    let script = format!(
        r#"set -e
mount -t tmpfs -o size=512k tmpfs "{mnt}"
cp -a "{project}/." "{mnt}/"
cd "{mnt}"
avail=$(df --output=avail -k . | tail -n 1)
dd if=/dev/zero of=filler bs=1k count=$((avail - 8)) 2>/dev/null || true
set +e
"{bin}" generate "add likes" > out.txt 2> err.txt
echo "exit=$?"
rm -f filler
cat err.txt
echo "--- tree"
find . -path ./out.txt -prune -o -path ./err.txt -prune -o -path ./target -prune -o -print | sort
echo "--- sum"
cat versions/dev.sum
"#,
        mnt = mount.path().display(),
        project = project.path().display(),
        bin = BIN,
    );
    let output = project
        .command("unshare", &["-rm", "bash", "-c", &script])
        .run()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("exit=2"), "{text}\n{output:?}");
    assert!(text.contains("No space left on device"), "{text}");
    let tree: Vec<&str> = text
        .split("--- tree\n")
        .nth(1)
        .unwrap()
        .split("--- sum\n")
        .next()
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("./"))
        .filter(|l| *l != ".")
        .collect();
    let expected: Vec<String> = before.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(tree, expected, "{text}");
    let sum = text.split("--- sum\n").nth(1).unwrap();
    assert_eq!(sum, project.read("versions/dev.sum"));
    project.assert_no_temp_leftovers();
}

#[cfg(unix)]
#[test]
fn no_command_writes_through_a_symbolic_link() {
    let project = recorded_blog();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.md");
    fs::write(&victim, "not yours\n").unwrap();
    std::os::unix::fs::symlink(&victim, project.file("schema/README.md")).unwrap();
    let run = project.assert_rejected(&["diagram"]);
    assert!(run.stderr.contains("is a symbolic link"), "{run:?}");
    let run = project.assert_rejected(&["generate", "add likes"]);
    assert!(run.stderr.contains("is a symbolic link"), "{run:?}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "not yours\n");

    // A migrations directory that leads outside the project.
    fs::remove_file(project.file("schema/README.md")).unwrap();
    let elsewhere = outside.path().join("versions");
    fs::rename(project.file("versions"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, project.file("versions")).unwrap();
    let run = project.assert_rejected(&["generate", "add likes"]);
    assert!(run.stderr.contains("outside the project"), "{run:?}");
    assert!(!Path::new(&elsewhere).join(".dev.lock").exists());
}

/// SIGINT, SIGTERM or SIGHUP at any instant of a generate: afterwards the version is either
/// published with its record or absent, and nothing partial is left.
#[cfg(unix)]
#[test]
fn a_signal_at_any_instant_leaves_a_consistent_tree() {
    let project = recorded_blog();
    let signals = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    let mut published = 0;
    // A generate costs about what a check costs, twice over; spread the signals over three
    // times a check, so that early and late instants (publication included) are hit.
    let started = Instant::now();
    project.run(&["check"]);
    let span = started.elapsed() * 3;
    // That span is a guess at a generate's length. On a loaded machine a generate takes
    // longer, and every signal can land before publication. So rounds go on past the span,
    // each later than the last, until one run has published.
    for round in 0..72u32 {
        if round >= 24 && published > 0 {
            break;
        }
        let handle = project
            .command(BIN, &["generate", "add a column"])
            .start()
            .unwrap();
        // Spread the signals over the whole run, publication included.
        std::thread::sleep(span * round / 24);
        let pid = handle.pids()[0] as libc::pid_t;
        unsafe { libc::kill(pid, signals[round as usize % signals.len()]) };
        let output = handle.wait().unwrap();
        // 130 after cleaning up; killed outright before the handler was installed.
        assert!(
            matches!(output.status.code(), Some(0 | 130) | None),
            "round {round}: {output:?}"
        );
        assert_eq!(strays(&project), Vec::<String>::new(), "round {round}");
        let left = fs::read_dir(project.tmp.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "cache")
            .count();
        assert_eq!(left, 0, "round {round}: {output:?}");
        let check = project.run(&["check"]);
        assert!(
            !check.stderr.contains("error:"),
            "round {round}: the history does not verify: {check:?}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        if check.code == Some(0) {
            // Published: a report cut short says so. Ask for the next column.
            if output.status.code() == Some(130) {
                assert!(
                    stderr.contains("interrupted after it wrote versions/")
                        && stderr.contains("and its records; the disposable database was removed"),
                    "round {round}: published, but the report says otherwise: {stderr}"
                );
            }
            published += 1;
            project.edit_schema(
                "        title -> Text,\n",
                &format!("        title -> Text,\n        c{round} -> Nullable<Integer>,\n"),
            );
        } else {
            assert_eq!(check.code, Some(1), "round {round}: {check:?}");
            assert!(
                !stderr.contains("interrupted after"),
                "round {round}: {stderr}"
            );
        }
    }
    assert!(published > 0, "no run got as far as publishing");
}
