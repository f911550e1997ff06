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
    let value = match value.as_i64() {
        Some(n) => Value::integer_of(n, T::SQL_TYPE).unwrap_or(Value::I64(n)),
        None => value,
    };
    T::from_value(value)
}
pub use crate::target::Source;

/// Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, outside CI): the pure
/// functions that turn untrusted strings into SQL text.
pub mod fuzz {
    use std::borrow::Cow;

    use crate::engine::Backend;
    use crate::schema::{ColumnDef, Table};
    use crate::sql::expr::{CompareOp, Node};
    use crate::sql::{self, Clauses, Projection, Select};
    use crate::sql_type::SqlType;
    use crate::value::Value;

    /// Every backend, for targets that try each.
    pub const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// `name` quoted as an identifier of `backend`.
    pub fn quote_ident(backend: Backend, name: &str) -> String {
        let mut out = String::new();
        backend.quote_ident(name, &mut out);
        out
    }

    /// A SELECT from table `table` filtering column `column` by `text` (equality, LIKE
    /// and IN), with the parameters it binds. The text must only ever be a parameter,
    /// and the names only ever quoted identifiers.
    pub fn render_select(
        backend: Backend,
        table: &str,
        column: &str,
        text: &str,
    ) -> (String, usize) {
        let table_def =
            Table::new(table.to_owned()).column(ColumnDef::new(column.to_owned(), SqlType::Text));
        let col = || Node::Column {
            table: Cow::Owned(table.to_owned()),
            name: Cow::Owned(column.to_owned()),
        };
        let value = || Box::new(Node::Value(Value::Text(text.to_owned())));
        let mut clauses = Clauses::default();
        clauses.and_filter(Node::Compare {
            op: CompareOp::Eq,
            left: Box::new(col()),
            right: value(),
        });
        clauses.and_filter(Node::Like {
            expr: Box::new(col()),
            pattern: value(),
            case_insensitive: true,
        });
        clauses.and_filter(Node::In {
            expr: Box::new(col()),
            values: vec![Value::Text(text.to_owned()); 2],
            negated: false,
        });
        let rendered = sql::select(
            &Select {
                table: &table_def,
                projection: Projection::AllColumns,
                clauses: &clauses,
                exprs: &[],
            },
            backend,
        );
        (rendered.sql, rendered.params.len())
    }
}
