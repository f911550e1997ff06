//! The four relationship field types and the state they hold.

use std::fmt;
use std::future::Future;

use super::LoadFrom;
use super::fetch::fetch;
use super::key::{Key, key_at};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::runtime::target::Runner;
use crate::schema::relation::{Lazy, RelationDef};

/// The state every relationship field holds: its definition, the key it joins on, and
/// the rows once loaded.
#[doc(hidden)]
pub struct Related<T> {
    def: Option<&'static RelationDef>,
    pub(super) key: Option<Key>,
    pub(super) loaded: Option<Vec<T>>,
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
