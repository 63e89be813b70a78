//! The sandbox's time limit holds for a migration's statements together, not only for each
//! one: a file of many statements that each stay under the limit is stopped too, and so is
//! a statement that waits between the times SQLite checks its clock. Its own test binary, as
//! the sandbox is installed for the whole process. The waits are lower bounds (a slower
//! machine only waits longer); the one statement that must stay under the limit of 1 s
//! waits 300 ms and counts to 50,000.

use std::time::Duration;

use dev::sqlite::sandbox::{self, Breach, Limits};

diesel::define_sql_function! {
    /// Lets time pass without the statement running instructions.
    fn nap(ms: diesel::sql_types::Integer) -> diesel::sql_types::Integer;
}

/// An in-memory connection (confined, as every one the tool opens in memory) with
/// `nap(ms)`.
fn confined() -> diesel::SqliteConnection {
    use diesel::Connection;
    let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
    nap_utils::register_impl(&mut conn, |ms: i32| {
        std::thread::sleep(Duration::from_millis(ms as u64));
        ms
    })
    .unwrap();
    conn
}

/// The sandbox's record of a breach and a migration's start are the process's: one test at a
/// time, each with the sandbox installed.
fn sandboxed() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    sandbox::install(Limits {
        statement_time: Duration::from_secs(1),
        ..Limits::default()
    });
    sandbox::take_breach();
    guard
}

/// A statement that takes at least 300 ms, whatever the machine, then runs enough
/// instructions for the clock to be read.
const STEP: &str = "SELECT nap(300), (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50000) SELECT count(*) FROM c);";

#[test]
fn the_time_limit_holds_for_a_migration_s_statements_together() {
    let _sandboxed = sandboxed();
    use diesel::connection::SimpleConnection;
    let mut conn = confined();
    // Statement by statement, each is under the limit: all run.
    for _ in 0..5 {
        conn.batch_execute(STEP).unwrap();
    }
    assert_eq!(sandbox::take_breach(), None);
    // As one migration, the fifth statement is past it.
    let ran = sandbox::migration(|| conn.batch_execute(&STEP.repeat(5)));
    assert!(
        ran.is_err(),
        "five statements of 300 ms ran as one migration"
    );
    assert_eq!(
        sandbox::take_breach(),
        Some(Breach::TooLong(Duration::from_secs(1)))
    );
}

/// A statement whose rows each wait a little is checked seconds apart (every 10,000
/// instructions); such pauses were taken for the connection at rest and restarted its
/// clock, so it was never stopped. Outside a migration, as when the tool's own insert fires
/// a migration's trigger.
#[test]
fn a_statement_that_pauses_between_checks_is_stopped_at_the_time_limit() {
    let _sandboxed = sandboxed();
    use diesel::connection::SimpleConnection;
    let mut conn = confined();
    let ran = conn.batch_execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000) SELECT nap(5 + 0 * x) FROM c;",
    );
    assert!(ran.is_err(), "3,000 rows of 5 ms ran to the end");
    assert_eq!(
        sandbox::take_breach(),
        Some(Breach::TooLong(Duration::from_secs(1)))
    );
}
