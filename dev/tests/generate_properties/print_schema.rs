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
    let mut tables = Canon::new();
    let mut rust_to_sql: BTreeMap<String, String> = BTreeMap::new();
    // Per table, each column's Rust name to its SQL name: keys and joinables name the Rust one.
    let mut columns_of: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut sql_name: Option<String> = None;
    let mut in_table = false;
    let mut in_other_macro = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        // `allow_tables_to_appear_in_same_query!` and the like, on one line or several.
        if in_other_macro {
            in_other_macro = !line.ends_with(");");
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("#[sql_name = \"")
            .and_then(|r| r.strip_suffix("\"]"))
        {
            sql_name = Some(rest.to_owned());
            continue;
        }
        if line.starts_with("#[") {
            continue;
        }
        if line == "diesel::table! {" {
            in_table = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            let rest = rest.trim_end_matches(");");
            let (child, rest) = rest.split_once(" -> ").ok_or(line)?;
            let (parent, column) = rest.split_once(" (").ok_or(line)?;
            let column = column.trim_end_matches(')');
            let child = rust_to_sql.get(child).cloned().unwrap_or(child.to_owned());
            let parent = rust_to_sql
                .get(parent)
                .cloned()
                .unwrap_or(parent.to_owned());
            let column = columns_of
                .get(&child)
                .and_then(|c| c.get(column))
                .cloned()
                .unwrap_or(column.to_owned());
            tables
                .get_mut(&child)
                .ok_or(format!("joinable for an unknown table: {line}"))?
                .joins
                .insert((column, parent));
            continue;
        }
        if line.starts_with("diesel::") {
            in_other_macro = !line.ends_with(");");
            continue;
        }
        if in_table && current.is_none() && line.ends_with('{') {
            let head = line.trim_end_matches('{').trim();
            let (rust, key) = head.split_once(" (").ok_or(line)?;
            let rust = rust.trim_start_matches("r#").to_owned();
            let name = sql_name.take().unwrap_or(rust.clone());
            let key = key.trim_end_matches(')');
            rust_to_sql.insert(rust, name.clone());
            tables.insert(
                name.clone(),
                CanonTable {
                    columns: BTreeMap::new(),
                    key: key.split(", ").map(str::to_owned).collect(),
                    joins: BTreeSet::new(),
                },
            );
            current = Some(name);
            continue;
        }
        if line == "}" {
            if current.take().is_none() {
                in_table = false;
            }
            continue;
        }
        if let (Some(table), Some((column, ty))) = (&current, line.split_once(" -> ")) {
            let rust = column.trim_start_matches("r#").to_owned();
            let column = sql_name.take().unwrap_or(rust.clone());
            columns_of
                .entry(table.clone())
                .or_default()
                .insert(rust, column.clone());
            let ty = ty.trim_end_matches(',');
            let (nullable, inner) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (true, inner.trim_end_matches('>')),
                None => (false, ty),
            };
            let inner = inner.rsplit("::").next().unwrap_or(inner);
            let ty = rust_type(inner).ok_or(format!("unknown type in `{line}`"))?;
            tables
                .get_mut(table)
                .expect("current")
                .columns
                .insert(column, (ty, nullable));
            continue;
        }
        return Err(format!(
            "unexpected line in print-schema's output: `{line}`"
        ));
    }
    for (name, table) in &mut tables {
        let names = columns_of.get(name).cloned().unwrap_or_default();
        table.key = std::mem::take(&mut table.key)
            .into_iter()
            .map(|k| names.get(&k).cloned().unwrap_or(k))
            .collect();
    }
    Ok(tables)
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
