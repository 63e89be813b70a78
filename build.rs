//! Rebuilds the application when a migration is added, so `embed_migrations!` embeds it, and
//! writes what a squashed history's baseline replaced (`src/squashed.rs` reads it) into
//! `$OUT_DIR/squashed.rs`, so `open()` knows it without reading `versions/` at run time.

#[path = "src/squashed.rs"]
#[allow(dead_code)]
mod squashed;

fn main() {
    println!("cargo:rerun-if-changed=versions");
    let versions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("versions");
    let found = squashed::read(&versions).expect("versions/ is readable");
    let code = match found {
        None => "None".to_owned(),
        Some(s) => format!(
            "Some(Squashed {{ baseline: {:?}.to_owned(), replaced: vec![{}], last_replaced: {:?}.to_owned() }})",
            s.baseline,
            s.replaced
                .iter()
                .map(|k| format!("{k:?}.to_owned()"))
                .collect::<Vec<_>>()
                .join(", "),
            s.last_replaced
        ),
    };
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(
        out.join("squashed.rs"),
        format!("/// The baseline of `versions/`, when its history was squashed.\nfn embedded_squash() -> Option<Squashed> {{\n    {code}\n}}\n"),
    )
    .expect("OUT_DIR is writable");
}
