//! The portable column types.

/// The type of a column, independent of the backend; the dialect turns it into DDL.
///
/// ```
/// use flaskdb_core::{ColumnType, SqlType};
/// assert_eq!(<i32 as ColumnType>::SQL_TYPE, SqlType::Integer);
/// ```
///
/// Each variant's number is its tag (see `SqlType::tag`), stable across releases:
/// a new type takes the next number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum SqlType {
    /// `bool`.
    Bool = 1,
    /// `i16`.
    SmallInt = 2,
    /// `i32`.
    Integer = 3,
    /// `i64`.
    BigInt = 4,
    /// `f32`.
    Real = 5,
    /// `f64`.
    Double = 6,
    /// `String`; `VARCHAR(n)` when the column has a `max_length`.
    Text = 7,
    /// `Vec<u8>`.
    Blob = 8,
    /// `chrono::NaiveDate`: `DATE`.
    Date = 9,
    /// `chrono::NaiveDateTime`: `TIMESTAMP` (PostgreSQL), `DATETIME(6)` (MySQL),
    /// `DATETIME` (SQLite, as text).
    DateTime = 10,
    /// `chrono::DateTime<Utc>`: `TIMESTAMPTZ` (PostgreSQL), `DATETIME(6)` in UTC (MySQL),
    /// `DATETIME` (SQLite, as text).
    Timestamp = 11,
    /// `uuid::Uuid`: `UUID` (PostgreSQL), `BINARY(16)` (MySQL), `BLOB` (SQLite).
    Uuid = 12,
    /// `serde_json::Value`: `JSONB` (PostgreSQL), `JSON` (MySQL), `TEXT` (SQLite).
    Json = 13,
    /// `rust_decimal::Decimal`: `NUMERIC` (PostgreSQL), `DECIMAL(38, 10)` (MySQL), exact
    /// text on SQLite (so SQL ordering there is textual).
    Decimal = 14,
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

    /// Every type, in tag order.
    const ALL: [SqlType; 14] = [
        SqlType::Bool,
        SqlType::SmallInt,
        SqlType::Integer,
        SqlType::BigInt,
        SqlType::Real,
        SqlType::Double,
        SqlType::Text,
        SqlType::Blob,
        SqlType::Date,
        SqlType::DateTime,
        SqlType::Timestamp,
        SqlType::Uuid,
        SqlType::Json,
        SqlType::Decimal,
    ];

    /// The type's stable number (from 1): how keyset cursors name a value's type, and
    /// the rank of values of different types in `Value::total_cmp`.
    pub(crate) fn tag(self) -> u8 {
        self as u8
    }

    /// The type whose [`SqlType::tag`] is `tag`.
    pub(crate) fn from_tag(tag: u8) -> Option<SqlType> {
        SqlType::ALL.into_iter().find(|t| t.tag() == tag)
    }

    /// The type's portable name, as migration files write it (`bigint`, `text`).
    ///
    /// ```
    /// use flaskdb_core::SqlType;
    /// assert_eq!(SqlType::BigInt.name(), "bigint");
    /// assert_eq!(SqlType::from_name("timestamp"), Some(SqlType::Timestamp));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SqlType::Bool => "bool",
            SqlType::SmallInt => "smallint",
            SqlType::Integer => "integer",
            SqlType::BigInt => "bigint",
            SqlType::Real => "real",
            SqlType::Double => "double",
            SqlType::Text => "text",
            SqlType::Blob => "blob",
            SqlType::Date => "date",
            SqlType::DateTime => "datetime",
            SqlType::Timestamp => "timestamp",
            SqlType::Uuid => "uuid",
            SqlType::Json => "json",
            SqlType::Decimal => "decimal",
        }
    }

    /// Every type's name, in tag order (for errors that list them).
    pub(crate) fn names() -> Vec<&'static str> {
        SqlType::ALL.into_iter().map(SqlType::name).collect()
    }

    /// The type named `name` (see [`SqlType::name`]).
    pub fn from_name(name: &str) -> Option<SqlType> {
        SqlType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The Rust type a generated model declares for a column of this type (without
    /// `Option`).
    pub(crate) fn rust_type(self) -> &'static str {
        match self {
            SqlType::Bool => "bool",
            SqlType::SmallInt => "i16",
            SqlType::Integer => "i32",
            SqlType::BigInt => "i64",
            SqlType::Real => "f32",
            SqlType::Double => "f64",
            SqlType::Text => "String",
            SqlType::Blob => "Vec<u8>",
            SqlType::Date => "chrono::NaiveDate",
            SqlType::DateTime => "chrono::NaiveDateTime",
            SqlType::Timestamp => "chrono::DateTime<chrono::Utc>",
            SqlType::Uuid => "uuid::Uuid",
            SqlType::Json => "serde_json::Value",
            SqlType::Decimal => "rust_decimal::Decimal",
        }
    }

    /// Whether two types hold the same kind of value (integers of any width, floats of
    /// any width, a date and time with or without zone): what a model and a database
    /// may differ in without a mismatch.
    pub(crate) fn same_family(self, other: SqlType) -> bool {
        fn family(t: SqlType) -> SqlType {
            match t {
                SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => SqlType::BigInt,
                SqlType::Real | SqlType::Double => SqlType::Double,
                SqlType::DateTime | SqlType::Timestamp => SqlType::Timestamp,
                other => other,
            }
        }
        family(self) == family(other)
    }
}

#[cfg(test)]
mod tests {
    use super::SqlType;

    #[test]
    fn tags_name_each_type_once() {
        for t in SqlType::ALL {
            assert_eq!(SqlType::from_tag(t.tag()), Some(t));
        }
        assert_eq!(SqlType::from_tag(0), None);
        assert_eq!(SqlType::from_tag(15), None);
    }

    #[test]
    fn names_name_each_type_once() {
        for t in SqlType::ALL {
            assert_eq!(SqlType::from_name(t.name()), Some(t));
        }
        assert_eq!(SqlType::from_name("varchar"), None);
    }

    /// The tags as released. Keyset cursors that clients hold carry them, so a tag
    /// never changes: a new type is added here with the next number.
    #[test]
    fn tags_are_pinned() {
        let pinned = [
            (SqlType::Bool, 1),
            (SqlType::SmallInt, 2),
            (SqlType::Integer, 3),
            (SqlType::BigInt, 4),
            (SqlType::Real, 5),
            (SqlType::Double, 6),
            (SqlType::Text, 7),
            (SqlType::Blob, 8),
            (SqlType::Date, 9),
            (SqlType::DateTime, 10),
            (SqlType::Timestamp, 11),
            (SqlType::Uuid, 12),
            (SqlType::Json, 13),
            (SqlType::Decimal, 14),
        ];
        for (t, tag) in pinned {
            assert_eq!(t.tag(), tag, "the tag of {t:?} changed");
        }
        let types: Vec<SqlType> = pinned.iter().map(|&(t, _)| t).collect();
        assert_eq!(types, SqlType::ALL, "every type has a pinned tag");
    }
}
