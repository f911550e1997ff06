//! Change signals (Flask-SQLAlchemy's `SQLALCHEMY_TRACK_MODIFICATIONS`).
//!
//! With `Config::track_modifications(true)`, a session records each model change its
//! flushes write, and on `commit` sends them: to the `on_before_models_committed`
//! handlers after the last flush and before the database commits, and to the
//! `on_models_committed` handlers once it has. Only commits with changes send; a
//! rollback forgets the recorded changes, and a failed commit sends no
//! `models_committed`. Bulk `Query::update` / `Query::delete` are statements, not model
//! changes, and are not signalled. Handlers are held strongly: they stay subscribed as
//! long as the `Db` lives.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::model::Model;
use crate::value::Value;

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// It was inserted.
    Insert,
    /// It was updated.
    Update,
    /// It was deleted.
    Delete,
}

/// One committed (or about to be committed) model change.
///
/// ```
/// # use flaskdb_core::{Change, Model, Operation};
/// fn inserted<M: Model + Clone>(changes: &[Change]) -> Vec<M> {
///     changes
///         .iter()
///         .filter(|c| c.operation == Operation::Insert)
///         .filter_map(|c| c.model::<M>().cloned())
///         .collect()
/// }
/// ```
#[derive(Clone)]
pub struct Change {
    /// The table of the row.
    pub table: &'static str,
    /// Insert, update or delete.
    pub operation: Operation,
    /// The row's primary key.
    pub primary_key: Vec<Value>,
    model: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("table", &self.table)
            .field("operation", &self.operation)
            .field("primary_key", &self.primary_key)
            .finish()
    }
}

impl Change {
    pub(crate) fn new(
        table: &'static str,
        operation: Operation,
        primary_key: Vec<Value>,
        model: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Self {
        Change {
            table,
            operation,
            primary_key,
            model,
        }
    }

    /// The model as it was written (for a delete: as the session last saw it, when it
    /// had loaded the row), if it is an `M`.
    pub fn model<M: Model>(&self) -> Option<&M> {
        self.model.as_deref()?.downcast_ref::<M>()
    }
}

type Handler = Arc<dyn Fn(&[Change]) + Send + Sync>;

/// The handlers of one `Db`.
#[derive(Default)]
pub(crate) struct Signals {
    before: RwLock<Vec<Handler>>,
    after: RwLock<Vec<Handler>>,
}

impl Signals {
    pub(crate) fn connect_before(&self, handler: Handler) {
        self.before
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handler);
    }

    pub(crate) fn connect_after(&self, handler: Handler) {
        self.after
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handler);
    }

    pub(crate) fn send_before(&self, changes: &[Change]) {
        Self::send(&self.before, changes);
    }

    pub(crate) fn send_after(&self, changes: &[Change]) {
        Self::send(&self.after, changes);
    }

    fn send(handlers: &RwLock<Vec<Handler>>, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let handlers = handlers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for handler in handlers {
            handler(changes);
        }
    }
}
