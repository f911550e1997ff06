//! The Rust types a column may have: [`ColumnType`], the values a column accepts
//! ([`IntoField`]), and [`CustomType`] for types stored as another column type.

use crate::error::{Error, Result};
use crate::value::Value;
use crate::value::row::RowSource;
use crate::value::sql_type::{Ddl, SqlType};

/// Backend bounds of the types sqlx reads and writes itself: with a backend's feature
/// on, the type must be encodable to and decodable from that backend; with it off, the
/// bound is empty.
mod backend_bounds {
    macro_rules! backend_bound {
        ($feature:literal, $name:ident, $db:ty) => {
            #[cfg(feature = $feature)]
            #[doc(hidden)]
            pub trait $name:
                sqlx::Type<$db> + for<'r> sqlx::Decode<'r, $db> + for<'q> sqlx::Encode<'q, $db>
            {
            }
            #[cfg(feature = $feature)]
            impl<T> $name for T where
                T: sqlx::Type<$db> + for<'r> sqlx::Decode<'r, $db> + for<'q> sqlx::Encode<'q, $db>
            {
            }
            #[cfg(not(feature = $feature))]
            #[doc(hidden)]
            pub trait $name {}
            #[cfg(not(feature = $feature))]
            impl<T> $name for T {}
        };
    }
    backend_bound!("sqlite", OnSqlite, sqlx::Sqlite);
    backend_bound!("postgres", OnPostgres, sqlx::Postgres);
    backend_bound!("mysql", OnMySql, sqlx::MySql);
}

/// A column type the driver decodes directly on every enabled backend (the built-in
/// types); what [`RowSource::native`] reads.
#[doc(hidden)]
pub trait Native:
    ColumnType + backend_bounds::OnSqlite + backend_bounds::OnPostgres + backend_bounds::OnMySql
{
}

/// A Rust type that can be a model field (a column).
///
/// Implemented for `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>`; with
/// features, `chrono::NaiveDate`, `chrono::NaiveDateTime`, `chrono::DateTime<Utc>`
/// (`chrono`), `uuid::Uuid` (`uuid`), `serde_json::Value` and [`Json<T>`](crate::Json)
/// (`json`), `rust_decimal::Decimal` (`decimal`); every [`CustomType`] (so every
/// `#[derive(flaskdb::Enum)]`); and `Option<T>` of each (`Option` makes the column
/// nullable). To add a type, implement [`CustomType`].
///
/// ```
/// use flaskdb_core::{ColumnType, SqlType};
/// assert_eq!(<Option<String> as ColumnType>::SQL_TYPE, SqlType::Text);
/// assert!(<Option<String> as ColumnType>::NULLABLE);
/// assert!(!<i64 as ColumnType>::NULLABLE);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported column type",
    label = "unsupported column type",
    note = "supported: bool, i16, i32, i64, f32, f64, String, Vec<u8>, the chrono, uuid, json \
            and decimal types with their features, types implementing `flaskdb::CustomType` \
            (and `#[derive(flaskdb::Enum)]`), and Option<T> of these; mark a field that is \
            not a column with `#[model(skip)]`"
)]
pub trait ColumnType: Sized + Send + Sync + Unpin + 'static {
    /// The SQL type of the column.
    const SQL_TYPE: SqlType;
    /// Whether the column accepts NULL (`Option<T>`).
    const NULLABLE: bool = false;
    /// The length a text column gets when the field sets no `max_length`.
    const MAX_LENGTH: Option<u32> = None;
    /// The DDL type per dialect, when it is not the one of [`ColumnType::SQL_TYPE`].
    const DDL: Option<Ddl> = None;
    /// Converts the field into a bound value.
    fn into_value(self) -> Value;
    /// Converts a reference to the field into a bound value.
    fn to_value(&self) -> Value;
    /// Converts a value back into the field; `None` when it is of another type.
    fn from_value(value: Value) -> Option<Self>;
    /// Reads column `index` of a result row.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column.
    #[doc(hidden)]
    fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self>;
}

/// A column type that is not `Option`: what `Option<T>` wraps.
#[doc(hidden)]
pub trait NotNull: ColumnType {}

/// A type stored as another column type: a newtype (`Email(String)`), an enum stored as
/// text or an integer (`#[derive(flaskdb::Enum)]` implements this), or a structured
/// value. Every `CustomType` is a [`ColumnType`], and so is its `Option`.
///
/// ```
/// use flaskdb_core::{CustomType, Ddl};
///
/// /// An e-mail address, checked when it is read back.
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Email(String);
///
/// impl CustomType for Email {
///     type Stored = String;
///     // Case-insensitive text on PostgreSQL; the stored type's DDL elsewhere.
///     const DDL: Option<Ddl> = Some(Ddl {
///         sqlite: "TEXT",
///         postgres: "VARCHAR(254)",
///         mysql: "VARCHAR(254)",
///     });
///     fn to_stored(&self) -> String {
///         self.0.clone()
///     }
///     fn from_stored(stored: String) -> Result<Self, String> {
///         if stored.contains('@') {
///             Ok(Email(stored))
///         } else {
///             Err(format!("`{stored}` is not an e-mail address"))
///         }
///     }
/// }
/// assert_eq!(Email::from_stored("a@b.c".into()), Ok(Email("a@b.c".into())));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported column type",
    label = "unsupported column type",
    note = "implement `flaskdb::CustomType` to store `{Self}` as a supported column type"
)]
pub trait CustomType: Sized + Send + Sync + Unpin + 'static {
    /// The column type the value is stored as.
    type Stored: NotNull;
    /// The length a text column gets when the field sets no `max_length`.
    const MAX_LENGTH: Option<u32> = None;
    /// The DDL type per dialect; by default the stored type's.
    const DDL: Option<Ddl> = None;
    /// The stored form of this value.
    fn to_stored(&self) -> Self::Stored;
    /// Reads a stored value back.
    ///
    /// # Errors
    /// A message saying why the stored value is not a valid `Self`; reading the row
    /// fails with [`Error::Decode`] naming the column and carrying this message.
    fn from_stored(stored: Self::Stored) -> std::result::Result<Self, String>;
}

impl<T: CustomType> ColumnType for T {
    const SQL_TYPE: SqlType = <T::Stored as ColumnType>::SQL_TYPE;
    const MAX_LENGTH: Option<u32> = T::MAX_LENGTH;
    const DDL: Option<Ddl> = T::DDL;
    fn into_value(self) -> Value {
        self.to_stored().into_value()
    }
    fn to_value(&self) -> Value {
        self.to_stored().into_value()
    }
    fn from_value(value: Value) -> Option<Self> {
        T::Stored::from_value(value).and_then(|s| T::from_stored(s).ok())
    }
    fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self> {
        let stored = T::Stored::decode(row, index)?;
        T::from_stored(stored).map_err(|message| Error::Decode {
            column: row.column_name(index),
            message,
        })
    }
}

impl<T: CustomType> NotNull for T {}

impl<T: CustomType> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = <T::Stored as ColumnType>::SQL_TYPE;
    const NULLABLE: bool = true;
    const MAX_LENGTH: Option<u32> = T::MAX_LENGTH;
    const DDL: Option<Ddl> = T::DDL;
    fn into_value(self) -> Value {
        self.map_or(Value::Null(Self::SQL_TYPE), ColumnType::into_value)
    }
    fn to_value(&self) -> Value {
        self.as_ref()
            .map_or(Value::Null(Self::SQL_TYPE), ColumnType::to_value)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Null(_) => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
    fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self> {
        if row.is_null(index)? {
            Ok(None)
        } else {
            T::decode(row, index).map(Some)
        }
    }
}

impl<T: CustomType> IntoField<T> for T {
    fn into_field(self) -> T {
        self
    }
}

impl<T: CustomType> IntoField<Option<T>> for T {
    fn into_field(self) -> Option<T> {
        Some(self)
    }
}

impl<T: CustomType> IntoField<Option<T>> for Option<T> {
    fn into_field(self) -> Option<T> {
        self
    }
}

/// A Rust value usable where a column of type `T` is expected: in comparisons
/// (`User::id.eq(3)`), builder setters (`User::build().username("admin")`) and updates.
///
/// This is what makes expressions typed: `User::id.eq("x")` does not compile because
/// `&str` is not `IntoField<i64>`.
///
/// ```
/// use flaskdb_core::IntoField;
/// let s: String = "admin".into_field();
/// let bio: Option<String> = "hello".into_field();
/// assert_eq!((s, bio), ("admin".to_string(), Some("hello".to_string())));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a value of a `{T}` column",
    label = "expected a value for a `{T}` column"
)]
pub trait IntoField<T> {
    /// Converts into the column's field type.
    fn into_field(self) -> T;
}

/// The built-in column types: decoded by the driver, one [`Value`] variant each.
macro_rules! native_types {
    ($($(#[$cfg:meta])* $ty:ty => $variant:ident, $sql:ident;)*) => {$(
        $(#[$cfg])*
        impl ColumnType for $ty {
            const SQL_TYPE: SqlType = SqlType::$sql;
            fn into_value(self) -> Value {
                Value::$variant(self)
            }
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self> {
                row.native(index)
            }
        }
        $(#[$cfg])*
        impl ColumnType for Option<$ty> {
            const SQL_TYPE: SqlType = SqlType::$sql;
            const NULLABLE: bool = true;
            fn into_value(self) -> Value {
                self.map_or(Value::Null(SqlType::$sql), Value::$variant)
            }
            fn to_value(&self) -> Value {
                self.as_ref().map_or(Value::Null(SqlType::$sql), |v| Value::$variant(v.clone()))
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::Null(_) => Some(None),
                    Value::$variant(v) => Some(Some(v)),
                    _ => None,
                }
            }
            #[inline]
            fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self> {
                row.native(index)
            }
        }
        $(#[$cfg])*
        impl Native for $ty {}
        $(#[$cfg])*
        impl Native for Option<$ty> {}
        $(#[$cfg])*
        impl NotNull for $ty {}
        $(#[$cfg])*
        impl IntoField<$ty> for $ty {
            fn into_field(self) -> $ty {
                self
            }
        }
        $(#[$cfg])*
        impl IntoField<Option<$ty>> for $ty {
            fn into_field(self) -> Option<$ty> {
                Some(self)
            }
        }
        $(#[$cfg])*
        impl IntoField<Option<$ty>> for Option<$ty> {
            fn into_field(self) -> Option<$ty> {
                self
            }
        }
        $(#[$cfg])*
        impl From<$ty> for Value {
            fn from(v: $ty) -> Value {
                v.into_value()
            }
        }
        $(#[$cfg])*
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Value {
                v.into_value()
            }
        }
    )*};
}

native_types! {
    bool => Bool, Bool;
    i16 => I16, SmallInt;
    i32 => I32, Integer;
    i64 => I64, BigInt;
    f32 => F32, Real;
    f64 => F64, Double;
    String => Text, Text;
    Vec<u8> => Bytes, Blob;
    #[cfg(feature = "chrono")]
    chrono::NaiveDate => Date, Date;
    #[cfg(feature = "chrono")]
    chrono::NaiveDateTime => DateTime, DateTime;
    #[cfg(feature = "chrono")]
    chrono::DateTime<chrono::Utc> => Timestamp, Timestamp;
    #[cfg(feature = "uuid")]
    uuid::Uuid => Uuid, Uuid;
    #[cfg(feature = "json")]
    serde_json::Value => Json, Json;
}

macro_rules! borrowed_fields {
    ($($from:ty => $to:ty, $conv:expr;)*) => {$(
        impl IntoField<$to> for $from {
            fn into_field(self) -> $to {
                ($conv)(self)
            }
        }
        impl IntoField<Option<$to>> for $from {
            fn into_field(self) -> Option<$to> {
                Some(($conv)(self))
            }
        }
        impl From<$from> for Value {
            fn from(v: $from) -> Value {
                IntoField::<$to>::into_field(v).into_value()
            }
        }
    )*};
}

borrowed_fields! {
    &str => String, str::to_owned;
    &String => String, String::clone;
    &[u8] => Vec<u8>, <[u8]>::to_vec;
    &Vec<u8> => Vec<u8>, Vec::clone;
}

#[cfg(feature = "decimal")]
impl ColumnType for crate::value::DecimalRepr {
    const SQL_TYPE: SqlType = SqlType::Decimal;
    fn into_value(self) -> Value {
        Value::Decimal(self.0)
    }
    fn to_value(&self) -> Value {
        Value::Decimal(self.0)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Decimal(d) => Some(crate::value::DecimalRepr(d)),
            _ => None,
        }
    }
    #[inline]
    fn decode<R: RowSource + ?Sized>(row: &R, index: usize) -> Result<Self> {
        row.native(index)
    }
}
#[cfg(feature = "decimal")]
impl Native for crate::value::DecimalRepr {}
#[cfg(feature = "decimal")]
impl NotNull for crate::value::DecimalRepr {}
