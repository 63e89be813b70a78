//! The synthetic project the history benchmarks measure: T tables and M migrations, one
//! creating every table (an integer key, typed columns, a foreign key to the previous
//! table), then one `ADD COLUMN` each.

use std::fmt::Write;
use std::fs;
use std::path::Path;

/// The version of migration `j`.
pub fn version(j: usize) -> String {
    format!(
        "2026-01-01-{:02}{:02}{:02}",
        j / 3600,
        (j / 60) % 60,
        j % 60
    )
}

/// The name of table `i`.
pub fn table(i: usize) -> String {
    format!("t{i:04}")
}

/// Writes the project: `tables` tables, `migrations` migrations, and schema.rs one column
/// ahead of them when `pending` (a change for `generate` to write).
pub fn write_project(root: &Path, tables: usize, migrations: usize, pending: bool) {
    let versions = root.join("versions");
    fs::create_dir_all(root.join("schema")).unwrap();
    fs::write(
        root.join("diesel.toml"),
        "[print_schema]\nfile = \"schema/schema.rs\"\n\n[migrations_directory]\ndir = \"versions\"\n",
    )
    .unwrap();
    let mut up = String::new();
    let mut down = String::new();
    for i in 0..tables {
        let reference = if i == 0 {
            String::new()
        } else {
            format!(",\n    prev_id INTEGER REFERENCES {} (id)", table(i - 1))
        };
        writeln!(
            up,
            "CREATE TABLE {} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name TEXT NOT NULL,\n    score DOUBLE,\n    created_at TIMESTAMP NOT NULL{reference}\n);",
            table(i)
        )
        .unwrap();
    }
    for i in (0..tables).rev() {
        writeln!(down, "DROP TABLE {};", table(i)).unwrap();
    }
    let first = versions.join(format!("{}_create_tables", version(0)));
    fs::create_dir_all(&first).unwrap();
    fs::write(first.join("up.sql"), up).unwrap();
    fs::write(first.join("down.sql"), down).unwrap();
    let mut extras: Vec<Vec<usize>> = vec![Vec::new(); tables];
    for j in 1..migrations {
        let t = (j - 1) % tables;
        extras[t].push(j);
        let dir = versions.join(format!("{}_add_extra_{j}", version(j)));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("up.sql"),
            format!("ALTER TABLE {} ADD COLUMN extra_{j} INTEGER;\n", table(t)),
        )
        .unwrap();
        fs::write(
            dir.join("down.sql"),
            format!("ALTER TABLE {} DROP COLUMN extra_{j};\n", table(t)),
        )
        .unwrap();
    }
    let mut schema = String::new();
    for (i, extra) in extras.iter().enumerate() {
        write!(
            schema,
            "diesel::table! {{\n    {} (id) {{\n        id -> Integer,\n        name -> Text,\n        score -> Nullable<Double>,\n        created_at -> Timestamp,\n",
            table(i)
        )
        .unwrap();
        if i > 0 {
            schema.push_str("        prev_id -> Nullable<Integer>,\n");
        }
        for j in extra {
            writeln!(schema, "        extra_{j} -> Nullable<Integer>,").unwrap();
        }
        if i == 0 && pending {
            schema.push_str("        pending -> Nullable<Text>,\n");
        }
        schema.push_str("    }\n}\n\n");
    }
    for i in 1..tables {
        writeln!(
            schema,
            "diesel::joinable!({} -> {} (prev_id));",
            table(i),
            table(i - 1)
        )
        .unwrap();
    }
    fs::write(root.join("schema/schema.rs"), schema).unwrap();
}
