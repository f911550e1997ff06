//! The unit of work: pending changes, an identity map, and one transaction per bind.
//!
//! Rust will not share mutable objects the way SQLAlchemy's identity map does, so the
//! session keeps its own snapshot of every row it loaded or wrote, keyed by table and
//! primary key. `add(builder)` queues an insert; `add(model)` compares the model with its
//! snapshot and queues an UPDATE of the changed columns only (with no snapshot, an
//! UPDATE of every column that must match a row); `delete(&model)` queues a delete.
//!
//! `flush` writes the queue in foreign-key order (inserts parents first, grouped into
//! multi-row statements within the backend's parameter limit; deletes children first)
//! inside one transaction per bind, begun on first use, and fills generated keys back
//! (`RETURNING` where the database has it, the last-insert id otherwise). A failed flush
//! or commit rolls the transactions back and puts every change they held back in the
//! queue, so nothing is silently lost and the caller can fix and retry.
//!
//! A session holds a connection only while a transaction is open. On a shared
//! in-memory SQLite database a second writer waits for the first one's lock; when both
//! are in the same task that wait ends with [`Error::LockTimeout`] after the pool's
//! acquire timeout instead of hanging.
//!
//! This file holds the handle and its state; the rest is split by job: `queue` (what
//! `add`, `delete` and `insert` queue, and the checks before a flush), `identity` (the
//! snapshots), `changes` (change capture for listeners and signals), `transactions`
//! (begin, commit, rollback, statements in the session's transaction), `flush` (writing
//! the queue), `cascade` (deletes that follow relationships), `sentinel` (matching
//! returned keys to the rows sent) and `tokens` (commit tokens).

mod cascade;
mod changes;
mod flush;
mod identity;
mod queue;
mod sentinel;
mod tokens;
mod transactions;

use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::driver::executor;
use crate::driver::recording;
use crate::error::{Error, Result};
use crate::model::{FromRow, Insertable, KeyValues, Model, ValuesRow, Writable, decode_any};
use crate::runtime::db::Db;
use crate::runtime::events::{Change, EventContext, Listeners, SessionEvent};

use identity::{Identity, IdentityMap};
pub(crate) use queue::PendingWork;
pub use queue::{Addable, Pending};
use queue::{RowWrite, flatten};
pub(crate) use tokens::create_table as create_token_table;
pub use transactions::SessionTransaction;
use transactions::{Connections, roll_back_all};

#[derive(Default)]
struct State {
    pending: Vec<RowWrite>,
    /// Changes written in the open transactions: what a failed commit puts back in
    /// the queue.
    journal: Vec<RowWrite>,
    identity: IdentityMap,
    /// The model changes written in the open transactions, for the signals.
    changes: Vec<Change>,
    autoflush: bool,
    expire_on_commit: bool,
    /// The open transactions hold work the session cannot queue again: raw statements
    /// (`transaction`) or bulk updates and deletes (`execute`).
    unreplayable: bool,
    /// A failure rolled such work back: every operation fails until `rollback`.
    pending_rollback: bool,
}

struct Inner {
    db: Option<Db>,
    state: Mutex<State>,
    txs: tokio::sync::Mutex<Connections>,
    /// Held by a commit from its start until its COMMITs are done, even when its
    /// caller stopped waiting: a later commit starts only after it, and so sees the
    /// work it queued again if it failed.
    committing: Arc<tokio::sync::Mutex<()>>,
    listeners: Listeners,
}

/// A unit of work (Flask-SQLAlchemy's `db.session`): queue changes with [`add`] and
/// [`delete`], send them with [`flush`], make them permanent with [`commit`].
///
/// A session is a cheap handle: clones share the same work. Dropping the last handle
/// rolls back anything not committed. The `flaskdb` crate's quick start shows it with
/// models; here with raw SQL in its transaction:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// db.execute("CREATE TABLE t (x INTEGER)", vec![]).await?;
/// let mut s = db.session();
/// {
///     let mut tx = s.transaction(None).await?;
///     sqlx::query("INSERT INTO t VALUES (1)").execute(tx.as_sqlite().unwrap()).await?;
/// }
/// s.rollback().await?;
/// assert!(db.fetch_all("SELECT x FROM t", vec![]).await?.is_empty());
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
///
/// [`add`]: Session::add
/// [`delete`]: Session::delete
/// [`flush`]: Session::flush
/// [`commit`]: Session::commit
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("pending", &state.pending.len())
            .field("identity_map", &state.identity.len())
            .finish()
    }
}

impl Session {
    pub(crate) fn new(db: Option<Db>) -> Session {
        Session {
            inner: Arc::new(Inner {
                db,
                state: Mutex::new(State {
                    autoflush: true,
                    expire_on_commit: true,
                    ..State::default()
                }),
                txs: tokio::sync::Mutex::default(),
                committing: Arc::default(),
                listeners: Listeners::default(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn db(&self) -> Result<&Db> {
        // Only `flaskdb::session()` outside any scope makes a session without a db.
        self.inner.db.as_ref().ok_or(Error::NoScope)
    }

    /// Whether queries through the session flush pending changes first (default: yes).
    pub fn autoflush(self, on: bool) -> Self {
        self.state().autoflush = on;
        self
    }

    /// Whether `commit` forgets the loaded rows, so the next `get` reads them again
    /// (default: yes, as SQLAlchemy's `expire_on_commit`).
    pub fn expire_on_commit(self, on: bool) -> Self {
        self.state().expire_on_commit = on;
        self
    }

    /// Ends the session: rolls back anything not committed.
    pub(crate) async fn close(&self) {
        let txs = self.inner.txs.lock().await.end();
        *self.state() = State {
            autoflush: true,
            expire_on_commit: true,
            ..State::default()
        };
        roll_back_all(txs).await;
    }

    /// Fails while a rollback is pending (see [`Error::PendingRollback`]).
    fn usable(&self) -> Result<()> {
        match self.state().pending_rollback {
            true => Err(Error::PendingRollback),
            false => Ok(()),
        }
    }

    /// The db this session works on.
    pub(crate) fn database(&self) -> Result<Db> {
        self.db().cloned()
    }

    /// Queues a change: a builder becomes an INSERT; a model an UPDATE of the columns
    /// that differ from what the session loaded (of every column, matched by primary
    /// key, when the session never loaded that row).
    pub fn add(&mut self, item: impl Addable) {
        let mut guard = self.state();
        let state = &mut *guard;
        item.into_pending()
            .queue(&state.identity, &mut state.pending);
    }

    /// [`Session::add`] for each item.
    pub fn add_all<A: Addable>(&mut self, items: impl IntoIterator<Item = A>) {
        for item in items {
            self.add(item);
        }
    }

    /// Queues the deletion of `model`'s row.
    pub fn delete<M: Writable>(&mut self, model: &M) {
        self.state().pending.push(RowWrite::Delete {
            table: M::table(),
            key: model.primary_key().key_values(),
            decode: decode_any::<M>,
        });
    }

    /// Inserts now (flushing everything queued before it) and returns the row as the
    /// database stored it, generated key and defaults included.
    ///
    /// # Errors
    /// As [`Session::flush`].
    #[track_caller]
    pub fn insert<B: Insertable>(
        &mut self,
        builder: B,
    ) -> impl Future<Output = Result<B::Model>> + Send {
        recording::at(Location::caller(), async move {
            let mut ops = Vec::new();
            flatten(
                builder.into_partial_row(),
                decode_any::<B::Model>,
                None,
                &mut ops,
            );
            let root = match ops.first() {
                Some(RowWrite::Insert { id, .. }) => *id,
                _ => 0,
            };
            self.state().pending.extend(ops);
            let inserted = self.flush_inner(true).await?;
            let values = inserted
                .iter()
                .find(|(id, _)| *id == root)
                .map(|(_, v)| v)
                .ok_or(Error::NoResultFound)?;
            B::Model::from_row(&ValuesRow(values), 0)
        })
    }

    /// Forgets the session's copy of `model`'s row (SQLAlchemy's `expunge`): a later
    /// `add` of it updates every column.
    pub fn expunge<M: Model>(&mut self, model: &M) {
        let key = Identity(M::table().name(), model.primary_key().key_values());
        self.state().identity.remove(&key);
    }

    /// Reads `model`'s row again, replacing its fields and the session's copy.
    ///
    /// # Errors
    /// [`Error::NoResultFound`] when the row no longer exists; database errors.
    #[track_caller]
    pub fn refresh<M: Model>(&mut self, model: &mut M) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            self.expunge(model);
            let fresh = self.query::<M>().get(model.primary_key()).await?;
            *model = fresh.ok_or(Error::NoResultFound)?;
            Ok(())
        })
    }

    /// Runs `listener` at `event` of this session (after the `Db`'s listeners); see
    /// [`EventContext`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db, SessionEvent};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// let mut s = db.session();
    /// s.listen(SessionEvent::AfterCommit, |ctx| {
    ///     println!("{} rows committed", ctx.changes().len());
    ///     Ok(())
    /// });
    /// s.commit().await?;
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub fn listen(
        &self,
        event: SessionEvent,
        listener: impl Fn(&mut EventContext<'_>) -> Result<()> + Send + Sync + 'static,
    ) {
        self.inner.listeners.add(event, Arc::new(listener));
    }

    /// Flushes and commits every open transaction.
    ///
    /// # Errors
    /// As [`Session::flush`]; a failed commit rolls back the binds not yet committed and
    /// queues their changes again. [`Error::CommitOutcomeUnknown`] when the connection
    /// was lost while a COMMIT waited for its reply (the work of that bind is not queued
    /// again: it may have been written); with
    /// [`EngineOptions::commit_tokens`](crate::EngineOptions::commit_tokens) on, flaskdb
    /// finds out instead, and this error remains only for a server out of reach.
    #[track_caller]
    pub fn commit(&mut self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            let db = self.db()?.clone();
            let turn = self.inner.committing.clone().lock_owned().await;
            let expire = self.state().expire_on_commit;
            self.flush_inner(!expire || self.records_changes(&db))
                .await?;
            // The commit itself cannot be cut off half-way by a caller that stops
            // waiting (a timeout, a dropped request): it then finishes on a task of its
            // own, or fails and queues the work again, either way in full.
            let session = self.clone();
            let task = async move {
                let result = session.finish_commit(db).await;
                drop(turn);
                result
            };
            executor::uncancelled(task).await
        })
    }

    /// Discards every queued and flushed change and rolls back the open transactions.
    ///
    /// # Errors
    /// Database errors from the rollback (the changes are discarded all the same).
    #[track_caller]
    pub fn rollback(&mut self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            let txs = self.inner.txs.lock().await.end();
            let discarded = {
                let mut state = self.state();
                state.pending.clear();
                state.journal.clear();
                state.identity.clear();
                state.unreplayable = false;
                state.pending_rollback = false;
                std::mem::take(&mut state.changes)
            };
            for (_, tx) in txs {
                tx.rollback().await?;
            }
            let db = self.db()?;
            self.emit(db, SessionEvent::AfterRollback, discarded, None)
                .map(drop)
        })
    }

    /// The open transaction of bind `key` (`None` = default), begun if needed, for raw
    /// sqlx queries in the session's transaction:
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # use flaskdb_core::{Config, Db};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// let s = db.session();
    /// let mut tx = s.transaction(None).await?;
    /// let conn = tx.as_sqlite().unwrap();
    /// sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut *conn).await?;
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownBind`]; database errors when beginning.
    #[track_caller]
    pub fn transaction(
        &self,
        key: Option<&str>,
    ) -> impl Future<Output = Result<SessionTransaction<'_>>> + Send {
        recording::at(Location::caller(), async move {
            self.usable()?;
            let engine = self.db()?.engine_for(key)?;
            let mut txs = self.inner.txs.lock().await;
            let index = txs.begin(key, &engine, false).await?;
            // What the caller runs in it is not in the journal.
            self.state().unreplayable = true;
            Ok(SessionTransaction { txs, index })
        })
    }

    /// Sends every queued change to the database, in the open transactions (begun
    /// here when needed), without committing.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a builder with a required column unset (that
    /// builder is dropped from the queue; nothing else is); constraint and database
    /// errors, after which the transactions are rolled back and every change they held
    /// is queued again.
    #[track_caller]
    pub fn flush(&mut self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            self.flush_inner(true).await.map(drop)
        })
    }
}
