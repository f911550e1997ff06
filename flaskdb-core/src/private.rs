//! The items generated code names: `#[derive(Model)]` expands to paths under
//! `::flaskdb::__private`. Not public API; exempt from semver.

pub use crate::column::Column;
pub use crate::column_type::{ColumnType, CustomType, IntoField};
pub use crate::error::{Error, Result};
pub use crate::joined::Joined;
pub use crate::mixin::{Columns, Flattens};
pub use crate::model::{
    FromRow, InsertRow, Insertable, Model, RowSource, StatementCache, Writable,
};
pub use crate::naming::{TableName, camel_to_snake_case, matching_foreign_keys};
pub use crate::schema::{ColumnDef, ModelEntry, OnDelete, Table};
pub use crate::session::{Addable, Pending};
pub use crate::sql_type::SqlType;
pub use crate::value::Value;
pub use inventory;

/// A literal default converted to the field's type, then to a bound value: the derive
/// emits `default::<FieldTy, _>(literal)`, so rustc checks the literal against the field.
pub fn default<T: ColumnType, V: IntoField<T>>(literal: V) -> Value {
    literal.into_field().into_value()
}
pub use crate::relation::{
    ChildOf, Eager, Lazy, Related, Relation, RelationDef, RelationField, RelationKind, Via,
    decode_any, populate_back,
};
pub use crate::sql::expr::Expr;

/// A value from another row, as a field of type `T`: integers convert between widths
/// (an `i64` key fills an `i32` foreign key when it fits).
pub fn field_from<T: ColumnType>(value: Value) -> Option<T> {
    let value = match value {
        Value::I16(n) => integer_as(i64::from(n), T::SQL_TYPE),
        Value::I32(n) => integer_as(i64::from(n), T::SQL_TYPE),
        Value::I64(n) => integer_as(n, T::SQL_TYPE),
        other => other,
    };
    T::from_value(value)
}

fn integer_as(n: i64, sql_type: SqlType) -> Value {
    match sql_type {
        SqlType::SmallInt => i16::try_from(n).map_or(Value::I64(n), Value::I16),
        SqlType::Integer => i32::try_from(n).map_or(Value::I64(n), Value::I32),
        _ => Value::I64(n),
    }
}
pub use crate::target::Source;
