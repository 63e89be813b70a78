//! How the user runs the tool, so that printed advice names a command they can paste:
//! `cargo run -p dev -- rehash` where cargo runs it from its own repository, `dev rehash`
//! where it is installed (the program as it was started). Files the tool writes name no
//! invocation (`dev generate`), so contributors who run it differently write the same bytes.

use std::sync::OnceLock;

/// The command that runs the tool with `args`, as the user runs it.
pub fn command(args: &str) -> String {
    format!("{} {args}", prefix())
}

fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        // `cargo run` gives the program the package's name (and cargo's path).
        let by_cargo = std::env::var_os("CARGO").is_some()
            && std::env::var("CARGO_PKG_NAME").is_ok_and(|name| name == env!("CARGO_PKG_NAME"));
        if by_cargo {
            return format!("cargo run -p {} --", env!("CARGO_PKG_NAME"));
        }
        std::env::args()
            .next()
            .filter(|program| !program.is_empty() && !program.contains(char::is_whitespace))
            .unwrap_or_else(|| env!("CARGO_PKG_NAME").to_owned())
    })
}
