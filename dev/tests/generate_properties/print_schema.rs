//! The real print-schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::Project;
use crate::model::{canon, Canon, CanonTable, Model};
use crate::properties::{shown, tool, write_schema};
use crate::types::{rust_type, Ty};

/// Reads print-schema's output: `table!` blocks (with `#[sql_name]`), column types through
/// their aliases, and `joinable!` lines.
pub fn parse_print_schema(text: &str) -> Result<Canon, String> {
    let mut reader = Reader::default();
    for line in text.lines().map(str::trim) {
        reader.line(line)?;
    }
    Ok(reader.finish())
}

/// What print-schema's output has said so far, a line at a time.
#[derive(Default)]
struct Reader {
    tables: Canon,
    rust_to_sql: BTreeMap<String, String>,
    /// Per table, each column's Rust name to its SQL name: keys and joinables name the Rust one.
    columns_of: BTreeMap<String, BTreeMap<String, String>>,
    /// The table whose columns are being read.
    current: Option<String>,
    /// The `#[sql_name]` of the table or column on the next line.
    sql_name: Option<String>,
    in_table: bool,
    in_other_macro: bool,
}

impl Reader {
    fn line(&mut self, line: &str) -> Result<(), String> {
        if line.is_empty() || line.starts_with("//") {
            return Ok(());
        }
        // `allow_tables_to_appear_in_same_query!` and the like, on one line or several.
        if self.in_other_macro {
            self.in_other_macro = !line.ends_with(");");
            return Ok(());
        }
        if let Some(rest) = line
            .strip_prefix("#[sql_name = \"")
            .and_then(|r| r.strip_suffix("\"]"))
        {
            self.sql_name = Some(rest.to_owned());
            return Ok(());
        }
        if line.starts_with("#[") {
            return Ok(());
        }
        if line == "diesel::table! {" {
            self.in_table = true;
            return Ok(());
        }
        if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            return self.joinable(line, rest);
        }
        if line.starts_with("diesel::") {
            self.in_other_macro = !line.ends_with(");");
            return Ok(());
        }
        if self.in_table && self.current.is_none() && line.ends_with('{') {
            return self.table(line);
        }
        if line == "}" {
            if self.current.take().is_none() {
                self.in_table = false;
            }
            return Ok(());
        }
        if let (Some(table), Some((column, ty))) = (self.current.clone(), line.split_once(" -> ")) {
            return self.column(line, &table, column, ty);
        }
        Err(format!(
            "unexpected line in print-schema's output: `{line}`"
        ))
    }

    /// `diesel::joinable!(child -> parent (column));`, by Rust names.
    fn joinable(&mut self, line: &str, rest: &str) -> Result<(), String> {
        let rest = rest.trim_end_matches(");");
        let (child, rest) = rest.split_once(" -> ").ok_or(line)?;
        let (parent, column) = rest.split_once(" (").ok_or(line)?;
        let column = column.trim_end_matches(')');
        let child = self
            .rust_to_sql
            .get(child)
            .cloned()
            .unwrap_or(child.to_owned());
        let parent = self
            .rust_to_sql
            .get(parent)
            .cloned()
            .unwrap_or(parent.to_owned());
        let column = self
            .columns_of
            .get(&child)
            .and_then(|c| c.get(column))
            .cloned()
            .unwrap_or(column.to_owned());
        self.tables
            .get_mut(&child)
            .ok_or(format!("joinable for an unknown table: {line}"))?
            .joins
            .insert((column, parent));
        Ok(())
    }

    /// `name (key, ...) {`, the head of a `table!` block.
    fn table(&mut self, line: &str) -> Result<(), String> {
        let head = line.trim_end_matches('{').trim();
        let (rust, key) = head.split_once(" (").ok_or(line)?;
        let rust = rust.trim_start_matches("r#").to_owned();
        let name = self.sql_name.take().unwrap_or(rust.clone());
        let key = key.trim_end_matches(')');
        self.rust_to_sql.insert(rust, name.clone());
        self.tables.insert(
            name.clone(),
            CanonTable {
                columns: BTreeMap::new(),
                key: key.split(", ").map(str::to_owned).collect(),
                joins: BTreeSet::new(),
            },
        );
        self.current = Some(name);
        Ok(())
    }

    /// `column -> Type,` in `table`'s block.
    fn column(&mut self, line: &str, table: &str, column: &str, ty: &str) -> Result<(), String> {
        let rust = column.trim_start_matches("r#").to_owned();
        let column = self.sql_name.take().unwrap_or(rust.clone());
        self.columns_of
            .entry(table.to_owned())
            .or_default()
            .insert(rust, column.clone());
        let ty = ty.trim_end_matches(',');
        let (nullable, inner) = match ty.strip_prefix("Nullable<") {
            Some(inner) => (true, inner.trim_end_matches('>')),
            None => (false, ty),
        };
        let inner = inner.rsplit("::").next().unwrap_or(inner);
        let ty = rust_type(inner).ok_or(format!("unknown type in `{line}`"))?;
        self.tables
            .get_mut(table)
            .expect("current")
            .columns
            .insert(column, (ty, nullable));
        Ok(())
    }

    /// The tables, their keys named by SQL names.
    fn finish(mut self) -> Canon {
        for (name, table) in &mut self.tables {
            let names = self.columns_of.get(name).cloned().unwrap_or_default();
            table.key = std::mem::take(&mut table.key)
                .into_iter()
                .map(|k| names.get(&k).cloned().unwrap_or(k))
                .collect();
        }
        self.tables
    }
}

/// What diesel_cli writes for the upgraded database reads as the target, and `check`
/// passes with it as the schema files: `print-schema` for one file; with sections, the
/// files `migration run` rewrites (nothing is pending), as `print-schema` prints every
/// section at once whatever `--schema-key` says.
pub fn print_schema_agrees(
    project: &Project,
    diesel: &str,
    database: &Path,
    target: &Model,
    files: &[(&str, String)],
) -> Result<(), String> {
    let url = database.to_str().unwrap();
    let args: &[&str] = match target.second {
        None => &["print-schema", "--database-url", url],
        Some(_) => &["migration", "run", "--database-url", url],
    };
    let output = project
        .command(diesel, args)
        .stdin_null()
        .run()
        .map_err(|e| format!("cannot run {diesel}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "diesel {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let printed_files: Vec<(&str, String)> = match target.second {
        None => vec![(
            files[0].0,
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )],
        Some(_) => files
            .iter()
            .map(|(path, _)| (*path, project.read(path)))
            .collect(),
    };
    let mut read = Canon::new();
    for (_, printed) in &printed_files {
        read.extend(parse_print_schema(printed)?);
    }
    // Across sections print-schema writes no joinable.
    let mut expected = canon(target);
    for (name, table) in &mut expected {
        table
            .joins
            .retain(|(_, parent)| !target.crosses(name, parent));
    }
    if read != expected {
        return Err(format!(
            "diesel_cli reads the upgraded database as\n{}\nnot as the schema files",
            shown(&printed_files)
        ));
    }
    write_schema(project, &printed_files);
    let checked = tool(project, &["check".to_owned()]);
    write_schema(project, files);
    if checked.code != Some(0) {
        return Err(format!(
            "check fails with diesel_cli's output as the schema files:\n{}\n{checked:?}",
            shown(&printed_files)
        ));
    }
    Ok(())
}

#[test]
pub fn the_print_schema_reader_reads_what_print_schema_writes() {
    let text = "// @generated automatically by Diesel CLI.\n\ndiesel::table! {\n    posts (id) {\n        id -> Integer,\n        user_id -> Nullable<Integer>,\n        #[sql_name = \"type\"]\n        type_ -> Text,\n    }\n}\n\ndiesel::table! {\n    users (id, name) {\n        id -> BigInt,\n        name -> Float8,\n    }\n}\n\ndiesel::joinable!(posts -> users (user_id));\n\ndiesel::allow_tables_to_appear_in_same_query!(\n    posts,\n    users,\n);\n";
    let read = parse_print_schema(text).unwrap();
    assert_eq!(read["posts"].columns["user_id"], (Ty::Integer, true));
    assert_eq!(read["posts"].columns["type"], (Ty::Text, false));
    assert_eq!(read["users"].columns["name"], (Ty::Double, false));
    assert_eq!(
        read["users"].key,
        BTreeSet::from(["id".to_owned(), "name".to_owned()])
    );
    assert!(read["posts"]
        .joins
        .contains(&("user_id".to_owned(), "users".to_owned())));
}
