//! The session's transactions, one per bind: begun lazily, committed (with the outcome
//! of a lost COMMIT reply found out), rolled back with their work queued again.

use crate::driver::engine::Engine;
use crate::driver::executor::{self, Conn, Done, Held, Tx};
use crate::error::{Error, Result};
use crate::model::FromRow;
use crate::runtime::db::Db;
use crate::runtime::events::SessionEvent;
use crate::sql::Rendered;

use super::Session;
use super::queue::{RowWrite, lose_unreplayable, requeue_journal};
use super::tokens;

impl Session {
    /// Commits every open transaction (after the flush): the part of a commit that
    /// must not be cancelled.
    pub(super) async fn finish_commit(self, db: Db) -> Result<()> {
        let changes = std::mem::take(&mut self.state().changes);
        let mut txs = self.inner.txs.lock().await;
        let changes = match self.emit(&db, SessionEvent::BeforeCommit, changes, None) {
            Ok(changes) => changes,
            Err(e) => return Err(self.undo(&db, &mut txs, Vec::new(), e).await),
        };
        // The binds whose work is (or may be) permanent.
        let mut committed: Vec<Option<String>> = Vec::new();
        while !txs.open.is_empty() {
            let (bind, mut tx) = txs.open.remove(0);
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
                    txs.open.insert(0, (bind.clone(), tx));
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
        // The connections held for reads go back to the pool with the committed ones.
        drop(txs.end());
        drop(txs);
        self.emit(&db, SessionEvent::AfterCommit, changes, None)
            .map(drop)
    }

    /// Rolls back after `error`: every transaction, with the work written in them and
    /// `ops` queued again, then the `AfterRollback` listeners. Returns `error`.
    pub(super) async fn undo(
        &self,
        db: &Db,
        txs: &mut Connections,
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
        roll_back_all(txs.end()).await;
        // The error that caused the rollback is the one to report.
        let _ = self.emit(db, SessionEvent::AfterRollback, discarded, None);
        error
    }

    /// Runs a query through the session: autoflush, then on the bind's transaction.
    ///
    /// The transaction begins lazily: before the session's first write on the bind, or
    /// its first locking read (`with_for_update`). A read before then runs in
    /// autocommit, as a statement of its own, so a session that only reads sends no
    /// BEGIN and no ROLLBACK. It runs on a connection the session holds from its first
    /// read until it commits, rolls back or ends, as SQLAlchemy's session holds its
    /// connection: a request's reads take one connection from the pool, not one each,
    /// and its transaction begins on that connection.
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
        if !r.locks && txs.position(bind).is_none() {
            // Out of the session while it reads: cut off part-way, it is dropped and
            // closes (see `Lease`), never kept for the next statement.
            let idle = txs.take_idle(bind);
            drop(txs);
            let mut held = match idle {
                Some(held) => held,
                // Boxed: once per session, and it would make every read's future larger.
                None => Box::pin(Held::acquire(engine)).await?,
            };
            let fetched = executor::fetch(Conn::Held(&mut held), r, max).await;
            // Kept unless another task holds the session's connections just now: then
            // it goes back to the pool, and the next read takes one again.
            if let Ok(mut txs) = self.inner.txs.try_lock() {
                txs.keep_idle(bind, held);
            }
            return fetched;
        }
        // Cut off part-way, the statement leaves its transaction unusable: the guard
        // then undoes the session's work as a failure would.
        let index = txs.begin(bind, engine, r.locks).await?;
        let mut guard = FlushGuard::new(self, txs);
        let fetched = executor::fetch(Conn::Tx(&mut guard.txs.open[index].1), r, max).await;
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
        let index = txs.begin(bind, engine, false).await?;
        let mut guard = FlushGuard::new(self, txs);
        let done = executor::execute(Conn::Tx(&mut guard.txs.open[index].1), r).await;
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
    pub(super) async fn undo_statement(&self, txs: &mut Connections, error: Error) -> Error {
        match self.db() {
            Ok(db) => self.undo(db, txs, Vec::new(), error).await,
            Err(e) => e,
        }
    }
}

/// What a COMMIT on `engine` that got no answer (`lost`: the connection ended, or the
/// reply could not be read) did: with a commit token, the token answers (`None`: it
/// committed; `lost`, the work queued again: it did not); without one, or while the
/// token cannot be looked up, the outcome is unknown.
pub(super) async fn in_doubt(
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
pub(super) async fn roll_back_all(txs: Vec<(Option<String>, Tx)>) {
    for (_, tx) in txs {
        match tx.engine.lock_timeout() {
            Some(limit) => drop(tokio::time::timeout(limit, tx.rollback()).await),
            None => drop(tx.rollback().await),
        }
    }
}

/// The open transactions of one session, as a task holds them.
pub(super) type Txs<'a> = tokio::sync::MutexGuard<'a, Connections>;

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
pub(super) struct FlushGuard<'a> {
    pub(super) session: &'a Session,
    pub(super) txs: Txs<'a>,
    /// Work taken from the queue and not yet in the journal.
    pub(super) ops: Vec<RowWrite>,
    pub(super) armed: bool,
}

impl<'a> FlushGuard<'a> {
    pub(super) fn new(session: &'a Session, txs: Txs<'a>) -> Self {
        FlushGuard {
            session,
            txs,
            ops: Vec::new(),
            armed: true,
        }
    }

    /// The work finished or failed in the ordinary way: nothing to undo on drop.
    pub(super) fn disarm(&mut self) -> Vec<RowWrite> {
        self.armed = false;
        std::mem::take(&mut self.ops)
    }
}

impl Drop for FlushGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        drop(self.txs.end());
        let mut state = self.session.state();
        let journal = std::mem::take(&mut state.journal);
        requeue_journal(&mut state, journal, std::mem::take(&mut self.ops));
        lose_unreplayable(&mut state);
        state.changes.clear();
    }
}

/// A session's connections: its open transactions, one per bind, and the connections
/// it holds between reads outside a transaction, at most one per bind.
#[derive(Default)]
pub(super) struct Connections {
    /// The open transactions, in the order they began.
    pub(super) open: Vec<(Option<String>, Tx)>,
    /// A slot per bind the session read from, kept while the session holds: a read
    /// takes the connection out and puts it back without naming the bind anew.
    idle: Vec<(Option<String>, Option<Held>)>,
}

impl Connections {
    /// The index of bind `key`'s open transaction.
    fn position(&self, key: Option<&str>) -> Option<usize> {
        self.open.iter().position(|(k, _)| k.as_deref() == key)
    }

    /// The slot of bind `key`'s held connection.
    fn slot(&mut self, key: Option<&str>) -> Option<&mut Option<Held>> {
        let (_, slot) = self.idle.iter_mut().find(|(k, _)| k.as_deref() == key)?;
        Some(slot)
    }

    /// The index of bind `key`'s transaction, begun if there is none yet: on the
    /// connection held for the bind's reads, else on one of `engine`'s pool.
    pub(super) async fn begin(
        &mut self,
        key: Option<&str>,
        engine: &Engine,
        lock: bool,
    ) -> Result<usize> {
        if let Some(i) = self.position(key) {
            return Ok(i);
        }
        let held = self.take_idle(key);
        self.open
            .push((key.map(str::to_owned), Tx::begin(engine, held, lock).await?));
        Ok(self.open.len() - 1)
    }

    /// The connection held for bind `key`'s reads, taken out.
    fn take_idle(&mut self, key: Option<&str>) -> Option<Held> {
        self.slot(key)?.take()
    }

    /// Holds `held` for bind `key`'s next read, if its last statement finished cleanly
    /// and the bind has neither a transaction nor another held connection (a read that
    /// ran beside another); else it goes back to the pool.
    fn keep_idle(&mut self, key: Option<&str>, held: Held) {
        if !held.reusable() || self.position(key).is_some() {
            return;
        }
        match self.slot(key) {
            // A slot already filled keeps its connection; `held` goes back.
            Some(slot) => {
                slot.get_or_insert(held);
            }
            None => self.idle.push((key.map(str::to_owned), Some(held))),
        }
    }

    /// Ends the session's hold: the open transactions, for the caller to commit or
    /// roll back; the held connections go back to the pool.
    pub(super) fn end(&mut self) -> Vec<(Option<String>, Tx)> {
        self.idle.clear();
        std::mem::take(&mut self.open)
    }
}

/// A session's open transaction on one bind, for raw sqlx queries; see
/// [`Session::transaction`]. The session waits for it to be dropped.
pub struct SessionTransaction<'a> {
    pub(super) txs: Txs<'a>,
    pub(super) index: usize,
}

impl SessionTransaction<'_> {
    /// The SQLite connection, if the bind is SQLite.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn as_sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        self.txs.open[self.index].1.as_sqlite()
    }

    /// The PostgreSQL connection, if the bind is PostgreSQL.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn as_postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        self.txs.open[self.index].1.as_postgres()
    }

    /// The MySQL connection, if the bind is MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn as_mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        self.txs.open[self.index].1.as_mysql()
    }
}
