//! `schema/objects.sql`: the indexes, views and triggers that `table!` cannot declare,
//! written as the SQL that creates them, beside schema.rs.
//!
//! The file is opt-in. Without it, such objects are kept through every change and never
//! generated. With it, it is the truth for every index, view and trigger of head (SQLite's own
//! `sqlite_autoindex_*` aside): what it adds is created, what it changes is recreated, what
//! head has and it lacks is dropped. Objects are compared by kind, name and their SQL as
//! SQLite reads it: tokens only, so whitespace, comments, keyword case and identifier quoting
//! are no change.

use crate::sqlite::catalog::{is_platform_table, Entry, Kind};
use std::fmt;
use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::schema::introspect::TableFilter;
use crate::schema::model::Schema;
use crate::sqlite::db::sqlite_message;
use crate::sqlite::lexer::{self, inside, keyword_at, tokenize, unquote, Token};

/// The file's name, in the directory of schema.rs.
pub const OBJECTS_FILE: &str = "objects.sql";

/// What the file holds besides tables, which belong in schema.rs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// `CREATE [UNIQUE] INDEX`.
    Index,
    /// `CREATE VIEW`.
    View,
    /// `CREATE TRIGGER`.
    Trigger,
}

impl ObjectKind {
    /// The object kind a catalog entry is, if it is one of these.
    pub fn of(kind: Kind) -> Option<ObjectKind> {
        match kind {
            Kind::Index => Some(ObjectKind::Index),
            Kind::View => Some(ObjectKind::View),
            Kind::Trigger => Some(ObjectKind::Trigger),
            Kind::Table => None,
        }
    }

    /// The catalog's kind of it, which knows how it is dropped.
    pub fn kind(self) -> Kind {
        match self {
            ObjectKind::Index => Kind::Index,
            ObjectKind::View => Kind::View,
            ObjectKind::Trigger => Kind::Trigger,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind().fmt(f)
    }
}

/// An index, view or trigger: as objects.sql declares it, or as a database stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlObject {
    /// Index, view or trigger.
    pub kind: ObjectKind,
    /// Its name, unquoted.
    pub name: String,
    /// The table it belongs to (a view's own name), unquoted.
    pub table: String,
    /// The `CREATE` statement without its `;`, as written or as stored.
    pub sql: String,
}

impl SqlObject {
    /// The statement as SQLite reads it: its tokens one space apart, words unquoted and
    /// lower-cased, so layout, comments, keyword case and quoting do not count.
    pub fn normalized(&self) -> String {
        let mut words = Vec::new();
        normalize(&self.sql, 0..self.sql.len(), &mut words);
        words.join(" ")
    }

    /// Whether `other` is the same object, written differently at most.
    pub fn same_as(&self, other: &SqlObject) -> bool {
        self.kind == other.kind
            && self.name.eq_ignore_ascii_case(&other.name)
            && self.normalized() == other.normalized()
    }
}

fn normalize(sql: &str, range: std::ops::Range<usize>, words: &mut Vec<String>) {
    let offset = range.start;
    for (kind, r) in tokenize(&sql[range]) {
        let r = offset + r.start..offset + r.end;
        match kind {
            Token::Word => words.push(unquote(&sql[r]).to_ascii_lowercase()),
            Token::Group => {
                words.push("(".to_owned());
                normalize(sql, inside(sql, &r), words);
                words.push(")".to_owned());
            }
            Token::Literal | Token::Other => words.push(sql[r].to_owned()),
        }
    }
}

/// An object of objects.sql, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The object.
    pub object: SqlObject,
    /// Where its statement starts, for errors about it.
    pub location: Location,
}

/// The objects of the file at `path`; `None` when there is no such file, which leaves every
/// index, view and trigger unmanaged.
pub fn read(path: &Path, target: &Schema) -> Result<Option<Vec<Declared>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text, target).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Parses objects.sql's text; `target` (schema.rs) says which tables exist.
pub fn parse(path: &Path, source: &str, target: &Schema) -> Result<Vec<Declared>> {
    let mut declared: Vec<Declared> = Vec::new();
    let grammar = rusqlite::Connection::open_in_memory()
        .map_err(|e| Error::internal(format!("cannot open an in-memory database: {e}")))?;
    for range in lexer::split_statements(source) {
        let location = Location::at_offset(path, source, range.start);
        let text = source[range.clone()].trim_end();
        let text = text.strip_suffix(';').unwrap_or(text).trim_end();
        let object = statement(text).and_then(|object| {
            parses(&grammar, text)?;
            Ok(object)
        });
        let object = object.map_err(|(message, help)| {
            Error::input(format!("{OBJECTS_FILE}: {message}"))
                .at(location.clone())
                .help(help)
        })?;
        if let Some(first) = declared
            .iter()
            .find(|d| d.object.name.eq_ignore_ascii_case(&object.name))
        {
            return Err(Error::input(format!(
                "{OBJECTS_FILE}: `{}` is declared twice (first at line {})",
                object.name, first.location.line
            ))
            .at(location)
            .help("give each index, view and trigger its own name"));
        }
        let on_table = object.kind == ObjectKind::View
            || target
                .tables
                .keys()
                .any(|t| t.eq_ignore_ascii_case(&object.table));
        let on_view = declared.iter().any(|d| {
            d.object.kind == ObjectKind::View && d.object.name.eq_ignore_ascii_case(&object.table)
        });
        if !on_table && !on_view {
            return Err(Error::input(format!(
                "{OBJECTS_FILE}: {} `{}` is on table `{}`, which schema.rs does not declare",
                object.kind, object.name, object.table
            ))
            .at(location)
            .help("declare the table in schema.rs, or put the object on a table it declares"));
        }
        declared.push(Declared { object, location });
    }
    Ok(declared)
}

/// Whether SQLite's parser reads `sql`. It is prepared on an empty database, where a sound
/// statement can only fail for a missing table (which the planner judges on the real ones).
fn parses(grammar: &rusqlite::Connection, sql: &str) -> std::result::Result<(), (String, String)> {
    match grammar.prepare(sql) {
        Err(e) => {
            let message = sqlite_message(&e);
            let syntax = ["syntax error", "incomplete input", "unrecognized token"]
                .iter()
                .any(|s| message.contains(s));
            if syntax {
                Err((
                    format!("SQLite cannot read this statement: {message}"),
                    "fix the statement's syntax".to_owned(),
                ))
            } else {
                Ok(())
            }
        }
        Ok(_) => Ok(()),
    }
}

/// Reads one statement as an object, or says what is wrong and how to fix it.
fn statement(sql: &str) -> std::result::Result<SqlObject, (String, String)> {
    let tokens = tokenize(sql);
    let word = |i: usize| keyword_at(sql, &tokens, i);
    let expected = || {
        (
            "expected CREATE INDEX, CREATE UNIQUE INDEX, CREATE VIEW or CREATE TRIGGER".to_owned(),
            "this file holds only indexes, views and triggers; tables belong in schema.rs, data changes in a migration (`generate --empty`)".to_owned(),
        )
    };
    if word(0).as_deref() != Some("create") {
        return Err(expected());
    }
    let mut at = 1;
    if matches!(word(at).as_deref(), Some("temp" | "temporary")) {
        return Err((
            "a TEMP object lives only as long as one connection".to_owned(),
            "declare it without TEMP".to_owned(),
        ));
    }
    if word(at).as_deref() == Some("unique") {
        at += 1;
        if word(at).as_deref() != Some("index") {
            return Err(expected());
        }
    }
    let kind = match word(at).as_deref() {
        Some("index") => ObjectKind::Index,
        Some("view") => ObjectKind::View,
        Some("trigger") => ObjectKind::Trigger,
        Some("table" | "virtual") => {
            return Err((
                "tables are declared in schema.rs, not here".to_owned(),
                "add a `table!` to schema.rs and run `generate`".to_owned(),
            ))
        }
        _ => return Err(expected()),
    };
    at += 1;
    if word(at).as_deref() == Some("if") {
        return Err((
            "IF NOT EXISTS has no place here: this file says what exists".to_owned(),
            "write the statement without IF NOT EXISTS".to_owned(),
        ));
    }
    let name_at = |i: usize| -> std::result::Result<(String, usize), (String, String)> {
        let name = tokens
            .get(i)
            .filter(|(k, _)| *k == Token::Word)
            .map(|(_, r)| unquote(&sql[r.clone()]))
            .ok_or_else(|| {
                (
                    format!(
                        "expected a name after CREATE {}",
                        kind.kind().name().to_uppercase()
                    ),
                    "name the object".to_owned(),
                )
            })?;
        let dotted = tokens
            .get(i + 1)
            .is_some_and(|(k, r)| *k == Token::Other && &sql[r.clone()] == ".");
        if !dotted {
            return Ok((name, i + 1));
        }
        if !name.eq_ignore_ascii_case("main") {
            return Err((
                format!("`{name}.` names another database"),
                "objects here belong to the main database; drop the qualifier".to_owned(),
            ));
        }
        let (name, next) = match tokens.get(i + 2) {
            Some((Token::Word, r)) => (unquote(&sql[r.clone()]), i + 3),
            _ => return Err(expected()),
        };
        Ok((name, next))
    };
    let (name, after_name) = name_at(at)?;
    let table = match kind {
        ObjectKind::View => name.clone(),
        ObjectKind::Index | ObjectKind::Trigger => {
            let on = (after_name..tokens.len())
                .find(|&i| word(i).as_deref() == Some("on"))
                .ok_or_else(|| {
                    (
                        format!("expected ON <table> in {kind} `{name}`"),
                        format!("say which table the {kind} is on"),
                    )
                })?;
            name_at(on + 1)?.0
        }
    };
    Ok(SqlObject {
        kind,
        name,
        table,
        sql: sql.to_owned(),
    })
}

/// Head's indexes, views and triggers from its `sqlite_schema`, automatic indexes aside.
fn stored(entries: &[Entry]) -> Vec<SqlObject> {
    entries
        .iter()
        .filter(|e| !e.name.to_ascii_lowercase().starts_with("sqlite_"))
        .filter(|e| !is_platform_table(&e.table))
        .filter_map(|e| {
            Some(SqlObject {
                kind: ObjectKind::of(e.kind)?,
                name: e.name.clone(),
                table: e.table.clone(),
                sql: e.sql.clone()?,
            })
        })
        .collect()
}

/// Head's indexes, views and triggers that `objects.sql` manages: all but SQLite's own, and
/// but those on tables the `print_schema` filter leaves out.
pub fn managed(entries: &[Entry], filter: &TableFilter) -> Vec<SqlObject> {
    stored(entries)
        .into_iter()
        .filter(|o| o.kind == ObjectKind::View || filter.includes(&o.table))
        .collect()
}

/// The file's text holding `objects`, for adopting the file on an existing project: views
/// first, then indexes, then triggers, as an `INSTEAD OF` trigger needs its view to exist.
pub fn render(objects: &[SqlObject]) -> String {
    let rank = |kind: ObjectKind| match kind {
        ObjectKind::View => 0,
        ObjectKind::Index => 1,
        ObjectKind::Trigger => 2,
    };
    let mut objects: Vec<&SqlObject> = objects.iter().collect();
    objects.sort_by_key(|o| rank(o.kind));
    let mut text = String::from(
        "-- Indexes, views and triggers: what schema.rs cannot declare. `generate` creates,\n-- changes and drops them to match this file; `check` compares head with it.\n",
    );
    for object in objects {
        text.push('\n');
        text.push_str(&object.sql);
        text.push_str(";\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::Table;

    fn target() -> Schema {
        let mut schema = Schema::default();
        for name in ["users", "posts"] {
            schema.tables.insert(
                name.to_owned(),
                Table {
                    name: name.to_owned(),
                    columns: Vec::new(),
                    primary_key: Vec::new(),
                    joinables: Default::default(),
                },
            );
        }
        schema
    }

    fn parsed(text: &str) -> Result<Vec<Declared>> {
        parse(Path::new("schema/objects.sql"), text, &target())
    }

    #[test]
    fn reads_each_kind_with_its_table_and_text() {
        let found = parsed(
            "-- why\nCREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email IS NOT NULL;\n\nCREATE VIEW \"recent posts\" AS SELECT * FROM posts;\ncreate trigger main.touch after update of title on posts begin update posts set title = title where 0; end;\n",
        )
        .unwrap();
        let summary: Vec<(ObjectKind, &str, &str, usize)> = found
            .iter()
            .map(|d| {
                let o = &d.object;
                (o.kind, o.name.as_str(), o.table.as_str(), d.location.line)
            })
            .collect();
        assert_eq!(
            summary,
            [
                (ObjectKind::Index, "users_email", "users", 2),
                (ObjectKind::View, "recent posts", "recent posts", 4),
                (ObjectKind::Trigger, "touch", "posts", 5),
            ]
        );
        assert!(found[2].object.sql.ends_with("end"));
    }

    #[test]
    fn what_does_not_belong_is_refused_with_its_place_and_a_fix() {
        for (text, says) in [
            ("CREATE TABLE t (a);", "tables are declared in schema.rs"),
            ("CREATE TEMP VIEW v AS SELECT 1;", "TEMP"),
            (
                "CREATE INDEX IF NOT EXISTS i ON users (a);",
                "IF NOT EXISTS",
            ),
            ("INSERT INTO users VALUES (1);", "expected CREATE INDEX"),
            ("CREATE INDEX i ON nope (a);", "schema.rs does not declare"),
            ("CREATE INDEX other.i ON users (a);", "another database"),
            (
                "CREATE INDEX i ON users (a,);",
                "SQLite cannot read this statement",
            ),
            (
                "CREATE VIEW v AS SELEC 1;",
                "SQLite cannot read this statement",
            ),
            (
                "CREATE INDEX i ON users (a);\nCREATE VIEW I AS SELECT 1;",
                "declared twice (first at line 2)",
            ),
        ] {
            let err = parsed(&format!("-- header\n{text}")).unwrap_err();
            assert!(err.message.contains(says), "{text}: {err}");
            assert!(err.location.is_some() && err.help.is_some(), "{err}");
        }
    }

    #[test]
    fn layout_comments_case_and_quotes_are_no_change() {
        let object = |sql: &str| SqlObject {
            kind: ObjectKind::Index,
            name: "i".into(),
            table: "users".into(),
            sql: sql.into(),
        };
        let a = object("CREATE INDEX i ON users (email, \"Name\")");
        let b = object("create index I\n  on \"users\"(email /* login */,name)");
        assert!(a.same_as(&b), "{} / {}", a.normalized(), b.normalized());
        assert!(!a.same_as(&object("CREATE INDEX i ON users (email)")));
        assert!(!a.same_as(&object("CREATE INDEX i ON users (email, 'Name')")));
    }
}
