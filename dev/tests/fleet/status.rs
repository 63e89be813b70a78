//! `fleet status`: the counts first, then each database, in text, JSON and JSON lines.

use crate::{applied, key, Fleet};

/// A fleet of 200 tenants one behind, 20 at head, 3 that applied a version this build does
/// not have, one missing and one that is no database.
fn mixed_fleet() -> Fleet {
    let fleet = Fleet::new();
    fleet.tenants("behind", 200);
    let ahead = fleet.tenants("newer", 3);
    for tenant in &ahead {
        rusqlite::Connection::open(tenant)
            .unwrap()
            .execute_batch(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')",
            )
            .unwrap();
    }
    let head = fleet.tenants("head", 20);
    let run = fleet.run(&["upgrade", &fleet.glob("head")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(head
        .iter()
        .all(|t| applied(t).contains(&key(&fleet.second))));
    std::fs::write(
        fleet.path("junk-000.sqlite3"),
        "not a database at all, just text",
    )
    .unwrap();
    fleet
}

fn everyone(fleet: &Fleet) -> Vec<String> {
    ["behind", "newer", "head", "junk"]
        .iter()
        .map(|p| fleet.glob(p))
        .chain([fleet.path("missing.sqlite3").display().to_string()])
        .collect()
}

#[test]
fn status_counts_first_then_reports_every_database_and_exits_4_when_some_were_skipped() {
    let fleet = mixed_fleet();
    let mut args = vec!["status".to_owned()];
    args.extend(everyone(&fleet));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let text = fleet.run(&args);
    assert_eq!(text.code, Some(4), "{text:?}");
    let mut lines = text.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "225 databases: 20 at head, 200 one behind, 3 with unknown versions, 1 missing, 1 not SQLite"
    );
    let behind = fleet.path("behind-007.sqlite3").display().to_string();
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with(&behind))
        .unwrap();
    assert!(
        line.contains(&fleet.first) && line.contains(" 1  -"),
        "{line}"
    );
    let newer = fleet.path("newer-001.sqlite3").display().to_string();
    let line = text.stdout.lines().find(|l| l.starts_with(&newer)).unwrap();
    assert!(line.ends_with("29991231000000"), "{line}");
    let missing = text
        .stdout
        .lines()
        .find(|l| l.contains("missing.sqlite3"))
        .unwrap();
    assert!(missing.contains("skipped (missing)"), "{missing}");
    let junk = text
        .stdout
        .lines()
        .find(|l| l.contains("junk-000"))
        .unwrap();
    assert!(
        junk.contains("skipped (not SQLite)") && junk.contains("not a database"),
        "{junk}"
    );

    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let json = fleet.run(&json_args);
    assert_eq!(json.code, Some(4), "{json:?}");
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["command"], "fleet status");
    assert_eq!(document["exit"], 4);
    assert_eq!(document["total"], 225);
    assert_eq!(document["groups"][0], serde_json::json!(["at head", 20]));
    let databases = document["databases"].as_array().unwrap();
    assert_eq!(databases.len(), 225);
    let entry = databases
        .iter()
        .find(|d| d["database"] == behind.as_str())
        .unwrap();
    assert_eq!(entry["applied"], fleet.first.as_str());
    assert_eq!(entry["pending"], 1);
    let entry = databases
        .iter()
        .find(|d| d["database"].as_str().unwrap().ends_with("missing.sqlite3"))
        .unwrap();
    assert_eq!(entry["skipped"], "missing");

    let mut jsonl_args = args.clone();
    jsonl_args.extend(["--format", "jsonl"]);
    let jsonl = fleet.run(&jsonl_args);
    let lines: Vec<serde_json::Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 226, "{jsonl:?}");
    assert_eq!(lines[225]["total"], 225);
    assert!(lines[..225].iter().all(|l| l["database"].is_string()));
}

#[test]
fn status_exits_0_at_head_and_1_behind_and_reads_the_fleet_from_a_list() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 3);
    let list = fleet.path("fleet.txt");
    let names: Vec<String> = tenants.iter().map(|t| t.display().to_string()).collect();
    std::fs::write(
        &list,
        format!("# our tenants\n{}\n\nsqlite://{}\n", names[0], names[1]),
    )
    .unwrap();
    let run = fleet.run(&["status", "--from", list.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.starts_with("2 databases: 2 one behind\n"),
        "{run:?}"
    );

    let from_stdin = fleet
        .project
        .command(
            crate::common::BIN,
            &["fleet", "status", "--from", "-", &names[2]],
        )
        .stdin_bytes(format!("{}\n{}\n", names[0], names[2]))
        .run()
        .unwrap();
    assert!(String::from_utf8_lossy(&from_stdin.stdout).starts_with("2 databases: 2 one behind\n"));

    let up = fleet.run(&["upgrade", &fleet.glob("t")]);
    assert_eq!(up.code, Some(0), "{up:?}");
    let run = fleet.run(&["status", &fleet.glob("t")]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("3 databases: 3 at head\n"),
        "{run:?}"
    );
}

#[test]
fn status_with_drift_names_the_database_changed_by_hand() {
    let fleet = Fleet::new();
    let tenants = fleet.tenants("t", 3);
    rusqlite::Connection::open(&tenants[1])
        .unwrap()
        .execute_batch("CREATE INDEX posts_title ON posts (title);")
        .unwrap();
    let run = fleet.run(&["status", "--drift", "--format", "json", &fleet.glob("t")]);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let drifted: Vec<bool> = document["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["drifted"].as_bool().unwrap())
        .collect();
    assert_eq!(drifted, [false, true, false], "{run:?}");
}
