//! What a migration file would drop from a real database: found by running the file on a
//! copy of the database's schema, without its rows, and asking SQLite what happened, not by
//! reading the SQL as text.
//!
//! `DROP TABLE main.audit`, `DROP TABLE "audit"`, `drop table /* old */ [AUDIT]`,
//! `DROP TABLE IF EXISTS audit`, a hand-written rebuild that copies a table minus a column, a
//! `PRAGMA writable_schema` edit: SQLite resolves every spelling to the same table, and a text
//! match misses some of them. So every `sqlite_schema` entry of the database is recreated
//! from its stored text in an in-memory database (SQLite's own bookkeeping tables and
//! automatic indexes are made by SQLite itself, virtual tables' shadow tables by their
//! module), and the file runs there one statement at a time, in a transaction unless it
//! manages its own, as the harness runs it. Two things are asked of SQLite per statement:
//!
//! - An authorizer callback, which SQLite calls while preparing a statement with the
//!   database and the real name of every table it alters, writes or reads, whatever the
//!   spelling. It says which table an `ALTER TABLE` acts on, and which columns a statement
//!   that writes a table reads (an `INSERT ... SELECT` that copies rows).
//! - The tables and columns of `main` before and after the statement. A table an
//!   `ALTER TABLE` acted on that is gone afterwards, with one new table in its place, was
//!   renamed; a column an `ALTER TABLE` replaced by exactly one new column was renamed. Any
//!   other table or column of the database that disappears was dropped, however the file
//!   did it.
//!
//! A table that was dropped while a table of its name exists at the end was rebuilt (the
//! only way SQLite changes most things about a table): it keeps the columns that a statement
//! writing a table read (an `INSERT ... SELECT` that copies them) and that still exist under
//! their name, and loses the others. One
//! dropped without its rows ever being copied loses every row, even if a table of the same
//! name is created again. Data copied into a table under another name is not followed:
//! that counts as a loss, which asks for a confirmation a careful reader can give.
//!
//! The copy runs nothing that reaches outside it: `ATTACH` (and `VACUUM INTO`, which
//! attaches its target) is refused there, and the file is reported as one the copy cannot
//! run. A file the copy cannot run is never taken to lose nothing: `Drops::unknown` says
//! where and why it stopped, and the caller asks for a confirmation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::Connection;

use crate::sqlite::db;
use crate::sqlite::lexer;
use crate::sqlite::quote::quote;

/// Something a migration file drops, named as it is in the database before the file runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    Table(String),
    Column(String, String),
}

impl Loss {
    /// The rows (table) or non-NULL values (column) it would drop from `conn` now: what the
    /// confirmation shows, counted on the real database.
    pub fn count(&self, conn: &Connection) -> rusqlite::Result<i64> {
        let sql = match self {
            Loss::Table(t) => format!("SELECT count(*) FROM main.{}", quote(t)),
            Loss::Column(t, c) => format!("SELECT count({}) FROM main.{}", quote(c), quote(t)),
        };
        conn.query_row(&sql, [], |r| r.get(0))
    }

    /// The loss as the confirmation shows it, with its count.
    pub fn describe(&self, n: i64) -> String {
        let plural = if n == 1 { "" } else { "s" };
        match self {
            Loss::Table(t) => format!("table {t} with {n} row{plural}"),
            Loss::Column(t, c) => format!("column {t}.{c} with {n} value{plural}"),
        }
    }
}

/// Where the copy of the schema stopped running a file, and SQLite's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The byte offset of the statement in the file; `None` when the copy itself could not
    /// be made.
    pub offset: Option<usize>,
    pub reason: String,
}

/// What one migration file drops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drops {
    /// The tables and columns of the database it drops, sorted.
    pub losses: Vec<Loss>,
    /// Set when the copy could not run the whole file: what it drops from there on is not
    /// known, so it must not be taken as nothing.
    pub unknown: Option<Unknown>,
}

/// A copy of a database's schema, kept from one migration file to the next: building it
/// costs a statement per table, and a command may run hundreds of files. It is made again
/// whenever its schema is not the database's (a file that failed on it, or a database
/// another program changed); otherwise it has run the same SQL the database has, and its
/// connection carries the same PRAGMAs, as the harness's connection does.
#[derive(Default)]
pub struct SchemaCopy {
    copy: Option<Copy>,
}

impl SchemaCopy {
    /// Runs `sql` on a copy of `schema` (that of the database the file is about to run on)
    /// and returns what it drops there. `own_transaction` is true for a file that manages
    /// its own transaction (`run_in_transaction = false`); others run inside one, as the
    /// harness runs them.
    pub fn drops(&mut self, schema: &Schema, sql: &str, own_transaction: bool) -> Drops {
        let kept = self.copy.take().filter(|copy| copy.is_copy_of(schema));
        let mut copy = match kept {
            Some(copy) => copy,
            None => match Copy::new(schema) {
                Ok(copy) => copy,
                Err(reason) => {
                    return Drops {
                        losses: Vec::new(),
                        unknown: Some(Unknown {
                            offset: None,
                            reason,
                        }),
                    }
                }
            },
        };
        let drops = copy.run(sql, own_transaction);
        // A file that stopped part way left the copy where the database will not be.
        if drops.unknown.is_none() {
            self.copy = Some(copy);
        }
        drops
    }
}

/// A `sqlite_schema` entry: type, name and stored SQL.
type Entry = (String, String, String);

/// The schema entries of a database that a copy is made from: tables first (an index,
/// trigger or view needs its table), then indexes, views and triggers (an INSTEAD OF
/// trigger needs its view), each in the order they were made. SQLite's own bookkeeping
/// tables, automatic indexes and virtual tables' shadow tables are left to SQLite to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema(Vec<Entry>);

/// The entries, with SQL names a Diesel row can carry.
const ENTRIES: &str = "SELECT type AS kind, name, sql FROM main.sqlite_schema
     WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
     ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid";

const SHADOWS: &str =
    "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'";

impl Schema {
    /// Reads the schema through a rusqlite connection.
    pub fn read(conn: &Connection) -> rusqlite::Result<Schema> {
        let entries = conn
            .prepare_cached(ENTRIES)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Schema::without_shadows(entries, || {
            conn.prepare_cached(SHADOWS)?
                .query_map([], |r| r.get(0))?
                .collect()
        })
    }

    /// Reads the schema through a Diesel connection: the harness's own, which has the
    /// schema in memory already, where a second connection would parse it all again after
    /// every file that changes it.
    pub fn read_with(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<Schema> {
        use diesel::sql_types::Text;
        use diesel::RunQueryDsl;

        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            kind: String,
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Text)]
            sql: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = Text)]
            name: String,
        }
        let entries = diesel::sql_query(ENTRIES)
            .load::<Row>(conn)?
            .into_iter()
            .map(|r| (r.kind, r.name, r.sql))
            .collect();
        Schema::without_shadows(entries, || {
            Ok(diesel::sql_query(SHADOWS)
                .load::<Name>(conn)?
                .into_iter()
                .map(|n| n.name)
                .collect())
        })
    }

    /// Leaves out virtual tables' shadow tables, which their module makes. Only a virtual
    /// table has them, and listing them costs a pass over every table.
    fn without_shadows<E>(
        mut entries: Vec<Entry>,
        shadows: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<Schema, E> {
        if entries
            .iter()
            .any(|(_, _, sql)| sql.starts_with("CREATE VIRTUAL"))
        {
            let shadows = shadows()?;
            entries.retain(|(_, name, _)| !shadows.contains(name));
        }
        Ok(Schema(entries))
    }

    fn sorted(&self) -> Vec<Entry> {
        let mut entries = self.0.clone();
        entries.sort();
        entries
    }
}

/// What the authorizer saw while one statement was prepared.
#[derive(Debug, Default)]
struct Seen {
    /// Tables of `main` an `ALTER TABLE` acts on.
    altered: Vec<String>,
    /// Whether the statement writes a table of `main` (INSERT, UPDATE, CREATE TABLE ... AS).
    writes: bool,
    /// Columns of `main` it reads, as `(table, column)`.
    reads: Vec<(String, String)>,
    /// Whether it can make or remove a table of `main`: CREATE, DROP or ALTER TABLE, or a
    /// write to `sqlite_schema` itself. Other statements leave the list of tables alone, so
    /// it is not read around them.
    changes_tables: bool,
    /// Whether it can change any `sqlite_schema` entry of `main`: the above, or an index,
    /// trigger or view made or dropped. A file without one leaves the schema as it was.
    changes_schema: bool,
}

/// One table of the database, followed through the file.
#[derive(Debug)]
struct Tracked {
    /// Its name in the database.
    name: String,
    /// Its name now, or `None` once it was dropped.
    current: Option<String>,
    columns: Vec<Column>,
}

#[derive(Debug)]
struct Column {
    name: String,
    /// Its name now, or `None` once it was dropped.
    current: Option<String>,
    /// Whether a statement that writes a table read its values.
    copied: bool,
}

/// The in-memory copy of the schema, with the authorizer installed.
struct Copy {
    conn: Connection,
    seen: Arc<Mutex<Seen>>,
    /// Its schema entries, sorted, and its tables with their columns, as they stand: the next
    /// file starts from them.
    entries: Vec<Entry>,
    tables: Tables,
}

impl Copy {
    fn new(schema: &Schema) -> Result<Copy, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        conn.execute_batch(db::APPLICATION_PRAGMAS)
            .map_err(|e| e.to_string())?;
        for (kind, name, sql) in &schema.0 {
            conn.execute_batch(sql).map_err(|e| {
                format!(
                    "its {kind} {name} cannot be recreated from its stored text: {}",
                    db::sqlite_message(&e)
                )
            })?;
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = Arc::clone(&seen);
        conn.authorizer(Some(move |context: AuthContext<'_>| {
            let mut seen = record.lock().unwrap_or_else(PoisonError::into_inner);
            let main = context.database_name == Some("main");
            match context.action {
                action if reaches_outside(&action) => return Authorization::Deny,
                AuthAction::AlterTable {
                    database_name: "main",
                    table_name,
                } => {
                    seen.altered.push(table_name.to_owned());
                    seen.changes_tables = true;
                }
                AuthAction::DropTable { .. }
                | AuthAction::DropVtable { .. }
                | AuthAction::CreateVtable { .. }
                    if main =>
                {
                    seen.changes_tables = true
                }
                AuthAction::CreateTable { .. } if main => {
                    seen.writes = true;
                    seen.changes_tables = true;
                }
                AuthAction::Insert { table_name }
                | AuthAction::Update { table_name, .. }
                | AuthAction::Delete { table_name }
                    if main =>
                {
                    if is_schema_table(table_name) {
                        seen.changes_tables = true;
                    } else if !matches!(context.action, AuthAction::Delete { .. }) {
                        seen.writes = true;
                    }
                }
                AuthAction::CreateIndex { .. }
                | AuthAction::CreateTrigger { .. }
                | AuthAction::CreateView { .. }
                | AuthAction::DropIndex { .. }
                | AuthAction::DropTrigger { .. }
                | AuthAction::DropView { .. }
                    if main =>
                {
                    seen.changes_schema = true
                }
                AuthAction::Read {
                    table_name,
                    column_name,
                } if main => seen
                    .reads
                    .push((table_name.to_owned(), column_name.to_owned())),
                _ => {}
            }
            seen.changes_schema |= seen.changes_tables;
            Authorization::Allow
        }))
        .map_err(|e| e.to_string())?;
        let entries = schema.sorted();
        let tables = Tables::read(&conn, &entries, None).map_err(|e| e.to_string())?;
        Ok(Copy {
            conn,
            seen,
            entries,
            tables,
        })
    }

    /// Whether the copy's schema is exactly `schema` (in any order).
    fn is_copy_of(&self, schema: &Schema) -> bool {
        self.entries == schema.sorted()
    }

    /// Runs `sql` statement by statement, following every table of the database, as the
    /// harness runs a file: inside a transaction it commits, unless the file manages its own.
    fn run(&mut self, sql: &str, own_transaction: bool) -> Drops {
        let stopped = |offset: Option<usize>, e: rusqlite::Error| Unknown {
            offset,
            reason: db::sqlite_message(&e),
        };
        let mut tracked = self.tracked();
        let mut unknown = None;
        if !own_transaction {
            if let Err(e) = self.conn.execute_batch("BEGIN") {
                unknown = Some(stopped(Some(0), e));
            }
        }
        let mut changed = false;
        if unknown.is_none() {
            for range in lexer::split_statements(sql) {
                match self.step(&mut tracked, &sql[range.clone()]) {
                    Ok(changes) => changed |= changes,
                    Err(e) => {
                        unknown = Some(stopped(Some(range.start), e));
                        break;
                    }
                }
            }
        }
        if unknown.is_none() && !own_transaction && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                unknown = Some(stopped(Some(sql.len()), e));
            }
        }
        let refreshed = if changed { self.refresh() } else { Ok(()) };
        let losses = match refreshed {
            Ok(()) => losses(&tracked, &self.tables),
            Err(e) => {
                unknown.get_or_insert(stopped(None, e));
                Vec::new()
            }
        };
        Drops { losses, unknown }
    }

    /// Reads the schema entries again after a file ran, and the columns of the tables whose
    /// stored text changed (a table's text decides its columns).
    fn refresh(&mut self) -> rusqlite::Result<()> {
        let entries = Schema::read(&self.conn)?.sorted();
        self.tables = Tables::read(&self.conn, &entries, Some((&self.entries, &self.tables)))?;
        self.entries = entries;
        Ok(())
    }

    /// Every table of `main` with its columns, to follow through a file.
    fn tracked(&self) -> Vec<Tracked> {
        self.tables
            .0
            .values()
            .map(|(name, columns)| Tracked {
                name: name.clone(),
                current: Some(name.clone()),
                columns: columns
                    .iter()
                    .map(|c| Column {
                        name: c.clone(),
                        current: Some(c.clone()),
                        copied: false,
                    })
                    .collect(),
            })
            .collect()
    }

    /// Runs one statement and follows what it did to the tracked tables; says whether it
    /// may have changed the schema.
    fn step(&self, tracked: &mut [Tracked], statement: &str) -> rusqlite::Result<bool> {
        *self.lock() = Seen::default();
        let mut stmt = self.conn.prepare(statement)?;
        let seen = std::mem::take(&mut *self.lock());
        // A lone `;` prepares to no statement at all.
        if stmt.expanded_sql().is_none() {
            return Ok(false);
        }
        let before = if seen.changes_tables {
            Some(Names::read(&self.conn)?)
        } else {
            None
        };
        let mut columns_before = Vec::new();
        for table in &seen.altered {
            columns_before.push((table.clone(), columns(&self.conn, table)?));
        }
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        drop(rows);
        drop(stmt);
        if seen.writes {
            for (table, column) in &seen.reads {
                if let Some(column) = tracked
                    .iter_mut()
                    .find(|t| is(&t.current, table))
                    .and_then(|t| t.columns.iter_mut().find(|c| is(&c.current, column)))
                {
                    column.copied = true;
                }
            }
        }
        let Some(before) = before else {
            return Ok(seen.changes_schema);
        };
        let after = Names::read(&self.conn)?;
        let created: Vec<&String> = after
            .0
            .iter()
            .filter(|(folded, _)| !before.0.contains_key(*folded))
            .map(|(_, name)| name)
            .collect();
        for (table, old_columns) in &columns_before {
            let Some(altered) = tracked.iter_mut().find(|t| is(&t.current, table)) else {
                continue;
            };
            if after.contains(table) {
                let new_columns = columns(&self.conn, table)?;
                let removed: Vec<&String> = old_columns
                    .iter()
                    .filter(|c| !contains(&new_columns, c))
                    .collect();
                let added: Vec<&String> = new_columns
                    .iter()
                    .filter(|c| !contains(old_columns, c))
                    .collect();
                let renamed_to = match (removed.as_slice(), added.as_slice()) {
                    ([_], [new]) => Some((*new).clone()),
                    _ => None,
                };
                for column in &mut altered.columns {
                    if removed.iter().any(|r| is(&column.current, r)) {
                        column.current = renamed_to.clone();
                    }
                }
            } else if let [new] = created.as_slice() {
                altered.current = Some((*new).clone());
            }
        }
        for table in tracked.iter_mut() {
            if table
                .current
                .as_ref()
                .is_some_and(|name| !after.contains(name))
            {
                table.current = None;
            }
        }
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a file dropped, from the tables it was followed through and those `at_end`.
fn losses(tracked: &[Tracked], at_end: &Tables) -> Vec<Loss> {
    let mut losses = Vec::new();
    for table in tracked {
        let rebuilt = table.current.is_none();
        let now = table.current.as_deref().unwrap_or(&table.name);
        let kept = at_end
            .0
            .get(&fold(now))
            .map(|(_, columns)| columns)
            .filter(|_| !rebuilt || table.columns.iter().any(|c| c.copied));
        let Some(kept) = kept else {
            losses.push(Loss::Table(table.name.clone()));
            continue;
        };
        for column in &table.columns {
            let exists = column.current.as_ref().is_some_and(|c| contains(kept, c));
            if !exists || (rebuilt && !column.copied) {
                losses.push(Loss::Column(table.name.clone(), column.name.clone()));
            }
        }
    }
    losses.sort();
    losses
}

/// Whether an action would reach a file outside the connection's own database: `ATTACH`,
/// and `VACUUM INTO`, which attaches its target. Running a migration file anywhere but on
/// the real database must not write what the file names.
pub fn reaches_outside(action: &AuthAction<'_>) -> bool {
    matches!(action, AuthAction::Attach { .. })
}

/// SQLite compares names of tables and columns without regard to ASCII case.
fn contains(names: &[String], name: &str) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn is(current: &Option<String>, name: &str) -> bool {
    current
        .as_ref()
        .is_some_and(|c| c.eq_ignore_ascii_case(name))
}

/// Whether `table` is `sqlite_schema` (or its older name), whose rows are the schema.
fn is_schema_table(table: &str) -> bool {
    ["sqlite_schema", "sqlite_master"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(table))
}

/// A name as SQLite compares names of tables: without regard to ASCII case.
fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The tables of `main` (SQLite's own bookkeeping tables aside), by folded name.
struct Names(HashMap<String, String>);

impl Names {
    fn read(conn: &Connection) -> rusqlite::Result<Names> {
        let mut stmt = conn.prepare_cached(
            "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|name| name.map(|name| (fold(&name), name)))
            .collect::<rusqlite::Result<_>>()
            .map(Names)
    }

    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(&fold(name))
    }
}

/// The tables of a schema with their stored columns, by folded name.
#[derive(Default)]
struct Tables(HashMap<String, (String, Vec<String>)>);

impl Tables {
    /// The tables among `entries`, with their columns: from `known` (earlier entries and
    /// their tables) for a table whose stored text is unchanged, else read from `conn`.
    fn read(
        conn: &Connection,
        entries: &[Entry],
        known: Option<(&[Entry], &Tables)>,
    ) -> rusqlite::Result<Tables> {
        let mut tables = HashMap::new();
        for entry in entries.iter().filter(|(kind, _, _)| kind == "table") {
            let name = &entry.1;
            let unchanged = known
                .filter(|(earlier, _)| earlier.binary_search(entry).is_ok())
                .and_then(|(_, tables)| tables.0.get(&fold(name)));
            let columns = match unchanged {
                Some((_, columns)) => columns.clone(),
                None => columns(conn, name)?,
            };
            tables.insert(fold(name), (name.clone(), columns));
        }
        Ok(Tables(tables))
    }
}

/// The stored columns of a table of `main` (generated columns hold no data of their own).
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_info(?1, 'main')")?;
    let rows = stmt.query_map([table], |r| r.get(0))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database like the blog fixture's, with rows.
    fn blog() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, age INTEGER CHECK (age >= 0));
             CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, title TEXT NOT NULL);
             CREATE INDEX posts_user_id ON posts (user_id);
             CREATE TABLE audit (id INTEGER NOT NULL PRIMARY KEY, note TEXT NOT NULL);
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (note) VALUES ('user ' || NEW.id); END;
             CREATE VIEW names AS SELECT name FROM users;
             INSERT INTO users VALUES (1, 'ann', 30), (2, 'bob', NULL);
             INSERT INTO posts (user_id, title) VALUES (1, 'a'), (2, 'b');",
        )
        .unwrap();
        conn
    }

    fn drops(sql: &str) -> Drops {
        SchemaCopy::default().drops(&Schema::read(&blog()).unwrap(), sql, false)
    }

    fn table(name: &str) -> Loss {
        Loss::Table(name.into())
    }

    fn column(t: &str, c: &str) -> Loss {
        Loss::Column(t.into(), c.into())
    }

    #[test]
    fn every_spelling_of_a_drop_counts() {
        for sql in [
            "DROP TABLE audit;",
            "DROP TABLE main.audit;",
            "DROP TABLE \"audit\";",
            "DROP TABLE [audit];",
            "DROP TABLE `main`.`audit`;",
            "DROP TABLE IF EXISTS audit;",
            "drop table /* c */ audit;",
            "DrOp TaBlE -- why\n  AUDIT;",
            "PRAGMA writable_schema = ON; DELETE FROM sqlite_schema WHERE name = 'audit';",
        ] {
            let found = drops(sql);
            assert_eq!(found.losses, [table("audit")], "{sql}");
            assert_eq!(found.unknown, None, "{sql}");
        }
        for sql in [
            "ALTER TABLE main.posts DROP COLUMN title;",
            "alter table \"POSTS\" drop \"Title\";",
        ] {
            assert_eq!(
                drops(sql),
                Drops {
                    losses: vec![column("posts", "title")],
                    unknown: None
                },
                "{sql}"
            );
        }
    }

    #[test]
    fn what_is_not_dropped_is_not_counted() {
        for sql in [
            "DROP TABLE IF EXISTS nowhere; DROP INDEX posts_user_id; DROP VIEW names;",
            "CREATE TEMP TABLE audit (x); DROP TABLE audit;",
            "CREATE TABLE scratch (x); DROP TABLE scratch; ALTER TABLE users ADD COLUMN bio TEXT;",
            "ALTER TABLE audit RENAME TO audit_log; ALTER TABLE users RENAME COLUMN age TO years;",
            "ALTER TABLE audit RENAME TO a2; CREATE TABLE audit (x); ALTER TABLE a2 RENAME TO a3;",
            "SELECT 1; DELETE FROM audit WHERE 0;",
        ] {
            let found = drops(sql);
            assert_eq!(found, Drops::default(), "{sql}");
        }
    }

    #[test]
    fn a_rebuild_under_the_same_name_loses_only_the_columns_it_does_not_copy() {
        let generated = "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; BEGIN;
            ALTER TABLE users RENAME TO _dev_old_users;
            CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL);
            INSERT INTO users (id, name) SELECT id, name FROM _dev_old_users;
            DROP TABLE _dev_old_users;
            CREATE TEMP TABLE _dev_guard (ok INTEGER CHECK (ok));
            INSERT INTO _dev_guard SELECT NOT EXISTS (SELECT 1 FROM pragma_foreign_key_check);
            DROP TABLE _dev_guard;
            COMMIT; PRAGMA foreign_keys = ON;";
        assert_eq!(
            SchemaCopy::default().drops(&Schema::read(&blog()).unwrap(), generated, true),
            Drops {
                losses: vec![column("users", "age")],
                unknown: None
            }
        );
        let by_hand = "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT, views INTEGER);
            INSERT INTO posts_new (id, user_id) SELECT id, user_id FROM posts;
            DROP TABLE posts;
            ALTER TABLE posts_new RENAME TO posts;";
        assert_eq!(
            drops(by_hand),
            Drops {
                losses: vec![column("posts", "title")],
                unknown: None
            }
        );
        let recreated = "DROP TABLE audit; CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);";
        assert_eq!(drops(recreated).losses, [table("audit")]);
    }

    #[test]
    fn a_file_the_copy_cannot_run_is_not_taken_to_lose_nothing() {
        let sql = "DROP TABLE audit;\nINSERT INTO nowhere VALUES (1);\nDROP TABLE posts;";
        let found = drops(sql);
        assert_eq!(found.losses, [table("audit")]);
        assert_eq!(
            found.unknown,
            Some(Unknown {
                offset: Some(18),
                reason: "no such table: nowhere".into()
            })
        );
        let dir = tempfile::tempdir().unwrap();
        for outside in [
            format!("ATTACH '{}' AS other;", dir.path().join("a.db").display()),
            format!("VACUUM INTO '{}';", dir.path().join("b.db").display()),
        ] {
            let found = drops(&outside);
            assert!(found.unknown.is_some(), "{outside}: {found:?}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the copy wrote a file"
        );
    }

    #[test]
    fn a_virtual_table_is_one_table_and_its_shadow_tables_are_its_own() {
        let real = blog();
        real.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(body); INSERT INTO docs VALUES ('a'), ('b');",
        )
        .unwrap();
        let mut copy = SchemaCopy::default();
        assert_eq!(
            copy.drops(
                &Schema::read(&real).unwrap(),
                "INSERT INTO docs VALUES ('c');",
                false
            ),
            Drops::default()
        );
        let found = copy.drops(&Schema::read(&real).unwrap(), "DROP TABLE docs;", false);
        assert_eq!(found.losses, [table("docs")]);
        assert_eq!(table("docs").count(&real).unwrap(), 2);
    }

    #[test]
    fn the_copy_follows_the_database_from_file_to_file() {
        let real = blog();
        let mut copy = SchemaCopy::default();
        let mut step = |sql: &str| {
            let found = copy.drops(&Schema::read(&real).unwrap(), sql, false);
            real.execute_batch(sql).unwrap();
            found.losses
        };
        assert_eq!(step("ALTER TABLE audit RENAME TO log;"), []);
        assert_eq!(step("DROP TABLE log;"), [table("log")]);
        real.execute_batch("CREATE TABLE extra (x);").unwrap();
        assert_eq!(
            step("DROP TABLE extra;"),
            [table("extra")],
            "a table made behind the copy's back"
        );
    }

    #[test]
    fn counts_rows_and_non_null_values() {
        let conn = blog();
        assert_eq!(table("posts").count(&conn).unwrap(), 2);
        assert_eq!(column("users", "age").count(&conn).unwrap(), 1);
        assert!(table("gone").count(&conn).is_err());
        assert_eq!(table("t").describe(1), "table t with 1 row");
        assert_eq!(column("t", "c").describe(2), "column t.c with 2 values");
    }
}
