//! Column types built on [`CustomType`]: [`Json<T>`] (feature `json`) and
//! `rust_decimal::Decimal` (feature `decimal`).

#[cfg(any(feature = "json", feature = "decimal"))]
use crate::value::column_type::CustomType;

/// A column holding any serde type as a JSON document (`JSONB` on PostgreSQL, `JSON` on
/// MySQL, text on SQLite). Use `serde_json::Value` for untyped documents.
///
/// ```
/// use flaskdb_core::{ColumnType, CustomType, Json, SqlType};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Prefs { theme: String }
///
/// let stored = Json(Prefs { theme: "dark".into() }).to_stored();
/// assert_eq!(stored, serde_json::json!({"theme": "dark"}));
/// assert_eq!(<Json<Prefs> as ColumnType>::SQL_TYPE, SqlType::Json);
/// ```
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "json")]
impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(all(feature = "json", feature = "serde"))]
impl<T: serde::Serialize> serde::Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(all(feature = "json", feature = "serde"))]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Json<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

/// A value serde cannot turn into JSON (a map whose keys are not strings or numbers) is
/// stored as JSON `null` and the error is logged at error level: `to_stored` cannot
/// fail. Types that serialize to a string-keyed map, a sequence or a scalar always work.
#[cfg(feature = "json")]
impl<T> CustomType for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + Unpin + 'static,
{
    type Stored = serde_json::Value;
    fn to_stored(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_else(|e| {
            tracing::error!(target: "flaskdb", error = %e, "a Json column value has no JSON form; storing null");
            serde_json::Value::Null
        })
    }
    fn from_stored(stored: serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(stored)
            .map(Json)
            .map_err(|e| e.to_string())
    }
}

#[cfg(feature = "decimal")]
impl CustomType for rust_decimal::Decimal {
    type Stored = crate::value::DecimalRepr;
    fn to_stored(&self) -> crate::value::DecimalRepr {
        crate::value::DecimalRepr(*self)
    }
    fn from_stored(stored: crate::value::DecimalRepr) -> Result<Self, String> {
        Ok(stored.0)
    }
}
