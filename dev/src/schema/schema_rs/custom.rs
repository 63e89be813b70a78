//! Custom SQL types schema.rs declares for its columns, read back as the storage they name.

use std::collections::HashMap;

use crate::schema::types::SqlType;

/// Custom SQL types declared as `#[diesel(sqlite_type(name = "..."))] pub struct X;` in any
/// inline module, by struct name.
pub(super) fn custom_types(items: &[syn::Item]) -> HashMap<String, SqlType> {
    let mut found = HashMap::new();
    for item in items {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, inner)) = &module.content {
                    found.extend(custom_types(inner));
                }
            }
            syn::Item::Struct(item) => {
                if let Some(ty) = item.attrs.iter().find_map(sqlite_storage) {
                    found.insert(item.ident.to_string(), ty);
                }
            }
            _ => {}
        }
    }
    found
}

/// The type a `#[diesel(sqlite_type(name = "..."))]` attribute stores its struct as.
fn sqlite_storage(attr: &syn::Attribute) -> Option<SqlType> {
    if !attr.path().is_ident("diesel") {
        return None;
    }
    let mut storage = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("sqlite_type") {
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("name") {
                    let name: syn::LitStr = inner.value()?.parse()?;
                    storage = SqlType::from_sqlite_type_name(&name.value());
                }
                Ok(())
            })?;
        }
        Ok(())
    });
    storage
}
