//! The items generated code names: `#[derive(Model)]` expands to paths under
//! `::flaskdb::__private`. Not public API; exempt from semver.

pub use crate::column::Column;
pub use crate::error::{Error, Result};
pub use crate::model::{FromRow, InsertRow, Insertable, Model, RowSource, StatementCache};
pub use crate::naming::camel_to_snake_case;
pub use crate::schema::{ColumnDef, ModelEntry, OnDelete, Table};
pub use crate::session::{Addable, Pending};
pub use crate::sql_type::SqlType;
pub use crate::value::{ColumnType, IntoField, Value};
pub use inventory;

/// A literal default converted to the field's type, then to a bound value: the derive
/// emits `default::<FieldTy, _>(literal)`, so rustc checks the literal against the field.
pub fn default<T: ColumnType, V: IntoField<T>>(literal: V) -> Value {
    literal.into_field().into_value()
}
