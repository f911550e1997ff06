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
//! it needs it.

use sqlx::pool::{Pool, PoolConnection};
use sqlx::{Database, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;

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
    conn: Option<PoolConnection<DB>>,
    /// A statement started and has not finished.
    busy: bool,
    /// In a transaction this lease began and has not ended.
    open: bool,
}

impl<DB: CutLosesConnection> Lease<DB> {
    /// Takes a connection from `pool`.
    ///
    /// sqlx's `acquire` future is large (unboxed, it made `query().all()` 6.5 KiB on
    /// MySQL), and it is boxed: every future that runs a statement would be that large,
    /// copied at each move.
    pub(crate) async fn acquire(pool: &Pool<DB>) -> Result<Self> {
        Ok(Lease {
            conn: Some(Box::pin(pool.acquire()).await?),
            busy: false,
            open: false,
        })
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

    /// The connection, for the caller's own statements inside the transaction.
    pub(crate) fn connection(&mut self) -> &mut DB::Connection {
        match &mut self.conn {
            Some(conn) => conn,
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
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.busy && DB::CUT_LOSES_CONNECTION {
            // Out of the pool's count at once; dropping the connection closes its
            // socket without another word on it.
            drop(conn.detach());
            return;
        }
        if self.open {
            // Queued: sqlx sends it before the connection is used again.
            DB::TransactionManager::start_rollback(&mut conn);
        }
    }
}
