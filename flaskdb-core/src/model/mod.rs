//! The traits `#[derive(Model)]` implements, and row decoding.

pub(crate) mod column;
pub(crate) mod expression;
pub(crate) mod insert;
pub(crate) mod mixin;
pub(crate) mod statement_cache;

use crate::error::Result;
use crate::query::Query;
use crate::schema::Table;
use crate::value::Value;
use crate::value::column_type::ColumnType;
pub use crate::value::row::RowSource;
pub(crate) use crate::value::row::ValuesRow;
pub use insert::{InsertRow, Insertable};
pub use statement_cache::StatementCache;

/// A mapped table: implemented by `#[derive(Model)]`, not by hand.
///
/// ```
/// use flaskdb_core::Model;
/// fn table_name<M: Model>() -> &'static str {
///     M::table().name()
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "a model is a struct with `#[derive(Model)]`; a table known only at run time is queried with `db.table(\"name\")`"
)]
pub trait Model: ModelInternals + FromRow + Send + Sync + Unpin + 'static {
    /// The primary key: the key field's type, or a tuple for a composite key.
    type PrimaryKey: KeyValues;

    /// The table metadata (name, bind, columns, keys, indexes).
    fn table() -> &'static Table;

    /// This row's primary key.
    fn primary_key(&self) -> Self::PrimaryKey;

    /// Every column value of this row, in column order.
    fn values(&self) -> Vec<Value>;

    /// A query over this model in the current context (the scope's `Db`, or the global
    /// default). Fails with `Error::NoContext` when it runs outside both.
    fn query() -> Query<Self> {
        Query::current()
    }
}

/// What `#[derive(Model)]` generates for flaskdb's own use beside [`Model`], of which
/// it is a supertrait: kept apart so that `Model`'s documentation shows what an
/// application calls.
#[doc(hidden)]
pub trait ModelInternals: Sized {
    /// The value of the column named `name`, if the model has it.
    fn column_value(&self, name: &str) -> Option<Value>;

    /// The value of column `index` of the table (what a relationship field records as
    /// its key for every row read). Generated models answer by index without comparing
    /// names.
    fn column_value_at(&self, index: usize) -> Option<Value>
    where
        Self: Model,
    {
        let column = Self::table().columns().get(index)?;
        self.column_value(column.name())
    }

    /// The relationships that load with every query of this model by `IN (...)` queries
    /// (`lazy = "selectin"`, and `"joined"` ones after the first).
    fn default_eager() -> Vec<std::sync::Arc<dyn crate::query::relation::Eager<Self>>>
    where
        Self: Model,
    {
        Vec::new()
    }

    /// The relationship that loads by a join with every query of this model (the first
    /// `lazy = "joined"` one; any others load as `"selectin"`).
    fn default_joined() -> Option<crate::query::joined::Joined<Self>>
    where
        Self: Model,
    {
        None
    }

    /// The model's prepared-statement texts.
    fn statement_cache() -> &'static StatementCache;

    /// The table name as known at compile time.
    const TABLE_NAME: crate::schema::naming::TableName;

    /// `(column, referenced table)` of each foreign key, as known at compile time: the
    /// model's own, then each flattened mixin's.
    const FOREIGN_KEYS: &'static [&'static [(&'static str, &'static str)]];
}

/// A model whose rows can be written: every `#[derive(Model)]` struct except a
/// `#[model(view)]`. Session writes and bulk updates and deletes need it, so writing to
/// a view does not compile.
///
/// ```
/// use flaskdb_core::{Model, Writable};
/// fn writable<M: Writable>() -> &'static str {
///     M::table().name()
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` maps a view, which cannot be written",
    label = "a read-only view",
    note = "`#[model(view)]` models can be queried, not added, updated or deleted"
)]
pub trait Writable: Model {}

/// A value decoded from a result row starting at a column offset: a model, or (for
/// queries that select several things) a tuple of them.
pub trait FromRow: Sized {
    /// How many columns this value reads.
    fn width() -> usize;
    /// Decodes from `row`, reading columns `offset..offset + width()`.
    ///
    /// # Errors
    /// [`Error::Decode`](crate::Error::Decode) naming the column that did not fit its
    /// field.
    fn from_row<R: RowSource>(row: &R, offset: usize) -> Result<Self>;
}

/// A primary-key value (one column, or a tuple for a composite key), as bound values.
pub trait KeyValues {
    /// The values, in primary-key column order.
    fn key_values(self) -> Vec<Value>;
}

impl<T: ColumnType> KeyValues for T {
    fn key_values(self) -> Vec<Value> {
        vec![self.into_value()]
    }
}

macro_rules! tuple_keys {
    ($($name:ident),+) => {
        impl<$($name: ColumnType),+> KeyValues for ($($name,)+) {
            #[allow(non_snake_case)]
            fn key_values(self) -> Vec<Value> {
                let ($($name,)+) = self;
                vec![$($name.into_value()),+]
            }
        }
    };
}
tuple_keys!(A, B);
tuple_keys!(A, B, C);
tuple_keys!(A, B, C, D);

/// One scalar column decoded as a row (`COUNT(*)` and friends).
pub(crate) struct Scalar<T>(pub(crate) T);

impl<T: ColumnType> FromRow for Scalar<T> {
    fn width() -> usize {
        1
    }
    fn from_row<R: RowSource>(row: &R, offset: usize) -> Result<Self> {
        row.get(offset).map(Scalar)
    }
}

/// The [`Decoder`] of model `M`.
#[doc(hidden)]
pub fn decode_any<M: Model>(
    values: &[Value],
) -> Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> {
    M::from_row(&crate::model::ValuesRow(values), 0)
        .ok()
        .map(|m| std::sync::Arc::new(m) as std::sync::Arc<dyn std::any::Any + Send + Sync>)
}
