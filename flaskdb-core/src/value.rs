//! Values sent to and read from the database, and the Rust types a column may have.
//!
//! [`Value`] is what the renderer binds: every value in a statement travels as a bound
//! parameter. It implements sqlx's `Encode` for each enabled backend and reports its own
//! type through `produces()`, so a NULL still tells PostgreSQL which column type it is.
//! [`ColumnType`] is implemented for the supported field types; decoding goes straight
//! from the sqlx row into the field, without passing through `Value`.

use crate::sql_type::SqlType;

/// A value bound as a statement parameter (and recorded with the statement).
///
/// ```
/// use flaskdb_core::{Value, SqlType};
/// assert_eq!(Value::from("x"), Value::Text("x".into()));
/// assert_eq!(Value::from(None::<i64>), Value::Null(SqlType::BigInt));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL, with the type of the column it stands for.
    Null(SqlType),
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer.
    I16(i16),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

/// Values are equal when they are the same variant with the same bits (so a NaN equals
/// itself): what keying the session's identity map needs.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null(a), Value::Null(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::I16(a), Value::I16(b)) => a == b,
            (Value::I32(a), Value::I32(b)) => a == b,
            (Value::I64(a), Value::I64(b)) => a == b,
            (Value::F32(a), Value::F32(b)) => a.to_bits() == b.to_bits(),
            (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits(),
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null(t) => t.hash(state),
            Value::Bool(v) => v.hash(state),
            Value::I16(v) => v.hash(state),
            Value::I32(v) => v.hash(state),
            Value::I64(v) => v.hash(state),
            Value::F32(v) => v.to_bits().hash(state),
            Value::F64(v) => v.to_bits().hash(state),
            Value::Text(v) => v.hash(state),
            Value::Bytes(v) => v.hash(state),
        }
    }
}

impl Value {
    /// The SQL type of this value.
    ///
    /// ```
    /// use flaskdb_core::{SqlType, Value};
    /// assert_eq!(Value::I32(1).sql_type(), SqlType::Integer);
    /// ```
    pub fn sql_type(&self) -> SqlType {
        match self {
            Value::Null(t) => *t,
            Value::Bool(_) => SqlType::Bool,
            Value::I16(_) => SqlType::SmallInt,
            Value::I32(_) => SqlType::Integer,
            Value::I64(_) => SqlType::BigInt,
            Value::F32(_) => SqlType::Real,
            Value::F64(_) => SqlType::Double,
            Value::Text(_) => SqlType::Text,
            Value::Bytes(_) => SqlType::Blob,
        }
    }
}

/// Backend bounds of [`ColumnType`]: with a backend's feature on, a column type must be
/// encodable to and decodable from that backend; with it off, the bound is empty.
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

/// A Rust type that can be a model field (a column).
///
/// Implemented for `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>` and
/// `Option<T>` of each (`Option` makes the column nullable).
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
    note = "supported: bool, i16, i32, i64, f32, f64, String, Vec<u8>, and Option<T> of these; \
            mark a field that is not a column with `#[model(skip)]`"
)]
pub trait ColumnType:
    Sized
    + Send
    + Sync
    + Unpin
    + 'static
    + backend_bounds::OnSqlite
    + backend_bounds::OnPostgres
    + backend_bounds::OnMySql
{
    /// The SQL type of the column.
    const SQL_TYPE: SqlType;
    /// Whether the column accepts NULL (`Option<T>`).
    const NULLABLE: bool = false;
    /// Converts the field into a bound value.
    fn into_value(self) -> Value;
    /// Converts a reference to the field into a bound value.
    fn to_value(&self) -> Value;
    /// Converts a value back into the field; `None` when it is of another type.
    fn from_value(value: Value) -> Option<Self>;
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

macro_rules! column_types {
    ($($ty:ty => $variant:ident, $sql:ident;)*) => {$(
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
        }
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
        }
        impl IntoField<$ty> for $ty {
            fn into_field(self) -> $ty {
                self
            }
        }
        impl IntoField<Option<$ty>> for $ty {
            fn into_field(self) -> Option<$ty> {
                Some(self)
            }
        }
        impl IntoField<Option<$ty>> for Option<$ty> {
            fn into_field(self) -> Option<$ty> {
                self
            }
        }
        impl From<$ty> for Value {
            fn from(v: $ty) -> Value {
                v.into_value()
            }
        }
        impl From<Option<$ty>> for Value {
            fn from(v: Option<$ty>) -> Value {
                v.into_value()
            }
        }
    )*};
}

column_types! {
    bool => Bool, Bool;
    i16 => I16, SmallInt;
    i32 => I32, Integer;
    i64 => I64, BigInt;
    f32 => F32, Real;
    f64 => F64, Double;
    String => Text, Text;
    Vec<u8> => Bytes, Blob;
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

/// Applies `$call` to the payload of a non-null value; NULL encodes as nothing.
macro_rules! each_variant {
    ($value:expr, $v:ident => $call:expr) => {
        match $value {
            Value::Null(_) => Ok(sqlx::encode::IsNull::Yes),
            Value::Bool($v) => $call,
            Value::I16($v) => $call,
            Value::I32($v) => $call,
            Value::I64($v) => $call,
            Value::F32($v) => $call,
            Value::F64($v) => $call,
            Value::Text($v) => $call,
            Value::Bytes($v) => $call,
        }
    };
}

/// `Encode`/`Type` for [`Value`] on one backend: each variant encodes as its Rust type and
/// reports that type through `produces()`.
macro_rules! encode_value {
    ($feature:literal, $db:ty) => {
        #[cfg(feature = $feature)]
        impl sqlx::Type<$db> for Value {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <String as sqlx::Type<$db>>::type_info()
            }
        }

        #[cfg(feature = $feature)]
        impl<'q> sqlx::Encode<'q, $db> for Value {
            fn encode(
                self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                each_variant!(self, v => <_ as sqlx::Encode<'q, $db>>::encode(v, buf))
            }

            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                each_variant!(self, v => <_ as sqlx::Encode<'q, $db>>::encode_by_ref(v, buf))
            }

            fn produces(&self) -> Option<<$db as sqlx::Database>::TypeInfo> {
                Some(match self.sql_type() {
                    SqlType::Bool => <bool as sqlx::Type<$db>>::type_info(),
                    SqlType::SmallInt => <i16 as sqlx::Type<$db>>::type_info(),
                    SqlType::Integer => <i32 as sqlx::Type<$db>>::type_info(),
                    SqlType::BigInt => <i64 as sqlx::Type<$db>>::type_info(),
                    SqlType::Real => <f32 as sqlx::Type<$db>>::type_info(),
                    SqlType::Double => <f64 as sqlx::Type<$db>>::type_info(),
                    SqlType::Text => <String as sqlx::Type<$db>>::type_info(),
                    SqlType::Blob => <Vec<u8> as sqlx::Type<$db>>::type_info(),
                })
            }
        }
    };
}

encode_value!("sqlite", sqlx::Sqlite);
encode_value!("postgres", sqlx::Postgres);
encode_value!("mysql", sqlx::MySql);
