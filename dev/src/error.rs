//! The one error type every stage returns, the findings `check` reports, and the one place
//! that renders both.
//!
//! An error carries what went wrong, where (a file position with its source line when the
//! problem is in a file), how to fix it, the underlying cause (`source`), and its kind, which
//! alone decides the exit code: 1 a check found something to fix, 2 the input (files,
//! arguments, a database, the environment) is wrong, 3 a bug in the tool.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a command failed; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A check found the project out of order (history, diagram, a migration's down): exit 1.
    Check,
    /// The user's input (files, arguments, a database, the environment) is wrong: exit 2.
    Input,
    /// The tool broke its own promise (a generated migration failed its proof, a query it
    /// wrote failed on a sound database): a bug, exit 3.
    Internal,
}

impl Kind {
    /// The process exit code for this kind of failure.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Check => 1,
            Kind::Input => 2,
            Kind::Internal => 3,
        }
    }
}

/// A position in a file, with the text of that line for the caret display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as shown after `-->`.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// That line's text, shown with a caret under `column`; `None` past the file's end.
    pub source_line: Option<String>,
}

impl Location {
    /// Locates a 1-based line and column in `source`, keeping the line for display.
    pub fn in_source(path: &Path, source: &str, line: usize, column: usize) -> Self {
        Location {
            path: path.to_path_buf(),
            line,
            column,
            source_line: source
                .lines()
                .nth(line.saturating_sub(1))
                .map(str::to_owned),
        }
    }

    /// Locates a byte offset in `source`.
    pub fn at_offset(path: &Path, source: &str, offset: usize) -> Self {
        let before = &source[..offset.min(source.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self::in_source(path, source, line, column)
    }
}

/// How much a diagnostic weighs: an error stops or fails the command; a hint is advice the
/// command still succeeds with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Shown as `error:` (or `error[C106]:`).
    Error,
    /// Shown as `hint:`; `check` passes with it.
    Hint,
}

impl Severity {
    /// The word a diagnostic of this severity starts with, as rustc writes it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Hint => "hint",
        }
    }
}

/// What is shown to explain a problem: the headline, where, context lines, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The headline, shown after `error: `.
    pub message: String,
    /// Where in a file the problem is; `None` when it is in none (an argument, a database).
    pub location: Option<Location>,
    /// Extra lines shown under the headline (context, the offending statement, ...).
    pub notes: Vec<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// A finding's stable code (`C106`); `None` for an error.
    pub code: Option<&'static str>,
    /// An error, or a hint.
    pub severity: Severity,
}

impl Diagnostic {
    fn new(message: String) -> Self {
        Diagnostic {
            message,
            location: None,
            notes: Vec::new(),
            help: None,
            code: None,
            severity: Severity::Error,
        }
    }

    /// Every text of the diagnostic, for rewriting paths in place.
    pub fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        std::iter::once(&mut self.message)
            .chain(self.notes.iter_mut())
            .chain(self.help.iter_mut())
    }
}

/// The builder methods shared by errors and findings.
macro_rules! diagnostic_builders {
    () => {
        /// Points the diagnostic at a place in a file.
        pub fn at(mut self, location: Location) -> Self {
            self.location = Some(location);
            self
        }

        /// Adds a line of context under the headline.
        pub fn note(mut self, note: impl Into<String>) -> Self {
            self.notes.push(note.into());
            self
        }

        /// Says how to fix it; a later call replaces an earlier one.
        pub fn help(mut self, help: impl Into<String>) -> Self {
            self.help = Some(help.into());
            self
        }
    };
}

/// The underlying cause of an error, kept for `source()`.
type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

struct Inner {
    kind: Kind,
    diagnostic: Diagnostic,
    cause: Option<Cause>,
}

/// A failure, boxed so that results stay small on the success path.
pub struct Error(Box<Inner>);

impl std::ops::Deref for Error {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        &self.0.diagnostic
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        &mut self.0.diagnostic
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("diagnostic", &self.0.diagnostic)
            .field("cause", &self.0.cause.as_ref().map(|c| c.to_string()))
            .finish()
    }
}

/// Result alias used by every stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn of(kind: Kind, message: String) -> Self {
        Error(Box::new(Inner {
            kind,
            diagnostic: Diagnostic::new(message),
            cause: None,
        }))
    }

    /// A problem with the user's input.
    pub fn input(message: impl Into<String>) -> Self {
        Error::of(Kind::Input, message.into())
    }

    /// A problem a check found in the project.
    pub fn check(message: impl Into<String>) -> Self {
        Error::of(Kind::Check, message.into())
    }

    /// A bug in the tool: it broke one of its own promises.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::of(Kind::Internal, message.into())
    }

    /// An I/O failure on `path`, described as the user sees it, with the I/O error kept as
    /// the cause.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        Error::input(format!("cannot {action} `{}`: {err}", path.display())).caused_by(err)
    }

    /// Keeps `cause` as the error's `source()`.
    pub fn caused_by(
        mut self,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.0.cause = Some(Arc::from(cause.into()));
        self
    }

    /// What kind of failure this is; decides the exit code.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    diagnostic_builders!();
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.diagnostic.fmt(f)
    }
}

/// Something `check` found to fix: reported and counted, never returned as an error (one
/// check reports every finding, and `generate` quotes them when it refuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding(Diagnostic);

impl Finding {
    /// A finding of the kind `code` (listed in `dev/docs/machines.md`, never reused for
    /// another kind) with this headline; the builders add where it is and how to fix it.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        let mut diagnostic = Diagnostic::new(message.into());
        diagnostic.code = Some(code);
        Finding(diagnostic)
    }

    /// A finding that is advice only (`hint[C201]: ...`): `check` still passes with it.
    pub fn hint(code: &'static str, message: impl Into<String>) -> Self {
        let mut finding = Self::new(code, message);
        finding.0.severity = Severity::Hint;
        finding
    }

    diagnostic_builders!();
}

impl std::ops::Deref for Finding {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        &self.0
    }
}

impl std::ops::DerefMut for Finding {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        &mut self.0
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `path` as rustc shows a file: relative to the current directory when it lies below it
/// (the project root is found canonical, so the canonical directory is tried too).
fn shown(path: &Path) -> &Path {
    let Ok(cwd) = std::env::current_dir() else {
        return path;
    };
    if let Ok(relative) = path.strip_prefix(&cwd) {
        return relative;
    }
    cwd.canonicalize()
        .ok()
        .and_then(|real| path.strip_prefix(real).ok())
        .unwrap_or(path)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(self.severity.label(), f)
    }
}

impl Diagnostic {
    fn render(&self, level: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => writeln!(f, "{level}[{code}]: {}", self.message)?,
            None => writeln!(f, "{level}: {}", self.message)?,
        }
        if let Some(loc) = &self.location {
            let gutter = loc.line.to_string().len();
            let pad = " ".repeat(gutter);
            writeln!(
                f,
                "{pad}--> {}:{}:{}",
                shown(&loc.path).display(),
                loc.line,
                loc.column
            )?;
            if let Some(text) = &loc.source_line {
                writeln!(f, "{pad} |")?;
                writeln!(f, "{} | {}", loc.line, text)?;
                let caret_pad: String = text
                    .chars()
                    .take(loc.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(f, "{pad} | {caret_pad}^")?;
            }
        }
        for note in &self.notes {
            for line in note.lines() {
                writeln!(f, "  = {line}")?;
            }
        }
        if let Some(help) = &self.help {
            writeln!(f, "help: {help}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_with_caret_under_column() {
        let source = "line one\n    bad -> Strng,\n";
        let err = Error::input("unknown SQL type `Strng`")
            .at(Location::in_source(Path::new("schema.rs"), source, 2, 12))
            .help("use one of Text, Integer");
        let text = err.to_string();
        assert!(text.starts_with("error: unknown SQL type `Strng`\n"));
        assert!(text.contains(" --> schema.rs:2:12\n"));
        assert!(text.contains("2 |     bad -> Strng,\n"));
        assert!(text.contains("  |            ^\n"), "{text}");
        assert!(text.ends_with("help: use one of Text, Integer\n"));
    }

    #[test]
    fn offset_maps_to_line_and_column() {
        let source = "ab\ncd\nef";
        let loc = Location::at_offset(Path::new("f"), source, 4);
        assert_eq!((loc.line, loc.column), (2, 2));
        assert_eq!(loc.source_line.as_deref(), Some("cd"));
    }

    #[test]
    fn an_io_error_keeps_its_cause() {
        use std::error::Error as _;
        let cause = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        let err = Error::io("write", Path::new("up.sql"), cause);
        assert_eq!(err.message, "cannot write `up.sql`: disk full");
        assert_eq!(err.source().unwrap().to_string(), "disk full");
        assert_eq!(err.kind(), Kind::Input);
    }

    #[test]
    fn exit_codes_distinguish_input_from_tool_bugs() {
        assert_eq!(Error::check("x").kind().exit_code(), 1);
        assert_eq!(Error::input("x").kind().exit_code(), 2);
        assert_eq!(Error::internal("x").kind().exit_code(), 3);
    }
}
