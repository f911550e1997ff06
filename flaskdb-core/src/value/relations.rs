//! Which column types compare with which, which have a numeric sum, and each one's
//! nullable form: the type facts the typed expressions are checked against. A new
//! column type is listed here beside its [`ColumnType`] impl.

use crate::value::column_type::{ColumnType, CustomType};

/// Types whose values can be compared with a `T` column: the same type, nullable or not.
///
/// ```
/// fn comparable<V: flaskdb_core::Comparable<T>, T>() {}
/// comparable::<Option<i64>, i64>();
/// comparable::<String, Option<String>>();
/// ```
pub trait Comparable<T> {}

/// Column types with a numeric sum and average.
///
/// ```
/// use flaskdb_core::Numeric;
/// fn sum_is_float<T: Numeric>() -> bool { T::FLOAT }
/// assert!(sum_is_float::<f32>());
/// assert!(!sum_is_float::<Option<i16>>());
/// ```
pub trait Numeric: ColumnType {
    /// What `sum()` decodes to: `Option<i64>` for integers, `Option<f64>` for floats
    /// (NULL when no row matched).
    type Sum: ColumnType;
    #[doc(hidden)]
    const FLOAT: bool;
}

/// The nullable form of a column type: what `min()` and `max()` decode to.
///
/// ```
/// use flaskdb_core::MaybeNull;
/// let none: <i32 as MaybeNull>::Nullable = None;
/// assert_eq!(none, None::<i32>);
/// ```
pub trait MaybeNull: ColumnType {
    /// `Option<T>` of the base type.
    type Nullable: ColumnType;
}

macro_rules! type_relations {
    ($($base:ty),*) => {$(
        impl Comparable<$base> for $base {}
        impl Comparable<$base> for Option<$base> {}
        impl Comparable<Option<$base>> for $base {}
        impl Comparable<Option<$base>> for Option<$base> {}
        impl MaybeNull for $base {
            type Nullable = Option<$base>;
        }
        impl MaybeNull for Option<$base> {
            type Nullable = Option<$base>;
        }
    )*};
}
type_relations!(bool, i16, i32, i64, f32, f64, String, Vec<u8>);
#[cfg(feature = "chrono")]
type_relations!(
    chrono::NaiveDate,
    chrono::NaiveDateTime,
    chrono::DateTime<chrono::Utc>
);
#[cfg(feature = "uuid")]
type_relations!(uuid::Uuid);
#[cfg(feature = "json")]
type_relations!(serde_json::Value);

impl<T: CustomType> Comparable<T> for T {}
impl<T: CustomType> Comparable<T> for Option<T> {}
impl<T: CustomType> Comparable<Option<T>> for T {}
impl<T: CustomType> Comparable<Option<T>> for Option<T> {}
impl<T: CustomType> MaybeNull for T {
    type Nullable = Option<T>;
}
impl<T: CustomType> MaybeNull for Option<T> {
    type Nullable = Option<T>;
}

macro_rules! numeric {
    ($sum:ty, $float:literal: $($t:ty),*) => {$(
        impl Numeric for $t {
            type Sum = $sum;
            const FLOAT: bool = $float;
        }
        impl Numeric for Option<$t> {
            type Sum = $sum;
            const FLOAT: bool = $float;
        }
    )*};
}
numeric!(Option<i64>, false: i16, i32, i64);
numeric!(Option<f64>, true: f32, f64);
