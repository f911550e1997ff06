//! Foreign-key dependency order for creating and dropping tables.

use crate::error::{Error, Result};
use crate::schema::Table;

/// Sorts tables so that every table comes after the tables it references (parents
/// first). References to tables outside the list (another bind, or not declared) and
/// self-references do not constrain the order. Ties keep the input order.
///
/// # Errors
/// [`Error::Schema`] naming the tables of a foreign-key cycle.
pub(crate) fn parents_first<'a>(tables: &[&'a Table]) -> Result<Vec<&'a Table>> {
    let position = |name: &str| tables.iter().position(|t| t.name() == name);
    let mut done = vec![false; tables.len()];
    let mut ordered = Vec::with_capacity(tables.len());
    while ordered.len() < tables.len() {
        let ready = (0..tables.len()).find(|&i| {
            !done[i]
                && tables[i].foreign_keys().iter().all(|fk| {
                    fk.ref_table == tables[i].name()
                        || position(&fk.ref_table).is_none_or(|p| done[p])
                })
        });
        match ready {
            Some(i) => {
                done[i] = true;
                ordered.push(tables[i]);
            }
            None => {
                let cycle: Vec<&str> = (0..tables.len())
                    .filter(|&i| !done[i])
                    .map(|i| tables[i].name())
                    .collect();
                return Err(Error::Schema(format!(
                    "foreign keys form a cycle between tables {}; create them without one of \
                     the foreign keys",
                    cycle.join(", ")
                )));
            }
        }
    }
    Ok(ordered)
}
