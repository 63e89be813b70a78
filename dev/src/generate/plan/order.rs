//! Ordering tables so each comes after the tables it references: creates and rebuilds run
//! parents first, drops children first.

use std::collections::BTreeMap;

use crate::schema::introspect;

/// Stored tables ordered parents first, by their foreign keys.
pub(super) fn stored_parents_first<'a>(
    tables: impl Iterator<Item = &'a introspect::StoredTable>,
) -> Vec<&'a str> {
    parents_first(
        tables
            .map(|t| {
                let parents = t.foreign_keys.iter().map(|fk| fk.parent.as_str()).collect();
                (t.name.as_str(), parents)
            })
            .collect(),
    )
}

/// Orders tables so each comes after the tables it references among them; ties and cycles
/// fall back to name order, so the output is deterministic.
pub(super) fn parents_first<'a>(mut pending: BTreeMap<&'a str, Vec<&'a str>>) -> Vec<&'a str> {
    let mut order = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .find(|(name, parents)| {
                parents
                    .iter()
                    .all(|p| p == *name || !pending.contains_key(p))
            })
            .map(|(name, _)| *name)
            .unwrap_or_else(|| *pending.keys().next().expect("not empty"));
        pending.remove(ready);
        order.push(ready);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_order_is_stable() {
        let order = parents_first(BTreeMap::from([
            ("posts", vec!["users"]),
            ("comments", vec!["posts", "users"]),
            ("users", vec![]),
            ("tags", vec!["tags"]),
        ]));
        assert_eq!(order, ["tags", "users", "posts", "comments"]);
    }
}
