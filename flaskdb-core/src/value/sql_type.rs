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
    /// `chrono::NaiveDate`: `DATE`.
    Date,
    /// `chrono::NaiveDateTime`: `TIMESTAMP` (PostgreSQL), `DATETIME(6)` (MySQL),
    /// `DATETIME` (SQLite, as text).
    DateTime,
    /// `chrono::DateTime<Utc>`: `TIMESTAMPTZ` (PostgreSQL), `DATETIME(6)` in UTC (MySQL),
    /// `DATETIME` (SQLite, as text).
    Timestamp,
    /// `uuid::Uuid`: `UUID` (PostgreSQL), `BINARY(16)` (MySQL), `BLOB` (SQLite).
    Uuid,
    /// `serde_json::Value`: `JSONB` (PostgreSQL), `JSON` (MySQL), `TEXT` (SQLite).
    Json,
    /// `rust_decimal::Decimal`: `NUMERIC` (PostgreSQL), `DECIMAL(38, 10)` (MySQL), exact
    /// text on SQLite (so SQL ordering there is textual).
    Decimal,
}

/// The DDL type of a column per dialect, for a [`CustomType`](crate::CustomType) whose
/// column is not declared like its stored type.
///
/// ```
/// use flaskdb_core::Ddl;
/// let citext = Ddl { sqlite: "TEXT COLLATE NOCASE", postgres: "CITEXT", mysql: "VARCHAR(255)" };
/// assert_eq!(citext.postgres, "CITEXT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ddl {
    /// The type on SQLite.
    pub sqlite: &'static str,
    /// The type on PostgreSQL.
    pub postgres: &'static str,
    /// The type on MySQL/MariaDB.
    pub mysql: &'static str,
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
