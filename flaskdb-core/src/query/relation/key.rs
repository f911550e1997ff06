//! The key a relationship joins on, read from a row.

use crate::model::Model;
use crate::value::Value;

/// Integer keys compare as `i64`, so an `i32` key matches an `i64` foreign key.
pub(super) fn normalized(value: Value) -> Value {
    value.as_i64().map_or(value, Value::I64)
}

/// The key a relationship joins on: one value inline (the common case, with no
/// allocation per row), or several for a composite key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    One(Value),
    Many(Vec<Value>),
}

impl From<Vec<Value>> for Key {
    fn from(mut values: Vec<Value>) -> Self {
        match values.len() {
            1 => Key::One(values.remove(0)),
            _ => Key::Many(values),
        }
    }
}

impl AsRef<[Value]> for Key {
    fn as_ref(&self) -> &[Value] {
        match self {
            Key::One(value) => std::slice::from_ref(value),
            Key::Many(values) => values,
        }
    }
}

/// The (normalized) values of the columns at `indexes` of `model`'s table, or `None`
/// when one is NULL (then nothing is related).
pub(super) fn key_at<M: Model>(model: &M, indexes: &[usize]) -> Option<Key> {
    let value = |i: &usize| {
        model
            .column_value_at(*i)
            .map(normalized)
            .filter(|v| !matches!(v, Value::Null(_)))
    };
    match indexes {
        [i] => value(i).map(Key::One),
        all => all.iter().map(value).collect::<Option<_>>().map(Key::Many),
    }
}
