//! Relationships: `HasMany`, `HasOne`, `BelongsTo` and `ManyToMany` fields, matched to
//! foreign keys from the metadata, loaded explicitly (`load`) or eagerly with a query.
//!
//! A relationship field is not a column. When its model is read, the field records the
//! key it joins on (the parent's key, or its own foreign-key value); `load` reads the
//! related rows, and [`Query::eager`](crate::Query::eager) loads them for many parents at
//! once with one `IN (...)` query per relationship ([`Query::eager_joined`](crate::Query::eager_joined):
//! by a LEFT JOIN in the parents' own statement). An unloaded relationship never
//! pretends to be empty: `loaded()` is `None` until it is loaded. Comparing two fields
//! compares what they loaded, so an unloaded field equals only an unloaded one.
//!
//! The foreign key is the one foreign key between the two tables, or the one named with
//! `#[model(has_many, foreign_key = "post.category_id")]`. None, or several without a
//! name, is a compile error at the relationship field. A many-to-many's association
//! table may be declared at runtime, so its keys are found at first use, and a missing
//! table or key is an [`Error::InvalidQuery`] naming the candidates.

use futures_core::future::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::Query;
use crate::runtime::db::Db;
use crate::runtime::session::Session;
use crate::runtime::target::Runner;
use crate::schema::relation::{Lazy, RelationDef, RelationKind};
use crate::sql::expr::{Expr, Node, key_in};
use crate::value::Value;

/// Integer keys compare as `i64`, so an `i32` key matches an `i64` foreign key.
fn normalized(value: Value) -> Value {
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
fn key_at<M: Model>(model: &M, indexes: &[usize]) -> Option<Key> {
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

/// The state every relationship field holds: its definition, the key it joins on, and
/// the rows once loaded.
#[doc(hidden)]
pub struct Related<T> {
    def: Option<&'static RelationDef>,
    key: Option<Key>,
    loaded: Option<Vec<T>>,
}

impl<T> Default for Related<T> {
    fn default() -> Self {
        Related {
            def: None,
            key: None,
            loaded: None,
        }
    }
}

impl<T: Clone> Clone for Related<T> {
    fn clone(&self) -> Self {
        Related {
            def: self.def,
            key: self.key.clone(),
            loaded: self.loaded.clone(),
        }
    }
}

impl<T> Related<T> {
    /// The state of relationship `def` of the row `parent`.
    pub fn keyed<P: Model>(def: &'static RelationDef, parent: &P) -> Self {
        let key = def
            .resolve()
            .ok()
            .and_then(|r| key_at(parent, &r.parent_key));
        Related {
            def: Some(def),
            key,
            loaded: None,
        }
    }

    fn def(&self) -> Result<&'static RelationDef> {
        self.def.ok_or(Error::InvalidQuery(
            "this relationship belongs to a model that was not read from the database".into(),
        ))
    }

    fn loaded(&self) -> Option<&[T]> {
        self.loaded.as_deref()
    }

    fn get(&self) -> Result<&[T]> {
        self.loaded().ok_or_else(|| Error::NotLoaded {
            relationship: self
                .def
                .map_or_else(|| "(unknown)".to_owned(), RelationDef::label),
        })
    }
}

impl<T: Model> Related<T> {
    /// Reads the related rows from `source`.
    async fn load(&self, runner: Runner) -> Result<Vec<T>> {
        let def = self.def()?;
        if def.lazy == Lazy::Raise {
            return Err(Error::NotLoaded {
                relationship: def.label(),
            });
        }
        def.resolve()?;
        let Some(key) = self.key.clone() else {
            // A NULL foreign key: nothing is related.
            return Ok(Vec::new());
        };
        let rows = fetch::<T>(def, vec![key], &runner).await?;
        Ok(rows.into_iter().map(|(_, row)| row).collect())
    }
}

/// A target row with the association-table key it was found through.
struct Linked<T>(Key, T);

impl<T: Model> crate::model::FromRow for Linked<T> {
    fn width() -> usize {
        T::width()
    }
    fn from_row<R: crate::model::RowSource>(row: &R, offset: usize) -> Result<Self> {
        let model = T::from_row(row, offset)?;
        let mut key = Vec::new();
        for i in offset + T::width()..row.len() {
            key.push(normalized(any_key(row, i)?));
        }
        Ok(Linked(key.into(), model))
    }
}

/// A key column of an association table, as whichever key type it holds.
fn any_key<R: crate::model::RowSource>(row: &R, index: usize) -> Result<Value> {
    row.get::<i64>(index)
        .map(Value::I64)
        .or_else(|_| row.get::<i32>(index).map(Value::I32))
        .or_else(|_| row.get::<i16>(index).map(Value::I16))
        .or_else(|_| row.get::<String>(index).map(Value::Text))
        .or_else(|_| row.get::<Vec<u8>>(index).map(Value::Bytes))
}

/// The related rows of many parents' `keys`, each with the parent key it belongs to:
/// one query per chunk of keys, each within the backend's parameter limit, whatever the
/// number of parents (on PostgreSQL, one query: a one-column key list is one array).
async fn fetch<T: Model>(
    def: &'static RelationDef,
    keys: Vec<Key>,
    runner: &Runner,
) -> Result<Vec<(Key, T)>> {
    let resolved = def.resolve()?.clone();
    let target = def.target();
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    let unique: Vec<Key> = keys
        .into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect();
    let backend = runner.resolve(target.bind_key())?.engine.backend();
    let chunk = backend.keys_per_statement(resolved.pairs.len());
    let mut out = Vec::new();
    for part in unique.chunks(chunk) {
        match &resolved.secondary {
            Some((secondary, to_target)) => {
                let link_cols: Vec<&str> = resolved.pairs.iter().map(|p| p.0.as_str()).collect();
                let on = Node::And(
                    to_target
                        .iter()
                        .map(|(sec, tgt)| {
                            Node::eq(
                                Node::column(secondary.name(), sec.clone()),
                                Node::column(target.name(), tgt.clone()),
                            )
                        })
                        .collect(),
                );
                let rows = crate::query::select::linked_rows::<Linked<T>>(
                    runner,
                    target,
                    secondary,
                    on,
                    &link_cols,
                    key_in(secondary, &link_cols, part),
                )
                .await?;
                out.extend(rows.into_iter().map(|Linked(key, row)| (key, row)));
            }
            None => {
                let target_cols: Vec<&str> = match def.kind {
                    RelationKind::BelongsTo => {
                        resolved.pairs.iter().map(|p| p.1.as_str()).collect()
                    }
                    _ => resolved.pairs.iter().map(|p| p.0.as_str()).collect(),
                };
                // Plain: the target's own default eager loading would recurse.
                let mut query = Query::<T>::plain(runner.clone());
                query
                    .clauses_mut()
                    .and_filter(key_in(target, &target_cols, part));
                // A column the target does not have relates no row.
                let target_key: Option<Vec<usize>> = target_cols
                    .iter()
                    .map(|c| target.column_position(c))
                    .collect();
                for row in query.all().await? {
                    if let Some(key) = target_key.as_deref().and_then(|k| key_at(&row, k)) {
                        out.push((key, row));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Sets the loaded rows of each parent's relationship from `rows` (keyed by parent key).
/// Rows move to their parent; they are cloned only when several parents share a key
/// (a `belongs_to` target, a many-to-many row).
fn distribute<P, C: Clone>(parents: &mut [P], relation: &Relation<P, C>, rows: Vec<(Key, C)>) {
    let field = relation.field;
    let mut groups: HashMap<Key, Vec<C>> = HashMap::new();
    for (key, row) in rows {
        groups.entry(key).or_default().push(row);
    }
    let mut uses: HashMap<Key, usize> = HashMap::new();
    for parent in parents.iter_mut() {
        if let Some(key) = &field(parent).key {
            *uses.entry(key.clone()).or_default() += 1;
        }
    }
    for parent in parents {
        let found = match &field(parent).key {
            None => Vec::new(),
            Some(key) => match uses.get_mut(key) {
                Some(left) if *left > 1 => {
                    *left -= 1;
                    groups.get(key).cloned().unwrap_or_default()
                }
                _ => groups.remove(key).unwrap_or_default(),
            },
        };
        relation.set_loaded(parent, found);
    }
}

/// Loads a relationship for many parents at once: what [`Query::eager`] takes.
pub trait Eager<P>: Send + Sync {
    /// Loads into `parents` from `source`.
    #[doc(hidden)]
    fn load<'a>(&'a self, parents: &'a mut [P], runner: &'a Runner) -> BoxFuture<'a, Result<()>>;
}

/// A relationship of model `P` to model `C`: `Category::posts` is a
/// `Relation<Category, Post>`, generated by `#[derive(Model)]`. Give it to
/// [`Query::eager`] to load it with the query, or `then` it with a relationship of `C`
/// to load two levels.
pub struct Relation<P, C> {
    def: fn() -> &'static RelationDef,
    field: fn(&mut P) -> &mut Related<C>,
    /// `back_populates` of a `has_many`/`has_one`: sets a loaded row's `belongs_to` to
    /// its parent.
    back: Option<fn(&mut C, &P)>,
}

impl<P, C> Clone for Relation<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, C> Copy for Relation<P, C> {}

impl<P, C> fmt::Debug for Relation<P, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.def)().fmt(f)
    }
}

impl<P, C> Relation<P, C> {
    #[doc(hidden)]
    pub const fn new(
        def: fn() -> &'static RelationDef,
        field: fn(&mut P) -> &mut Related<C>,
        back: Option<fn(&mut C, &P)>,
    ) -> Self {
        Relation { def, field, back }
    }

    pub(crate) fn def(&self) -> &'static RelationDef {
        (self.def)()
    }

    /// Sets the loaded rows of `parent`'s relationship (and, with `back_populates`,
    /// each row's relationship back to `parent`).
    pub(crate) fn set_loaded(&self, parent: &mut P, mut rows: Vec<C>) {
        if let Some(back) = self.back {
            for row in &mut rows {
                back(row, parent);
            }
        }
        (self.field)(parent).loaded = Some(rows);
    }
}

impl<P: Model, C: Model + Clone> Relation<P, C> {
    /// This relationship, and `inner` on the rows it loads: `User::posts.then(Post::comments)`
    /// loads users' posts and the posts' comments in one query each.
    pub fn then<E: Eager<C> + 'static>(self, inner: E) -> Nested<P, C> {
        Nested {
            outer: self,
            inner: Box::new(inner),
        }
    }
}

impl<P: Model, C: Model> Relation<P, C> {
    /// The condition "child of `parent`" for a query of `C` (a `has_many`/`has_one`
    /// relationship of `P`).
    #[doc(hidden)]
    pub fn children_of(&self, parent: &P) -> Result<Expr> {
        let def = self.def();
        let resolved = def.resolve()?;
        if def.kind == RelationKind::BelongsTo || resolved.secondary.is_some() {
            return Err(Error::InvalidQuery(
                format!(
                    "with_parent needs a has_many or has_one relationship, not {}",
                    def.label()
                )
                .into(),
            ));
        }
        let key = key_at(parent, &resolved.parent_key)
            .ok_or_else(|| Error::InvalidQuery("the parent has no key yet".into()))?;
        let columns: Vec<&str> = resolved.pairs.iter().map(|p| p.0.as_str()).collect();
        Ok(Expr(key_in(def.target(), &columns, &[key])))
    }
}

impl<P: Model, C: Model + Clone> Eager<P> for Relation<P, C> {
    fn load<'a>(&'a self, parents: &'a mut [P], runner: &'a Runner) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let field = self.field;
            let keys: Vec<Key> = parents
                .iter_mut()
                .filter_map(|p| field(p).key.clone())
                .collect();
            let rows = fetch::<C>(self.def(), keys, runner).await?;
            distribute(parents, self, rows);
            Ok(())
        })
    }
}

/// Two levels of eager loading, made by [`Relation::then`].
pub struct Nested<P, C> {
    outer: Relation<P, C>,
    inner: Box<dyn Eager<C>>,
}

impl<P: Model, C: Model + Clone> Eager<P> for Nested<P, C> {
    fn load<'a>(&'a self, parents: &'a mut [P], runner: &'a Runner) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let field = self.outer.field;
            let keys: Vec<Key> = parents
                .iter_mut()
                .filter_map(|p| field(p).key.clone())
                .collect();
            let rows = fetch::<C>(self.outer.def(), keys, runner).await?;
            let (keys, mut children): (Vec<Key>, Vec<C>) = rows.into_iter().unzip();
            self.inner.load(&mut children, runner).await?;
            distribute(
                parents,
                &self.outer,
                keys.into_iter().zip(children).collect(),
            );
            Ok(())
        })
    }
}

/// Where a relationship loads from: `&Db` or a session (through its identity map).
pub trait LoadFrom {
    #[doc(hidden)]
    fn runner(self) -> Runner;
}

impl LoadFrom for &Db {
    fn runner(self) -> Runner {
        Runner::Db(self.clone())
    }
}

impl LoadFrom for &Session {
    fn runner(self) -> Runner {
        Runner::Session(self.clone())
    }
}

impl LoadFrom for &mut Session {
    fn runner(self) -> Runner {
        Runner::Session(self.clone())
    }
}

/// Access to a relationship field's state (implemented by the four field types).
#[doc(hidden)]
pub trait RelationField<T> {
    fn related_mut(&mut self) -> &mut Related<T>;
}

macro_rules! field_type {
    ($(#[$doc:meta])* $name:ident, many) => {
        $(#[$doc])*
        pub struct $name<T>(Related<T>);

        impl<T: Model> $name<T> {
            /// The loaded rows; `None` until loaded (eagerly or with `load`).
            pub fn loaded(&self) -> Option<&[T]> {
                self.0.loaded()
            }

            /// The loaded rows.
            ///
            /// # Errors
            /// [`Error::NotLoaded`] naming the relationship when it was not loaded.
            pub fn get(&self) -> Result<&[T]> {
                self.0.get()
            }

            /// Reads the related rows now (from a `&Db`, or a session through its
            /// identity map). The field itself is left as it is.
            ///
            /// # Errors
            /// [`Error::NotLoaded`] for a `lazy = "raise"` relationship; database errors.
            pub fn load(&self, from: impl LoadFrom) -> impl Future<Output = Result<Vec<T>>> + Send + '_ {
                let runner = from.runner();
                async move { self.0.load(runner).await }
            }
        }

        field_type!(@common $name);
    };
    ($(#[$doc:meta])* $name:ident, one) => {
        $(#[$doc])*
        pub struct $name<T>(Related<T>);

        impl<T: Model> $name<T> {
            /// The loaded row (`Some(None)`: loaded, and there is none); `None` until
            /// loaded.
            pub fn loaded(&self) -> Option<Option<&T>> {
                self.0.loaded().map(|rows| rows.first())
            }

            /// The loaded row, if there is one.
            ///
            /// # Errors
            /// [`Error::NotLoaded`] naming the relationship when it was not loaded.
            pub fn get(&self) -> Result<Option<&T>> {
                self.0.get().map(|rows| rows.first())
            }

            /// Reads the related row now (from a `&Db`, or a session).
            ///
            /// # Errors
            /// [`Error::NotLoaded`] for a `lazy = "raise"` relationship; database errors.
            pub fn load(&self, from: impl LoadFrom) -> impl Future<Output = Result<Option<T>>> + Send + '_ {
                let runner = from.runner();
                async move { Ok(self.0.load(runner).await?.into_iter().next()) }
            }
        }

        field_type!(@common $name);
    };
    (@common $name:ident) => {
        impl<T> Default for $name<T> {
            fn default() -> Self {
                $name(Related::default())
            }
        }

        impl<T: Clone> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }

        impl<T: fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match &self.0.loaded {
                    Some(rows) => f.debug_tuple(stringify!($name)).field(rows).finish(),
                    None => write!(f, "{}(<not loaded>)", stringify!($name)),
                }
            }
        }

        /// Compares the loaded rows: equal when neither side is loaded, or both are
        /// loaded with equal rows. A loaded relationship never equals an unloaded one,
        /// even when it loaded no row (as `loaded()` tells them apart). So a model's
        /// `#[derive(PartialEq)]` compares its relationships as it prints them with
        /// `Debug`, and needs `PartialEq` on the models they name.
        impl<T: PartialEq> PartialEq for $name<T> {
            fn eq(&self, other: &Self) -> bool {
                self.0.loaded == other.0.loaded
            }
        }

        impl<T> $name<T> {
            #[doc(hidden)]
            pub fn keyed<P: Model>(def: &'static RelationDef, parent: &P) -> Self {
                $name(Related::keyed(def, parent))
            }
        }

        impl<T> RelationField<T> for $name<T> {
            fn related_mut(&mut self) -> &mut Related<T> {
                &mut self.0
            }
        }
    };
}

field_type!(
    /// The rows of another model whose foreign key points at this row:
    /// `#[model(has_many)] posts: HasMany<Post>`.
    HasMany, many
);
field_type!(
    /// The rows of another model linked through an association table:
    /// `#[model(many_to_many, secondary = "post_tag")] tags: ManyToMany<Tag>`.
    ManyToMany, many
);
field_type!(
    /// The row this row's foreign key points at: `#[model(belongs_to)] category:
    /// BelongsTo<Category>`.
    BelongsTo, one
);
field_type!(
    /// The one row of another model whose foreign key points at this row.
    HasOne, one
);

/// Sets a loaded row's `belongs_to` to `parent`: what `back_populates` on a
/// `has_many`/`has_one` does for each row it loads.
#[doc(hidden)]
pub fn populate_back<P: Clone>(field: &mut BelongsTo<P>, parent: &P) {
    field.0.loaded = Some(vec![parent.clone()]);
}

/// Child models of `P` for [`Query::with_parent`]; generated by `#[derive(Model)]` for
/// each `has_many`/`has_one` relationship of `P` (`R` tells several apart: then use
/// `with_parent_via`). A `belongs_to` on the child alone does not make one.
pub trait ChildOf<P, R> {
    /// The condition "child of `parent`".
    #[doc(hidden)]
    fn child_filter(parent: &P) -> Result<Expr>;
}

/// Marks the `ChildOf` impls of one relationship.
#[doc(hidden)]
pub struct Via<const N: usize>(PhantomData<[(); N]>);
