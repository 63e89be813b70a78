//! Databases a fleet run cannot place are reported one by one and left alone, never the
//! failure of the whole run: a LiteFS replica, a history this build does not know, a
//! database another process keeps locked.

use crate::{applied, key, Fleet};

#[test]
fn a_replica_and_an_unknown_history_are_skipped_and_the_others_upgraded() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 10);
    let replica_dir = fleet.path("replica");
    std::fs::create_dir(&replica_dir).unwrap();
    std::fs::write(replica_dir.join(".primary"), "node-b.internal\n").unwrap();
    let replica = replica_dir.join("t-replica.sqlite3");
    std::fs::copy(&fleet.template, &replica).unwrap();
    rusqlite::Connection::open(&tenants[3])
        .unwrap()
        .execute_batch("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .unwrap();

    let status = fleet.run(&["status", &fleet.glob("t"), replica.to_str().unwrap()]);
    assert!(
        status
            .stdout
            .starts_with("11 databases: 10 one behind, 1 with unknown versions\n"),
        "{status:?}"
    );

    let run = fleet.run(&["upgrade", &fleet.glob("t"), replica.to_str().unwrap()]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("Upgraded 9 databases to {}", fleet.second)),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("t-replica.sqlite3: on a replica (")
            && run.stdout.contains("node-b.internal"),
        "{run:?}"
    );
    assert!(run.stdout.contains("t-003.sqlite3: unknown history (it applied versions versions/ does not contain: 29991231000000)"), "{run:?}");
    assert_eq!(applied(&replica), [key(&fleet.first)]);
    let left: Vec<_> = std::fs::read_dir(&replica_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        2,
        "nothing written beside the replica: {left:?}"
    );
}

#[test]
fn a_database_locked_past_the_busy_timeout_is_skipped() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 3);
    let holder = rusqlite::Connection::open(&tenants[1]).unwrap();
    holder
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO audit (note) VALUES ('held');")
        .unwrap();
    let run = fleet.run(&["status", &fleet.glob("t")]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert!(
        run.stdout
            .starts_with("3 databases: 2 one behind, 1 locked\n"),
        "{run:?}"
    );
    holder.execute_batch("ROLLBACK;").unwrap();
}
