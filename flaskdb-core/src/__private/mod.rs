//! The items generated code names: `#[derive(Model)]` expands to paths under
//! `::flaskdb::__private`. Not public API; exempt from semver.

pub use crate::error::{Error, Result};
pub use crate::model::column::Column;
pub use crate::model::mixin::{Columns, Flattens};
pub use crate::model::{
    FromRow, InsertRow, Insertable, Model, ModelInternals, RowSource, StatementCache, Writable,
};
pub use crate::query::joined::Joined;
pub use crate::runtime::session::{Addable, Pending};
pub use crate::schema::naming::{TableName, camel_to_snake_case, matching_foreign_keys};
pub use crate::schema::{Check, ColumnDef, ForeignKey, Index, ModelEntry, OnDelete, Table};
pub use crate::value::Value;
pub use crate::value::column_type::{ColumnType, CustomType, IntoField};
pub use crate::value::sql_type::SqlType;
pub use inventory;

/// A literal default converted to the field's type, then to a bound value: the derive
/// emits `default::<FieldTy, _>(literal)`, so rustc checks the literal against the field.
pub fn default<T: ColumnType, V: IntoField<T>>(literal: V) -> Value {
    literal.into_field().into_value()
}
pub use crate::model::decode_any;
pub use crate::query::relation::{
    ChildOf, Eager, Related, Relation, RelationField, Via, populate_back,
};
pub use crate::schema::relation::{Lazy, RelationDef, RelationKind};
pub use crate::sql::expr::Expr;

/// A value from another row, as a field of type `T`: integers convert between widths
/// (an `i64` key fills an `i32` foreign key when it fits).
pub fn field_from<T: ColumnType>(value: Value) -> Option<T> {
    let value = match value.as_i64() {
        Some(n) => Value::integer_of(n, T::SQL_TYPE).unwrap_or(Value::I64(n)),
        None => value,
    };
    T::from_value(value)
}
pub use crate::runtime::target::Runner;

/// The properties the fuzz targets in `fuzz/` check, each a function of the target's
/// input; the property tests of this module run them on stable in `cargo test`.
pub mod fuzz;
