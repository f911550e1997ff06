//! Typed column handles: `User::username` is a `Column<User, String>`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use crate::model::Model;
use crate::model::expression::{Operand, operand_methods};
use crate::sql::expr::{self, Assignment, CompareOp, Expr, Node, Order};
use crate::value::Value;
use crate::value::column_type::{ColumnType, IntoField};
use crate::value::relations::Comparable;

/// A handle to one column of model `M` whose field type is `T`. The derive generates one
/// per column as an associated constant (`User::id`, `User::email`); its methods build
/// typed expressions, so `User::id.eq("x")` does not compile.
///
/// ```
/// # use flaskdb_core::{Column, Expr, Model};
/// fn admins<M: Model>(username: Column<M, String>, id: Column<M, i64>) -> Expr {
///     username.eq("admin").and(id.gt(3)).or(username.like("adm%"))
/// }
/// ```
pub struct Column<M, T> {
    name: &'static str,
    _marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}

impl<M, T> fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<M, T> Column<M, T> {
    /// The handle of column `name` (used by the derive).
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Column {
            name,
            _marker: PhantomData,
        }
    }

    /// The column's name in the database.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<M: Model, T: ColumnType> Column<M, T> {
    pub(crate) fn node(self) -> Node {
        Node::Column {
            table: Cow::Borrowed(M::table().name()),
            name: Cow::Borrowed(self.name),
        }
    }

    fn value(v: impl IntoField<T>) -> Value {
        v.into_field().into_value()
    }

    operand_methods!();

    /// `column IN (..)`; an empty list matches no row.
    pub fn in_<V: IntoField<T>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.in_list(values, false)
    }

    /// `column NOT IN (..)`; an empty list matches every row.
    pub fn not_in<V: IntoField<T>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.in_list(values, true)
    }

    fn in_list<V: IntoField<T>>(self, values: impl IntoIterator<Item = V>, negated: bool) -> Expr {
        expr::in_list(self.node(), values.into_iter().map(Self::value), negated)
    }

    /// `column BETWEEN low AND high` (both ends included).
    pub fn between(self, low: impl IntoField<T>, high: impl IntoField<T>) -> Expr {
        expr::between(self.node(), Self::value(low), Self::value(high))
    }

    /// `column = value` in a bulk update (`query.update(User::email.set("x"))`).
    pub fn set(self, value: impl IntoField<T>) -> Assignment {
        Assignment {
            column: Cow::Borrowed(self.name),
            value: Self::value(value),
        }
    }
}

/// Column types that hold text and so take LIKE patterns: `String` and `Option<String>`.
pub trait TextColumn: ColumnType {}
impl TextColumn for String {}
impl TextColumn for Option<String> {}

impl<M: Model, T: TextColumn> Column<M, T> {
    text_methods!((self) self.node());
}

/// The LIKE methods of every kind of text operand: a model's [`Column`], an aliased or
/// derived table's column ([`Expression`](crate::Expression)) and a
/// [`ColumnRef`](crate::ColumnRef) named at run time. `$recv` is the methods' receiver
/// (`self` or `&self`), `$node` the operand's node.
macro_rules! text_methods {
    (($($recv:tt)+) $node:expr) => {
        /// `column LIKE pattern` (`%` and `_` are wildcards, a backslash escapes them).
        /// Case sensitivity is the database's: SQLite and MySQL's default collations
        /// ignore ASCII case, PostgreSQL does not.
        pub fn like($($recv)+, pattern: impl Into<String>) -> Expr {
            $crate::sql::expr::like($node, pattern.into(), false)
        }

        /// Case-insensitive LIKE: native `ILIKE` on PostgreSQL, `LOWER(a) LIKE LOWER(b)`
        /// elsewhere.
        pub fn ilike($($recv)+, pattern: impl Into<String>) -> Expr {
            $crate::sql::expr::like($node, pattern.into(), true)
        }

        /// `column LIKE '%text%'` with `text` matched literally: a `%`, `_` or backslash
        /// in it is escaped ([`escape_like`](crate::escape_like)), as SQLAlchemy's
        /// `contains(.., autoescape=True)`. Case sensitivity is `like`'s. Every kind of
        /// text column has it:
        ///
        /// ```
        /// # use flaskdb_core::{Column, Expr, Model, TableHandle, alias};
        /// fn discounted<M: Model>(title: Column<M, String>, notes: &TableHandle) -> Vec<Expr> {
        ///     vec![
        ///         title.contains("50%_off"), // not "50 percent off"
        ///         alias::<M>("other").col(title).startswith("50%"),
        ///         notes.column("title").endswith(r"\off"),
        ///     ]
        /// }
        /// ```
        pub fn contains($($recv)+, text: &str) -> Expr {
            let pattern = format!("%{}%", $crate::sql::expr::escape_like(text));
            $crate::sql::expr::like($node, pattern, false)
        }

        /// `column LIKE 'text%'` with `text` matched literally, as `contains`.
        pub fn startswith($($recv)+, text: &str) -> Expr {
            let pattern = format!("{}%", $crate::sql::expr::escape_like(text));
            $crate::sql::expr::like($node, pattern, false)
        }

        /// `column LIKE '%text'` with `text` matched literally, as `contains`.
        pub fn endswith($($recv)+, text: &str) -> Expr {
            let pattern = format!("%{}", $crate::sql::expr::escape_like(text));
            $crate::sql::expr::like($node, pattern, false)
        }
    };
}
pub(crate) use text_methods;

impl<M: Model, T: ColumnType> From<Column<M, T>> for Order {
    fn from(column: Column<M, T>) -> Order {
        column.asc()
    }
}
