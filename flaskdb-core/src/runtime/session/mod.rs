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

use std::future::Future;
use std::panic::Location;

use crate::driver::recording;

mod cascade;
mod sentinel;
mod tokens;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sentinel::Sentinel;
pub(crate) use tokens::create_table as create_token_table;

use crate::backend::Backend;
use crate::driver::engine::Engine;
use crate::driver::executor::{self, Conn, Done, Tx};
use crate::error::{Error, Result};
use crate::model::decode_any;
use crate::model::{FromRow, InsertRow, Insertable, KeyValues, Model, ValuesRow, Writable};
use crate::runtime::db::Db;
use crate::runtime::events::{
    Change, ColumnChange, EventContext, Listeners, Operation, SessionEvent,
};
use crate::schema::relation::{Decoder, RelationDef};
use crate::schema::{ColumnDef, Table, parents_first};
use crate::sql::expr::Node;
use crate::sql::{self, Clauses, DeleteStmt, InsertStmt, Projection, Rendered, UpdateStmt};
use crate::value::{Value, total_cmp_all};

/// A value `Session::add` accepts: a builder (a new row) or a model (a row to update).
/// `#[derive(Model)]` implements it for both.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be added to a session",
    label = "not a model, a model reference or a builder of a table",
    note = "`#[model(view)]` models are read-only"
)]
pub trait Addable {
    #[doc(hidden)]
    fn into_pending(self) -> Pending;
}

/// A change to queue, as [`Addable`] produces it: a new row (with the rows its builder
/// added through relationships), or a model's current values.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Pending(Queued);

#[derive(Debug, Clone)]
enum Queued {
    /// A new row of a model, decoded by the decoder.
    Insert(InsertRow, Decoder),
    /// An existing row.
    Change(RowWrite),
}

/// Numbers insert ops, so a child can name the parent whose key it takes.
static NEXT_INSERT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Pending {
    /// A new row of model `M` from its builder, with any rows linked to it.
    pub fn insert<M: Model>(row: InsertRow) -> Pending {
        Pending(Queued::Insert(row, decode_any::<M>))
    }

    /// An existing row with its current values.
    pub fn model<M: Model>(model: &M) -> Pending {
        Pending(Queued::Change(RowWrite::Update {
            table: M::table(),
            key: model.primary_key().key_values(),
            values: model.values(),
            changed: None,
            decode: decode_any::<M>,
        }))
    }

    /// Appends the ops to `ops`: a new row and its linked rows, or an update unless it
    /// changes nothing the session knows of.
    fn queue(self, identity: &IdentityMap, ops: &mut Vec<RowWrite>) {
        match self.0 {
            Queued::Insert(row, decode) => flatten(row, decode, None, ops),
            Queued::Change(op) => ops.extend(compared(identity, op)),
        }
    }
}

/// Queues `row` (checking its required columns, except those its link fills) and then
/// the rows linked to it.
fn flatten(
    mut row: InsertRow,
    decode: Decoder,
    link: Option<(u64, &'static RelationDef)>,
    ops: &mut Vec<RowWrite>,
) {
    let filled: Vec<String> = match link {
        None => Vec::new(),
        Some((_, def)) => match def.resolve() {
            Ok(r) => r.pairs.iter().map(|p| p.0.clone()).collect(),
            Err(e) => {
                ops.push(RowWrite::Invalid(e.to_string()));
                return;
            }
        },
    };
    if let Some(reason) = row.invalid() {
        ops.push(RowWrite::Invalid(reason.to_owned()));
        return;
    }
    if let Some(column) = row
        .missing()
        .iter()
        .find(|c| !filled.iter().any(|f| f == *c))
    {
        ops.push(RowWrite::Missing {
            table: row.table().name().to_owned(),
            column: (*column).to_owned(),
        });
        return;
    }
    let id = NEXT_INSERT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let children = row.take_children();
    ops.push(RowWrite::Insert {
        row,
        decode,
        id,
        link,
    });
    for (def, child) in children {
        flatten(child, def.target_decoder, Some((id, def)), ops);
    }
}

/// One write of a flush: a row to insert, the changed columns of a row to update, or a
/// row to delete.
#[derive(Debug, Clone)]
enum RowWrite {
    /// A new row; `link` names the parent insert whose key fills its foreign key.
    Insert {
        row: InsertRow,
        decode: Decoder,
        id: u64,
        link: Option<(u64, &'static RelationDef)>,
    },
    /// `changed: None` = every non-key column, and a row must match.
    Update {
        table: &'static Table,
        key: Vec<Value>,
        values: Vec<Value>,
        changed: Option<Vec<usize>>,
        decode: Decoder,
    },
    Delete {
        table: &'static Table,
        key: Vec<Value>,
        decode: Decoder,
    },
    /// A builder that could not produce a row: a required column is unset.
    Missing { table: String, column: String },
    /// A builder whose relationship could not be resolved.
    Invalid(String),
}

impl RowWrite {
    fn decoder(&self) -> Option<Decoder> {
        match self {
            RowWrite::Insert { decode, .. }
            | RowWrite::Update { decode, .. }
            | RowWrite::Delete { decode, .. } => Some(*decode),
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => None,
        }
    }

    fn table(&self) -> Option<&'static Table> {
        match self {
            RowWrite::Insert { row, .. } => Some(row.table()),
            RowWrite::Update { table, .. } | RowWrite::Delete { table, .. } => Some(table),
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => None,
        }
    }

    /// The bind whose transaction the op is written in (`None` = default).
    fn bind(&self) -> Option<&'static str> {
        self.table().and_then(Table::bind_key)
    }
}

/// A primary key as an identity-map key: the table and the key's values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Identity(&'static str, Vec<Value>);

/// The session's copy of each row it loaded or wrote, by identity.
type IdentityMap = HashMap<Identity, Vec<Value>>;

fn key_of(table: &Table, values: &[Value]) -> Vec<Value> {
    table
        .columns()
        .iter()
        .zip(values)
        .filter(|(c, _)| c.is_primary_key())
        .map(|(_, v)| v.clone())
        .collect()
}

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

    /// Commits every open transaction (after the flush): the part of a commit that
    /// must not be cancelled.
    async fn finish_commit(self, db: Db) -> Result<()> {
        let changes = std::mem::take(&mut self.state().changes);
        let mut txs = self.inner.txs.lock().await;
        let changes = match self.emit(&db, SessionEvent::BeforeCommit, changes, None) {
            Ok(changes) => changes,
            Err(e) => return Err(self.undo(&db, &mut txs, Vec::new(), e).await),
        };
        // The binds whose work is (or may be) permanent.
        let mut committed: Vec<Option<String>> = Vec::new();
        while !txs.is_empty() {
            let (bind, mut tx) = txs.remove(0);
            let wrote = {
                let state = self.state();
                state.unreplayable || state.journal.iter().any(|op| op.bind() == bind.as_deref())
            };
            let stamped = match wrote {
                true => tokens::stamp(&mut tx).await,
                false => Ok(None),
            };
            let failure = match stamped {
                Ok(token) => {
                    let engine = tx.engine.clone();
                    match tx.commit().await {
                        Ok(()) => None,
                        // The server refused the COMMIT: it did not commit.
                        Err(e) if e.is_server_reply() => Some(e),
                        // No answer: a transaction that wrote nothing loses nothing
                        // either way; one that wrote is in doubt.
                        Err(_) if !wrote => None,
                        Err(e) => in_doubt(&engine, bind.clone(), token, e).await,
                    }
                }
                Err(e) => {
                    txs.insert(0, (bind.clone(), tx));
                    Some(e)
                }
            };
            if let Some(e) = failure {
                if matches!(e, Error::CommitOutcomeUnknown { .. }) {
                    committed.push(bind);
                }
                // What the committed binds wrote is permanent, and what a commit in
                // doubt wrote may be: keep only the rest.
                self.state()
                    .journal
                    .retain(|op| !committed.iter().any(|b| b.as_deref() == op.bind()));
                return Err(self.undo(&db, &mut txs, Vec::new(), e).await);
            }
            committed.push(bind);
        }
        {
            let mut state = self.state();
            state.journal.clear();
            state.unreplayable = false;
            if state.expire_on_commit {
                state.identity.clear();
            }
        }
        drop(txs);
        self.emit(&db, SessionEvent::AfterCommit, changes, None)
            .map(drop)
    }

    /// Discards every queued and flushed change and rolls back the open transactions.
    ///
    /// # Errors
    /// Database errors from the rollback (the changes are discarded all the same).
    #[track_caller]
    pub fn rollback(&mut self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            let txs = std::mem::take(&mut *self.inner.txs.lock().await);
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
            let index = begin(&mut txs, key, &engine, false).await?;
            // What the caller runs in it is not in the journal.
            self.state().unreplayable = true;
            Ok(SessionTransaction { txs, index })
        })
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

    /// Flushes; returns the inserted rows. With `keep: false` (a commit that will
    /// expire the identity map, with no change signals) the written rows are not
    /// needed, and are neither read back nor kept.
    async fn flush_inner(&self, keep: bool) -> Result<Vec<(u64, Vec<Value>)>> {
        self.usable()?;
        if self.state().pending.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db()?.clone();
        // The transactions are held from before the work leaves the queue until it is
        // written, so a flush cut off while it waits for them has taken nothing, and
        // one cut off while it writes drops them before another task can use them.
        let mut guard = FlushGuard::new(self, self.inner.txs.lock().await);
        let mut ops = std::mem::take(&mut self.state().pending);
        refresh_onupdate(&mut ops);
        if let Some(error) = take_broken(&mut ops) {
            guard.disarm();
            requeue(&mut self.state(), ops);
            return Err(error);
        }
        if ops.is_empty() {
            guard.disarm();
            return Ok(Vec::new());
        }
        let record = self.records_changes(&db);
        // No await until the work is in the guard.
        let mut ops = if record {
            let mut work = PendingWork {
                ops,
                session: self.clone(),
            };
            let queued = work.ops.len();
            let changes = work.changes();
            if let Err(e) = self.emit(&db, SessionEvent::BeforeFlush, changes, Some(&mut work)) {
                // Rows the listeners added are theirs to add again.
                work.ops.truncate(queued);
                guard.disarm();
                return Err(self.undo(&db, &mut guard.txs, work.ops, e).await);
            }
            work.ops
        } else {
            ops
        };
        // Rows the listeners added are checked as the queue was (without listeners,
        // the queue was checked above).
        let broken = if record { take_broken(&mut ops) } else { None };
        if let Some(error) = broken.or_else(|| take_unstorable(&db, &mut ops)) {
            guard.disarm();
            requeue(&mut self.state(), ops);
            return Err(error);
        }
        guard.ops = ops;
        let written = match write(&db, &mut guard.txs, &guard.ops, keep).await {
            Ok(written) => written,
            Err(e) => {
                let ops = guard.disarm();
                return Err(self.undo(&db, &mut guard.txs, ops, e).await);
            }
        };
        let ops = guard.disarm();
        let mut flushed = Vec::new();
        let mut inserted = Vec::new();
        {
            let mut state = self.state();
            for w in written {
                match w {
                    RowEffect::Row {
                        op,
                        table,
                        values,
                        inserted: is_insert,
                    } => {
                        if let RowWrite::Insert { id, .. } = &ops[op] {
                            inserted.push((*id, values.clone()));
                        }
                        let key = key_of(table, &values);
                        let id = Identity(table.name(), key.clone());
                        if record && let Some(decode) = ops[op].decoder() {
                            let (operation, columns) = match (is_insert, &ops[op]) {
                                (false, RowWrite::Update { changed, .. }) => (
                                    Operation::Update,
                                    column_changes(
                                        table,
                                        state.identity.get(&id).map(Vec::as_slice),
                                        Some(&values),
                                        changed.as_deref(),
                                    ),
                                ),
                                _ => (
                                    Operation::Insert,
                                    column_changes(table, None, Some(&values), None),
                                ),
                            };
                            let model = decode(&values);
                            let change = Change::new(table.name(), operation, key, columns, model);
                            flushed.push(change);
                        }
                        state.identity.insert(id, values);
                    }
                    RowEffect::Deleted { decode, table, key } => {
                        let id = Identity(table.name(), key.clone());
                        let last_seen = state.identity.remove(&id);
                        if let Some(decode) = decode.filter(|_| record) {
                            let model = last_seen.as_deref().and_then(decode);
                            let columns = column_changes(table, last_seen.as_deref(), None, None);
                            let change =
                                Change::new(table.name(), Operation::Delete, key, columns, model);
                            flushed.push(change);
                        }
                    }
                }
            }
            if state.journal.is_empty() {
                state.journal = ops;
            } else {
                state.journal.extend(ops);
            }
        }
        if record {
            match self.emit(&db, SessionEvent::AfterFlush, flushed, None) {
                Ok(flushed) => {
                    let mut state = self.state();
                    for change in flushed {
                        record_change(&mut state.changes, change);
                    }
                }
                Err(e) => return Err(self.undo(&db, &mut guard.txs, Vec::new(), e).await),
            }
        }
        Ok(inserted)
    }

    /// Whether flushes record their changes: for the signals or any listener.
    fn records_changes(&self, db: &Db) -> bool {
        db.tracks_modifications() || db.listeners().any() || self.inner.listeners.any()
    }

    /// Runs the listeners of `event` (the `Db`'s, then the session's); returns the
    /// changes as they left them.
    fn emit(
        &self,
        db: &Db,
        event: SessionEvent,
        changes: Vec<Change>,
        pending: Option<&mut PendingWork>,
    ) -> Result<Vec<Change>> {
        let mut ctx = EventContext {
            event,
            changes,
            pending,
            tracking: db.tracks_modifications(),
        };
        db.listeners().run(&mut ctx)?;
        self.inner.listeners.run(&mut ctx)?;
        Ok(ctx.changes)
    }

    /// Rolls back after `error`: every transaction, with the work written in them and
    /// `ops` queued again, then the `AfterRollback` listeners. Returns `error`.
    async fn undo(
        &self,
        db: &Db,
        txs: &mut Vec<(Option<String>, Tx)>,
        ops: Vec<RowWrite>,
        error: Error,
    ) -> Error {
        // The work is queued again before anything awaits, so a cancelled rollback
        // loses none of it.
        let discarded = {
            let mut state = self.state();
            let journal = std::mem::take(&mut state.journal);
            requeue_journal(&mut state, journal, ops);
            lose_unreplayable(&mut state);
            std::mem::take(&mut state.changes)
        };
        roll_back_all(std::mem::take(txs)).await;
        // The error that caused the rollback is the one to report.
        let _ = self.emit(db, SessionEvent::AfterRollback, discarded, None);
        error
    }

    /// Runs a query through the session: autoflush, then on the bind's transaction.
    ///
    /// The transaction begins lazily: before the session's first write on the bind, or
    /// its first locking read (`with_for_update`). A read before then runs on the pool
    /// in autocommit, as a statement of its own, so a session that only reads sends no
    /// BEGIN and no ROLLBACK.
    pub(crate) async fn fetch<T: FromRow>(
        &self,
        engine: &Engine,
        bind: Option<&str>,
        r: Rendered<'_>,
        max: Option<usize>,
    ) -> Result<Vec<T>> {
        self.usable()?;
        if self.state().autoflush {
            Box::pin(self.flush_inner(true)).await?;
        }
        let mut txs = self.inner.txs.lock().await;
        if !r.locks && !txs.iter().any(|(k, _)| k.as_deref() == bind) {
            drop(txs);
            return executor::fetch(Conn::Pool(engine), r, max).await;
        }
        // Cut off part-way, the statement leaves its transaction unusable: the guard
        // then undoes the session's work as a failure would.
        let index = begin(&mut txs, bind, engine, r.locks).await?;
        let mut guard = FlushGuard::new(self, txs);
        let fetched = executor::fetch(Conn::Tx(&mut guard.txs[index].1), r, max).await;
        guard.disarm();
        match fetched {
            Err(e) if e.is_server_reply() => Err(self.undo_statement(&mut guard.txs, e).await),
            result => result,
        }
    }

    /// Runs a bulk statement through the session's transaction.
    pub(crate) async fn execute(
        &self,
        engine: &Engine,
        bind: Option<&str>,
        r: Rendered<'_>,
    ) -> Result<Done> {
        self.usable()?;
        if self.state().autoflush {
            Box::pin(self.flush_inner(true)).await?;
        }
        // As in `fetch`.
        let mut txs = self.inner.txs.lock().await;
        let index = begin(&mut txs, bind, engine, false).await?;
        let mut guard = FlushGuard::new(self, txs);
        let done = executor::execute(Conn::Tx(&mut guard.txs[index].1), r).await;
        guard.disarm();
        match done {
            Ok(done) => {
                self.state().unreplayable = true;
                Ok(done)
            }
            Err(e) if e.is_server_reply() => Err(self.undo_statement(&mut guard.txs, e).await),
            Err(e) => Err(e),
        }
    }

    /// Rolls back after a statement the server refused in the session's transaction:
    /// PostgreSQL aborts the transaction then (its COMMIT would roll everything back
    /// and report success), and every backend is left the same way.
    async fn undo_statement(&self, txs: &mut Vec<(Option<String>, Tx)>, error: Error) -> Error {
        match self.db() {
            Ok(db) => self.undo(db, txs, Vec::new(), error).await,
            Err(e) => e,
        }
    }

    /// Fails while a rollback is pending (see [`Error::PendingRollback`]).
    fn usable(&self) -> Result<()> {
        match self.state().pending_rollback {
            true => Err(Error::PendingRollback),
            false => Ok(()),
        }
    }

    /// Records loaded rows in the identity map.
    pub(crate) fn remember<M: Model>(&self, rows: &[M]) {
        let mut state = self.state();
        for row in rows {
            let id = Identity(M::table().name(), row.primary_key().key_values());
            state.identity.insert(id, row.values());
        }
    }

    /// The session's copy of a row, decoded, when it has one.
    pub(crate) fn lookup<M: Model>(&self, key: &[Value]) -> Option<Result<M>> {
        let state = self.state();
        let values = state
            .identity
            .get(&Identity(M::table().name(), key.to_vec()))?;
        Some(M::from_row(&ValuesRow(values), 0))
    }

    /// The db this session works on.
    pub(crate) fn database(&self) -> Result<Db> {
        self.db().cloned()
    }
}

/// What a COMMIT on `engine` that got no answer (`lost`: the connection ended, or the
/// reply could not be read) did: with a commit token, the token answers (`None`: it
/// committed; `lost`, the work queued again: it did not); without one, or while the
/// token cannot be looked up, the outcome is unknown.
async fn in_doubt(
    engine: &Engine,
    bind: Option<String>,
    token: Option<String>,
    lost: Error,
) -> Option<Error> {
    let cause = match &token {
        Some(token) => match tokens::resolve(engine, token).await {
            tokens::Outcome::Committed => return None,
            tokens::Outcome::RolledBack => return Some(lost),
            tokens::Outcome::Unknown(e) => e,
        },
        None => lost,
    };
    Some(Error::CommitOutcomeUnknown {
        bind,
        token,
        cause: Box::new(cause),
    })
}

/// Rolls back after a failure, so nothing of it stays visible. Where a statement may
/// still be waiting for a lock (shared in-memory SQLite), the rollback waits at most
/// the lock timeout; then the transaction is dropped and sqlx rolls it back once the
/// statement ends.
async fn roll_back_all(txs: Vec<(Option<String>, Tx)>) {
    for (_, tx) in txs {
        match tx.engine.lock_timeout() {
            Some(limit) => drop(tokio::time::timeout(limit, tx.rollback()).await),
            None => drop(tx.rollback().await),
        }
    }
}

/// Adds a change to the list a commit signals: a later change of the same row and
/// operation replaces the earlier one in its place (an insert then an update of one
/// row stay two changes, as in Flask-SQLAlchemy).
fn record_change(changes: &mut Vec<Change>, change: Change) {
    let same = changes.iter_mut().find(|c| {
        c.table == change.table
            && c.operation == change.operation
            && c.primary_key == change.primary_key
    });
    match same {
        Some(slot) => *slot = change,
        None => changes.push(change),
    }
}

/// `op` against the session's copy of its row: an update of a loaded row keeps only
/// the columns that differ, and is dropped when none does.
fn compared(identity: &IdentityMap, mut op: RowWrite) -> Option<RowWrite> {
    if let RowWrite::Update {
        table,
        key,
        values,
        changed,
        ..
    } = &mut op
        && let Some(snapshot) = identity.get(&Identity(table.name(), key.clone()))
    {
        let diff: Vec<usize> = (0..values.len())
            .filter(|&i| !table.columns()[i].is_primary_key() && values[i] != snapshot[i])
            .collect();
        if diff.is_empty() {
            return None;
        }
        *changed = Some(diff);
    }
    Some(op)
}

/// Removes the first row holding a value its column cannot store (see
/// `Backend::check_value`) and returns the error naming the column; the rest stays.
fn take_unstorable(db: &Db, ops: &mut Vec<RowWrite>) -> Option<Error> {
    // Only text columns with a length and float columns can hold such a value; the
    // backend of each table is looked up once.
    let mut backends: Vec<(&'static Table, Option<Backend>)> = Vec::new();
    let (i, error) = ops.iter().enumerate().find_map(|(i, op)| {
        let table = op.table()?;
        let backend = match backends.iter().find(|(t, _)| std::ptr::eq(*t, table)) {
            Some((_, b)) => (*b)?,
            None => {
                let b = table
                    .columns()
                    .iter()
                    .any(Backend::may_reject)
                    .then(|| db.engine_for(table.bind_key()).ok().map(|e| e.backend()))
                    .flatten();
                backends.push((table, b));
                b?
            }
        };
        let unstorable = |c: &ColumnDef, v: &Value| {
            Backend::may_reject(c)
                .then(|| backend.check_value(table, c, v).err())
                .flatten()
        };
        let found = match op {
            RowWrite::Insert { row, .. } => row.values().find_map(|(c, v)| unstorable(c, v)),
            RowWrite::Update { values, .. } => table
                .columns()
                .iter()
                .zip(values)
                .find_map(|(c, v)| unstorable(c, v)),
            _ => None,
        };
        found.map(|e| (i, e))
    })?;
    ops.remove(i);
    Some(error)
}

/// Sets the `onupdate` columns of each update that does not set them itself.
fn refresh_onupdate(ops: &mut [RowWrite]) {
    for op in ops {
        let RowWrite::Update {
            table,
            values,
            changed,
            ..
        } = op
        else {
            continue;
        };
        for (i, column) in table.columns().iter().enumerate() {
            let Some(value) = column.update_value() else {
                continue;
            };
            match changed {
                Some(changed) if changed.contains(&i) => {}
                Some(changed) => {
                    values[i] = value;
                    changed.push(i);
                    changed.sort_unstable();
                }
                None => values[i] = value,
            }
        }
    }
}

/// Removes the first builder that can never be written (a required column unset, a
/// relationship that could not be resolved) and returns its error; the rest stays.
fn take_broken(ops: &mut Vec<RowWrite>) -> Option<Error> {
    let i = ops
        .iter()
        .position(|op| matches!(op, RowWrite::Missing { .. } | RowWrite::Invalid(_)))?;
    Some(match ops.remove(i) {
        RowWrite::Missing { table, column } => Error::MissingColumn { table, column },
        RowWrite::Invalid(message) => Error::InvalidQuery(message.into()),
        _ => Error::NoResultFound,
    })
}

/// The columns of a change: `new` values (an insert or update; only `changed` ones
/// when given) against the `old` row (a loaded row's snapshot; for a delete, alone).
fn column_changes(
    table: &'static Table,
    old: Option<&[Value]>,
    new: Option<&[Value]>,
    changed: Option<&[usize]>,
) -> Vec<ColumnChange> {
    table
        .columns()
        .iter()
        .enumerate()
        .filter(|(i, c)| match (new, changed) {
            (Some(_), Some(changed)) => changed.contains(i),
            (Some(_), None) => old.is_none() || !c.is_primary_key(),
            (None, _) => old.is_some(),
        })
        .map(|(i, c)| ColumnChange {
            column: c.name(),
            old: old.and_then(|row| row.get(i)).cloned(),
            new: new.and_then(|row| row.get(i)).cloned(),
        })
        .filter(|c| new.is_none() || c.old.is_none() || c.old != c.new)
        .collect()
}

/// The work a flush is about to write, as a `BeforeFlush` listener may change it.
pub(crate) struct PendingWork {
    ops: Vec<RowWrite>,
    session: Session,
}

impl PendingWork {
    /// The pending changes, one per queued row, in queue order.
    fn changes(&self) -> Vec<Change> {
        let state = self.session.state();
        self.ops
            .iter()
            .filter_map(|op| {
                let (table, operation, key, columns, model) = match op {
                    RowWrite::Insert { row, .. } => {
                        let table = row.table();
                        let values: Vec<Value> = table
                            .columns()
                            .iter()
                            .zip(row.slots())
                            .map(|(c, v)| v.clone().unwrap_or(Value::Null(c.sql_type())))
                            .collect();
                        let key = key_of(table, &values);
                        let key = if key.iter().any(|v| matches!(v, Value::Null(_))) {
                            Vec::new()
                        } else {
                            key
                        };
                        let columns = column_changes(table, None, Some(&values), None)
                            .into_iter()
                            .filter(|c| row.sets(c.column))
                            .collect();
                        (table, Operation::Insert, key, columns, None)
                    }
                    RowWrite::Update {
                        table,
                        key,
                        values,
                        changed,
                        decode,
                    } => {
                        let old = state.identity.get(&Identity(table.name(), key.clone()));
                        let columns = column_changes(
                            table,
                            old.map(Vec::as_slice),
                            Some(values),
                            changed.as_deref(),
                        );
                        (
                            *table,
                            Operation::Update,
                            key.clone(),
                            columns,
                            decode(values),
                        )
                    }
                    RowWrite::Delete { table, key, decode } => {
                        let old = state.identity.get(&Identity(table.name(), key.clone()));
                        let columns = column_changes(table, old.map(Vec::as_slice), None, None);
                        let model = old.and_then(|row| decode(row));
                        (*table, Operation::Delete, key.clone(), columns, model)
                    }
                    RowWrite::Missing { .. } | RowWrite::Invalid(_) => return None,
                };
                Some(Change::new(table.name(), operation, key, columns, model))
            })
            .collect()
    }

    /// Queues `item` in this flush, as [`Session::add`] would.
    pub(crate) fn add(&mut self, item: impl Addable) {
        let state = self.session.state();
        item.into_pending().queue(&state.identity, &mut self.ops);
    }

    /// Sets `column` of the `index`th queued row.
    pub(crate) fn set(
        &mut self,
        index: usize,
        table: &'static Table,
        column: &'static str,
        value: Value,
    ) -> Result<()> {
        let wrong =
            |why: &str| Error::InvalidQuery(format!("pending change {index}: {why}").into());
        let op = self
            .ops
            .get_mut(index)
            .ok_or_else(|| wrong("no such change"))?;
        if op.table().is_none_or(|t| !std::ptr::eq(t, table)) {
            return Err(wrong(&format!("not a row of `{}`", table.name())));
        }
        let position = table
            .column_position(column)
            .ok_or_else(|| wrong(&format!("no column `{column}`")))?;
        match op {
            RowWrite::Insert { row, .. } => row.set(position, value),
            RowWrite::Update {
                values, changed, ..
            } => {
                values[position] = value;
                if let Some(changed) = changed
                    && !changed.contains(&position)
                {
                    changed.push(position);
                    changed.sort_unstable();
                }
            }
            _ => return Err(wrong("a delete has no values to set")),
        }
        Ok(())
    }
}

fn requeue(state: &mut State, mut ops: Vec<RowWrite>) {
    ops.append(&mut state.pending);
    state.pending = ops;
}

/// The open transactions are being rolled back: if they held work the session cannot
/// queue again, nothing may go on as if it were there.
fn lose_unreplayable(state: &mut State) {
    if std::mem::take(&mut state.unreplayable) {
        state.pending_rollback = true;
    }
}

/// Queues again what the open transactions wrote (`journal`) and then `ops`, ahead of
/// anything queued since, and forgets the rows the session had seen in them.
fn requeue_journal(state: &mut State, mut journal: Vec<RowWrite>, ops: Vec<RowWrite>) {
    journal.extend(ops);
    requeue(state, journal);
    state.identity.clear();
}

/// The open transactions of one session, as a task holds them.
type Txs<'a> = tokio::sync::MutexGuard<'a, Vec<(Option<String>, Tx)>>;

/// A flush, or a statement of the session's, in progress, holding the session's
/// transactions. If its future is dropped before it finishes (a timeout, a client
/// gone), `Drop` undoes it as a failure would, while it still holds them: the
/// transactions are dropped, which rolls each one back (a connection cut off in the
/// middle of a statement is closed, which rolls back on the server; see
/// `executor::lease`), and all their work is queued again,
/// so nothing is half written, nothing queued is lost, and no other task can write
/// into (or commit) a transaction that holds part of it. A flush still waiting for the
/// transactions has taken nothing from the queue. (A commit's COMMITs are never cut
/// off: see `executor::uncancelled`.)
struct FlushGuard<'a> {
    session: &'a Session,
    txs: Txs<'a>,
    /// Work taken from the queue and not yet in the journal.
    ops: Vec<RowWrite>,
    armed: bool,
}

impl<'a> FlushGuard<'a> {
    fn new(session: &'a Session, txs: Txs<'a>) -> Self {
        FlushGuard {
            session,
            txs,
            ops: Vec::new(),
            armed: true,
        }
    }

    /// The work finished or failed in the ordinary way: nothing to undo on drop.
    fn disarm(&mut self) -> Vec<RowWrite> {
        self.armed = false;
        std::mem::take(&mut self.ops)
    }
}

impl Drop for FlushGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.txs.clear();
        let mut state = self.session.state();
        let journal = std::mem::take(&mut state.journal);
        requeue_journal(&mut state, journal, std::mem::take(&mut self.ops));
        lose_unreplayable(&mut state);
        state.changes.clear();
    }
}

/// The index of bind `key`'s transaction, begun on `engine` if there is none yet.
async fn begin(
    txs: &mut Vec<(Option<String>, Tx)>,
    key: Option<&str>,
    engine: &Engine,
    lock: bool,
) -> Result<usize> {
    if let Some(i) = txs.iter().position(|(k, _)| k.as_deref() == key) {
        return Ok(i);
    }
    txs.push((key.map(str::to_owned), Tx::begin(engine, lock).await?));
    Ok(txs.len() - 1)
}

/// A session's open transaction on one bind, for raw sqlx queries; see
/// [`Session::transaction`]. The session waits for it to be dropped.
pub struct SessionTransaction<'a> {
    txs: tokio::sync::MutexGuard<'a, Vec<(Option<String>, Tx)>>,
    index: usize,
}

impl SessionTransaction<'_> {
    /// The SQLite connection, if the bind is SQLite.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        self.txs[self.index].1.as_sqlite()
    }

    /// The PostgreSQL connection, if the bind is PostgreSQL.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        self.txs[self.index].1.as_postgres()
    }

    /// The MySQL connection, if the bind is MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        self.txs[self.index].1.as_mysql()
    }
}

/// What a write did to one row, for the identity map.
enum RowEffect {
    /// The row's values after an insert or update.
    Row {
        op: usize,
        table: &'static Table,
        values: Vec<Value>,
        inserted: bool,
    },
    /// The row with this key is gone (`decode` makes its model for the signals).
    Deleted {
        decode: Option<Decoder>,
        table: &'static Table,
        key: Vec<Value>,
    },
}

/// Writes `ops`: inserts parents first, then updates, then deletes children first.
async fn write(
    db: &Db,
    txs: &mut Vec<(Option<String>, Tx)>,
    ops: &[RowWrite],
    keep: bool,
) -> Result<Vec<RowEffect>> {
    // One pass over the work finds its tables and which kinds of change it holds; the
    // passes below skip what is not there.
    let mut tables: Vec<&'static Table> = Vec::new();
    let (mut linked, mut updates, mut deletes) = (false, false, false);
    for op in ops {
        match op {
            RowWrite::Insert { link, .. } => linked |= link.is_some(),
            RowWrite::Update { .. } => updates = true,
            RowWrite::Delete { .. } => deletes = true,
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => {}
        }
        if let Some(table) = op.table()
            && !tables.iter().any(|t| std::ptr::eq(*t, table))
        {
            tables.push(table);
        }
    }
    let order = parents_first(&tables)?;
    let mut written = Vec::new();
    // Inserts go level by level (a row linked to a parent row after it), each level in
    // foreign-key order; a linked row takes its foreign key from its parent's stored row.
    // Without linked rows every insert is on level 0, and no map is needed.
    let mut level: HashMap<u64, usize> = HashMap::new();
    if linked {
        for op in ops {
            if let RowWrite::Insert { id, link, .. } = op {
                let depth = link
                    .and_then(|(parent, _)| level.get(&parent))
                    .map_or(0, |d| d + 1);
                level.insert(*id, depth);
            }
        }
    }
    let depth_of = |id: &u64| level.get(id).copied().unwrap_or(0);
    let keep = keep || linked;
    let mut stored: HashMap<u64, (&'static Table, Vec<Value>)> = HashMap::new();
    // One buffer for the rows of each table in turn.
    let mut rows: Vec<IndexedRow<'_>> = Vec::with_capacity(ops.len());
    for depth in 0..=level.values().copied().max().unwrap_or(0) {
        for table in &order {
            rows.clear();
            // A row is copied only to fill its foreign key from its parent.
            for (i, op) in ops.iter().enumerate() {
                let RowWrite::Insert { row, id, link, .. } = op else {
                    continue;
                };
                if !std::ptr::eq(row.table(), *table) || (linked && depth_of(id) != depth) {
                    continue;
                }
                let mut row = std::borrow::Cow::Borrowed(row);
                if let Some((parent, def)) = link {
                    fill_from_parent(row.to_mut(), def, stored.get(parent))?;
                }
                rows.push((i, row));
            }
            if rows.is_empty() {
                continue;
            }
            let done = insert_rows(db, txs, table, &rows, keep).await?;
            if linked {
                for w in &done {
                    if let RowEffect::Row { op, values, .. } = w
                        && let RowWrite::Insert { id, .. } = &ops[*op]
                    {
                        stored.insert(*id, (table, values.clone()));
                    }
                }
            }
            written.extend(done);
        }
    }
    if updates {
        for i in in_lock_order(ops, &order, |op| matches!(op, RowWrite::Update { .. })) {
            if let RowWrite::Update {
                table,
                key,
                values,
                changed,
                ..
            } = &ops[i]
            {
                update_row(db, txs, table, key, values, changed.as_deref()).await?;
                written.push(RowEffect::Row {
                    op: i,
                    table,
                    values: values.clone(),
                    inserted: false,
                });
            }
        }
    }
    if !deletes {
        return Ok(written);
    }
    let mut visited = cascade::Visited::new();
    for table in order.iter().rev() {
        let of_table = |op: &RowWrite| matches!(op, RowWrite::Delete { table: t, .. } if std::ptr::eq(*t, *table));
        for i in in_lock_order(ops, &order, of_table) {
            if let RowWrite::Delete {
                table: t,
                key,
                decode,
            } = &ops[i]
                && std::ptr::eq(*t, *table)
            {
                visited.insert(Identity(table.name(), key.clone()));
                cascade::delete_dependents(
                    db,
                    txs,
                    table,
                    vec![key.clone()],
                    &mut written,
                    &mut visited,
                )
                .await?;
                keep_history(db, txs, table, key).await?;
                let engine = db.engine_for(table.bind_key())?;
                let filter = key_filter(table, key.clone());
                let r = sql::delete(
                    &DeleteStmt {
                        table,
                        filter: Some(&filter),
                    },
                    engine.backend(),
                )?;
                let t = begin(txs, table.bind_key(), &engine, false).await?;
                executor::execute(Conn::Tx(&mut txs[t].1), r).await?;
                written.push(RowEffect::Deleted {
                    decode: Some(*decode),
                    table,
                    key: key.clone(),
                });
            }
        }
    }
    Ok(written)
}

/// The indexes of the updates or deletes among `ops` that `wanted` picks, in one order
/// whatever order they were queued in: table by table (`order`), each by primary key,
/// as SQLAlchemy's unit of work writes them. Two sessions changing the same rows then
/// lock them in the same order, and neither waits for a lock the other holds while
/// holding one it wants (a deadlock, which the server ends by failing one of them).
fn in_lock_order(
    ops: &[RowWrite],
    order: &[&'static Table],
    wanted: impl Fn(&RowWrite) -> bool,
) -> Vec<usize> {
    let mut picked: Vec<(usize, &[Value], usize)> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| wanted(op))
        .filter_map(|(i, op)| match op {
            RowWrite::Update { table, key, .. } | RowWrite::Delete { table, key, .. } => {
                let at = order.iter().position(|t| std::ptr::eq(*t, *table))?;
                Some((at, key.as_slice(), i))
            }
            _ => None,
        })
        .collect();
    // Stable: two changes of one row keep the order they were queued in.
    picked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| total_cmp_all(a.1, b.1)));
    picked.into_iter().map(|(_, _, i)| i).collect()
}

fn key_filter(table: &'static Table, key: Vec<Value>) -> Node {
    Node::key_eq(table.name(), table.primary_key(), key)
}

/// A row to insert with the index of its op; borrowed unless its foreign key had to
/// be filled from its parent.
type IndexedRow<'a> = (usize, std::borrow::Cow<'a, InsertRow>);

/// Inserts rows of one table: consecutive rows with the same columns share a
/// multi-row statement, as many as the backend's parameter limit allows. The stored
/// rows come back as values: from the values given plus the generated key (read with
/// `RETURNING` the key, or from the last-insert id), or, when a server default filled
/// another column, from the database. Returned rows are matched to the rows sent by
/// key (see `Sentinel`), never by the order they come back in.
async fn insert_rows(
    db: &Db,
    txs: &mut Vec<(Option<String>, Tx)>,
    table: &'static Table,
    rows: &[IndexedRow<'_>],
    keep: bool,
) -> Result<Vec<RowEffect>> {
    let engine = db.engine_for(table.bind_key())?;
    let backend = engine.backend();
    let i = begin(txs, table.bind_key(), &engine, false).await?;
    let key_column = table.autoincrement_column();
    let mut written = Vec::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let first = &*rows[start].1;
        let missing: Vec<&ColumnDef> = table
            .columns()
            .iter()
            .zip(first.slots())
            .filter_map(|(c, v)| v.is_none().then_some(c))
            .collect();
        let only_key_missing = missing
            .iter()
            .all(|c| Some(c.name()) == key_column.map(ColumnDef::name));
        let returning: Vec<&ColumnDef> = match (engine.supports_returning(), only_key_missing) {
            _ if missing.is_empty() || !keep => Vec::new(),
            (false, _) => Vec::new(),
            (true, true) if backend.keys_from_last_insert_id() => Vec::new(),
            (true, true) => missing,
            (true, false) => table.columns().iter().collect(),
        };
        let sentinel = Sentinel::of(table, first, &returning);
        // `DEFAULT VALUES` inserts a single row, and so does a statement whose returned
        // rows could not be matched to the rows sent.
        let per_statement = match first.values().count() {
            _ if !returning.is_empty() && matches!(sentinel, Sentinel::Alone) => 1,
            0 => 1,
            n => (backend.max_params() / n).max(1),
        };
        let mut end = start + 1;
        while end < rows.len() && end - start < per_statement && rows[end].1.same_columns(first) {
            end += 1;
        }
        let chunk = &rows[start..end];
        let insert = InsertStmt {
            table,
            rows: chunk.iter().map(|(_, r)| r.slots()).collect(),
            returning: returning.iter().map(|c| c.name()).collect(),
            ordered: matches!(sentinel, Sentinel::Generated(_)),
        };
        let r = sql::insert(insert, backend)?;
        if !keep {
            executor::execute(Conn::Tx(&mut txs[i].1), r).await?;
            start = end;
            continue;
        }
        let stored = if returning.is_empty() {
            let done = executor::execute(Conn::Tx(&mut txs[i].1), r).await?;
            inserted_without_returning(&mut txs[i].1, table, chunk, done).await?
        } else {
            let returned = executor::fetch_values(Conn::Tx(&mut txs[i].1), r, &returning).await?;
            let returned = sentinel.in_sent_order(table, chunk, returned)?;
            if returning.len() == table.columns().len() {
                returned
            } else {
                let keys = returned.into_iter().map(|mut k| k.pop());
                chunk
                    .iter()
                    .zip(keys)
                    .map(|((_, row), key)| complete(table, row, key).0)
                    .collect()
            }
        };
        let ops = chunk.iter().map(|(op, _)| *op);
        written.extend(ops.zip(stored).map(|(op, values)| RowEffect::Row {
            op,
            table,
            values,
            inserted: true,
        }));
        start = end;
    }
    Ok(written)
}

/// A stored row in table order, from the values an insert gave and the generated
/// `key`; `false` when another column was left to a server default (and so is not
/// known here).
fn complete(table: &Table, row: &InsertRow, key: Option<Value>) -> (Vec<Value>, bool) {
    let mut key = key;
    let mut known = true;
    let generated = table.autoincrement_column();
    let values = table
        .columns()
        .iter()
        .zip(row.slots())
        .map(|(column, slot)| match slot {
            Some(v) => v.clone(),
            None => match key.take() {
                Some(k) if generated.is_some_and(|g| std::ptr::eq(g, column)) => k,
                other => {
                    key = other;
                    known = false;
                    Value::Null(column.sql_type())
                }
            },
        })
        .collect();
    (values, known)
}

/// The rows an insert stored, without RETURNING (SQLite's keys, MySQL, or
/// `returning(false)`):
/// generated keys come from the last-insert id, numbered by the connection's step
/// (`Backend::key_step_sql`); rows with a column filled by a server default are read
/// back by key.
///
/// # Errors
/// [`Error::InsertMismatch`] when the database inserted fewer or more rows than were
/// sent (a trigger skipped some): the keys would be guessed.
async fn inserted_without_returning(
    tx: &mut Tx,
    table: &'static Table,
    chunk: &[IndexedRow<'_>],
    done: Done,
) -> Result<Vec<Vec<Value>>> {
    let backend = tx.engine.backend();
    if usize::try_from(done.rows_affected).ok() != Some(chunk.len()) {
        return Err(Error::InsertMismatch {
            table: table.name().to_owned(),
            sent: chunk.len(),
            matched: usize::try_from(done.rows_affected).unwrap_or(usize::MAX),
        });
    }
    let key_column = table
        .autoincrement_column()
        .filter(|c| chunk.first().is_some_and(|(_, row)| !row.sets(c.name())));
    // The step between keys, read on the statement's own connection when several rows
    // take generated keys.
    let step = match (key_column, backend.key_step_sql()) {
        (Some(_), Some(sql)) if chunk.len() > 1 => {
            let r = Rendered::new(sql.to_owned(), Vec::new());
            let rows = executor::fetch_rows(Conn::Tx(tx), r).await?;
            let step = rows.first().map(|row| row.get_at::<i64>(0)).transpose()?;
            step.filter(|s| *s > 0).ok_or_else(|| {
                Error::Schema(format!("`{sql}` gave no step between generated keys"))
            })?
        }
        _ => 1,
    };
    let no_key = || {
        Error::Schema(format!(
            "the database returned no key for `{}`",
            table.name()
        ))
    };
    let mut out = Vec::with_capacity(chunk.len());
    for (n, (_, row)) in chunk.iter().enumerate() {
        let generated = match key_column {
            Some(column) => {
                let last = done.last_insert_id.ok_or_else(no_key)?;
                let key = backend
                    .generated_key(last, n, chunk.len(), step)
                    .ok_or_else(no_key)?;
                Some(Value::integer_of(key, column.sql_type()).unwrap_or(Value::I64(key)))
            }
            None => None,
        };
        let (values, known) = complete(table, row, generated);
        if known {
            out.push(values);
            continue;
        }
        let clauses = Clauses {
            filter: Some(key_filter(table, key_of(table, &values))),
            ..Clauses::default()
        };
        let select = sql::SelectStmt {
            table,
            projection: Projection::AllColumns,
            clauses: &clauses,
            exprs: &[],
        };
        let r = sql::select(&select, backend)?;
        let all: Vec<&ColumnDef> = table.columns().iter().collect();
        let mut rows = executor::fetch_values(Conn::Tx(tx), r, &all).await?;
        out.push(rows.pop().ok_or(Error::NoResultFound)?);
    }
    Ok(out)
}

/// Updates one row by key: the changed columns, or every non-key column (then a row
/// must match).
async fn update_row(
    db: &Db,
    txs: &mut Vec<(Option<String>, Tx)>,
    table: &'static Table,
    key: &[Value],
    values: &[Value],
    changed: Option<&[usize]>,
) -> Result<()> {
    let engine = db.engine_for(table.bind_key())?;
    let columns: Vec<usize> = match changed {
        Some(c) => c.to_vec(),
        None => (0..values.len())
            .filter(|&i| !table.columns()[i].is_primary_key())
            .collect(),
    };
    if !columns.is_empty() {
        keep_history(db, txs, table, key).await?;
        let filter = key_filter(table, key.to_vec());
        let update = UpdateStmt {
            table,
            assignments: columns
                .iter()
                .map(|&i| crate::Assignment {
                    column: table.columns()[i].name().to_owned().into(),
                    value: values[i].clone(),
                })
                .collect(),
            filter: Some(&filter),
        };
        let r = sql::update(&update, engine.backend())?;
        let i = begin(txs, table.bind_key(), &engine, false).await?;
        let done = executor::execute(Conn::Tx(&mut txs[i].1), r).await?;
        if changed.is_none() && done.rows_affected == 0 {
            return Err(Error::StaleData {
                table: table.name().to_owned(),
                key: format!("{key:?}"),
            });
        }
    }
    Ok(())
}

/// For a versioned table, copies the row with primary key `key` into the history table
/// (before it is updated or deleted).
pub(crate) async fn keep_history(
    db: &Db,
    txs: &mut Vec<(Option<String>, Tx)>,
    table: &'static Table,
    key: &[Value],
) -> Result<()> {
    let Some(history) = table.history_table() else {
        return Ok(());
    };
    let engine = db.engine_for(table.bind_key())?;
    let r = sql::copy_to_history(table, history, key, engine.backend())?;
    let i = begin(txs, table.bind_key(), &engine, false).await?;
    executor::execute(Conn::Tx(&mut txs[i].1), r).await?;
    Ok(())
}

/// Sets a linked row's foreign key from its parent's stored row.
fn fill_from_parent(
    row: &mut InsertRow,
    def: &RelationDef,
    parent: Option<&(&'static Table, Vec<Value>)>,
) -> Result<()> {
    let (parent_table, values) = parent.ok_or_else(|| {
        Error::InvalidQuery("a row linked to a parent was written before its parent".into())
    })?;
    for (child_column, parent_column) in &def.resolve()?.pairs {
        let index = parent_table
            .column_position(parent_column)
            .ok_or_else(|| Error::Schema(format!("no column `{parent_column}`")))?;
        row.fill(child_column, values[index].clone());
    }
    Ok(())
}
