//! Mixins: `#[derive(Columns)]` structs whose columns a model takes in with a
//! `#[model(flatten)]` field, as Flask-SQLAlchemy models inherit columns from mixin
//! classes.

use crate::error::Result;
use crate::model::{Model, RowSource};
use crate::schema::Table;
use crate::value::Value;

/// A group of columns that models share: implemented by `#[derive(Columns)]`.
///
/// The derive also generates a trait named `<Mixin>Columns` with one column handle
/// per column, implemented for every model that flattens the mixin: with it in scope,
/// `Post::created_at` is a `Column<Post, _>` like the model's own.
///
/// ```
/// use flaskdb_core::{Columns, Model};
/// fn mixin_width<C: Columns>() -> usize {
///     C::WIDTH
/// }
/// ```
pub trait Columns: Sized + Send + Sync + Unpin + 'static {
    /// How many columns the mixin adds.
    const WIDTH: usize;
    /// The bind a model gets from this mixin when it names none itself.
    const BIND: Option<&'static str>;
    /// `(column, referenced table)` of each foreign key of the mixin.
    #[doc(hidden)]
    const FOREIGN_KEYS: &'static [(&'static str, &'static str)];
    /// Adds the mixin's columns (and foreign keys) to a model's table.
    #[doc(hidden)]
    fn add_to(table: Table) -> Table;
    /// Appends the mixin's values, in column order.
    #[doc(hidden)]
    fn push_values(&self, out: &mut Vec<Value>);
    /// The value of the mixin's column `name`, if it has one.
    #[doc(hidden)]
    fn column_value(&self, name: &str) -> Option<Value>;
    /// Decodes the mixin from `row`, starting at column `offset`.
    ///
    /// # Errors
    /// [`Error::Decode`](crate::Error::Decode) naming the column.
    #[doc(hidden)]
    fn from_row<R: RowSource>(row: &R, offset: usize) -> Result<Self>;
}

/// Says that model `Self` flattens mixin `C` (the derive implements it for each
/// `#[model(flatten)]` field), which gives it `C`'s column handles. Bound on it to add
/// query methods to every model with a mixin: Flask-SQLAlchemy's custom query class.
///
/// ```
/// use flaskdb_core::{Columns, Flattens, Model};
/// fn tables_with<C: Columns, M: Flattens<C>>() -> &'static str {
///     M::table().name()
/// }
/// ```
///
/// The guide's "Advanced Customization" chapter adds a `live()` method to the queries
/// of every model with a soft-delete mixin.
pub trait Flattens<C: Columns>: Model {}
