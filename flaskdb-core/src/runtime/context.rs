//! The current database context: Flask's application context, the Rust way.
//!
//! [`Db::scope`](crate::Db::scope) sets a task-local scope for one future (a web request,
//! a job); `Model::query()` and `flaskdb::session()` use it. Outside any scope,
//! `Model::query()` uses the process-wide default set by [`set_global_default`], as
//! `tracing` does with its dispatcher, and fails with [`Error::NoContext`] without one;
//! `flaskdb::session()` has no session to give there ([`Error::NoScope`]).
//!
//! Scopes nest: an inner `scope` shadows the outer one until it ends. A task started
//! with `tokio::spawn` does not inherit the scope; wrap its future in
//! [`in_current_scope`] to carry it along.

use std::future::Future;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use futures_util::future::Either;

use crate::driver::recording::{self, Recording};
use crate::error::{Error, Result};
use crate::runtime::db::Db;
use crate::runtime::session::Session;

/// What one scope holds: its `Db`, its session (made on first use) and the statements
/// recorded in it.
pub(crate) struct Scope {
    db: Db,
    session: OnceLock<Session>,
    /// Whether the session is the scope's own (closed at its end) rather than a keyed
    /// one that outlives it.
    owns_session: bool,
    recording: Arc<Recording>,
}

impl Scope {
    fn session(&self) -> Session {
        self.session
            .get_or_init(|| Session::new(Some(self.db.clone())))
            .clone()
    }
}

tokio::task_local! {
    static CURRENT: Arc<Scope>;
}

/// The process-wide default `Db`, for queries outside any scope.
static GLOBAL_DEFAULT: RwLock<Option<Db>> = RwLock::new(None);

/// Runs `fut` inside a new scope of `db`. With no `session` given, the scope makes its
/// own on first use and closes it when it ends (anything not committed is rolled back);
/// a given session outlives the scope.
pub(crate) async fn scope<F: Future>(db: Db, session: Option<Session>, fut: F) -> F::Output {
    let owns_session = session.is_none();
    let limit = db
        .config()
        .map_or(usize::MAX, crate::Config::recorded_queries_limit);
    let scope = Arc::new(Scope {
        db,
        session: session.map(OnceLock::from).unwrap_or_default(),
        owns_session,
        recording: Recording::new(limit),
    });
    let recorded = recording::within(Arc::clone(&scope.recording), fut);
    let out = CURRENT.scope(Arc::clone(&scope), recorded).await;
    if let Some(session) = scope.session.get().filter(|_| scope.owns_session) {
        session.close().await;
    }
    out
}

/// Where `Model::query()` runs: the current scope's `Db` and session, else the global
/// default `Db` (without a session).
///
/// # Errors
/// [`Error::NoContext`] outside any scope and with no global default.
pub(crate) fn current() -> Result<(Db, Option<Session>)> {
    if let Ok(found) = CURRENT.try_with(|s| (s.db.clone(), Some(s.session()))) {
        return Ok(found);
    }
    let global = GLOBAL_DEFAULT
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    global
        .as_ref()
        .map(|db| (db.clone(), None))
        .ok_or(Error::NoContext)
}

/// The current session (Flask-SQLAlchemy's scoped `db.session`): the scope's own
/// session inside `db.scope(..)` (and so in each request under `DbLayer`), closed when
/// the scope ends.
///
/// Outside any scope there is no current session, even with a global default: one
/// session there would be shared by every task of the process, mixing their queued
/// work, their identity maps and their transactions. The session returned then has no
/// database: whatever is added to it stays with that handle alone, and its commit,
/// flush of queued work and queries fail with [`Error::NoScope`], as
/// Flask-SQLAlchemy's `db.session` fails outside an application context. A script uses
/// `db.scope(..)` or a session of its own from [`Db::session`](crate::Db::session).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db, Error};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// db.scope(async {
///     flaskdb_core::session().commit().await   // the scope's session
/// }).await?;
/// flaskdb_core::set_global_default(db.clone());
/// let outside = flaskdb_core::session().commit().await;
/// assert!(matches!(outside, Err(Error::NoScope)));
/// # flaskdb_core::clear_global_default();
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub fn session() -> Session {
    CURRENT
        .try_with(|s| s.session())
        .unwrap_or_else(|_| Session::new(None))
}

/// Makes `db` the process-wide fallback context, for scripts and tests: outside any
/// `db.scope(..)`, `Model::query()` uses it. Replaces any earlier default.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// flaskdb_core::set_global_default(db.clone());
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub fn set_global_default(db: Db) {
    let mut slot = GLOBAL_DEFAULT
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    *slot = Some(db);
}

/// Removes the process-wide default set by [`set_global_default`].
///
/// ```
/// flaskdb_core::clear_global_default();
/// ```
pub fn clear_global_default() {
    let mut slot = GLOBAL_DEFAULT
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    *slot = None;
}

/// Wraps `fut` so it runs in the scope that is current now (if any): use it for a task
/// you spawn from inside a scope, which otherwise would not see it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// db.scope(async {
///     let task = tokio::spawn(flaskdb_core::in_current_scope(async {
///         // Model::query() here uses the spawning scope's db
///     }));
///     task.await.unwrap();
/// }).await;
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub fn in_current_scope<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    match CURRENT.try_with(Arc::clone) {
        Ok(scope) => {
            let recorded = recording::within(Arc::clone(&scope.recording), fut);
            Either::Left(CURRENT.scope(scope, recorded))
        }
        Err(_) => Either::Right(fut),
    }
}
