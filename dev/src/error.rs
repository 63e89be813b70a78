//! The one error type every stage returns, and the one place that renders it.
//!
//! Errors carry what went wrong, where (a file position with its source line when the
//! problem is in a file), and how to fix it, so `main` can print them the way rustc does
//! and pick the exit code from the kind.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a command failed; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A check found the project out of order (history, diagram, a migration's down): exit 1.
    Check,
    /// The user's input (files, arguments, environment) is wrong: exit 2.
    Input,
    /// A generated migration failed its own proof: a bug in the tool, exit 3.
    Proof,
}

impl Kind {
    /// The process exit code for this kind of failure.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Check => 1,
            Kind::Input => 2,
            Kind::Proof => 3,
        }
    }
}

/// A position in a file, with the text of that line for the caret display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
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

/// Everything needed to explain a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: Kind,
    pub message: String,
    pub location: Option<Location>,
    /// Extra lines shown under the headline (context, the offending statement, ...).
    pub notes: Vec<String>,
    /// How to fix it.
    pub help: Option<String>,
}

/// A failure, boxed so that results stay small on the success path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Diagnostic>);

impl std::ops::Deref for Error {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        &mut self.0
    }
}

/// Result alias used by every stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A problem with the user's input.
    pub fn input(message: impl Into<String>) -> Self {
        Error(Box::new(Diagnostic {
            kind: Kind::Input,
            message: message.into(),
            location: None,
            notes: Vec::new(),
            help: None,
        }))
    }

    /// A problem a check found in the project.
    pub fn check(message: impl Into<String>) -> Self {
        let mut err = Error::input(message);
        err.kind = Kind::Check;
        err
    }

    /// A generated migration that did not pass its proof.
    pub fn proof(message: impl Into<String>) -> Self {
        let mut err = Error::input(message);
        err.kind = Kind::Proof;
        err
    }

    /// An I/O failure on `path`, described as the user sees it.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        Error::input(format!("cannot {action} `{}`: {err}", path.display()))
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if let Some(loc) = &self.location {
            let gutter = loc.line.to_string().len();
            let pad = " ".repeat(gutter);
            writeln!(
                f,
                "{pad}--> {}:{}:{}",
                loc.path.display(),
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

impl std::error::Error for Error {}

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
    fn exit_codes_distinguish_input_from_tool_bugs() {
        assert_eq!(Error::input("x").kind.exit_code(), 2);
        assert_eq!(Error::proof("x").kind.exit_code(), 3);
    }
}
