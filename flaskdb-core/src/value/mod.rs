//! Values sent to the database.
//!
//! [`Value`] is what the renderer binds: every value in a statement travels as a bound
//! parameter. It implements sqlx's `Encode` for each enabled backend and reports its own
//! type through `produces()`, so a NULL still tells PostgreSQL which column type it is.
//! Decoding goes straight from the sqlx row into the field (see
//! [`ColumnType`](crate::ColumnType)), without passing through `Value`.

pub(crate) mod column_type;
pub(crate) mod json;
pub(crate) mod relations;
pub(crate) mod row;
pub(crate) mod sql_type;

use crate::value::sql_type::SqlType;

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
    /// A date (feature `chrono`).
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    Date(chrono::NaiveDate),
    /// A date and time without time zone (feature `chrono`).
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    DateTime(chrono::NaiveDateTime),
    /// An instant in UTC (feature `chrono`).
    #[cfg(feature = "chrono")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    Timestamp(chrono::DateTime<chrono::Utc>),
    /// A UUID (feature `uuid`).
    #[cfg(feature = "uuid")]
    #[cfg_attr(docsrs, doc(cfg(feature = "uuid")))]
    Uuid(uuid::Uuid),
    /// A JSON document (feature `json`).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    Json(serde_json::Value),
    /// An exact decimal number (feature `decimal`).
    #[cfg(feature = "decimal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "decimal")))]
    Decimal(rust_decimal::Decimal),
    /// A PostgreSQL array of values of one type (every element's
    /// [`sql_type`](Value::sql_type) is the one given; NULLs of it may be among them):
    /// how flaskdb binds an `in_` list there (`= ANY($1)`), and usable in raw SQL.
    /// SQLite and MySQL have no arrays: binding one there is an error.
    ///
    /// ```no_run
    /// # async fn demo(db: flaskdb_core::Db) -> flaskdb_core::Result<()> {
    /// use flaskdb_core::{SqlType, Value};
    /// let ids = Value::Array(SqlType::BigInt, vec![Value::I64(1), Value::I64(2)]);
    /// let rows = db.fetch_all("SELECT id FROM users WHERE id = ANY($1)", vec![ids]).await?;
    /// # Ok(()) }
    /// ```
    Array(SqlType, Vec<Value>),
}

/// Values are equal when they are the same variant with the same bits (so a NaN equals
/// itself, and decimals compare by representation): what keying the session's identity
/// map needs.
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
            #[cfg(feature = "chrono")]
            (Value::Date(a), Value::Date(b)) => a == b,
            #[cfg(feature = "chrono")]
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            #[cfg(feature = "chrono")]
            (Value::Timestamp(a), Value::Timestamp(b)) => a == b,
            #[cfg(feature = "uuid")]
            (Value::Uuid(a), Value::Uuid(b)) => a == b,
            #[cfg(feature = "json")]
            (Value::Json(a), Value::Json(b)) => a == b,
            #[cfg(feature = "decimal")]
            (Value::Decimal(a), Value::Decimal(b)) => a.serialize() == b.serialize(),
            (Value::Array(a, x), Value::Array(b, y)) => a == b && x == y,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Value {
    /// A total order of values, agreeing with `==`: by variant, then by value (floats
    /// by their total order, decimals and JSON by their representation). Not SQL's
    /// order; what it gives is one order every session follows, as when a flush takes
    /// row locks by key.
    pub(crate) fn total_cmp(&self, other: &Value) -> std::cmp::Ordering {
        match (self, other) {
            (Value::Null(a), Value::Null(b)) => a.tag().cmp(&b.tag()),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::I16(a), Value::I16(b)) => a.cmp(b),
            (Value::I32(a), Value::I32(b)) => a.cmp(b),
            (Value::I64(a), Value::I64(b)) => a.cmp(b),
            (Value::F32(a), Value::F32(b)) => a.total_cmp(b),
            (Value::F64(a), Value::F64(b)) => a.total_cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            #[cfg(feature = "chrono")]
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            #[cfg(feature = "chrono")]
            (Value::DateTime(a), Value::DateTime(b)) => a.cmp(b),
            #[cfg(feature = "chrono")]
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            #[cfg(feature = "uuid")]
            (Value::Uuid(a), Value::Uuid(b)) => a.cmp(b),
            #[cfg(feature = "json")]
            (Value::Json(a), Value::Json(b)) => a.to_string().cmp(&b.to_string()),
            #[cfg(feature = "decimal")]
            (Value::Decimal(a), Value::Decimal(b)) => a.serialize().cmp(&b.serialize()),
            (Value::Array(a, x), Value::Array(b, y)) => {
                a.tag().cmp(&b.tag()).then_with(|| total_cmp_all(x, y))
            }
            (a, b) => a.variant().cmp(&b.variant()),
        }
    }

    /// The position of the value's variant, for [`Value::total_cmp`] across variants:
    /// NULLs first, arrays last, the others by their type's tag.
    fn variant(&self) -> u8 {
        match self {
            Value::Null(_) => 0,
            Value::Array(..) => u8::MAX,
            other => other.sql_type().tag(),
        }
    }
}

/// [`Value::total_cmp`] of two lists, element by element, then by length.
pub(crate) fn total_cmp_all(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

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
            #[cfg(feature = "chrono")]
            Value::Date(v) => v.hash(state),
            #[cfg(feature = "chrono")]
            Value::DateTime(v) => v.hash(state),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => v.hash(state),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => v.hash(state),
            #[cfg(feature = "json")]
            Value::Json(v) => v.hash(state),
            #[cfg(feature = "decimal")]
            Value::Decimal(v) => v.serialize().hash(state),
            Value::Array(t, v) => {
                t.hash(state);
                v.hash(state);
            }
        }
    }
}

impl Value {
    /// The SQL type of this value (of an [`Value::Array`]: of its elements).
    ///
    /// ```
    /// use flaskdb_core::{SqlType, Value};
    /// assert_eq!(Value::I32(1).sql_type(), SqlType::Integer);
    /// ```
    pub fn sql_type(&self) -> SqlType {
        match self {
            Value::Null(t) | Value::Array(t, _) => *t,
            Value::Bool(_) => SqlType::Bool,
            Value::I16(_) => SqlType::SmallInt,
            Value::I32(_) => SqlType::Integer,
            Value::I64(_) => SqlType::BigInt,
            Value::F32(_) => SqlType::Real,
            Value::F64(_) => SqlType::Double,
            Value::Text(_) => SqlType::Text,
            Value::Bytes(_) => SqlType::Blob,
            #[cfg(feature = "chrono")]
            Value::Date(_) => SqlType::Date,
            #[cfg(feature = "chrono")]
            Value::DateTime(_) => SqlType::DateTime,
            #[cfg(feature = "chrono")]
            Value::Timestamp(_) => SqlType::Timestamp,
            #[cfg(feature = "uuid")]
            Value::Uuid(_) => SqlType::Uuid,
            #[cfg(feature = "json")]
            Value::Json(_) => SqlType::Json,
            #[cfg(feature = "decimal")]
            Value::Decimal(_) => SqlType::Decimal,
        }
    }

    /// The integer this value holds, at any width.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::I16(n) => Some(i64::from(*n)),
            Value::I32(n) => Some(i64::from(*n)),
            Value::I64(n) => Some(*n),
            _ => None,
        }
    }

    /// The integer `n` as a value of integer type `sql_type`, when it fits there.
    pub(crate) fn integer_of(n: i64, sql_type: SqlType) -> Option<Value> {
        match sql_type {
            SqlType::SmallInt => i16::try_from(n).ok().map(Value::I16),
            SqlType::Integer => i32::try_from(n).ok().map(Value::I32),
            SqlType::BigInt => Some(Value::I64(n)),
            _ => None,
        }
    }

    /// The value as text, for the values that have no literal of their own in DDL and
    /// in keyset cursors (dates, UUIDs, JSON, decimals); `None` for the others.
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            #[cfg(feature = "chrono")]
            Value::Date(v) => Some(v.to_string()),
            #[cfg(feature = "chrono")]
            Value::DateTime(v) => Some(v.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => Some(v.to_rfc3339()),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => Some(v.to_string()),
            #[cfg(feature = "json")]
            Value::Json(v) => Some(v.to_string()),
            #[cfg(feature = "decimal")]
            Value::Decimal(v) => Some(v.to_string()),
            _ => None,
        }
    }

    /// The inverse of [`Value::as_text`] for a value of type `sql_type`.
    pub(crate) fn from_text(sql_type: SqlType, text: &str) -> Option<Value> {
        let _ = text;
        match sql_type {
            #[cfg(feature = "chrono")]
            SqlType::Date => text.parse().ok().map(Value::Date),
            #[cfg(feature = "chrono")]
            SqlType::DateTime => {
                chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                    .ok()
                    .map(Value::DateTime)
            }
            #[cfg(feature = "chrono")]
            SqlType::Timestamp => chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| Value::Timestamp(t.to_utc())),
            #[cfg(feature = "uuid")]
            SqlType::Uuid => text.parse().ok().map(Value::Uuid),
            #[cfg(feature = "json")]
            SqlType::Json => serde_json::from_str(text).ok().map(Value::Json),
            #[cfg(feature = "decimal")]
            SqlType::Decimal => text.parse().ok().map(Value::Decimal),
            _ => None,
        }
    }
}

/// A decimal as each backend stores it: natively on PostgreSQL and MySQL, as exact text
/// on SQLite (which has no decimal type and would round through a float).
#[cfg(feature = "decimal")]
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct DecimalRepr(pub rust_decimal::Decimal);

#[cfg(feature = "decimal")]
impl DecimalRepr {
    fn of(d: impl std::borrow::Borrow<rust_decimal::Decimal>) -> Self {
        DecimalRepr(*d.borrow())
    }
}

#[cfg(all(feature = "decimal", feature = "sqlite"))]
mod decimal_sqlite {
    use super::DecimalRepr;
    use sqlx::Sqlite;

    impl sqlx::Type<Sqlite> for DecimalRepr {
        fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
            <String as sqlx::Type<Sqlite>>::type_info()
        }
        fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
            <String as sqlx::Type<Sqlite>>::compatible(ty)
                || <i64 as sqlx::Type<Sqlite>>::compatible(ty)
                || <f64 as sqlx::Type<Sqlite>>::compatible(ty)
        }
    }

    impl<'q> sqlx::Encode<'q, Sqlite> for DecimalRepr {
        fn encode_by_ref(
            &self,
            buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer,
        ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
            <String as sqlx::Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
        }
    }

    impl<'r> sqlx::Decode<'r, Sqlite> for DecimalRepr {
        fn decode(
            value: <Sqlite as sqlx::Database>::ValueRef<'r>,
        ) -> Result<Self, sqlx::error::BoxDynError> {
            let text = <String as sqlx::Decode<'r, Sqlite>>::decode(value)?;
            let parsed = text
                .parse::<rust_decimal::Decimal>()
                .or_else(|_| rust_decimal::Decimal::from_scientific(&text))?;
            Ok(DecimalRepr(parsed))
        }
    }
}

/// PostgreSQL and MySQL: the driver's own decimal support.
#[cfg(feature = "decimal")]
macro_rules! native_decimal {
    ($feature:literal, $db:ty) => {
        #[cfg(feature = $feature)]
        impl sqlx::Type<$db> for DecimalRepr {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <rust_decimal::Decimal as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <rust_decimal::Decimal as sqlx::Type<$db>>::compatible(ty)
            }
        }
        #[cfg(feature = $feature)]
        impl<'q> sqlx::Encode<'q, $db> for DecimalRepr {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <rust_decimal::Decimal as sqlx::Encode<'q, $db>>::encode_by_ref(&self.0, buf)
            }
        }
        #[cfg(feature = $feature)]
        impl<'r> sqlx::Decode<'r, $db> for DecimalRepr {
            fn decode(
                value: <$db as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <rust_decimal::Decimal as sqlx::Decode<'r, $db>>::decode(value).map(DecimalRepr)
            }
        }
    };
}
#[cfg(feature = "decimal")]
native_decimal!("postgres", sqlx::Postgres);
#[cfg(feature = "decimal")]
native_decimal!("mysql", sqlx::MySql);

/// Applies `$call` to the payload of a non-null value, and `$array` to an array's element
/// type and elements; NULL encodes as nothing.
macro_rules! each_variant {
    ($value:expr, $v:ident => $call:expr, ($t:ident, $items:ident) => $array:expr) => {
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
            #[cfg(feature = "chrono")]
            Value::Date($v) => $call,
            #[cfg(feature = "chrono")]
            Value::DateTime($v) => $call,
            #[cfg(feature = "chrono")]
            Value::Timestamp($v) => $call,
            #[cfg(feature = "uuid")]
            Value::Uuid($v) => $call,
            #[cfg(feature = "json")]
            Value::Json($v) => $call,
            #[cfg(feature = "decimal")]
            Value::Decimal(d) => {
                let $v = &DecimalRepr::of(d);
                $call
            }
            Value::Array($t, $items) => $array,
        }
    };
}

/// `$get` with `$t` standing for the Rust type of an [`SqlType`]: what gives the driver
/// type a NULL of that type is sent as (and on PostgreSQL, an array of it). Types whose
/// feature is off cannot occur; they fall back to text.
macro_rules! of_rust_type {
    ($sql_type:expr, $t:ident => $get:expr) => {
        match $sql_type {
            SqlType::Bool => {
                type $t = bool;
                $get
            }
            SqlType::SmallInt => {
                type $t = i16;
                $get
            }
            SqlType::Integer => {
                type $t = i32;
                $get
            }
            SqlType::BigInt => {
                type $t = i64;
                $get
            }
            SqlType::Real => {
                type $t = f32;
                $get
            }
            SqlType::Double => {
                type $t = f64;
                $get
            }
            SqlType::Blob => {
                type $t = Vec<u8>;
                $get
            }
            #[cfg(feature = "chrono")]
            SqlType::Date => {
                type $t = chrono::NaiveDate;
                $get
            }
            #[cfg(feature = "chrono")]
            SqlType::DateTime => {
                type $t = chrono::NaiveDateTime;
                $get
            }
            #[cfg(feature = "chrono")]
            SqlType::Timestamp => {
                type $t = chrono::DateTime<chrono::Utc>;
                $get
            }
            #[cfg(feature = "uuid")]
            SqlType::Uuid => {
                type $t = uuid::Uuid;
                $get
            }
            #[cfg(feature = "json")]
            SqlType::Json => {
                type $t = serde_json::Value;
                $get
            }
            #[cfg(feature = "decimal")]
            SqlType::Decimal => {
                type $t = DecimalRepr;
                $get
            }
            _ => {
                type $t = String;
                $get
            }
        }
    };
}

/// The error of binding an array where the backend has none.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
fn no_arrays() -> sqlx::error::BoxDynError {
    "arrays can be bound only on PostgreSQL".into()
}

/// A PostgreSQL array in the binary format: every element must be of `element`'s type.
#[cfg(feature = "postgres")]
fn encode_pg_array(
    element: SqlType,
    items: &[Value],
    buf: &mut sqlx::postgres::PgArgumentBuffer,
) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
    use sqlx::postgres::PgBindIterExt;
    if let Some(odd) = items
        .iter()
        .find(|v| v.sql_type() != element || matches!(v, Value::Array(..)))
    {
        return Err(format!("an array of {element:?} cannot hold {odd:?}").into());
    }
    if items.is_empty() {
        // Dimensions 0, no NULLs, and the element type: what PostgreSQL reads as `{}`.
        let info = of_rust_type!(element, T => <T as sqlx::Type<sqlx::Postgres>>::type_info());
        let oid = info.oid().ok_or("an array element type without an OID")?;
        buf.extend(0_i32.to_be_bytes());
        buf.extend(0_i32.to_be_bytes());
        buf.extend(oid.0.to_be_bytes());
        return Ok(sqlx::encode::IsNull::No);
    }
    // The elements take their type from the first one's `produces()`.
    <_ as sqlx::Encode<'_, sqlx::Postgres>>::encode(items.iter().bind_iter(), buf)
}

#[cfg(all(feature = "postgres", feature = "decimal"))]
impl sqlx::postgres::PgHasArrayType for DecimalRepr {
    fn array_type_info() -> sqlx::postgres::PgTypeInfo {
        <rust_decimal::Decimal as sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}

/// `Encode`/`Type` for [`Value`] on one backend: each variant encodes as its Rust type and
/// reports that type through `produces()`, so a NULL still tells the server its type;
/// `$array` encodes an array, and `$array_type` names its type. With `shared`, a text or
/// blob bound by reference is copied once into an `Arc` (SQLite keeps its arguments in
/// one), not copied and then boxed.
macro_rules! encode_value {
    ($feature:literal, $db:ty, $array:expr, $array_type:expr $(, $shared:ident)?) => {
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
                each_variant!(
                    self,
                    v => <_ as sqlx::Encode<'q, $db>>::encode(v, buf),
                    (t, items) => $array(t, &items, buf)
                )
            }

            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                $(
                    let _ = stringify!($shared);
                    match self {
                        Value::Text(s) => {
                            let shared: std::sync::Arc<str> = std::sync::Arc::from(s.as_str());
                            return sqlx::Encode::<'q, $db>::encode(shared, buf);
                        }
                        Value::Bytes(b) => {
                            let shared: std::sync::Arc<[u8]> = std::sync::Arc::from(b.as_slice());
                            return sqlx::Encode::<'q, $db>::encode(shared, buf);
                        }
                        _ => {}
                    }
                )?
                each_variant!(
                    self,
                    v => <_ as sqlx::Encode<'q, $db>>::encode_by_ref(v, buf),
                    (t, items) => $array(*t, items, buf)
                )
            }

            fn produces(&self) -> Option<<$db as sqlx::Database>::TypeInfo> {
                Some(match self {
                    Value::Array(t, _) => $array_type(*t),
                    v => of_rust_type!(v.sql_type(), T => <T as sqlx::Type<$db>>::type_info()),
                })
            }
        }
    };
}

encode_value!(
    "sqlite",
    sqlx::Sqlite,
    |_, _, _| Err(no_arrays()),
    |_| <String as sqlx::Type<sqlx::Sqlite>>::type_info(),
    shared
);
encode_value!(
    "postgres",
    sqlx::Postgres,
    encode_pg_array,
    |t| of_rust_type!(t, T => <T as sqlx::postgres::PgHasArrayType>::array_type_info())
);
encode_value!("mysql", sqlx::MySql, |_, _, _| Err(no_arrays()), |_| {
    <String as sqlx::Type<sqlx::MySql>>::type_info()
});
