//! The portable column types.

/// The type of a column, independent of the backend; the dialect turns it into DDL.
///
/// ```
/// use flaskdb_core::{ColumnType, SqlType};
/// assert_eq!(<i32 as ColumnType>::SQL_TYPE, SqlType::Integer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// `bool`.
    Bool,
    /// `i16`.
    SmallInt,
    /// `i32`.
    Integer,
    /// `i64`.
    BigInt,
    /// `f32`.
    Real,
    /// `f64`.
    Double,
    /// `String`; `VARCHAR(n)` when the column has a `max_length`.
    Text,
    /// `Vec<u8>`.
    Blob,
}

impl SqlType {
    /// Whether this is an integer type (a single integer primary key autoincrements).
    ///
    /// ```
    /// assert!(flaskdb_core::SqlType::BigInt.is_integer());
    /// ```
    pub fn is_integer(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }
}
