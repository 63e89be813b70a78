//! Output for machines: `--format json` prints one JSON document on stdout, `--format github`
//! prints GitHub Actions workflow commands (`::error file=…,line=…::…`) so a pull request
//! shows each problem on its line. The documents' fields are listed in dev/docs/machines.md, which
//! says what stays stable.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::{Diagnostic, Error};
use crate::generate::diff::Change;

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

/// A change as JSON: what it does in a few words, in full, and the table it is about.
pub fn change(change: &Change) -> Value {
    // What changes, as data: the kind, and the column, object or names it is about.
    let (kind, column, from, to): (&str, Option<&str>, Option<Value>, Option<Value>) = match change
    {
        Change::RenameTable { from, to } => {
            ("rename_table", None, Some(json!(from)), Some(json!(to)))
        }
        Change::RenameColumn { from, to, .. } => (
            "rename_column",
            Some(to),
            Some(json!(from)),
            Some(json!(to)),
        ),
        Change::CreateTable(_) => ("create_table", None, None, None),
        Change::DropTable(_) => ("drop_table", None, None, None),
        Change::AddColumn { column, .. } => (
            "add_column",
            Some(&column.name),
            None,
            Some(json!(column.to_string())),
        ),
        Change::DropColumn { column, .. } => ("drop_column", Some(column), None, None),
        Change::AlterColumn { from, to, .. } => (
            "alter_column",
            Some(&to.name),
            Some(json!(from.to_string())),
            Some(json!(to.to_string())),
        ),
        Change::AlterPrimaryKey { from, to, .. } => (
            "alter_primary_key",
            None,
            Some(json!(from)),
            Some(json!(to)),
        ),
        Change::AddJoinable { joinable, .. } => (
            "add_joinable",
            Some(&joinable.column),
            None,
            Some(json!(joinable.parent)),
        ),
        Change::DropJoinable { joinable, .. } => (
            "drop_joinable",
            Some(&joinable.column),
            Some(json!(joinable.parent)),
            None,
        ),
        Change::CreateObject(o) => ("create_object", None, None, Some(json!(o.name))),
        Change::DropObject(o) => ("drop_object", None, Some(json!(o.name)), None),
        Change::ReplaceObject { from, to } => (
            "replace_object",
            None,
            Some(json!(from.name)),
            Some(json!(to.name)),
        ),
    };
    json!({
        "kind": kind,
        "summary": change.headline(),
        "text": change.to_string(),
        "table": change.table(),
        "column": column,
        "from": from,
        "to": to,
    })
}

/// A problem as JSON, with where it is when it is in a file.
pub fn diagnostic(shown: &Diagnostic) -> Value {
    let location = shown.location.as_ref().map(
        |l| json!({ "file": l.path.display().to_string(), "line": l.line, "column": l.column }),
    );
    json!({
        "code": shown.code,
        "message": shown.message,
        "location": location,
        "notes": shown.notes,
        "help": shown.help,
    })
}

/// The document for a command that failed: the error, and what its exit code means.
pub fn failure(command: &str, err: &Error) -> Value {
    json!({
        "version": JSON_VERSION,
        "command": command,
        "status": "error",
        "exit": err.kind().exit_code(),
        "meaning": match err.kind().exit_code() {
            1 => "something to fix",
            2 => "bad input",
            _ => "a bug in the tool",
        },
        "error": diagnostic(err),
    })
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
pub fn diagnostic_annotation(level: &str, shown: &Diagnostic) -> String {
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
