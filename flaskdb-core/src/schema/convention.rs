//! Constraint and index names by convention, as SQLAlchemy's `naming_convention` makes
//! them. The default is the convention Alembic's documentation recommends:
//!
//! | what | template |
//! |---|---|
//! | index | `ix_%(table_name)s_%(column_0_N_name)s` |
//! | unique constraint | `uq_%(table_name)s_%(column_0_N_name)s` |
//! | CHECK constraint | `ck_%(table_name)s_%(constraint_name)s` |
//! | foreign key | `fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s` |
//! | primary key | `pk_%(table_name)s` |
//!
//! (An index or unique constraint names every column, `column_0_N_name`, where
//! Alembic's `column_0_name` would give one over `(a, b)` the name of one over `a`.)
//! A name longer than 63 bytes (PostgreSQL cuts longer ones, MariaDB refuses names over
//! 64) keeps its first 54 bytes and ends in `_` and eight hex digits of its SHA-256, so
//! that it stays the same everywhere and apart from its neighbours. Every constraint
//! thus has a name that a migration can drop on every backend.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The longest name kept whole.
const MAX_NAME: usize = 63;

/// The templates that name constraints and indexes, as SQLAlchemy's `naming_convention`
/// takes them: `%(token)s` is replaced by
///
/// - `table_name`, `referred_table_name` (a foreign key's);
/// - `column_0_name`, `column_0_label` (`<table>_<column>`), `column_0_N_name` (every
///   column, joined by `_`), `column_0N_name` (joined by nothing), and
///   `referred_column_0_name`, `referred_column_0_N_name` (a foreign key's);
/// - `constraint_name` (a CHECK constraint's own name).
///
/// One convention holds for the whole program, as the models' metadata is one: install
/// it first thing in `main`, before any model's table is built or a database
/// connected. Without one, the default holds.
///
/// ```
/// use flaskdb_core::NamingConvention;
/// let legacy = NamingConvention::default()
///     .foreign_key("%(table_name)s_%(column_0_name)s_fkey")
///     .primary_key("%(table_name)s_pkey");
/// assert_eq!(legacy.foreign_key_template(), "%(table_name)s_%(column_0_name)s_fkey");
/// // legacy.install()?; in main, before anything else.
/// assert!(NamingConvention::default().index("ix_%(colour)s").install().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingConvention {
    index: String,
    unique: String,
    check: String,
    foreign_key: String,
    primary_key: String,
}

impl Default for NamingConvention {
    fn default() -> Self {
        NamingConvention {
            index: "ix_%(table_name)s_%(column_0_N_name)s".into(),
            unique: "uq_%(table_name)s_%(column_0_N_name)s".into(),
            check: "ck_%(table_name)s_%(constraint_name)s".into(),
            foreign_key: "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s".into(),
            primary_key: "pk_%(table_name)s".into(),
        }
    }
}

static INSTALLED: OnceLock<NamingConvention> = OnceLock::new();

/// The tokens each template may hold.
const COLUMN_TOKENS: &[&str] = &[
    "table_name",
    "column_0_name",
    "column_0_label",
    "column_0_N_name",
    "column_0N_name",
];
const REFERRED_TOKENS: &[&str] = &[
    "referred_table_name",
    "referred_column_0_name",
    "referred_column_0_N_name",
];

impl NamingConvention {
    /// The template of indexes.
    pub fn index(mut self, template: impl Into<String>) -> Self {
        self.index = template.into();
        self
    }
    /// The template of unique constraints (a unique column's index too).
    pub fn unique(mut self, template: impl Into<String>) -> Self {
        self.unique = template.into();
        self
    }
    /// The template of CHECK constraints.
    pub fn check(mut self, template: impl Into<String>) -> Self {
        self.check = template.into();
        self
    }
    /// The template of foreign keys.
    pub fn foreign_key(mut self, template: impl Into<String>) -> Self {
        self.foreign_key = template.into();
        self
    }
    /// The template of primary keys.
    pub fn primary_key(mut self, template: impl Into<String>) -> Self {
        self.primary_key = template.into();
        self
    }
    /// The template of foreign keys, as set.
    pub fn foreign_key_template(&self) -> &str {
        &self.foreign_key
    }

    /// Makes this the convention of the whole program.
    ///
    /// # Errors
    /// [`Error::Schema`] naming a template's unknown token (or one it cannot have:
    /// `referred_*` outside a foreign key's, `constraint_name` outside a CHECK's), or
    /// when a convention is already in force: one was installed, or a name was already
    /// made by the default.
    pub fn install(self) -> Result<()> {
        let kinds: [(&str, &str, &[&str]); 5] = [
            ("index", &self.index, &[]),
            ("unique", &self.unique, &[]),
            ("check", &self.check, &["constraint_name"]),
            ("foreign_key", &self.foreign_key, REFERRED_TOKENS),
            ("primary_key", &self.primary_key, &[]),
        ];
        for (kind, template, extra) in kinds {
            for token in tokens(template) {
                if !COLUMN_TOKENS.contains(&token) && !extra.contains(&token) {
                    return Err(Error::Schema(format!(
                        "the {kind} template `{template}` has the token `%({token})s`, which \
                         it cannot have; it takes {}",
                        COLUMN_TOKENS
                            .iter()
                            .chain(extra)
                            .map(|t| format!("%({t})s"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        INSTALLED.set(self).map_err(|_| {
            Error::Schema(
                "a naming convention is already in force (installed, or the default made a \
                 name): install it first thing in main, before any table is built"
                    .into(),
            )
        })
    }
}

/// The tokens of `template`: each `%(token)s`.
fn tokens(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        let after = &rest[start + 2..];
        match after.find(")s") {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    out
}

/// The convention in force.
fn current() -> &'static NamingConvention {
    INSTALLED.get_or_init(NamingConvention::default)
}

/// What a template's tokens are replaced by.
#[derive(Default)]
struct Parts<'a> {
    table: &'a str,
    columns: &'a [&'a str],
    referred_table: &'a str,
    referred_columns: &'a [&'a str],
    constraint: &'a str,
}

/// `template` with its tokens replaced.
fn render(template: &str, p: &Parts<'_>) -> String {
    let first = |c: &[&str]| c.first().copied().unwrap_or_default().to_owned();
    let labels: Vec<String> = p
        .columns
        .iter()
        .map(|c| format!("{}_{c}", p.table))
        .collect();
    let mut out = template.to_owned();
    for (token, value) in [
        ("table_name", p.table.to_owned()),
        ("column_0_name", first(p.columns)),
        (
            "column_0_label",
            labels.first().cloned().unwrap_or_default(),
        ),
        ("column_0_N_name", p.columns.join("_")),
        ("column_0N_name", p.columns.concat()),
        ("referred_table_name", p.referred_table.to_owned()),
        ("referred_column_0_name", first(p.referred_columns)),
        ("referred_column_0_N_name", p.referred_columns.join("_")),
        ("constraint_name", p.constraint.to_owned()),
    ] {
        out = out.replace(&format!("%({token})s"), &value);
    }
    fit(out)
}

fn strs<S: AsRef<str>>(names: &[S]) -> Vec<&str> {
    names.iter().map(AsRef::as_ref).collect()
}

/// The name of an index over `columns`.
pub(crate) fn index_name<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    let columns = strs(columns);
    render(
        &current().index,
        &Parts {
            table,
            columns: &columns,
            ..Parts::default()
        },
    )
}

/// The name of a unique constraint over `columns`.
pub(crate) fn unique_name<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    let columns = strs(columns);
    render(
        &current().unique,
        &Parts {
            table,
            columns: &columns,
            ..Parts::default()
        },
    )
}

/// The name of CHECK constraint `name`.
pub(crate) fn check_name(table: &str, name: &str) -> String {
    render(
        &current().check,
        &Parts {
            table,
            constraint: name,
            ..Parts::default()
        },
    )
}

/// The part of `name` the convention made a CHECK constraint's whole name of, if it
/// made it of one.
pub(crate) fn check_part(table: &str, name: &str) -> Option<String> {
    let mark = "\u{1}";
    let marked = render(
        &current().check,
        &Parts {
            table,
            constraint: mark,
            ..Parts::default()
        },
    );
    let (prefix, suffix) = marked.split_once(mark)?;
    let part = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (check_name(table, part) == name).then(|| part.to_owned())
}

/// The name of a foreign key from `columns` to `referred_table (referred_columns)`.
pub(crate) fn foreign_key_name<S: AsRef<str>>(
    table: &str,
    columns: &[S],
    referred_table: &str,
    referred_columns: &[S],
) -> String {
    let (columns, referred_columns) = (strs(columns), strs(referred_columns));
    let parts = Parts {
        table,
        columns: &columns,
        referred_table,
        referred_columns: &referred_columns,
        constraint: "",
    };
    render(&current().foreign_key, &parts)
}

/// The name of the primary key over `columns`.
pub(crate) fn primary_key_name<S: AsRef<str>>(table: &str, columns: &[S]) -> String {
    let columns = strs(columns);
    render(
        &current().primary_key,
        &Parts {
            table,
            columns: &columns,
            ..Parts::default()
        },
    )
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
            check_part("item", "ck_item_price_positive").as_deref(),
            Some("price_positive")
        );
        assert_eq!(check_part("item", "item_price_check"), None);
        assert_eq!(
            foreign_key_name("post", &["author_id"], "user", &["id"]),
            "fk_post_author_id_user"
        );
        assert_eq!(primary_key_name("post", &["id"]), "pk_post");
    }

    #[test]
    fn templates_take_sqlalchemys_tokens() {
        let p = Parts {
            table: "line",
            columns: &["shop", "no"],
            referred_table: "orders",
            referred_columns: &["shop", "id"],
            constraint: "c",
        };
        let all = "%(table_name)s/%(column_0_name)s/%(column_0_label)s/%(column_0_N_name)s/\
                   %(column_0N_name)s/%(referred_table_name)s/%(referred_column_0_name)s/\
                   %(referred_column_0_N_name)s/%(constraint_name)s";
        assert_eq!(
            render(all, &p),
            "line/shop/line_shop/shop_no/shopno/orders/shop/shop_id/c"
        );
        assert_eq!(tokens("a%(x)sb%(y)s%(z"), ["x", "y"]);
    }

    #[test]
    fn a_template_with_an_unknown_token_is_refused_naming_it() {
        let e = NamingConvention::default()
            .check("ck_%(referred_table_name)s")
            .install()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`%(referred_table_name)s`, which it cannot have"),
            "{e}"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash_that_keeps_them_apart() {
        let long = "a_table_name_that_is_quite_long_indeed";
        let a = foreign_key_name(long, &["referencing_column_one"], long, &["id"]);
        let b = foreign_key_name(long, &["referencing_column_two"], long, &["id"]);
        assert_eq!((a.len(), b.len()), (63, 63));
        assert_eq!(a[..54], b[..54]);
        assert_ne!(a, b);
        // Cut on a character boundary (cutting inside one would panic).
        assert_eq!(index_name(&"é".repeat(40), &["c"]).len(), 62);
    }
}
