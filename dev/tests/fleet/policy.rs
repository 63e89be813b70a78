//! What a fleet upgrade does when databases fail, when a canary fails, when a signal comes,
//! and when its versions drop data: each database ends at a version it applied whole, and
//! the journal and the summary say what is left.

use crate::{applied, common, journal, key, Fleet};

/// Makes the tenant's second version fail: it already has the column the version adds. The
/// copy of its schema fails the same way, so what it drops cannot be counted, and every run
/// below needs `--yes`.
fn break_tenant(fleet: &Fleet, name: &str) {
    rusqlite::Connection::open(fleet.path(name))
        .unwrap()
        .execute_batch("ALTER TABLE posts ADD COLUMN likes INTEGER;")
        .unwrap();
}

fn at_second(fleet: &Fleet, names: impl Iterator<Item = String>) -> Vec<bool> {
    names
        .map(|name| applied(&fleet.path(&name)).contains(&key(&fleet.second)))
        .collect()
}

fn name(i: usize) -> String {
    format!("t-{i:03}.sqlite3")
}

#[test]
fn a_failure_stops_the_run_and_leaves_that_database_at_its_last_good_version() {
    let fleet = Fleet::new();
    fleet.tenants("t", 50);
    break_tenant(&fleet, &name(10));
    let refused = fleet.run(&["upgrade", &fleet.glob("t")]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(
        refused.stderr.contains(&format!(
            "what {} drops cannot be counted in 1 database",
            fleet.second
        )),
        "{refused:?}"
    );
    let log = fleet.path("journal.jsonl");
    let run = fleet.run(&[
        "upgrade",
        "--yes",
        "-j",
        "1",
        &fleet.glob("t"),
        "--journal",
        log.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("1 failed, each left at its last good version:"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "39 not started: the failure limit was reached; run the same command again to resume."
        ),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("duplicate column name: likes"),
        "{run:?}"
    );
    let moved = at_second(&fleet, (0..50).map(name));
    assert_eq!(moved, (0..50).map(|i| i < 10).collect::<Vec<_>>());
    assert_eq!(applied(&fleet.path(&name(10))), [key(&fleet.first)]);
    let lines = journal(&log);
    assert_eq!(lines.len(), 11);
    let failed = &lines[10];
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["to"], fleet.first.as_str());
    assert!(failed["error"]
        .as_str()
        .unwrap()
        .contains("duplicate column name"));
}

#[test]
fn keep_going_upgrades_all_it_can_and_max_failures_stops_at_the_limit() {
    let fleet = Fleet::new();
    fleet.tenants("t", 50);
    for i in [5, 20, 30] {
        break_tenant(&fleet, &name(i));
    }
    let limited = fleet.run(&[
        "upgrade",
        "--yes",
        "-j",
        "1",
        "--max-failures",
        "2",
        &fleet.glob("t"),
    ]);
    assert_eq!(limited.code, Some(1), "{limited:?}");
    assert!(limited.stdout.contains("2 failed"), "{limited:?}");
    assert!(limited.stdout.contains("29 not started"), "{limited:?}");
    assert_eq!(
        at_second(&fleet, (0..50).map(name)),
        (0..50).map(|i| i < 20 && i != 5).collect::<Vec<_>>()
    );

    let all = fleet.run(&[
        "upgrade",
        "--yes",
        "--keep-going",
        "--format",
        "json",
        &fleet.glob("t"),
    ]);
    assert_eq!(all.code, Some(1), "{all:?}");
    let document: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(
        document["failed"].as_array().unwrap().len(),
        3,
        "{document}"
    );
    assert_eq!(document["not_started"], 0);
    assert_eq!(
        at_second(&fleet, (0..50).map(name)),
        (0..50)
            .map(|i| ![5, 20, 30].contains(&i))
            .collect::<Vec<_>>()
    );
}

/// A fleet of 40 with tenant `broken` failing, upgraded with a canary group of five.
fn canary_run(broken: usize, more: &[&str]) -> (Fleet, common::Run) {
    let fleet = Fleet::new();
    fleet.tenants("t", 40);
    break_tenant(&fleet, &name(broken));
    let glob = fleet.glob("t");
    let mut args = vec!["upgrade", "--yes", "--canary", "5", "--keep-going", &glob];
    args.extend(more);
    let run = fleet.run(&args);
    assert_eq!(run.code, Some(1), "{run:?}");
    (fleet, run)
}

#[test]
fn a_failing_canary_stops_the_fleet_before_the_rest_starts() {
    let (fleet, run) = canary_run(2, &["-j", "1"]);
    // Even with --keep-going: a failed canary stops the run at once.
    assert!(
        run.stdout.contains("37 not started: a canary failed."),
        "{run:?}"
    );
    assert_eq!(
        at_second(&fleet, (0..40).map(name)),
        (0..40).map(|i| i < 2).collect::<Vec<_>>()
    );

    // Healthy canaries let the rest go on.
    let (fleet, run) = canary_run(30, &[]);
    assert!(
        run.stdout
            .starts_with(&format!("Upgraded 39 databases to {}", fleet.second)),
        "{run:?}"
    );
}

#[test]
fn what_the_versions_drop_is_confirmed_once_for_the_whole_fleet() {
    let fleet = Fleet::with_second(|project| {
        project.edit_schema("        age -> Nullable<Integer>,\n", "");
        project.generate("drop age");
    });
    let tenants = fleet.tenants("t", 20);
    for tenant in &tenants[..5] {
        rusqlite::Connection::open(tenant)
            .unwrap()
            .execute_batch("UPDATE users SET age = NULL;")
            .unwrap();
    }
    let glob = fleet.glob("t");
    let refused = fleet.run(&["upgrade", &glob]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    let totals = format!(
        "{} drops column users.age with 15 values in 15 databases",
        fleet.second
    );
    assert!(
        refused
            .stderr
            .contains(&format!("refusing to upgrade the fleet: {totals}")),
        "{refused:?}"
    );
    assert!(tenants.iter().all(|t| applied(t) == [key(&fleet.first)]));

    let (code, said) = fleet
        .project
        .run_on_terminal(&format!("fleet upgrade '{glob}'"), "n\n");
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(&format!("{totals}. Continue? [y/N]")),
        "{said}"
    );
    assert!(tenants.iter().all(|t| applied(t) == [key(&fleet.first)]));

    let log = fleet.path("journal.jsonl");
    let (code, said) = fleet.project.run_on_terminal(
        &format!("fleet upgrade '{glob}' --journal '{}'", log.display()),
        "y\n",
    );
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("The versions dropped 15 rows and values"),
        "{said}"
    );
    assert!(tenants
        .iter()
        .all(|t| applied(t).contains(&key(&fleet.second))));
    let dropped: Vec<i64> = journal(&log)
        .iter()
        .map(|l| {
            l["dropped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["rows"].as_i64().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(
        dropped.iter().filter(|&&n| n == 1).count(),
        15,
        "{dropped:?}"
    );
    assert_eq!(
        dropped.iter().filter(|&&n| n == 0).count(),
        5,
        "{dropped:?}"
    );
}

#[test]
fn a_signal_starts_no_new_database_and_leaves_each_at_a_whole_version() {
    // A hand-written version: each database runs it on a copy first, which slows every
    // database enough for the signal to land mid-run.
    let fleet = Fleet::with_second(|project| {
        project.add_version(
            "2026-06-01-000000_likes_by_hand",
            "ALTER TABLE posts ADD COLUMN likes INTEGER;\n",
            "ALTER TABLE posts DROP COLUMN likes;\n",
        );
        let run = project.run(&["rehash"]);
        assert_eq!(run.code, Some(0), "{run:?}");
    });
    fleet.tenants("t", 200);
    let log = fleet.path("journal.jsonl");
    let args = [
        "fleet",
        "upgrade",
        "-j",
        "1",
        &fleet.glob("t"),
        "--journal",
        log.to_str().unwrap(),
    ];
    let handle = fleet
        .project
        .command(crate::common::BIN, &args)
        .start()
        .unwrap();
    while journal(&log).len() < 3 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = *handle.pids().first().unwrap() as libc::pid_t;
    unsafe { libc::kill(pid, libc::SIGINT) };
    let output = handle.wait().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains(
            "not started: a signal stopped the run; run the same command again to resume."
        ),
        "{stdout}"
    );
    let lines = journal(&log);
    let moved = at_second(&fleet, (0..200).map(name));
    // Each database moved has its line; the one the signal stopped before its version (when
    // it came while one was running) has a line saying so, and did not move.
    let journaled = |outcome: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line["outcome"] == outcome)
            .map(|line| line["database"].as_str().unwrap().to_owned())
            .collect()
    };
    let moved_names: Vec<String> = (0..200)
        .filter(|&i| moved[i])
        .map(|i| fleet.path(&name(i)).to_str().unwrap().to_owned())
        .collect();
    assert_eq!(journaled("upgraded"), moved_names, "{lines:#?}");
    let stopped = journaled("stopped");
    assert!(stopped.len() <= 1, "{lines:#?}");
    assert!(
        stopped.iter().all(|s| !moved_names.contains(s)),
        "{lines:#?}"
    );
    assert_eq!(lines.len(), moved_names.len() + stopped.len(), "{lines:#?}");
    assert!(
        moved.iter().any(|m| !m),
        "the signal came after the whole fleet was done"
    );
    for (i, moved) in moved.iter().enumerate() {
        let columns: i64 = rusqlite::Connection::open(fleet.path(&name(i)))
            .unwrap()
            .query_row(
                "SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'likes'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(columns == 1, *moved, "{} is half-way", name(i));
    }
    fleet.project.assert_no_temp_leftovers();

    let rest = fleet.run(&[
        "upgrade",
        &fleet.glob("t"),
        "--journal",
        log.to_str().unwrap(),
    ]);
    assert_eq!(rest.code, Some(0), "{rest:?}");
    assert!(at_second(&fleet, (0..200).map(name)).iter().all(|&m| m));
}
