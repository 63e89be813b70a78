//! Questions asked on a terminal, as Django's makemigrations asks them: only when a person is
//! there to answer; otherwise the caller prints the flag that answers instead.

use std::io::{BufRead, IsTerminal, Write};

/// Something that can answer the tool's questions.
pub trait Prompt {
    /// A yes/no question; no answer means no.
    fn confirm(&mut self, question: &str) -> bool;
    /// A free answer; `None` when none was given.
    fn value(&mut self, question: &str) -> Option<String>;
}

/// Standard input and standard error, when both are a terminal.
pub struct Terminal;

/// The terminal, if a person is at it.
pub fn terminal() -> Option<Terminal> {
    (std::io::stdin().is_terminal() && std::io::stderr().is_terminal()).then_some(Terminal)
}

impl Terminal {
    fn ask(&mut self, question: &str) -> Option<String> {
        // Never a panic on a closed stderr: with no one to read the question, no answer.
        let _ = write!(std::io::stderr(), "{question} ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_owned()).filter(|l| !l.is_empty()),
        }
    }
}

impl Prompt for Terminal {
    fn confirm(&mut self, question: &str) -> bool {
        self.ask(&format!("{question} [y/N]"))
            .is_some_and(|a| a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes"))
    }

    fn value(&mut self, question: &str) -> Option<String> {
        self.ask(question)
    }
}
