//! Constraint and index names by convention, as SQLAlchemy's `naming_convention` makes
//! them with the templates Alembic's documentation recommends:
//!
//! | what | name |
//! |---|---|
//! | index | `ix_<table>_<column>` (`ix_%(column_0_label)s`) |
//! | unique constraint | `uq_<table>_<column>` (`uq_%(table_name)s_%(column_0_name)s`) |
//! | CHECK constraint | `ck_<table>_<name>` (`ck_%(table_name)s_%(constraint_name)s`) |
//! | foreign key | `fk_<table>_<column>_<referred table>` |
//! | primary key | `pk_<table>` |
//!
//! An index or unique constraint over several columns names every column
//! (`uq_<table>_<a>_<b>`, SQLAlchemy's `column_0_N_name`), so that it cannot take the
//! name of one over its first column alone. A name longer than 63 bytes (PostgreSQL cuts
//! longer ones, MariaDB refuses names over 64) keeps its first 54 bytes and ends in `_`
//! and eight hex digits of its SHA-256, so that it stays the same everywhere and apart
//! from its neighbours. Every constraint thus has a name that a migration can drop on
//! every backend.

use sha2::{Digest, Sha256};

/// The longest name kept whole.
const MAX_NAME: usize = 63;

/// The name of an index over `columns`: `ix_<table>_<columns>`.
pub(crate) fn index_name<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    fit(format!("ix_{table}_{}", joined(columns)))
}

/// The name of a unique constraint over `columns`: `uq_<table>_<columns>`.
pub(crate) fn unique_name<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    fit(format!("uq_{table}_{}", joined(columns)))
}

/// The name of CHECK constraint `name`: `ck_<table>_<name>`.
pub(crate) fn check_name(table: &str, name: &str) -> String {
    fit(format!("ck_{table}_{name}"))
}

/// The name of a foreign key from `column` (its first) to `ref_table`:
/// `fk_<table>_<column>_<ref_table>`.
pub(crate) fn foreign_key_name(table: &str, column: &str, ref_table: &str) -> String {
    fit(format!("fk_{table}_{column}_{ref_table}"))
}

/// The name of the primary key: `pk_<table>`.
pub(crate) fn primary_key_name(table: &str) -> String {
    fit(format!("pk_{table}"))
}

fn joined<S: AsRef<str>>(columns: &[S]) -> String {
    let names: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
    names.join("_")
}

/// `name`, or, when it is longer than [`MAX_NAME`], its first 54 bytes (on a character
/// boundary) with `_` and eight hex digits of its SHA-256.
fn fit(name: String) -> String {
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut end = 54;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}_{hex}", &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention() {
        assert_eq!(index_name("visit", &["day"]), "ix_visit_day");
        assert_eq!(unique_name("line", &["shop", "sku"]), "uq_line_shop_sku");
        assert_eq!(
            check_name("item", "price_positive"),
            "ck_item_price_positive"
        );
        assert_eq!(
            foreign_key_name("post", "author_id", "user"),
            "fk_post_author_id_user"
        );
        assert_eq!(primary_key_name("post"), "pk_post");
    }

    #[test]
    fn long_names_are_cut_with_a_hash_that_keeps_them_apart() {
        let long = "a_table_name_that_is_quite_long_indeed";
        let a = foreign_key_name(long, "referencing_column_one", long);
        let b = foreign_key_name(long, "referencing_column_two", long);
        assert_eq!((a.len(), b.len()), (63, 63));
        assert_eq!(a[..54], b[..54]);
        assert_ne!(a, b);
        // Never inside a character.
        let wide = index_name(&"é".repeat(40), &["c"]);
        assert!(wide.len() <= 63 && wide.ends_with(&wide[wide.len() - 8..]));
    }
}
