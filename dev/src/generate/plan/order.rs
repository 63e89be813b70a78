//! Ordering tables so each comes after the tables it references: creates and rebuilds run
//! parents first, drops children first.

use std::collections::{BTreeMap, BTreeSet};

use crate::schema::introspect;

/// Stored tables ordered parents first, by their foreign keys.
pub(super) fn stored_parents_first<'a>(
    tables: impl Iterator<Item = &'a introspect::StoredTable>,
) -> Vec<&'a str> {
    stored_parents_first_preferring(tables, &BTreeSet::new())
}

/// `stored_parents_first`, breaking a cycle at a table of `first` when one is on it: a
/// table whose primary key a down gives back must have it before the tables round the cycle
/// that reference it are made again.
pub(super) fn stored_parents_first_preferring<'a>(
    tables: impl Iterator<Item = &'a introspect::StoredTable>,
    first: &BTreeSet<&str>,
) -> Vec<&'a str> {
    parents_first_preferring(
        tables
            .map(|t| {
                let parents = t.foreign_keys.iter().map(|fk| fk.parent.as_str()).collect();
                (t.name.as_str(), parents)
            })
            .collect(),
        first,
    )
}

/// Orders tables so each comes after the tables it references among them; ties and cycles
/// fall back to name order, so the output is deterministic.
pub(super) fn parents_first<'a>(pending: BTreeMap<&'a str, Vec<&'a str>>) -> Vec<&'a str> {
    parents_first_preferring(pending, &BTreeSet::new())
}

/// `parents_first`, a cycle broken at a table of `first` when one is on it.
fn parents_first_preferring<'a>(
    mut pending: BTreeMap<&'a str, Vec<&'a str>>,
    first: &BTreeSet<&str>,
) -> Vec<&'a str> {
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
            .or_else(|| pending.keys().find(|name| first.contains(*name)).copied())
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
