//! Output for machines: `--format json` prints one JSON document on stdout, `--format github`
//! prints GitHub Actions workflow commands (`::error file=…,line=…::…`) so a pull request
//! shows each problem on its line. The documents' fields are listed in dev/docs/machines.md, which
//! says what stays stable.

use std::path::Path;

use serde::Serialize;

use crate::error::{Diagnostic, Error, Severity};
use crate::generate::diff::Change;
use crate::support::output::outln;

/// How a command prints its result.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// For people: what the documentation shows.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow commands, one a line.
    Github,
}

/// The version of the JSON documents' layout: a field is only ever added within a version.
pub const JSON_VERSION: u32 = 1;

/// Every JSON document: the layout's version, the command, how it ended, and the command's
/// own fields after these.
#[derive(Serialize)]
pub struct Document<'a, T: Serialize> {
    version: u32,
    command: &'a str,
    status: &'a str,
    exit: u8,
    /// What the exit code means, for the documents of commands that can find something.
    #[serde(skip_serializing_if = "Option::is_none")]
    meaning: Option<&'a str>,
    #[serde(flatten)]
    body: T,
}

impl<'a, T: Serialize> Document<'a, T> {
    /// The document of `command`, which ended with `status` and `exit`.
    pub fn new(command: &'a str, status: &'a str, exit: u8, body: T) -> Self {
        Document {
            version: JSON_VERSION,
            command,
            status,
            exit,
            meaning: None,
            body,
        }
    }

    /// Says what `exit` means.
    pub fn meaning(self, meaning: &'a str) -> Self {
        Document {
            meaning: Some(meaning),
            ..self
        }
    }

    /// Prints it on stdout, indented.
    pub fn print(&self) {
        let text = serde_json::to_string_pretty(self).expect("a document serialises");
        outln!("{text}");
    }
}

/// A change as JSON: what it is, as data (its kind, table, column, and what it changes from
/// and to), with what it does in a few words and in full.
#[derive(Serialize)]
pub struct ChangeJson {
    kind: &'static str,
    summary: String,
    text: String,
    table: String,
    column: Option<String>,
    from: Option<Side>,
    to: Option<Side>,
}

/// One side of a change: a name or type, or a key's columns.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Side {
    /// A table, column, object or parent name, or a Diesel type.
    One(String),
    /// A primary key's columns.
    Key(Vec<String>),
}

impl From<&Change> for ChangeJson {
    fn from(change: &Change) -> ChangeJson {
        let one = |s: &str| Some(Side::One(s.to_owned()));
        let (kind, column, from, to): (&str, Option<&str>, _, _) = match change {
            Change::RenameTable { from, to } => ("rename_table", None, one(from), one(to)),
            Change::RenameColumn { from, to, .. } => {
                ("rename_column", Some(to), one(from), one(to))
            }
            Change::CreateTable(_) => ("create_table", None, None, None),
            Change::DropTable(_) => ("drop_table", None, None, None),
            Change::AddColumn { column, .. } => (
                "add_column",
                Some(&column.name),
                None,
                one(&column.to_string()),
            ),
            Change::DropColumn { column, .. } => ("drop_column", Some(column), None, None),
            Change::AlterColumn { from, to, .. } => (
                "alter_column",
                Some(&to.name),
                one(&from.to_string()),
                one(&to.to_string()),
            ),
            Change::AlterPrimaryKey { from, to, .. } => (
                "alter_primary_key",
                None,
                Some(Side::Key(from.clone())),
                Some(Side::Key(to.clone())),
            ),
            Change::AddJoinable { joinable, .. } => (
                "add_joinable",
                Some(&joinable.column),
                None,
                one(&joinable.parent),
            ),
            Change::DropJoinable { joinable, .. } => (
                "drop_joinable",
                Some(&joinable.column),
                one(&joinable.parent),
                None,
            ),
            Change::CreateObject(o) => ("create_object", None, None, one(&o.name)),
            Change::DropObject(o) => ("drop_object", None, one(&o.name), None),
            Change::ReplaceObject { from, to } => {
                ("replace_object", None, one(&from.name), one(&to.name))
            }
        };
        ChangeJson {
            kind,
            summary: change.headline(),
            text: change.to_string(),
            table: change.table().to_owned(),
            column: column.map(str::to_owned),
            from,
            to,
        }
    }
}

/// Every change, as JSON.
pub fn changes(changes: &[Change]) -> Vec<ChangeJson> {
    changes.iter().map(ChangeJson::from).collect()
}

/// A problem as JSON, with where it is when it is in a file.
#[derive(Serialize)]
pub struct DiagnosticJson {
    severity: &'static str,
    code: Option<String>,
    message: String,
    location: Option<LocationJson>,
    notes: Vec<String>,
    help: Option<String>,
}

/// Where a problem is: the file, and its line and column (from 1).
#[derive(Serialize)]
struct LocationJson {
    file: String,
    line: usize,
    column: usize,
}

impl From<&Diagnostic> for DiagnosticJson {
    fn from(shown: &Diagnostic) -> DiagnosticJson {
        DiagnosticJson {
            severity: shown.severity.label(),
            code: shown.code.map(str::to_owned),
            message: shown.message.clone(),
            location: shown.location.as_ref().map(|l| LocationJson {
                file: l.path.display().to_string(),
                line: l.line,
                column: l.column,
            }),
            notes: shown.notes.clone(),
            help: shown.help.clone(),
        }
    }
}

/// The fields of a failed command's document.
#[derive(Serialize)]
struct Failure {
    error: DiagnosticJson,
}

/// Prints the document for a command that failed: the error, and what its exit code means.
pub fn print_failure(command: &str, err: &Error) {
    let exit = err.kind().exit_code();
    let meaning = match exit {
        1 => "something to fix",
        2 => "bad input",
        _ => "a bug in the tool",
    };
    let body = Failure {
        error: DiagnosticJson::from(&**err),
    };
    Document::new(command, "error", exit, body)
        .meaning(meaning)
        .print();
}

/// One GitHub workflow command: `level` is `error`, `warning` or `notice`; `file` and
/// `line`/`column` place it when known.
pub fn annotation(
    level: &str,
    file: Option<&Path>,
    line: Option<usize>,
    column: Option<usize>,
    message: &str,
) -> String {
    let mut properties = Vec::new();
    if let Some(file) = file {
        properties.push(format!("file={}", property(&file.display().to_string())));
    }
    if let Some(line) = line {
        properties.push(format!("line={line}"));
    }
    if let Some(column) = column {
        properties.push(format!("col={column}"));
    }
    let properties = if properties.is_empty() {
        String::new()
    } else {
        format!(" {}", properties.join(","))
    };
    format!("::{level}{properties}::{}", data(message))
}

/// A diagnostic as a GitHub annotation at its file position (relative to the current
/// directory when it lies below it), notes and help folded in.
pub fn diagnostic_annotation(shown: &Diagnostic) -> String {
    let level = match shown.severity {
        Severity::Error => "error",
        Severity::Hint => "notice",
    };
    let mut message = shown.message.clone();
    for note in &shown.notes {
        message.push_str(&format!("\n{note}"));
    }
    if let Some(help) = &shown.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let at = shown.location.as_ref();
    // GitHub places an annotation by the path from the checkout, where CI runs the tool.
    let cwd = std::env::current_dir().unwrap_or_default();
    let file = at.map(|l| l.path.strip_prefix(&cwd).unwrap_or(&l.path));
    annotation(
        level,
        file,
        at.map(|l| l.line),
        at.map(|l| l.column),
        &message,
    )
}

/// A message escaped as GitHub's workflow commands require.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value escaped as GitHub's workflow commands require.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_would_end_them() {
        assert_eq!(
            annotation(
                "error",
                Some(Path::new("a,b:c.rs")),
                Some(3),
                Some(1),
                "50%\nnext"
            ),
            "::error file=a%2Cb%3Ac.rs,line=3,col=1::50%25%0Anext"
        );
        assert_eq!(annotation("notice", None, None, None, "x"), "::notice::x");
    }
}
