//! A connection taken from a pool for one statement or one transaction, which a
//! statement cut off part-way never puts back.
//!
//! A statement whose future is dropped while it waits (a timeout, a request gone) can
//! leave a server connection part-way through a message: a packet half read or half
//! written. sqlx tests a connection with a ping on its way back to the pool, and a ping
//! on a connection that lost its place in the protocol can wait forever, holding one of
//! the pool's connections until every later acquire times out. A lease knows whether
//! its statement finished; one that did not closes its connection there and then (the
//! server rolls back whatever transaction it held), and the pool opens a new one when
//! it needs it. One that finished cleanly, outside a transaction, is parked for the
//! next statement ([`Pooled::park`]).

use std::sync::Arc;

use sqlx::{Connection, Database, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;

use crate::driver::pooled::{Pooled, Taken};
use crate::error::Result;

/// Whether a statement cut off part-way leaves a connection of this database unusable.
pub(crate) trait CutLosesConnection: Database {
    /// True where the client reads and writes the server's protocol itself (PostgreSQL,
    /// MySQL); false for SQLite, whose worker thread finishes each command it was sent
    /// whether or not anyone waits for the answer.
    const CUT_LOSES_CONNECTION: bool;
}

#[cfg(feature = "sqlite")]
impl CutLosesConnection for sqlx::Sqlite {
    const CUT_LOSES_CONNECTION: bool = false;
}

#[cfg(feature = "postgres")]
impl CutLosesConnection for sqlx::Postgres {
    const CUT_LOSES_CONNECTION: bool = true;
}

#[cfg(feature = "mysql")]
impl CutLosesConnection for sqlx::MySql {
    const CUT_LOSES_CONNECTION: bool = true;
}

/// A pooled connection with the state of the work on it.
pub(crate) struct Lease<DB: CutLosesConnection> {
    /// Always `Some` until dropped.
    conn: Option<Taken<DB>>,
    /// Where it goes back to.
    home: Arc<Pooled<DB>>,
    /// A statement started and has not finished.
    busy: bool,
    /// In a transaction this lease began and has not ended.
    open: bool,
    /// A statement on it failed: it goes back to sqlx, whose ping on release closes it
    /// if the failure was the connection's, rather than being parked for the next one.
    failed: bool,
    /// Its session holds state no one else may inherit (a named lock, a transaction
    /// begun by hand): it closes when dropped, whatever happened.
    private: bool,
}

impl<DB: CutLosesConnection> Lease<DB> {
    /// Takes a connection from `pool`: a parked one (pinged first with
    /// `test_before_acquire`; one that does not answer is closed and the next taken),
    /// else one of sqlx's.
    pub(crate) async fn acquire(pool: &Arc<Pooled<DB>>) -> Result<Self> {
        loop {
            let taken = pool.take().await?;
            let check = taken.parked && pool.pre_ping();
            let mut lease = Lease {
                conn: Some(taken),
                home: Arc::clone(pool),
                busy: false,
                open: false,
                failed: false,
                private: false,
            };
            if !check {
                return Ok(lease);
            }
            // Cut off while it waits, the lease is busy and closes the connection.
            let answered = lease.start().ping().await;
            lease.finish();
            match answered {
                Ok(()) => return Ok(lease),
                Err(_) => lease.discard(),
            }
        }
    }

    /// Closes the connection without another word on it, out of the pool's count.
    fn discard(&mut self) {
        if let Some(taken) = self.conn.take() {
            drop(taken.conn.detach());
        }
    }

    /// Closes the connection when the lease drops, instead of handing it back.
    pub(crate) fn make_private(&mut self) {
        self.private = true;
    }

    /// The connection, for a statement about to start; [`Lease::finish`] says it ended.
    pub(crate) fn start(&mut self) -> &mut DB::Connection {
        self.busy = true;
        self.connection()
    }

    /// The statement begun by [`Lease::start`] ended: it returned, with rows or an error.
    pub(crate) fn finish(&mut self) {
        self.busy = false;
    }

    /// Whether its last statement finished cleanly outside a transaction, and it is
    /// not yet due back in sqlx's pool: it may run the next one.
    pub(crate) fn reusable(&self) -> bool {
        !self.busy
            && !self.open
            && !self.failed
            && self.conn.as_ref().is_some_and(|taken| !taken.due())
    }

    /// The statement that just finished failed.
    pub(crate) fn failed(&mut self) {
        self.failed = true;
    }

    /// The connection, for the caller's own statements inside the transaction.
    pub(crate) fn connection(&mut self) -> &mut DB::Connection {
        match &mut self.conn {
            Some(taken) => &mut taken.conn,
            None => unreachable!("a lease holds its connection until it drops"),
        }
    }

    /// Begins a transaction with `sql` (the backend's BEGIN).
    pub(crate) async fn begin(&mut self, sql: &'static str) -> Result<()> {
        // Open before the BEGIN is sent: one that fails part-way is rolled back on drop
        // (sqlx counts the transaction only once the server began it).
        self.open = true;
        let begun = DB::TransactionManager::begin(self.start(), Some(sql.into_sql_str())).await;
        self.finish();
        Ok(begun?)
    }

    /// Commits the transaction and returns the connection to the pool.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let committed = DB::TransactionManager::commit(self.start()).await;
        self.finish();
        committed?;
        self.open = false;
        Ok(())
    }

    /// Rolls the transaction back and returns the connection to the pool.
    pub(crate) async fn rollback(mut self) -> Result<()> {
        let rolled_back = DB::TransactionManager::rollback(self.start()).await;
        self.finish();
        rolled_back?;
        self.open = false;
        Ok(())
    }
}

impl<DB: CutLosesConnection> Drop for Lease<DB> {
    fn drop(&mut self) {
        if self.private {
            self.discard();
            return;
        }
        if self.busy && DB::CUT_LOSES_CONNECTION {
            // Out of the pool's count at once; dropping the connection closes its
            // socket without another word on it.
            self.discard();
            return;
        }
        let Some(mut taken) = self.conn.take() else {
            return;
        };
        if self.open {
            // Queued: sqlx sends it before the connection is used again. Back to sqlx,
            // whose ping on release sends it at once.
            DB::TransactionManager::start_rollback(&mut taken.conn);
        } else if !self.busy && !self.failed {
            self.home.park(taken);
        }
    }
}
