//! `check --staged`: the check run on exactly what is being committed, and the other
//! questions the tool puts to git.
//!
//! A pre-commit hook that checks the working tree judges the wrong thing: edit schema.rs,
//! generate, stage only schema.rs, and the hook sees the migration in the tree while the
//! commit lands without it. So the files `check` reads (diesel.toml, the schema file, the
//! migrations directory and the diagram README beside schema.rs) are copied out of git's
//! index into a private scratch directory, the same check runs there, and every path it
//! reports is turned back into the path the user knows.
//!
//! Git runs hooks with environment variables (`GIT_INDEX_FILE`, `GIT_DIR`, ...) that may be
//! relative to the hook's directory; every git command here runs in the project's directory,
//! so those are made absolute first. During `git commit -a` or `git commit <paths>`,
//! `GIT_INDEX_FILE` names the temporary index holding exactly the commit, which is why git is
//! asked rather than `.git/index` read directly.

use std::path::{Component, Path, PathBuf};

use crate::error::{Diagnostic, Error, Finding, Result};
use crate::history::checksums;
use crate::history::git::{git, git_with_input};
use crate::history::versions::Version;
use crate::project::{Project, CONFIG_FILE};
use crate::schema::diagram;
use crate::support::scratch::Scratch;

/// The project as git's index holds it, copied into a scratch directory for `check --staged`.
pub struct Staged {
    /// The copy; its root mirrors the project's place in the repository.
    project: Project,
    /// The user's project directory, where git is asked about unstaged changes.
    real_root: PathBuf,
    /// The repository's top directory, in the copy and in the user's clone.
    copy_top: PathBuf,
    real_top: PathBuf,
    /// What `check` reads, relative to the project root, as git pathspecs.
    pathspecs: Vec<String>,
    /// Of those, the files that declare the target: schema files, their patches and
    /// `objects.sql`.
    declaring: Vec<String>,
    _scratch: Scratch,
}

impl Staged {
    /// Finds the project from `start` as `Project::discover` does, copies what the index
    /// holds of its files into a scratch directory (removed however the command ends), and
    /// reads the staged diesel.toml there: the working tree's copy, broken or not, is not
    /// what the commit holds.
    pub fn materialise(start: &Path, schema_key: Option<&str>) -> Result<Staged> {
        let real_root = Project::root_above(start)?;
        let not_a_clone = |e: String| {
            Error::input(format!(
                "`check --staged` reads git's index, but git cannot read one here: {e}"
            ))
            .help("run it inside the project's git clone, or run `check` to check the working tree")
        };
        let prefix = git(&real_root, &["rev-parse", "--show-prefix"]).map_err(not_a_clone)?;
        let prefix = PathBuf::from(String::from_utf8_lossy(&prefix).trim());
        let real_top = real_root
            .ancestors()
            .nth(prefix.components().count())
            .unwrap_or(&real_root)
            .to_path_buf();
        let scratch = Scratch::create()?;
        let copy_top = scratch.path().join("index");
        let copy_root = copy_top.join(&prefix);
        let shown = |err: Error| shown(&copy_top, &real_top, err);
        check_out(&real_root, &copy_top, &[CONFIG_FILE.to_owned()])?;
        if !copy_root.join(CONFIG_FILE).is_file() {
            return Err(Error::input(format!(
                "{CONFIG_FILE} is not staged: the commit would not hold a Diesel project"
            ))
            .help(format!("stage it: git add {CONFIG_FILE}")));
        }
        let mut project = Project::load(&copy_root).map_err(shown)?;
        if let Some(key) = schema_key {
            project = project.with_schema_key(key).map_err(shown)?;
        }
        let mut declaring = vec![relative(&copy_root, &project.objects_file())];
        for section in &project.sections {
            declaring.push(relative(&copy_root, &section.file));
            declaring.extend(section.patch_file.iter().map(|p| relative(&copy_root, p)));
        }
        let mut pathspecs = vec![
            relative(&copy_root, &project.versions_dir),
            relative(&copy_root, &diagram::path(&project.schema_file)),
        ];
        pathspecs.extend(declaring.iter().cloned());
        check_out(&real_root, &copy_top, &pathspecs)?;
        for section in &project.sections {
            if !section.file.is_file() {
                let schema = relative(&copy_root, &section.file);
                return Err(Error::input(format!(
                    "{schema} is not staged: the commit would have no schema"
                ))
                .help(format!("stage it: git add {schema}")));
            }
        }
        pathspecs.push(CONFIG_FILE.to_owned());
        Ok(Staged {
            project,
            real_root,
            copy_top,
            real_top,
            pathspecs,
            declaring,
            _scratch: scratch,
        })
    }

    /// The project in the user's clone, whose snapshot cache serves the staged copy.
    pub fn real_root(&self) -> &Path {
        &self.real_root
    }

    /// The project as staged.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// `err` with the copy's paths replaced by the user's, and a note saying what was judged.
    pub fn shown(&self, err: Error) -> Error {
        shown(&self.copy_top, &self.real_top, err)
    }

    /// The problems of the staged history, as `commands::problems::history_problems` finds them, with
    /// git asked about each version where it lives in the user's clone.
    pub fn history_problems(
        &self,
        versions: &[Version],
        links: &[checksums::Link],
    ) -> Result<Vec<Finding>> {
        if !checksums::recorded(&self.project.versions_dir) {
            return Ok(Vec::new());
        }
        let tracked_dir = match self.project.versions_dir.strip_prefix(&self.copy_top) {
            Ok(rest) => self.real_top.join(rest),
            Err(_) => self.project.versions_dir.clone(),
        };
        let found = checksums::problems_judged_at(
            &self.project.versions_dir,
            versions,
            links,
            &tracked_dir,
        )?;
        Ok(found
            .into_iter()
            .map(|mut finding| {
                paths_shown(&self.copy_top, &self.real_top, &mut finding);
                finding
            })
            .collect())
    }

    /// The schema files (and patches, and `objects.sql`) whose working-tree state is not
    /// staged: a staged migration generated from them needs them staged too.
    pub fn unstaged_declaring(&self) -> Vec<String> {
        self.unstaged()
            .into_iter()
            .filter(|file| self.declaring.contains(file))
            .collect()
    }

    /// For a staged check that failed: the project files whose working-tree state is not
    /// staged, since the usual cause is a migration generated but never `git add`ed.
    pub fn unstaged_note(&self) -> Option<String> {
        let files = self.unstaged();
        if files.is_empty() {
            return None;
        }
        let listed: String = files.iter().map(|f| format!("\n  {f}")).collect();
        Some(format!(
            "note: this checked what is staged for commit; these files have changes that are not staged:{listed}\nhelp: if they belong in this commit, stage them: git add {}\n",
            files.join(" ")
        ))
    }

    /// The project files whose working-tree state is not staged, sorted.
    fn unstaged(&self) -> Vec<String> {
        let mut args = vec![
            "ls-files",
            "-z",
            "--modified",
            "--others",
            "--exclude-standard",
            "--",
        ];
        args.extend(self.pathspecs.iter().map(String::as_str));
        let Ok(listed) = git(&self.real_root, &args) else {
            return Vec::new();
        };
        let mut files: Vec<String> = listed
            .split(|b| *b == 0)
            .filter(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        files.sort();
        files.dedup();
        files
    }
}

/// Writes the index's entries under `pathspecs` (relative to `real_root`) into `copy_top`,
/// converted as a checkout converts them, so line endings are what a clone gets.
fn check_out(real_root: &Path, copy_top: &Path, pathspecs: &[String]) -> Result<()> {
    let failed = |e: String| Error::input(format!("cannot read git's index: {e}"));
    let mut args = vec!["ls-files", "-z", "--"];
    args.extend(pathspecs.iter().map(String::as_str));
    let files = git(real_root, &args).map_err(failed)?;
    if files.is_empty() {
        return Ok(());
    }
    let prefix = format!("{}/", copy_top.display());
    git_with_input(
        real_root,
        &["checkout-index", "-z", "--stdin", "--prefix", &prefix],
        files,
    )
    .map(|_| ())
    .map_err(failed)
}

/// `err` with paths in the copy at `copy_top` replaced by the user's under `real_top`, and a
/// note saying what was judged.
fn shown(copy_top: &Path, real_top: &Path, mut err: Error) -> Error {
    paths_shown(copy_top, real_top, &mut err);
    err.note("checked what is staged for commit (git's index), not the working tree")
}

/// Replaces paths in the copy at `copy_top` with the user's under `real_top`.
fn paths_shown(copy_top: &Path, real_top: &Path, shown: &mut Diagnostic) {
    if let Some(location) = &mut shown.location {
        if let Ok(rest) = location.path.strip_prefix(copy_top) {
            location.path = real_top.join(rest);
        }
    }
    let copy = copy_top.display().to_string();
    let real = real_top.display().to_string();
    for text in shown.texts_mut() {
        *text = text.replace(&copy, &real);
    }
}

/// `path` relative to `root` as a git pathspec, with `..` where it lies outside.
fn relative(root: &Path, path: &Path) -> String {
    let root: Vec<Component> = root.components().collect();
    let path: Vec<Component> = path.components().collect();
    let shared = root.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut parts = vec!["..".to_owned(); root.len() - shared];
    parts.extend(
        path[shared..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_pathspecs_from_the_project_root() {
        let root = Path::new("/t/index/app");
        assert_eq!(
            relative(root, Path::new("/t/index/app/schema/schema.rs")),
            "schema/schema.rs"
        );
        assert_eq!(
            relative(root, Path::new("/t/index/app/../migrations")),
            "../migrations"
        );
        assert_eq!(
            relative(root, Path::new("/t/index/shared/versions")),
            "../shared/versions"
        );
    }
}
