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

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::driver::executor::Tx;
use crate::error::{Error, Result};
use crate::runtime::db::Db;
use crate::runtime::events::{Change, Listeners};

use identity::IdentityMap;
pub(crate) use queue::PendingWork;
use queue::RowWrite;
pub use queue::{Addable, Pending};
pub(crate) use tokens::create_table as create_token_table;
pub use transactions::SessionTransaction;
use transactions::roll_back_all;

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
    txs: tokio::sync::Mutex<Vec<(Option<String>, Tx)>>,
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
                txs: tokio::sync::Mutex::new(Vec::new()),
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
        let txs = std::mem::take(&mut *self.inner.txs.lock().await);
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
}
