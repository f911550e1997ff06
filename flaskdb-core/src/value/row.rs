//! Result rows read by column index, whichever driver (or session snapshot) they come
//! from.

use crate::error::{Error, Result};
use crate::value::Value;
use crate::value::column_type::{ColumnType, Native};
use crate::value::sql_type::SqlType;

/// A result row of any enabled backend, read by column index.
pub trait RowSource {
    /// The value of column `index`, decoded straight into `T`.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column.
    fn get<T: ColumnType>(&self, index: usize) -> Result<T> {
        T::decode(self, index)
    }

    /// Column `index` decoded by the driver itself (a built-in column type).
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column.
    #[doc(hidden)]
    fn native<T: Native>(&self, index: usize) -> Result<T>;

    /// The name of column `index`, for errors.
    #[doc(hidden)]
    fn column_name(&self, index: usize) -> String;

    /// Whether the value of column `index` is NULL.
    ///
    /// # Errors
    /// [`Error::Decode`] when there is no such column.
    fn is_null(&self, index: usize) -> Result<bool>;

    /// The number of columns.
    fn len(&self) -> usize;

    /// Whether the row has no column.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads column `i` of `row` as a value of `sql_type`: how the session snapshots
/// rows it did not decode into a model.
///
/// # Errors
/// [`Error::Decode`] naming the column, also for a type whose cargo feature is off.
pub(crate) fn read_value<R: RowSource>(row: &R, i: usize, sql_type: SqlType) -> Result<Value> {
    Ok(match sql_type {
        SqlType::Bool => row.get::<Option<bool>>(i)?.into_value(),
        SqlType::SmallInt => row.get::<Option<i16>>(i)?.into_value(),
        SqlType::Integer => row.get::<Option<i32>>(i)?.into_value(),
        SqlType::BigInt => row.get::<Option<i64>>(i)?.into_value(),
        SqlType::Real => row.get::<Option<f32>>(i)?.into_value(),
        SqlType::Double => row.get::<Option<f64>>(i)?.into_value(),
        SqlType::Text => row.get::<Option<String>>(i)?.into_value(),
        SqlType::Blob => row.get::<Option<Vec<u8>>>(i)?.into_value(),
        #[cfg(feature = "chrono")]
        SqlType::Date => row.get::<Option<chrono::NaiveDate>>(i)?.into_value(),
        #[cfg(feature = "chrono")]
        SqlType::DateTime => row.get::<Option<chrono::NaiveDateTime>>(i)?.into_value(),
        #[cfg(feature = "chrono")]
        SqlType::Timestamp => row
            .get::<Option<chrono::DateTime<chrono::Utc>>>(i)?
            .into_value(),
        #[cfg(feature = "uuid")]
        SqlType::Uuid => row.get::<Option<uuid::Uuid>>(i)?.into_value(),
        #[cfg(feature = "json")]
        SqlType::Json => row.get::<Option<serde_json::Value>>(i)?.into_value(),
        #[cfg(feature = "decimal")]
        SqlType::Decimal => row.get::<Option<rust_decimal::Decimal>>(i)?.into_value(),
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::Decode {
                column: row.column_name(i),
                message: format!("reading {other:?} columns needs its cargo feature"),
            });
        }
    })
}

macro_rules! row_source {
    ($feature:literal, $row:ty) => {
        #[cfg(feature = $feature)]
        impl RowSource for $row {
            #[inline]
            fn native<T: Native>(&self, index: usize) -> Result<T> {
                sqlx::Row::try_get::<T, usize>(self, index)
                    .map_err(|e| decode_error(self, index, e))
            }

            fn column_name(&self, index: usize) -> String {
                use sqlx::Column;
                sqlx::Row::columns(self)
                    .get(index)
                    .map_or_else(|| format!("#{index}"), |c| c.name().to_owned())
            }

            fn is_null(&self, index: usize) -> Result<bool> {
                use sqlx::ValueRef;
                sqlx::Row::try_get_raw(self, index)
                    .map(|v| v.is_null())
                    .map_err(|e| decode_error(self, index, e))
            }

            fn len(&self) -> usize {
                sqlx::Row::len(self)
            }
        }
    };
}

row_source!("sqlite", sqlx::sqlite::SqliteRow);
row_source!("postgres", sqlx::postgres::PgRow);
row_source!("mysql", sqlx::mysql::MySqlRow);

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn decode_error<R: sqlx::Row + RowSource>(row: &R, index: usize, e: sqlx::Error) -> Error {
    let message = match e {
        sqlx::Error::ColumnDecode { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    Error::Decode {
        column: row.column_name(index),
        message,
    }
}

/// A row held as values (a session's snapshot), decodable into its model.
pub(crate) struct ValuesRow<'a>(pub(crate) &'a [Value]);

impl RowSource for ValuesRow<'_> {
    fn get<T: ColumnType>(&self, index: usize) -> Result<T> {
        let value = self.0.get(index).cloned();
        value.and_then(T::from_value).ok_or_else(|| Error::Decode {
            column: self.column_name(index),
            message: "the session's copy of this row does not match the model".into(),
        })
    }

    fn native<T: Native>(&self, index: usize) -> Result<T> {
        self.get(index)
    }

    fn column_name(&self, index: usize) -> String {
        format!("#{index}")
    }

    fn is_null(&self, index: usize) -> Result<bool> {
        Ok(matches!(self.0.get(index), Some(Value::Null(_)) | None))
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}
