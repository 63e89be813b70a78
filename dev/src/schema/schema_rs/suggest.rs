//! "Did you mean": the known type name closest to a misspelt one.

use crate::schema::types::SqlType;

/// The known type name closest to a misspelt one, when it is close.
pub(super) fn closest(name: &str) -> Option<&'static str> {
    SqlType::diesel_names()
        .map(|known| {
            (
                edit_distance(&name.to_lowercase(), &known.to_lowercase()),
                known,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance in characters: a typo is a letter dropped, added or swapped for another.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
