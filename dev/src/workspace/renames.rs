//! Stage 2: the changes from head to schema.rs, with the renames the flags name and those
//! the person at the terminal accepts; without one, each likely rename becomes a hint.

use crate::error::Result;
use crate::generate::diff::{
    diff_with_renames, rename_suggestions, Change, ColumnRename, Renames, Suggestion, TableRename,
};
use crate::project::Project;
use crate::support::ask::Prompt;

use super::Workspace;

impl Workspace {
    /// Head's changes to schema.rs (and objects.sql) with `renames` made, and the renames the
    /// terminal accepts; each rename suggested without one is pushed to `hints`.
    pub fn resolve_renames(
        &self,
        project: &Project,
        mut renames: Renames,
        mut prompt: Option<&mut (dyn Prompt + '_)>,
        hints: &mut Vec<String>,
    ) -> Result<Vec<Change>> {
        let object_changes: Vec<Change> = self
            .changes
            .iter()
            .filter(|c| c.is_object())
            .cloned()
            .collect();
        // Head with every joinable, hidden only once renamed: a table renamed into another
        // section takes its references along.
        let head = project.describe_with_every_joinable(&self.all_db)?;
        let mut changes = loop {
            let (renamed_head, changes) =
                diff_with_renames(&head, &self.target, &renames, |renamed| {
                    project.hide_undeclarable_joinables(renamed)
                })?;
            let suggestions = rename_suggestions(&renamed_head, &changes);
            let accepted = match prompt.as_deref_mut() {
                Some(prompt) => suggestions
                    .into_iter()
                    .find(|s| prompt.confirm(&s.question())),
                None => {
                    for suggestion in &suggestions {
                        hints.push(format!(
                            "{} If so, pass `{}` to keep the data.",
                            suggestion.question(),
                            suggestion.flag()
                        ));
                    }
                    None
                }
            };
            match accepted {
                Some(Suggestion::Table { from, to }) => {
                    renames.tables.push(TableRename { from, to })
                }
                Some(Suggestion::Column { table, from, to }) => {
                    renames.columns.push(ColumnRename { table, from, to })
                }
                None => break changes,
            }
        };
        changes.extend(object_changes);
        Ok(changes)
    }
}
