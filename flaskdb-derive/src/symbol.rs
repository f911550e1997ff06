//! Every keyword of the derives' attributes, as a constant: `#[model(..)]` and the keys
//! inside it. Parsing compares paths against these (`meta.path == TABLE`) instead of
//! string literals, so a keyword is spelled once.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute keyword.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

/// The attribute every derive reads: `#[model(..)]`.
pub(crate) const MODEL: Symbol = Symbol("model");

// On a model.
pub(crate) const TABLE: Symbol = Symbol("table");
pub(crate) const BIND: Symbol = Symbol("bind");
pub(crate) const VIEW: Symbol = Symbol("view");
pub(crate) const VERSIONED: Symbol = Symbol("versioned");
// On a model: an index or unique constraint over several columns, a CHECK constraint
// (`index` and `unique` are a column's keys too).
pub(crate) const CHECK: Symbol = Symbol("check");
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const SQL: Symbol = Symbol("sql");
pub(crate) const CONSTRAINT: Symbol = Symbol("constraint");
// A model's foreign key over several columns: `foreign_key(columns(..), references, to(..))`.
pub(crate) const COLUMNS: Symbol = Symbol("columns");
pub(crate) const REFERENCES: Symbol = Symbol("references");
pub(crate) const TO: Symbol = Symbol("to");
// On a model or a column field: its former name, for a migration that renames.
pub(crate) const RENAMED_FROM: Symbol = Symbol("renamed_from");

// On a column field.
pub(crate) const PRIMARY_KEY: Symbol = Symbol("primary_key");
pub(crate) const AUTOINCREMENT: Symbol = Symbol("autoincrement");
pub(crate) const UNIQUE: Symbol = Symbol("unique");
pub(crate) const INDEX: Symbol = Symbol("index");
pub(crate) const MAX_LENGTH: Symbol = Symbol("max_length");
pub(crate) const DEFAULT: Symbol = Symbol("default");
pub(crate) const DEFAULT_FN: Symbol = Symbol("default_fn");
pub(crate) const ONUPDATE: Symbol = Symbol("onupdate");
pub(crate) const SERVER_DEFAULT: Symbol = Symbol("server_default");
pub(crate) const FOREIGN_KEY: Symbol = Symbol("foreign_key");
pub(crate) const ON_DELETE: Symbol = Symbol("on_delete");
pub(crate) const COLUMN: Symbol = Symbol("column");
pub(crate) const SKIP: Symbol = Symbol("skip");
pub(crate) const FLATTEN: Symbol = Symbol("flatten");

// On a relationship field.
pub(crate) const HAS_MANY: Symbol = Symbol("has_many");
pub(crate) const HAS_ONE: Symbol = Symbol("has_one");
pub(crate) const BELONGS_TO: Symbol = Symbol("belongs_to");
pub(crate) const MANY_TO_MANY: Symbol = Symbol("many_to_many");
pub(crate) const SECONDARY: Symbol = Symbol("secondary");
pub(crate) const LAZY: Symbol = Symbol("lazy");
pub(crate) const CASCADE: Symbol = Symbol("cascade");
pub(crate) const BACK_POPULATES: Symbol = Symbol("back_populates");

// On a `#[derive(Enum)]` enum and its variants.
pub(crate) const INTEGER: Symbol = Symbol("integer");
pub(crate) const RENAME: Symbol = Symbol("rename");

/// The keys a model's struct takes, in the order error messages list them.
pub(crate) const STRUCT_KEYS: &[Symbol] = &[
    TABLE,
    BIND,
    VIEW,
    VERSIONED,
    RENAMED_FROM,
    INDEX,
    UNIQUE,
    CHECK,
    FOREIGN_KEY,
];

/// The keys a field takes, in the order error messages list them.
pub(crate) const FIELD_KEYS: &[Symbol] = &[
    PRIMARY_KEY,
    AUTOINCREMENT,
    UNIQUE,
    INDEX,
    MAX_LENGTH,
    DEFAULT,
    DEFAULT_FN,
    ONUPDATE,
    SERVER_DEFAULT,
    FOREIGN_KEY,
    ON_DELETE,
    COLUMN,
    RENAMED_FROM,
    SKIP,
    FLATTEN,
    HAS_MANY,
    HAS_ONE,
    BELONGS_TO,
    MANY_TO_MANY,
    SECONDARY,
    LAZY,
    CASCADE,
    BACK_POPULATES,
];

/// The keys that only a column takes (a relationship field refuses them).
pub(crate) const COLUMN_ONLY_KEYS: &[Symbol] = &[
    PRIMARY_KEY,
    AUTOINCREMENT,
    UNIQUE,
    INDEX,
    MAX_LENGTH,
    DEFAULT,
    DEFAULT_FN,
    ONUPDATE,
    SERVER_DEFAULT,
    ON_DELETE,
    COLUMN,
    RENAMED_FROM,
];

/// The keys that make a field a relationship.
pub(crate) const RELATION_KEYS: &[Symbol] = &[HAS_MANY, HAS_ONE, BELONGS_TO, MANY_TO_MANY];

/// `a, b, c`: keys for an error message.
pub(crate) fn list(symbols: &[Symbol]) -> String {
    symbols.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
}

impl Symbol {
    /// The keyword as written.
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }

    /// The keyword among `symbols` that `path` names.
    pub(crate) fn find(symbols: &[Symbol], path: &Path) -> Option<Symbol> {
        symbols.iter().copied().find(|s| path == *s)
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
