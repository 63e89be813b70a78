//! Reading `joinable!`, refusing the ones Diesel's `JoinTo` would not compile.

use super::Reader;
use crate::error::Result;
use crate::schema::model::Joinable;

/// `child -> parent (column)`.
pub(super) struct JoinableDecl {
    pub(super) child: syn::Ident,
    pub(super) parent: syn::Ident,
    column: syn::Ident,
}

impl syn::parse::Parse for JoinableDecl {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let child = input.parse()?;
        input.parse::<syn::Token![->]>()?;
        let parent = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let column = content.parse()?;
        Ok(JoinableDecl {
            child,
            parent,
            column,
        })
    }
}

impl Reader<'_> {
    /// Adds a `joinable!` to its child table, once every `table!` is read.
    pub(super) fn joinable(&mut self, decl: JoinableDecl) -> Result<()> {
        let lookup = |ident: &syn::Ident| {
            self.declared.get(&ident.to_string()).ok_or_else(|| {
                self.error_at(
                    ident.span(),
                    format!("`joinable!` names `{ident}`, which no `table!` declares"),
                )
            })
        };
        let child = lookup(&decl.child)?;
        let parent = lookup(&decl.parent)?;
        let column = child.columns.get(&decl.column.to_string()).ok_or_else(|| {
            self.error_at(
                decl.column.span(),
                format!(
                    "`{}` is not a column of table `{}`",
                    decl.column, decl.child
                ),
            )
        })?;
        if decl.child == decl.parent {
            return Err(self
                .error_at(
                    decl.parent.span(),
                    format!("`joinable!` cannot join `{}` to itself", decl.parent),
                )
                .note("it would implement the same `JoinTo` twice for one table, which does not compile, and print-schema never writes it")
                .help("remove it, and join the table to an `alias!` of itself with an explicit `.on(...)` clause"));
        }
        let [key] = parent.primary_key.as_slice() else {
            return Err(self
                .error_at(
                    decl.parent.span(),
                    format!(
                        "`joinable!` needs `{}` to have a single-column primary key, not ({})",
                        decl.parent,
                        parent.primary_key.join(", ")
                    ),
                )
                .note("Diesel joins on `child.column = parent.primary_key`, which does not compile for a composite key, and print-schema never writes it")
                .help("remove this `joinable!` and join with an explicit `.on(...)` clause"));
        };
        let key_type = &parent.columns[key].ty;
        if key_type.diesel != column.ty.diesel {
            return Err(self
                .error_at(
                    decl.column.span(),
                    format!(
                        "`joinable!` joins `{}.{}` ({}) to `{}.{key}` ({}), and Diesel only compiles a join between columns of the same SQL type",
                        decl.child, decl.column, column.ty.diesel, decl.parent, key_type.diesel
                    ),
                )
                .help(format!(
                    "use a column of `{}` typed `{key}` or `Nullable<{key}>` as the foreign key, or remove this `joinable!`",
                    decl.child,
                    key = key_type.diesel
                )));
        }
        let (child_name, parent_name) = (decl.child.to_string(), decl.parent.to_string());
        let pair = if child_name < parent_name {
            (child_name, parent_name)
        } else {
            (parent_name, child_name)
        };
        if self.joined_pairs.contains(&pair) {
            return Err(self
                .error_at(
                    decl.child.span(),
                    format!("a second `joinable!` between `{}` and `{}`", pair.0, pair.1),
                )
                .note("each `joinable!` implements `JoinTo` for both tables, so two of them conflict and do not compile, and print-schema never writes them")
                .help("keep one, and join on the other column with an explicit `.on(...)` clause"));
        }
        let joinable = Joinable {
            column: column.sql_name.clone(),
            parent: parent.sql_name.clone(),
        };
        let child = child.sql_name.clone();
        self.joined_pairs.insert(pair);
        self.tables
            .get_mut(&child)
            .expect("declared tables are in `tables` under their SQL name")
            .joinables
            .insert(joinable);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::schema_rs::tests::{parse_err, parse_ok};

    #[test]
    fn joinable_to_unknown_table_is_an_error() {
        let err = parse_err(
            "diesel::table! { a (id) { id -> Integer, b_id -> Integer, } }\ndiesel::joinable!(a -> b (b_id));\n",
        );
        assert!(err.message.contains("`b`"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 2);
    }

    const USERS_AND_POSTS: &str = "diesel::table! {\n    users (id) {\n        id -> Integer,\n        name -> Text,\n    }\n}\n\ndiesel::table! {\n    posts (id) {\n        id -> Int4,\n        user_id -> Nullable<diesel::sql_types::Int4>,\n        title -> Text,\n        score -> BigInt,\n    }\n}\n";

    #[test]
    fn joinable_needs_the_parent_key_type_on_the_child_column() {
        let schema = parse_ok(&format!(
            "{USERS_AND_POSTS}diesel::joinable!(posts -> users (user_id));\n"
        ));
        assert_eq!(schema.tables["posts"].joinables.len(), 1);
        for (column, ty) in [("title", "Text"), ("score", "BigInt")] {
            let source =
                format!("{USERS_AND_POSTS}diesel::joinable!(posts -> users ({column}));\n");
            let err = parse_err(&source);
            let loc = err.location.clone().unwrap();
            assert_eq!((loc.line, loc.column), (16, 35), "{err}");
            assert!(
                err.message
                    .contains(&format!("`posts.{column}` ({ty}) to `users.id` (Integer)")),
                "{err}"
            );
            assert!(
                err.help
                    .as_deref()
                    .unwrap()
                    .contains("typed `Integer` or `Nullable<Integer>`"),
                "{err}"
            );
        }
        // A text key joins a text column, as print-schema writes it.
        parse_ok("diesel::table! { objects (object_id) { object_id -> Text, } }\ndiesel::table! { links (id) { id -> Integer, object_id -> VarChar, } }\ndiesel::joinable!(links -> objects (object_id));\n");
    }

    #[test]
    fn joinable_to_a_composite_key_is_refused() {
        let err = parse_err("diesel::table! { pairs (a, b) { a -> Integer, b -> Integer, } }\ndiesel::table! { notes (id) { id -> Integer, a -> Integer, } }\ndiesel::joinable!(notes -> pairs (a));\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (3, 28), "{err}");
        assert!(
            err.message
                .contains("single-column primary key, not (a, b)"),
            "{err}"
        );
    }

    #[test]
    fn joinables_diesel_would_implement_twice_are_refused() {
        let err = parse_err("diesel::table! { tree (id) { id -> Integer, parent_id -> Integer, } }\ndiesel::joinable!(tree -> tree (parent_id));\n");
        assert!(
            err.message.contains("cannot join `tree` to itself"),
            "{err}"
        );
        assert_eq!(err.location.as_ref().unwrap().line, 2);
        let err = parse_err(&format!(
            "{USERS_AND_POSTS}diesel::joinable!(posts -> users (user_id));\ndiesel::joinable!(users -> posts (id));\n"
        ));
        assert!(
            err.message
                .contains("a second `joinable!` between `posts` and `users`"),
            "{err}"
        );
        assert_eq!(err.location.as_ref().unwrap().line, 17);
    }
}
