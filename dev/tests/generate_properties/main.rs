//! Properties of `generate`, judged by SQLite and Diesel rather than by this crate's model.
//!
//! Each case writes a project whose head is a hand-written first migration: a few tables with
//! integer keys (inline, table-level, AUTOINCREMENT, composite, WITHOUT ROWID) or none (keyed
//! by their rowid, as print-schema does, holding rowids with gaps), columns of every type
//! print-schema reads, spelled the many ways SQL allows, named with keywords, capitals and
//! spaces; NOT NULL, DEFAULT, CHECK, COLLATE, UNIQUE and generated columns; foreign keys with
//! their actions, references to the table itself and to tables created later (often round a
//! cycle of three or more tables), table constraints; and random indexes, views and triggers
//! over real columns (one of them inserting rows elsewhere). A quarter of the projects split
//! their tables over two `[print_schema.KEY]` sections, so references cross from one schema
//! file to the other, where print-schema writes no joinable.
//! schema.rs is head with random edits: columns added, dropped, retyped, made nullable or NOT
//! NULL, tables added and dropped, joinables added and dropped, keys changed, tables and
//! columns renamed (`--rename-table`, `--rename`), every type written with a random Diesel
//! alias. `generate` runs with the `--default` flags this test works out for itself; often a
//! second `generate` follows on top of the first migration.
//!
//! - `generate` exits 0 or 2, never 3 or by a signal. Exit 2 says `error:`, is no panic, and
//!   leaves the tree and the temp dir as they were; when it names a view, trigger or
//!   referencing column, the target must really take away what that needs.
//! - On exit 0, `check` passes. On a real database file at head with rows this test inserted
//!   (NULLs, quotes, blobs, reals), the migration applied through diesel_migrations' harness
//!   keeps every row of every kept table and the values of every column it keeps unchanged
//!   (or fails atomically, only where the rows cannot be what schema.rs says). Then
//!   `PRAGMA integrity_check` and `foreign_key_check` are clean; every view selects; SQLite
//!   can still read every view and trigger (a later ALTER TABLE works); the tables are what
//!   schema.rs says, read with print-schema's rules as written here from diesel_cli's source
//!   (not with `dev::schema::model`). Reverting it restores `sqlite_schema` byte for byte (type, name,
//!   tbl_name, sql), the rows and the values; applying it again works.
//!
//! The `#[ignore]`d twin runs the real `diesel print-schema` on the upgraded database instead
//! of the emulation: its output, aliases aside, must be the schema.rs the case wrote, and
//! `check` must pass with it as schema.rs. It needs `DIESEL_CLI` (`.ci/run` sets it).
//!
//! 24 cases by default; `PROPTEST_CASES` asks for more (`.ci/run` runs 256), and
//! `SHOW_REFUSALS=1` prints every exit 2 with its case. Failures are not persisted: the shrunk
//! case is in the message, with the project files it wrote. The bugs they found are kept,
//! each reduced to its smallest case: as data, one directory per case in `regressions/`
//! (head.sql, schema.rs, rows.sql and a case.toml saying how the bug was found and what
//! `generate` must do), all run by one test; the one case that does more than that data can
//! say stays a function.
//!
//! The modules, by concern: `types` (Diesel's type names and the SQL spellings print-schema
//! reads), `model` (what the test knows of a schema), `strategies` (the random cases), `head`
//! (the hand-written first migration, its `tables` and `objects`, and the rows' values),
//! `edits` (the random edits that make schema.rs of head) and `target` (schema.rs: its model,
//! the flags `generate` needs and its text), `reading` (a database read with print-schema's
//! rules), `print_schema` (the real print-schema's output), `properties` and `step` (the
//! properties: one case, one `generate` and what is checked after it), `judge` (what a
//! refusal, or a failure on rows, may be founded on), `regressions` (the runner of the
//! reduced cases and their format) and `reduced` (what every reduced case checks, and the
//! one case kept as a function).

#[path = "../common/mod.rs"]
mod common;

mod edits;
mod head;
mod judge;
mod model;
mod print_schema;
mod properties;
mod reading;
mod reduced;
mod regressions;
mod step;
mod strategies;
mod target;
mod types;
