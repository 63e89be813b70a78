//! `fleet upgrade` moving a whole fleet: every row kept, a journal line per database, a rerun
//! that resumes, `--sql` once per run of versions, `--backup` per database.

use crate::{applied, journal, key, rows, Fleet};

#[test]
fn upgrade_moves_every_database_keeps_its_rows_and_resumes_from_the_journal() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 300);
    let before = rows(&tenants[0]);
    std::fs::write(fleet.path("t-junk.sqlite3"), "text").unwrap();
    let log = fleet.path("journal.jsonl");
    let missing = fleet.path("gone.sqlite3");
    let args = [
        "upgrade",
        &fleet.glob("t"),
        missing.to_str().unwrap(),
        "--journal",
        log.to_str().unwrap(),
    ];

    let run = fleet.run(&args);
    assert_eq!(run.code, Some(4), "skipped databases make exit 4: {run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("Upgraded 300 databases to {} in ", fleet.second)),
        "{run:?}"
    );
    assert!(run.stdout.contains("2 skipped:"), "{run:?}");
    for tenant in &tenants {
        assert_eq!(
            applied(tenant),
            [key(&fleet.first), key(&fleet.second)],
            "{tenant:?}"
        );
        assert_eq!(rows(tenant), before, "{tenant:?}");
    }
    let lines = journal(&log);
    assert_eq!(lines.len(), 302);
    let upgraded: Vec<_> = lines
        .iter()
        .filter(|l| l["outcome"] == "upgraded")
        .collect();
    assert_eq!(upgraded.len(), 300);
    assert!(upgraded.iter().all(|l| l["from"] == fleet.first.as_str()
        && l["to"] == fleet.second.as_str()
        && l["dropped"] == serde_json::json!([])
        && l["ms"].is_u64()));
    let skipped: Vec<_> = lines.iter().filter(|l| l["outcome"] == "skipped").collect();
    assert_eq!(skipped.len(), 2);
    assert!(skipped.iter().all(|l| l["error"].is_string()));

    // A rerun with the same journal leaves the 300 alone, and surveys only the other two.
    let rerun = fleet.run(&args);
    assert_eq!(rerun.code, Some(4), "{rerun:?}");
    assert!(
        rerun
            .stdout
            .contains("0 were there already, 300 done by an earlier run"),
        "{rerun:?}"
    );
    assert_eq!(journal(&log).len(), 304);

    // Without the journal, each is surveyed and found at the target.
    let again = fleet.run(&["upgrade", &fleet.glob("t"), "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(document["at_target"], 300, "{again:?}");
    assert_eq!(document["upgraded"], 0);
    assert_eq!(document["skipped"][0]["reason"], "not-sqlite");
    assert_eq!(again.code, Some(4));
}

#[test]
fn sql_prints_each_run_of_versions_once_and_touches_nothing() {
    let fleet = Fleet::new();
    let behind = fleet.tenants("a", 30);
    let base: Vec<_> = (0..5)
        .map(|i| {
            let path = fleet.path(&format!("a-base-{i}.sqlite3"));
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch("PRAGMA user_version = 1;")
                .unwrap();
            path
        })
        .collect();
    let run = fleet.run(&["upgrade", "--sql", &fleet.glob("a")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("35 database(s) to upgrade, in 2 run(s) of versions"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains(&format!("-- 1 step for 30 database(s) at {}", fleet.first)),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("-- 2 steps for 5 database(s) at base"),
        "{run:?}"
    );
    assert!(run.stdout.contains("ALTER TABLE"), "{run:?}");
    assert!(behind.iter().all(|t| applied(t) == [key(&fleet.first)]));
    assert!(base.iter().all(|t| {
        rusqlite::Connection::open(t)
            .unwrap()
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
            == 0
    }));
}

#[test]
fn backup_copies_each_database_before_it_changes() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 4);
    let run = fleet.run(&["upgrade", "--backup", &fleet.glob("t")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for tenant in &tenants {
        let name = tenant.file_name().unwrap().to_string_lossy().into_owned();
        let backups: Vec<_> = std::fs::read_dir(fleet.tenants.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{name}.backup-"))
            })
            .collect();
        assert_eq!(backups.len(), 1, "{name}: {backups:?}");
        assert_eq!(applied(&backups[0]), [key(&fleet.first)]);
        assert_eq!(applied(tenant), [key(&fleet.first), key(&fleet.second)]);
    }
}

#[test]
fn a_history_dev_sum_does_not_record_runs_on_no_database() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 3);
    let up = format!("versions/{}/up.sql", fleet.second);
    let text = fleet.project.read(&up);
    fleet
        .project
        .write(&up, &format!("{text}\nDELETE FROM users;\n"));
    let run = fleet.run(&["upgrade", "--yes", &fleet.glob("t")]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains("versions/ does not match dev.sum"),
        "{run:?}"
    );
    assert!(tenants.iter().all(|t| applied(t) == [key(&fleet.first)]));
}

#[test]
fn progress_is_drawn_on_a_terminal_only_and_a_relative_target_is_refused() {
    let fleet = Fleet::new();
    fleet.tenants("t", 300);
    let (code, said) = fleet
        .project
        .run_on_terminal(&format!("fleet upgrade -j 1 '{}'", fleet.glob("t")), "");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("/300 upgraded, 0 failed"),
        "no progress bar: {said}"
    );
    fleet.tenants("t", 300);
    let piped = fleet.run(&["upgrade", "-j", "1", &fleet.glob("t")]);
    assert_eq!(piped.code, Some(0), "{piped:?}");
    assert!(!piped.stderr.contains("upgraded,"), "{piped:?}");

    let relative = fleet.run(&["upgrade", "--to", "+1", &fleet.glob("t")]);
    assert_eq!(relative.code, Some(2), "{relative:?}");
    assert!(
        relative
            .stderr
            .contains("`+1` is relative; a fleet moves to one version"),
        "{relative:?}"
    );
}

#[test]
fn sql_says_what_each_rebuild_copies_on_one_database_and_over_the_fleet() {
    // A title that may be missing is a rebuild of posts: every row is copied.
    let fleet = crate::Fleet::with_second(|project| {
        project.edit_schema(
            "        title -> Text,\n",
            "        title -> Nullable<Text>,\n",
        );
        project.generate("titles may be missing");
    });
    let tenants = fleet.tenants("t", 20);
    rusqlite::Connection::open(&tenants[0])
        .unwrap()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
             INSERT INTO posts (id, user_id, title) SELECT i, 1, printf('post %d', i) FROM n;",
        )
        .unwrap();
    let one = fleet.project.run(&[
        "upgrade",
        "--sql",
        "--database",
        tenants[0].to_str().unwrap(),
    ]);
    assert_eq!(one.code, Some(0), "{one:?}");
    let copies: Vec<&str> = one
        .stdout
        .lines()
        .filter(|l| l.starts_with("-- Copies every row of "))
        .collect();
    assert_eq!(copies.len(), 1, "{one:?}");
    assert!(
        copies[0].starts_with("-- Copies every row of posts: 20,000 rows, ")
            && copies[0].contains(" KiB with its indexes;"),
        "{copies:?}"
    );

    let all = fleet.run(&["upgrade", "--sql", &fleet.glob("t")]);
    assert_eq!(all.code, Some(0), "{all:?}");
    let line = all
        .stdout
        .lines()
        .find(|l| l.starts_with("-- Copies every row of posts: "))
        .unwrap_or_else(|| panic!("{all:?}"));
    assert!(
        line.starts_with("-- Copies every row of posts: 20,038 rows, ")
            && line.contains(", over 20 databases;"),
        "{line}"
    );
    assert!(tenants.iter().all(|t| applied(t) == [key(&fleet.first)]));
}
