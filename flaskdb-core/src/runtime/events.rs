//! Session events, and the change signals built on them.
//!
//! Listeners run at five points of a session's life ([`SessionEvent`]), registered on
//! the [`Db`](crate::Db) (for every session) with `db.listen(..)` or on one session
//! with `session.listen(..)`. Each gets an [`EventContext`] with the changes involved:
//! before a flush, the pending ones, which it may change (`set`) or add to (`add`, in
//! the same transaction); after a flush, those it wrote; at commit, every change of
//! the transaction; after a rollback, the discarded ones. A `before_*` or
//! `after_flush` listener that returns an error aborts cleanly: the transactions roll
//! back and the queued work is kept for a retry (rows a `before_flush` listener added
//! are dropped, since it adds them again). An `after_commit` error is returned, but the
//! commit stands.
//!
//! Flask-SQLAlchemy's signals (`SQLALCHEMY_TRACK_MODIFICATIONS`) are two listeners:
//! with `Config::track_modifications(true)`, `on_before_models_committed` handlers get
//! the changes of a commit before the database commits, and `on_models_committed`
//! handlers once it has. Only commits with changes send. Bulk `Query::update` /
//! `Query::delete` are statements, not model changes, and are seen by neither.
//! Listeners are held strongly: they stay registered as long as the `Db` or session.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{Error, Result};
use crate::model::Model;
use crate::value::Value;

/// A point in a session's life where listeners run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEvent {
    /// Before a flush writes: the pending changes, which the listener may change or
    /// add to.
    BeforeFlush,
    /// After a flush wrote, in the open transactions: the changes it wrote.
    AfterFlush,
    /// Before the database commits, after the last flush: the transaction's changes.
    BeforeCommit,
    /// After the database committed: the committed changes.
    AfterCommit,
    /// After a rollback: the discarded changes (flushed ones; queued ones are
    /// discarded without a flush).
    AfterRollback,
}

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

/// One column of a change: its value before (`None` for an insert, or an update of a
/// row the session never loaded) and after (`None` for a delete).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    /// The column.
    pub column: &'static str,
    /// The value the row had.
    pub old: Option<Value>,
    /// The value the row gets.
    pub new: Option<Value>,
}

/// One model change: pending (before a flush), written, or committed.
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
    /// The row's primary key (empty for a pending insert whose key the database
    /// assigns).
    pub primary_key: Vec<Value>,
    /// The columns it changes: every column set by an insert; the columns an update
    /// changes, with their old values when the session had loaded the row; for a
    /// delete, the row as the session last saw it (as `old`), when it had.
    pub columns: Vec<ColumnChange>,
    model: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("table", &self.table)
            .field("operation", &self.operation)
            .field("primary_key", &self.primary_key)
            .field("columns", &self.columns)
            .finish()
    }
}

impl Change {
    pub(crate) fn new(
        table: &'static str,
        operation: Operation,
        primary_key: Vec<Value>,
        columns: Vec<ColumnChange>,
        model: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Self {
        Change {
            table,
            operation,
            primary_key,
            columns,
            model,
        }
    }

    /// The new value of `column`, if the change sets it.
    pub fn new_value(&self, column: &str) -> Option<&Value> {
        self.column(column)?.new.as_ref()
    }

    /// The old value of `column`, if known.
    pub fn old_value(&self, column: &str) -> Option<&Value> {
        self.column(column)?.old.as_ref()
    }

    fn column(&self, column: &str) -> Option<&ColumnChange> {
        self.columns.iter().find(|c| c.column == column)
    }

    /// The model as it was written (for a delete: as the session last saw it, when it
    /// had loaded the row; for a pending insert: none, as its key is not known yet),
    /// if it is an `M`.
    pub fn model<M: Model>(&self) -> Option<&M> {
        self.model.as_deref()?.downcast_ref::<M>()
    }
}

/// A listener: what `db.listen` and `session.listen` take.
pub(crate) type Listener = Arc<dyn Fn(&mut EventContext<'_>) -> Result<()> + Send + Sync>;

/// The listeners of one `Db` or session.
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<(SessionEvent, Listener)>>);

impl Listeners {
    pub(crate) fn add(&self, event: SessionEvent, listener: Listener) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push((event, listener));
    }

    /// Whether any listener is registered (then sessions record their changes).
    pub(crate) fn any(&self) -> bool {
        !self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Runs the listeners of `ctx`'s event in registration order; the first error stops
    /// them.
    pub(crate) fn run(&self, ctx: &mut EventContext<'_>) -> Result<()> {
        let listeners: Vec<Listener> = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(e, _)| *e == ctx.event)
            .map(|(_, l)| l.clone())
            .collect();
        listeners.into_iter().try_for_each(|l| l(ctx))
    }
}

/// What a listener gets: the event, its changes, and (before a flush) the means to
/// change the pending work.
///
/// ```
/// use flaskdb_core::{EventContext, Operation};
/// fn no_deletes(ctx: &mut EventContext<'_>) -> flaskdb_core::Result<()> {
///     match ctx.changes().iter().find(|c| c.operation == Operation::Delete) {
///         Some(c) => Err(flaskdb_core::Error::InvalidQuery(format!("{} rows are kept", c.table).into())),
///         None => Ok(()),
///     }
/// }
/// ```
pub struct EventContext<'a> {
    pub(crate) event: SessionEvent,
    pub(crate) changes: Vec<Change>,
    /// Before a flush: the work to write.
    pub(crate) pending: Option<&'a mut crate::runtime::session::PendingWork>,
    /// Whether the `Db` tracks modifications (the signals listen only then).
    pub(crate) tracking: bool,
}

impl EventContext<'_> {
    /// The event.
    pub fn event(&self) -> SessionEvent {
        self.event
    }

    /// The changes involved (see [`SessionEvent`]).
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Before a flush: queues `item` in the flush about to run (same transaction).
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] at any other event.
    pub fn add(&mut self, item: impl crate::runtime::session::Addable) -> Result<()> {
        self.pending_work()?.add(item);
        Ok(())
    }

    /// Before a flush: sets `column` of the `index`th pending change (an insert or an
    /// update) to `value`.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] at any other event, for an index out of range, a delete,
    /// or a column of another model.
    pub fn set<M: Model, T: crate::value::column_type::ColumnType>(
        &mut self,
        index: usize,
        column: crate::model::column::Column<M, T>,
        value: T,
    ) -> Result<()> {
        let value = value.into_value();
        self.pending_work()?
            .set(index, M::table(), column.name(), value.clone())?;
        if let Some(change) = self.changes.get_mut(index) {
            match change
                .columns
                .iter_mut()
                .find(|c| c.column == column.name())
            {
                Some(c) => c.new = Some(value),
                None => change.columns.push(ColumnChange {
                    column: column.name(),
                    old: None,
                    new: Some(value),
                }),
            }
        }
        Ok(())
    }

    fn pending_work(&mut self) -> Result<&mut crate::runtime::session::PendingWork> {
        let event = self.event;
        self.pending.as_deref_mut().ok_or_else(|| {
            Error::InvalidQuery(
                format!("the pending work can change before a flush, not at {event:?}").into(),
            )
        })
    }
}
