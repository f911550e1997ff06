//! An engine's sqlx pool, and the connections flaskdb keeps out of it between its own
//! statements.
//!
//! sqlx tests every connection handed back to its pool with a ping, on a task it spawns
//! for that: a round trip to the server (on SQLite, to the connection's worker thread)
//! after every statement, and on a pool of one the next statement waits for it. A
//! connection whose statement ended cleanly, outside any transaction, is parked here
//! instead, and the next statement takes it back at the cost of a lock. It goes back
//! through sqlx (its ping, its `max_lifetime` and `idle_timeout`) at least every
//! [`RECHECK`]; while a task waits on sqlx's pool for a connection, a finished one goes
//! to sqlx, which hands it on; and once the pool itself is handed out for raw sqlx
//! ([`Pooled::raw`]), nothing is parked any more, so a raw user never waits for a
//! connection flaskdb holds idle.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::Database;
use sqlx::pool::{Pool, PoolConnection};

use crate::error::Result;

/// How long a connection stays out of sqlx's pool at most, in use or parked.
const RECHECK: Duration = Duration::from_secs(30);

/// A connection taken from sqlx's pool, and when.
pub(crate) struct Taken<DB: Database> {
    pub(crate) conn: PoolConnection<DB>,
    pub(crate) since: Instant,
    /// It was parked: it finished its last statement cleanly.
    pub(crate) parked: bool,
}

impl<DB: Database> Taken<DB> {
    /// Out of sqlx's pool longer than [`RECHECK`]: it goes back for sqlx's checks.
    pub(crate) fn due(&self) -> bool {
        self.since.elapsed() > RECHECK
    }
}

/// A parked connection and when it was parked.
struct Parked<DB: Database> {
    taken: Taken<DB>,
    at: Instant,
}

/// A sqlx pool with its parked connections.
pub(crate) struct Pooled<DB: Database> {
    pool: Pool<DB>,
    /// Most recently parked last.
    parked: Mutex<VecDeque<Parked<DB>>>,
    /// Tasks waiting on sqlx's pool.
    waiting: AtomicUsize,
    /// The pool was handed out for raw sqlx: nothing is parked.
    shared: AtomicBool,
}

/// Counts a task waiting on sqlx's pool while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<DB: Database> Pooled<DB> {
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        Pooled {
            pool,
            parked: Mutex::new(VecDeque::new()),
            waiting: AtomicUsize::new(0),
            shared: AtomicBool::new(false),
        }
    }

    /// The sqlx pool, for its options.
    pub(crate) fn options(&self) -> &sqlx::pool::PoolOptions<DB> {
        self.pool.options()
    }

    /// The sqlx pool for raw sqlx: from now on flaskdb parks nothing, and what it had
    /// parked goes back to sqlx.
    pub(crate) fn raw(&self) -> &Pool<DB> {
        self.shared.store(true, Ordering::SeqCst);
        let parked = std::mem::take(&mut *self.lock());
        drop(parked);
        &self.pool
    }

    /// Whether a parked connection is pinged before it is used (`pool_pre_ping`).
    pub(crate) fn pre_ping(&self) -> bool {
        self.pool.options().get_test_before_acquire()
    }

    /// A connection: the last one parked, else one of sqlx's.
    pub(crate) async fn take(&self) -> Result<Taken<DB>> {
        if let Some(taken) = self.unpark() {
            return Ok(taken);
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        // Parked since the first look, before this task counted as waiting: `park`
        // kept it then, and it is here now.
        if let Some(taken) = self.unpark() {
            return Ok(taken);
        }
        // Boxed: sqlx's acquire future is large, and every future that runs a
        // statement would be that large.
        let conn = Box::pin(self.pool.acquire()).await?;
        Ok(Taken {
            conn,
            since: Instant::now(),
            parked: false,
        })
    }

    /// Parks a connection whose statement ended cleanly outside a transaction, or
    /// hands it back to sqlx (see the module's documentation for when).
    pub(crate) fn park(&self, taken: Taken<DB>) {
        if self.shared.load(Ordering::SeqCst) || taken.due() {
            return;
        }
        self.lock().push_back(Parked {
            taken,
            at: Instant::now(),
        });
        // A task that began waiting before the push did not see it: sqlx wakes it with
        // this connection.
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let handed_on = self.lock().pop_back();
            drop(handed_on);
        }
    }

    /// The last parked connection; those parked longer than [`RECHECK`] go back to sqlx.
    fn unpark(&self) -> Option<Taken<DB>> {
        let mut parked = self.lock();
        while parked.front().is_some_and(|p| p.at.elapsed() > RECHECK) {
            parked.pop_front();
        }
        let mut taken = parked.pop_back()?.taken;
        taken.parked = true;
        Some(taken)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Parked<DB>>> {
        // The list stays whole whatever panicked while it was held.
        self.parked.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<DB: Database> Drop for Pooled<DB> {
    fn drop(&mut self) {
        // sqlx hands a dropped connection back on a task of the runtime; without a
        // runtime (the program is ending), each parked connection closes where it is.
        if tokio::runtime::Handle::try_current().is_err() {
            for parked in self.lock().drain(..) {
                drop(parked.taken.conn.detach());
            }
        }
    }
}
