//! The one schema model both sides are read into: what `schema.rs` says, and what diesel
//! print-schema would say of the database. "No changes" means these two are equal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::introspect;
use crate::schema::types::SqlType;

/// A column as Diesel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The SQL name, which both sides share (schema.rs may name the Rust side otherwise).
    pub name: String,
    /// The Diesel type, without `Nullable`.
    pub ty: SqlType,
    /// Whether it is `Nullable<...>`: the column lacks `NOT NULL`.
    pub nullable: bool,
    /// `#[max_length]` from schema.rs; print-schema never writes it for SQLite, so it is
    /// used when creating a column and never compared.
    pub max_length: Option<u32>,
}

impl Column {
    /// Compares what print-schema can see: type and nullability.
    pub fn same_as(&self, other: &Column) -> bool {
        self.ty == other.ty && self.nullable == other.nullable
    }
}

impl fmt::Display for Column {
    /// The column's Diesel type, as schema.rs writes it (`Nullable<Text>`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nullable {
            write!(f, "Nullable<{}>", self.ty.diesel_name())
        } else {
            f.write_str(self.ty.diesel_name())
        }
    }
}

/// `joinable!(child -> parent (column))`: a foreign key from `column` to the parent's single
/// primary-key column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Joinable {
    /// The child's foreign-key column, by SQL name.
    pub column: String,
    /// The parent table, by SQL name.
    pub parent: String,
}

/// A table as Diesel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The SQL name, which both sides share (schema.rs may name the Rust side otherwise).
    pub name: String,
    /// In declaration order; order is never a change.
    pub columns: Vec<Column>,
    /// The primary-key column names as declared; a rowid alias for a table without one.
    pub primary_key: Vec<String>,
    /// The `joinable!`s whose child is this table.
    pub joinables: BTreeSet<Joinable>,
}

impl Table {
    /// The column with this SQL name, the name both sides of a comparison share.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `column` is SQLite's own row key standing in for a primary key: the table
    /// declares none, and print-schema keys it by `rowid` (or `oid`, `_rowid_`), which it
    /// lists as a column. It is never a column to add, drop or retype.
    pub fn is_implicit_rowid(&self, column: &str) -> bool {
        matches!(self.primary_key.as_slice(), [key] if key == column && is_rowid_alias(key))
    }
}

/// A column of a table, by name: what `--default TABLE.COLUMN=...` names, and where a
/// column is found after a migration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnKey {
    /// The table's SQL name.
    pub table: String,
    /// The column's SQL name.
    pub column: String,
}

impl ColumnKey {
    /// The key of `table.column`.
    pub fn new(table: &str, column: &str) -> ColumnKey {
        ColumnKey {
            table: table.to_owned(),
            column: column.to_owned(),
        }
    }
}

impl ColumnKey {
    /// Parses `TABLE.NAME=VALUE` (the flag's `form` names the parts in the error, which is
    /// clap's message): the column and the trimmed value, none of them blank.
    pub fn parse_assignment(
        arg: &str,
        form: &str,
    ) -> std::result::Result<(ColumnKey, String), String> {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected {form}, got `{arg}`"))?;
        let (table, column) = key.split_once('.').ok_or_else(|| {
            let before = form.split_once('=').map_or(form, |(before, _)| before);
            format!("expected {before} before `=`, got `{key}`")
        })?;
        if [table, column, value].iter().any(|s| s.trim().is_empty()) {
            return Err(format!("expected {form}, got `{arg}`"));
        }
        Ok((ColumnKey::new(table, column), value.trim().to_owned()))
    }
}

impl fmt::Display for ColumnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table, self.column)
    }
}

/// Every table, by SQL name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// The tables, keyed by SQL name.
    pub tables: BTreeMap<String, Table>,
}

/// Whether `name` is one of SQLite's implicit rowid names.
pub fn is_rowid_alias(name: &str) -> bool {
    introspect::ROWID_NAMES.contains(&name)
}

/// Reads a database the way diesel print-schema does for SQLite.
pub fn from_database(
    db: &introspect::Database,
    integer_primary_key_is_bigint: bool,
) -> Result<Schema> {
    let mut schema = Schema::default();
    for table in &db.tables {
        let primary_key = primary_key_names(table).ok_or_else(|| {
            Error::input(format!(
                "table `{}` has no primary key and columns named rowid, oid and _rowid_, so Diesel cannot describe it",
                table.name
            ))
        })?;
        let mut columns = Vec::with_capacity(table.columns.len() + 1);
        // print-schema lists a virtual table's hidden columns too (table_xinfo's rows).
        for column in table.columns.iter().chain(&table.hidden_columns) {
            let mut ty = SqlType::from_declared(&column.declared_type).ok_or_else(|| {
                Error::input(format!(
                    "column `{}.{}` has the type `{}`, which diesel print-schema cannot read",
                    table.name, column.name, column.declared_type
                ))
                .help("use a type print-schema maps (INTEGER, BIGINT, TEXT, BLOB, DOUBLE, BOOLEAN, TIMESTAMP, ...) in the migration that creates it")
            })?;
            if integer_primary_key_is_bigint
                && ty == SqlType::Integer
                && (is_rowid_primary_key(table, &column.name)
                    || references_rowid_primary_key(db, table, &column.name))
            {
                ty = SqlType::BigInt;
            }
            columns.push(Column {
                name: column.name.clone(),
                ty,
                nullable: !column.not_null,
                max_length: None,
            });
        }
        if let [implicit] = primary_key.as_slice() {
            if table.column(implicit).is_none() {
                let ty = if integer_primary_key_is_bigint {
                    SqlType::BigInt
                } else {
                    SqlType::Integer
                };
                columns.insert(
                    0,
                    Column {
                        name: implicit.clone(),
                        ty,
                        nullable: false,
                        max_length: None,
                    },
                );
            }
        }
        schema.tables.insert(
            table.name.clone(),
            Table {
                name: table.name.clone(),
                columns,
                primary_key,
                joinables: BTreeSet::new(),
            },
        );
    }
    for written in joinables(db) {
        if let Some(table) = schema.tables.get_mut(&written.child) {
            table.joinables.insert(written.joinable);
        }
    }
    Ok(schema)
}

/// Primary-key column names in cid order; a table without one gets the first free rowid
/// alias; `None` when all of them are taken.
fn primary_key_names(table: &introspect::StoredTable) -> Option<Vec<String>> {
    let declared: Vec<String> = table
        .primary_key()
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    if !declared.is_empty() {
        return Some(declared);
    }
    introspect::ROWID_NAMES
        .iter()
        .find(|alias| table.column(alias).is_none())
        .map(|alias| vec![alias.to_string()])
}

/// A single-column `INTEGER` primary key of a rowid table: an alias of the rowid.
fn is_rowid_primary_key(table: &introspect::StoredTable, column: &str) -> bool {
    table.rowid_alias().is_some_and(|c| c.name == column)
}

fn references_rowid_primary_key(
    db: &introspect::Database,
    table: &introspect::StoredTable,
    column: &str,
) -> bool {
    let single_column = |fk: &&introspect::ForeignKey| {
        table
            .foreign_keys
            .iter()
            .filter(|other| other.id == fk.id)
            .count()
            == 1
    };
    table
        .foreign_keys
        .iter()
        .filter(|fk| fk.column == column)
        .filter(single_column)
        .any(|fk| {
            db.table(&fk.parent).is_some_and(|parent| {
                let target = fk
                    .parent_column
                    .clone()
                    .or_else(|| parent.primary_key().first().map(|c| c.name.clone()));
                target.is_some_and(|t| is_rowid_primary_key(parent, &t))
            })
        })
}

/// A `joinable!` print-schema writes, with the table whose foreign key it is.
struct ChildJoinable {
    child: String,
    joinable: Joinable,
}

/// The joinables print-schema writes: single-column foreign keys, not self-referencing,
/// between described tables, targeting the parent's single primary-key column, and the only
/// foreign key between their pair of tables in either direction.
fn joinables(db: &introspect::Database) -> Vec<ChildJoinable> {
    let pair = |fk: &introspect::ForeignKey| {
        if fk.child <= fk.parent {
            (fk.child.clone(), fk.parent.clone())
        } else {
            (fk.parent.clone(), fk.child.clone())
        }
    };
    let mut pair_counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for fk in &db.all_foreign_keys {
        *pair_counts.entry(pair(fk)).or_default() += 1;
    }
    db.all_foreign_keys
        .iter()
        .filter(|fk| fk.child != fk.parent)
        .filter(|fk| pair_counts[&pair(fk)] == 1)
        .filter_map(|fk| {
            db.table(&fk.child)?;
            let parent = db.table(&fk.parent)?;
            let parent_key = primary_key_names(parent)?;
            let target = fk
                .parent_column
                .clone()
                .unwrap_or_else(|| parent_key.first().cloned().unwrap_or_default());
            (parent_key.len() == 1 && parent_key[0] == target).then(|| ChildJoinable {
                child: fk.child.clone(),
                joinable: Joinable {
                    column: fk.column.clone(),
                    parent: fk.parent.clone(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::introspect::inspect;
    use crate::schema::introspect::TableFilter;

    fn read(sql: &str, bigint: bool) -> Schema {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        from_database(&inspect(&conn, &TableFilter::All).unwrap(), bigint).unwrap()
    }

    #[test]
    fn nullability_comes_from_not_null_only_even_for_primary_keys() {
        let schema = read(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT NOT NULL)",
            false,
        );
        let t = &schema.tables["t"];
        assert!(t.columns[0].nullable);
        assert!(!t.columns[1].nullable);
        assert_eq!(t.primary_key, ["id"]);
    }

    #[test]
    fn table_without_primary_key_gets_rowid() {
        let schema = read("CREATE TABLE t (rowid2 TEXT)", false);
        let t = &schema.tables["t"];
        assert_eq!(t.primary_key, ["rowid"]);
        assert_eq!(t.columns[0].to_string(), "Integer");
        let schema = read("CREATE TABLE t (rowid TEXT)", false);
        assert_eq!(schema.tables["t"].primary_key, ["oid"]);
    }

    #[test]
    fn bigint_flag_applies_to_rowid_aliases_and_their_references() {
        let sql = "CREATE TABLE u (id INTEGER NOT NULL PRIMARY KEY);
                   CREATE TABLE p (id INT NOT NULL PRIMARY KEY, u_id INTEGER NOT NULL REFERENCES u(id));
                   CREATE TABLE w (id INTEGER NOT NULL PRIMARY KEY) WITHOUT ROWID;";
        let schema = read(sql, true);
        assert_eq!(schema.tables["u"].columns[0].ty, SqlType::BigInt);
        assert_eq!(schema.tables["p"].columns[0].ty, SqlType::Integer);
        assert_eq!(schema.tables["p"].columns[1].ty, SqlType::BigInt);
        assert_eq!(schema.tables["w"].columns[0].ty, SqlType::Integer);
        assert_eq!(read(sql, false).tables["u"].columns[0].ty, SqlType::Integer);
    }

    #[test]
    fn joinables_follow_print_schema_rules() {
        let schema = read(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE);
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users);
             CREATE TABLE msgs (id INTEGER PRIMARY KEY, from_id INTEGER REFERENCES users(id), to_id INTEGER REFERENCES users(id));
             CREATE TABLE by_email (id INTEGER PRIMARY KEY, email TEXT REFERENCES users(email));
             CREATE TABLE tree (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES tree(id));",
            false,
        );
        let joinable = |t: &str| {
            schema.tables[t]
                .joinables
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            joinable("posts"),
            [Joinable {
                column: "user_id".into(),
                parent: "users".into()
            }]
        );
        assert!(joinable("msgs").is_empty(), "two keys to the same parent");
        assert!(
            joinable("by_email").is_empty(),
            "not the parent's primary key"
        );
        assert!(joinable("tree").is_empty(), "self reference");
    }

    #[test]
    fn unreadable_type_is_an_error_naming_the_column() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (doc JSON)").unwrap();
        let err = from_database(&inspect(&conn, &TableFilter::All).unwrap(), false).unwrap_err();
        assert!(
            err.message.contains("`t.doc`") && err.message.contains("JSON"),
            "{err}"
        );
    }
}
