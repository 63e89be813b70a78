//! Custom SQL types schema.rs declares for its columns, read back as the storage they name.
//!
//! A `sql_types` module may also hold types another backend's print-schema wrote
//! (`#[diesel(postgres_type(name = "mood"))]`, a PostgreSQL enum): those are kept by name, so
//! a column using one is refused as what it is, not as a misspelt type.

use std::collections::HashMap;

use crate::schema::types::SqlType;

/// A custom SQL type declared in schema.rs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Custom {
    /// `#[diesel(sqlite_type(name = "..."))]`: stored as that SQLite type.
    Sqlite(SqlType),
    /// A type of another backend: its name there (`PostgreSQL`, `MySQL`) and the attribute's
    /// type name.
    Other { backend: &'static str, name: String },
}

/// Custom SQL types declared as `#[diesel(<backend>_type(name = "..."))] pub struct X;` in any
/// inline module, by struct name.
pub(super) fn custom_types(items: &[syn::Item]) -> HashMap<String, Custom> {
    let mut found = HashMap::new();
    for item in items {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, inner)) = &module.content {
                    found.extend(custom_types(inner));
                }
            }
            syn::Item::Struct(item) => {
                if let Some(ty) = item.attrs.iter().find_map(storage) {
                    found.insert(item.ident.to_string(), ty);
                }
            }
            _ => {}
        }
    }
    found
}

/// The type a `#[diesel(sqlite_type(name = "..."))]` (or another backend's) attribute declares.
fn storage(attr: &syn::Attribute) -> Option<Custom> {
    if !attr.path().is_ident("diesel") {
        return None;
    }
    let mut storage = None;
    let _ = attr.parse_nested_meta(|meta| {
        let backend = [
            ("sqlite_type", "SQLite"),
            ("postgres_type", "PostgreSQL"),
            ("mysql_type", "MySQL"),
        ]
        .into_iter()
        .find(|(key, _)| meta.path.is_ident(key));
        if let Some((key, backend)) = backend {
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("name") {
                    let name: syn::LitStr = inner.value()?.parse()?;
                    storage = if key == "sqlite_type" {
                        SqlType::from_sqlite_type_name(&name.value()).map(Custom::Sqlite)
                    } else {
                        Some(Custom::Other {
                            backend,
                            name: name.value(),
                        })
                    };
                }
                Ok(())
            })?;
        }
        Ok(())
    });
    storage
}
