//! Reading one `table!`: its columns with their types resolved (aliases, custom types), and
//! its primary key, refusing what `diesel::table!` would not compile.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::custom::Custom;
use super::suggest::closest;
use super::{ColumnType, Declared, DeclaredColumn, Reader};
use crate::error::Result;
use crate::schema::model::{Column, Table};
use crate::schema::types::{SqlType, NEVER_READ_BACK};

impl Reader<'_> {
    /// Reads one `table!` into the model, keeping its Rust names for the `joinable!`s.
    pub(super) fn table(&mut self, decl: diesel_table_macro_syntax::TableDecl) -> Result<()> {
        let rust_name = decl.table_name.to_string();
        self.refuse_a_second_table_of_its_name(&decl, &rust_name)?;
        let (columns, declared_columns) = self.columns(&decl, &rust_name)?;
        let primary_key = self.primary_key(&decl, &rust_name, &declared_columns)?;
        let table = Table {
            name: decl.sql_name.clone(),
            columns,
            primary_key: primary_key
                .iter()
                .map(|key| declared_columns[key].sql_name.clone())
                .collect(),
            joinables: Default::default(),
        };
        // A rowid key is SQLite's, no column: a table of it alone has nothing to create.
        if table
            .columns
            .iter()
            .all(|c| table.is_implicit_rowid(&c.name))
        {
            return Err(self
                .error_at(
                    decl.table_name.span(),
                    format!(
                        "table `{rust_name}` has no column but its rowid, and SQLite cannot create a table without one"
                    ),
                )
                .help("keep one of its columns in schema.rs, or take the whole `table!` out to drop the table"));
        }
        self.tables.insert(decl.sql_name.clone(), table);
        self.declared.insert(
            rust_name,
            Declared {
                order: self.declared.len(),
                sql_name: decl.sql_name,
                columns: declared_columns,
                primary_key,
            },
        );
        Ok(())
    }

    /// A table declared twice, or whose name differs from another's only in case.
    fn refuse_a_second_table_of_its_name(
        &self,
        decl: &diesel_table_macro_syntax::TableDecl,
        rust_name: &str,
    ) -> Result<()> {
        if self.tables.contains_key(&decl.sql_name) || self.declared.contains_key(rust_name) {
            return Err(self.error_at(
                decl.table_name.span(),
                format!("table `{}` is declared twice", decl.sql_name),
            ));
        }
        if let Some(same) = self
            .tables
            .keys()
            .find(|name| name.eq_ignore_ascii_case(&decl.sql_name))
        {
            return Err(self
                .error_at(
                    decl.table_name.span(),
                    format!(
                        "table `{}` is table `{same}` to SQLite, which ignores the case of names",
                        decl.sql_name
                    ),
                )
                .help("give one of them another name"));
        }
        Ok(())
    }

    /// The table's columns for the model, and as declared (by Rust name).
    fn columns(
        &self,
        decl: &diesel_table_macro_syntax::TableDecl,
        rust_name: &str,
    ) -> Result<(Vec<Column>, HashMap<String, DeclaredColumn>)> {
        let mut columns = Vec::new();
        let mut declared_columns = HashMap::new();
        for def in &decl.column_defs {
            let column_name = def.column_name.to_string();
            self.refuse_a_column_named_like(def, &declared_columns, rust_name)?;
            let ty = self.sql_type(&def.tpe)?;
            let max_length = def
                .max_length
                .as_ref()
                .map(|lit| {
                    lit.base10_parse::<u32>().map_err(|_| {
                        self.error_at(
                            lit.span(),
                            "`#[max_length]` must be a positive whole number".into(),
                        )
                    })
                })
                .transpose()?;
            columns.push(Column {
                name: def.sql_name.clone(),
                ty: ty.ty,
                nullable: ty.nullable,
                max_length,
            });
            declared_columns.insert(
                column_name,
                DeclaredColumn {
                    sql_name: def.sql_name.clone(),
                    ty,
                },
            );
        }
        Ok((columns, declared_columns))
    }

    /// The primary key's columns by Rust name: those named, else `id`.
    fn primary_key(
        &self,
        decl: &diesel_table_macro_syntax::TableDecl,
        rust_name: &str,
        declared_columns: &HashMap<String, DeclaredColumn>,
    ) -> Result<Vec<String>> {
        let primary_key: Vec<String> = match &decl.primary_keys {
            Some(pk) => pk
                .keys
                .iter()
                .enumerate()
                .map(|(index, key)| {
                    let key_name = key.to_string();
                    if pk.keys.iter().take(index).any(|k| *k == *key) {
                        Err(self
                            .error_at(
                                key.span(),
                                format!(
                                    "primary key `{key}` of table `{rust_name}` is named twice"
                                ),
                            )
                            .help("name each column of the primary key once"))
                    } else if declared_columns.contains_key(&key_name) {
                        Ok(key_name)
                    } else {
                        Err(self.error_at(
                            key.span(),
                            format!("primary key `{key}` is not a column of table `{rust_name}`"),
                        ))
                    }
                })
                .collect::<Result<_>>()?,
            None if declared_columns.contains_key("id") => vec!["id".to_owned()],
            None => {
                return Err(self
                    .error_at(
                        decl.table_name.span(),
                        format!("table `{rust_name}` names no primary key and has no `id` column"),
                    )
                    .help(format!(
                    "name its primary key after the table name: `{rust_name} (column) {{ ... }}`"
                )))
            }
        };
        Ok(primary_key)
    }

    /// A column declared twice, named as its table, or whose SQL name another column has
    /// (in any case).
    fn refuse_a_column_named_like(
        &self,
        def: &diesel_table_macro_syntax::ColumnDef,
        declared_columns: &HashMap<String, DeclaredColumn>,
        rust_name: &str,
    ) -> Result<()> {
        let column_name = def.column_name.to_string();
        if declared_columns.contains_key(&column_name) {
            return Err(self.error_at(
                def.column_name.span(),
                format!("column `{column_name}` is declared twice in table `{rust_name}`"),
            ));
        }
        if column_name == rust_name {
            return Err(self
                .error_at(
                    def.column_name.span(),
                    format!("column `{column_name}` cannot be named the same as its table"),
                )
                .note("diesel::table! makes each column an item of the table's module, so this does not compile")
                .help(format!(
                    "rename it in Rust and keep its SQL name: `#[sql_name = \"{}\"] {column_name}_ -> ...`",
                    def.sql_name
                )));
        }
        if let Some((other, same)) =
            declared_columns
                .iter()
                .find(|(_, c): &(&String, &DeclaredColumn)| {
                    c.sql_name.eq_ignore_ascii_case(&def.sql_name)
                })
        {
            let message = if same.sql_name == def.sql_name {
                format!(
                    "columns `{other}` and `{column_name}` of table `{rust_name}` are both the SQL column `{}`",
                    def.sql_name
                )
            } else {
                format!(
                    "column `{}` of table `{rust_name}` is column `{}` to SQLite, which ignores the case of names",
                    def.sql_name, same.sql_name
                )
            };
            return Err(self
                .error_at(def.column_name.span(), message)
                .help("give one of them another name"));
        }
        Ok(())
    }

    /// Resolves a column type such as `Nullable<diesel::sql_types::Text>`.
    fn sql_type(&self, path: &syn::TypePath) -> Result<ColumnType> {
        let segment = path
            .path
            .segments
            .last()
            .ok_or_else(|| self.error_at(path.span(), "expected a SQL type".into()))?;
        let name = segment.ident.to_string();
        if name == "Nullable" {
            let inner = match &segment.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(syn::GenericArgument::Type(syn::Type::Path(inner))) => Some(inner),
                    _ => None,
                },
                _ => None,
            };
            let inner = inner.ok_or_else(|| {
                self.error_at(segment.span(), "expected `Nullable<SqlType>`".into())
            })?;
            let ty = self.sql_type(inner)?;
            if ty.nullable {
                return Err(self.error_at(segment.span(), "`Nullable` is nested".into()));
            }
            return Ok(ColumnType {
                nullable: true,
                ..ty
            });
        }
        let custom = self.custom_types.get(&name);
        if let Some(Custom::Other {
            backend,
            name: their_name,
        }) = custom
        {
            return Err(self
                .error_at(
                    segment.ident.span(),
                    format!("`{name}` is a {backend} type (`{their_name}`), which SQLite does not have"),
                )
                .note(format!(
                    "schema.rs declares it with #[diesel({}_type(name = \"{their_name}\"))]; diesel print-schema writes such types only for {backend}",
                    if *backend == "PostgreSQL" { "postgres" } else { "mysql" }
                ))
                .help("give the column a SQLite type (Text, Integer, ...), or declare the Rust-side type with #[diesel(sqlite_type(name = \"Text\"))]"));
        }
        let resolved = SqlType::from_diesel_name(&name)
            .map(|(ty, diesel)| (diesel.name.to_owned(), ty))
            .or_else(|| match custom {
                Some(Custom::Sqlite(ty)) => Some((name.clone(), *ty)),
                _ => None,
            });
        if let Some((diesel, ty)) = resolved {
            return Ok(ColumnType {
                diesel,
                ty,
                nullable: false,
            });
        }
        let span = segment.ident.span();
        if let Some(never) = NEVER_READ_BACK.iter().find(|never| never.name == name) {
            return Err(self
                .error_at(
                    span,
                    format!("`{name}` cannot describe a SQLite column: diesel print-schema never writes it for SQLite, so `check` could never pass"),
                )
                .note(never.why)
                .help(never.instead));
        }
        let mut err = self.error_at(span, format!("unknown SQL type `{name}` for SQLite"));
        if let Some(suggestion) = closest(&name) {
            err = err.note(format!("did you mean `{suggestion}`?"));
        }
        Err(err.help(
            "use a type from diesel::sql_types that compiles for SQLite: Bool, SmallInt, Integer, BigInt, Float, Double, Numeric, Text, Binary, Timestamp, Date or Time, or an alias of one (Int4, Float8, VarChar, Blob, ...); or declare a custom type in a `sql_types` module with #[diesel(sqlite_type(name = \"Text\"))]",
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::schema_rs::tests::{parse_err, parse_ok, table_with};
    use crate::schema::types::SqlType;

    #[test]
    fn another_backends_custom_type_is_refused_as_what_it_is() {
        let err = parse_err("pub mod sql_types {\n    #[derive(diesel::sql_types::SqlType)]\n    #[diesel(postgres_type(name = \"mood\"))]\n    pub struct Mood;\n}\n\ndiesel::table! {\n    use diesel::sql_types::*;\n    use super::sql_types::Mood;\n\n    users (id) {\n        id -> Integer,\n        mood -> Mood,\n    }\n}\n");
        assert!(
            err.message.contains("`Mood` is a PostgreSQL type (`mood`)"),
            "{err}"
        );
        assert_eq!(err.location.as_ref().map(|l| l.line), Some(13));
        assert!(
            err.help.as_deref().unwrap().contains("sqlite_type"),
            "{err}"
        );
    }

    #[test]
    fn unknown_type_points_at_it_and_suggests() {
        let err = parse_err("diesel::table! {\n    users (id) {\n        id -> Integer,\n        name -> Intger,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (4, 17));
        assert!(err.message.contains("unknown SQL type `Intger`"), "{err}");
        assert!(err.notes[0].contains("`Integer`"), "{err}");
    }

    #[test]
    fn missing_default_primary_key_is_explained() {
        let err = parse_err("diesel::table! { a { name -> Text, } }");
        assert!(err.message.contains("no `id` column"), "{err}");
    }

    #[test]
    fn names_that_differ_only_in_case_are_refused_as_sqlite_reads_them_as_one() {
        let err = parse_err("diesel::table! {\n    t (id) {\n        id -> Integer,\n        #[sql_name = \"Total\"]\n        total_ -> Integer,\n        total -> Integer,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (6, 9));
        assert!(
            err.message
                .contains("column `total` of table `t` is column `Total`"),
            "{err}"
        );
        let err = parse_err("diesel::table! { users (id) { id -> Integer, } }\ndiesel::table! {\n    #[sql_name = \"Users\"]\n    people (id) { id -> Integer, }\n}\n");
        assert!(
            err.message.contains("table `Users` is table `users`"),
            "{err}"
        );
    }

    #[test]
    fn a_primary_key_column_named_twice_is_refused_at_the_second() {
        let err =
            parse_err("diesel::table! {\n    notes (id, id) {\n        id -> Integer,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (2, 16));
        assert!(
            err.message
                .contains("primary key `id` of table `notes` is named twice"),
            "{err}"
        );
    }

    #[test]
    fn two_rust_columns_of_one_sql_column_are_refused() {
        let err = parse_err("diesel::table! {\n    users (id) {\n        id -> Integer,\n        #[sql_name = \"name\"]\n        r#name_ -> Text,\n        name -> Text,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (6, 9));
        assert!(
            err.message.contains(
                "columns `r#name_` and `name` of table `users` are both the SQL column `name`"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_table_of_its_rowid_alone_is_refused_at_its_name() {
        let err = parse_err(
            "diesel::table! {\n    items (rowid) {\n        rowid -> Integer,\n    }\n}\n",
        );
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (2, 5));
        assert!(err.message.contains("no column but its rowid"), "{err}");
    }

    #[test]
    fn every_diesel_alias_reads_as_the_type_it_aliases_and_round_trips() {
        for name in SqlType::diesel_names() {
            let (expected, _) = SqlType::from_diesel_name(name).unwrap();
            for written in [
                name.to_owned(),
                format!("diesel::sql_types::{name}"),
                format!("Nullable<diesel::sql_types::{name}>"),
            ] {
                let schema = parse_ok(&table_with(&format!("c -> {written}")));
                let column = &schema.tables["t"].columns[1];
                assert_eq!(column.ty, expected, "{written}");
                assert_eq!(
                    column.nullable,
                    written.starts_with("Nullable"),
                    "{written}"
                );
                // What the migration declares for it reads back, by print-schema's rules,
                // as the same type.
                assert_eq!(
                    SqlType::from_declared(column.ty.sql()),
                    Some(expected),
                    "{written}"
                );
            }
        }
        let aliased =
            |name: &str| parse_ok(&table_with(&format!("c -> {name}"))).tables["t"].columns[1].ty;
        assert_eq!(
            aliased("Float8"),
            SqlType::Double,
            "Float8 is Double, not Float"
        );
        assert_eq!(aliased("Float4"), SqlType::Float);
        assert_eq!(aliased("Decimal"), SqlType::Double);
        assert_eq!(aliased("Numeric"), SqlType::Double);
        assert_eq!(aliased("Int2"), SqlType::SmallInt);
        assert_eq!(aliased("Tinytext"), SqlType::Text);
        assert_eq!(aliased("Bit"), SqlType::Binary);
    }

    #[test]
    fn types_print_schema_never_writes_for_sqlite_are_refused_with_the_reason() {
        for name in ["Json", "Jsonb", "TimestamptzSqlite"] {
            for written in [
                name.to_owned(),
                format!("Nullable<diesel::sql_types::{name}>"),
            ] {
                let source = table_with(&format!("doc -> {written}"));
                let err = parse_err(&source);
                let loc = err.location.clone().unwrap();
                assert_eq!(loc.line, 4, "{err}");
                assert_eq!(
                    loc.column,
                    source.lines().nth(3).unwrap().find(name).unwrap() + 1,
                    "{err}"
                );
                assert!(
                    err.message
                        .contains(&format!("`{name}` cannot describe a SQLite column")),
                    "{err}"
                );
                assert!(
                    err.message.contains("print-schema never writes it"),
                    "{err}"
                );
                assert!(err.notes[0].contains("SQLite has no"), "{err}");
                assert!(err.help.is_some(), "{err}");
            }
        }
    }

    #[test]
    fn a_column_named_like_its_table_is_refused_unless_renamed() {
        let err = parse_err("diesel::table! {\n    tags (id) {\n        id -> Integer,\n        tags -> Text,\n    }\n}\n");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (4, 9), "{err}");
        assert!(
            err.message
                .contains("column `tags` cannot be named the same as its table"),
            "{err}"
        );
        assert!(
            err.help
                .as_deref()
                .unwrap()
                .contains("#[sql_name = \"tags\"] tags_"),
            "{err}"
        );
        let schema = parse_ok("diesel::table! {\n    tags (id) {\n        id -> Integer,\n        #[sql_name = \"tags\"]\n        tags_ -> Text,\n    }\n}\n");
        assert_eq!(schema.tables["tags"].columns[1].name, "tags");
        // The Rust names are what collide: a table renamed in Rust may keep the column.
        let schema = parse_ok("diesel::table! {\n    #[sql_name = \"tags\"]\n    tag_list (id) {\n        id -> Integer,\n        tags -> Text,\n    }\n}\n");
        assert_eq!(schema.tables["tags"].columns[1].name, "tags");
    }

    #[test]
    fn a_table_declared_twice_in_rust_is_refused() {
        let err = parse_err("diesel::table! { t (id) { id -> Integer, } }\ndiesel::table! { #[sql_name = \"u\"] t (id) { id -> Integer, } }\n");
        assert!(err.message.contains("declared twice"), "{err}");
        assert_eq!(err.location.as_ref().unwrap().line, 2);
    }
}
