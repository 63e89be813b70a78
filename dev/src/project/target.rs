//! What the project's schema files declare together: the target `generate` and `check`
//! compare head with.
//!
//! Each `[print_schema]` section's file holds what print-schema writes for the tables its
//! filter keeps, with the section's `patch_file` applied on top. So a file is read as
//! print-schema wrote it: the patch is taken back out first (applied in reverse, with the
//! diffy crate diesel_cli applies it with). A patch that does not come back out of the file
//! is the failure patch users meet most (the file changed under the patch's context lines);
//! it is reported with the hunk that failed. A table two sections both declare is refused,
//! naming both files; what a file declares outside its section's filter is not managed,
//! as print-schema would never write it there.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Finding, Result};
use crate::project::{AllowTables, Project, Section};
use crate::schema::model::Schema;
use crate::schema::schema_rs::{self, kept, Parsed};

/// The declared schema, and what print-schema would have written differently.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Every managed table any section declares.
    pub schema: Schema,
    /// Hints about the files (an `allow_tables_to_appear_in_same_query!` missing a table).
    pub hints: Vec<Finding>,
}

/// Reads every section's file; with `kept`, a directory where a file parsed before is kept
/// by its content (`schema_rs::kept`).
pub fn read(project: &Project, kept: Option<&Path>) -> Result<Target> {
    let mut target = Target::default();
    let mut owner: BTreeMap<String, &Path> = BTreeMap::new();
    for section in &project.sections {
        let parsed = read_section(section, project, kept)?;
        target
            .hints
            .extend(allow_tables_hints(section, &parsed, project));
        for (name, table) in parsed.schema.tables {
            if !section.filter.includes(&name) {
                continue;
            }
            if let Some(other) = owner.insert(name.clone(), &section.file) {
                return Err(Error::input(format!(
                    "table {name} is declared in both `{}` and `{}`",
                    project.display(other),
                    project.display(&section.file)
                ))
                .help("print-schema writes each table into one section's file: narrow the sections' filters in diesel.toml so that only one keeps it"));
            }
            target.schema.tables.insert(name, table);
        }
    }
    Ok(target)
}

/// One section's file, read as print-schema wrote it.
fn read_section(section: &Section, project: &Project, kept: Option<&Path>) -> Result<Parsed> {
    let text = std::fs::read_to_string(&section.file).map_err(|e| {
        Error::io("read the schema file", &section.file, e).help(format!(
            "create it (diesel print-schema writes one), or fix `file` under {} in diesel.toml",
            section.header()
        ))
    })?;
    let parse = |text: &str| match kept {
        Some(dir) => kept::parse_kept(&section.file, text, dir),
        None => schema_rs::parse_file(&section.file, text),
    };
    let Some(patch_file) = &section.patch_file else {
        return parse(&text);
    };
    let unpatched = unpatch(
        &text,
        patch_file,
        &project.display(patch_file).to_string(),
        &project.display(&section.file).to_string(),
    )?;
    parse(&unpatched).map_err(|e| {
        e.note(format!(
            "lines are counted in the file as print-schema wrote it, before `{}` was applied",
            project.display(patch_file)
        ))
    })
}

/// `patched` (the schema file shown as `file`) with the patch in `patch_file` (shown as
/// `patch_shown`) taken back out.
pub fn unpatch(patched: &str, patch_file: &Path, patch_shown: &str, file: &str) -> Result<String> {
    let diff = std::fs::read_to_string(patch_file).map_err(|e| {
        Error::io("read the patch file", patch_file, e)
            .help("create it, or remove `patch_file` from diesel.toml")
    })?;
    let patch = diffy::Patch::from_str(&diff).map_err(|e| {
        Error::input(format!(
            "`{patch_shown}` is not a unified diff: {e}"
        ))
        .help("write it with `diff -u` or `git diff` between print-schema's output and the schema file you want")
    })?;
    diffy::apply(patched, &patch.reverse()).map_err(|e| {
        let failed = e
            .to_string()
            .rsplit('#')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(1);
        let mut err = Error::input(format!(
            "`{patch_shown}` no longer applies to `{file}`: hunk {failed} does not match the file"
        ));
        if let Some(hunk) = patch.hunks().get(failed - 1) {
            err = err.note(hunk_text(hunk));
        }
        err.help("the file changed where the patch edits it: make the patch again, as a diff from `diesel print-schema` output to the schema file you want")
    })
}

/// A hunk as `diff -u` shows it.
fn hunk_text(hunk: &diffy::Hunk<'_, str>) -> String {
    let mut text = format!("@@ -{} +{} @@\n", hunk.old_range(), hunk.new_range());
    for line in hunk.lines() {
        let (mark, content) = match line {
            diffy::Line::Context(l) => (' ', *l),
            diffy::Line::Delete(l) => ('-', *l),
            diffy::Line::Insert(l) => ('+', *l),
        };
        text.push(mark);
        text.push_str(content.trim_end_matches('\n'));
        text.push('\n');
    }
    text.trim_end().to_owned()
}

/// Tables print-schema would list in `allow_tables_to_appear_in_same_query!` that the file's
/// invocations leave out: a query joining them does not compile.
fn allow_tables_hints(section: &Section, parsed: &Parsed, project: &Project) -> Vec<Finding> {
    let expected: Vec<&String> = match section.allow_tables {
        AllowTables::None => return Vec::new(),
        AllowTables::AllTables if parsed.rust_tables.len() > 1 => {
            parsed.rust_tables.iter().collect()
        }
        AllowTables::AllTables => return Vec::new(),
        AllowTables::FkRelatedTables => parsed.joined.iter().collect(),
    };
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|table| !parsed.allow_tables.iter().flatten().any(|t| t == *table))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![Finding::hint("C201", format!(
        "`allow_tables_to_appear_in_same_query!` in `{}` does not list {}, which print-schema would list",
        project.display(&section.file),
        missing.join(", ")
    ))
    .note("a query that joins or selects from these tables together does not compile")
    .help("add them to the macro's list, as `diesel print-schema` writes it")]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = "diesel::table! {\n    users (id) {\n        id -> Integer,\n        status -> Text,\n    }\n}\n";
    const PATCHED: &str = "diesel::table! {\n    users (id) {\n        id -> Integer,\n        status -> crate::types::Status,\n    }\n}\n";

    fn write_patch(dir: &Path) -> std::path::PathBuf {
        let patch = diffy::create_patch(PRINTED, PATCHED).to_string();
        let path = dir.join("schema.patch");
        std::fs::write(&path, patch).unwrap();
        path
    }

    fn hints_for(config: AllowTables, macros: &str) -> Vec<String> {
        let text = format!(
            "diesel::table! {{ a (id) {{ id -> Integer, }} }}\ndiesel::table! {{ b (id) {{ id -> Integer, a_id -> Integer, }} }}\ndiesel::table! {{ c (id) {{ id -> Integer, }} }}\ndiesel::joinable!(b -> a (a_id));\n{macros}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema.rs");
        let parsed = schema_rs::parse_file(&file, &text).unwrap();
        let section = Section {
            key: None,
            file,
            filter: crate::schema::introspect::TableFilter::All,
            patch_file: None,
            allow_tables: config,
        };
        let project = Project {
            root: dir.path().to_path_buf(),
            schema_file: section.file.clone(),
            sections: vec![section.clone()],
            versions_dir: dir.path().join("versions"),
            filter: crate::schema::introspect::TableFilter::All,
            integer_primary_key_is_bigint: false,
        };
        allow_tables_hints(&section, &parsed, &project)
            .iter()
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn allow_tables_is_read_in_all_its_forms() {
        for complete in [
            "diesel::allow_tables_to_appear_in_same_query!(a, b, c,);",
            "diesel::allow_tables_to_appear_in_same_query!(a, b, c);",
            "allow_tables_to_appear_in_same_query!(\n    a,\n    crate::schema::b,\n    c,\n);",
            "diesel::allow_tables_to_appear_in_same_query!(a, b);\ndiesel::allow_tables_to_appear_in_same_query!(c, a);",
        ] {
            assert!(hints_for(AllowTables::AllTables, complete).is_empty(), "{complete}");
        }
        let missing = hints_for(
            AllowTables::AllTables,
            "diesel::allow_tables_to_appear_in_same_query!(a, b);",
        );
        assert!(missing[0].contains("does not list c,"), "{missing:?}");
        assert_eq!(hints_for(AllowTables::AllTables, "").len(), 1);
        // Grouped by foreign keys, c (related to nothing) need not be listed; none wants none.
        assert!(hints_for(
            AllowTables::FkRelatedTables,
            "diesel::allow_tables_to_appear_in_same_query!(a, b,);"
        )
        .is_empty());
        assert!(hints_for(AllowTables::None, "").is_empty());
    }

    #[test]
    fn a_patched_file_reads_as_print_schema_wrote_it() {
        let dir = tempfile::tempdir().unwrap();
        let patch = write_patch(dir.path());
        let unpatched = unpatch(PATCHED, &patch, "schema.patch", "schema.rs").unwrap();
        assert_eq!(unpatched, PRINTED);
    }

    #[test]
    fn a_patch_that_no_longer_applies_names_its_hunk() {
        let dir = tempfile::tempdir().unwrap();
        let patch = write_patch(dir.path());
        let edited = PATCHED.replace("id -> Integer", "id -> BigInt");
        let err = unpatch(&edited, &patch, "schema.patch", "schema.rs").unwrap_err();
        assert!(err.message.contains("no longer applies"), "{err}");
        assert!(err.message.contains("hunk 1"), "{err}");
        assert!(
            err.notes[0].contains("+        status -> crate::types::Status,"),
            "{err}"
        );
    }
}
