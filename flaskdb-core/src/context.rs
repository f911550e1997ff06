//! The current database context: Flask's application context, the Rust way.
//!
//! [`Db::scope`](crate::Db::scope) sets a task-local scope for one future (a web request,
//! a job); `Model::query()` and `flaskdb::session()` use it. Outside any scope, the
//! process-wide default set by [`set_global_default`] is used, as `tracing` does with its
//! dispatcher; outside both, they fail with [`Error::NoContext`].
//!
//! Scopes nest: an inner `scope` shadows the outer one until it ends. A task started
//! with `tokio::spawn` does not inherit the scope; wrap its future in
//! [`in_current_scope`] to carry it along.

use std::future::Future;
use std::sync::{Arc, RwLock};

use futures_util::future::Either;

use crate::db::Db;
use crate::error::{Error, Result};

/// What one scope holds.
#[derive(Clone)]
pub(crate) struct Scope {
    pub(crate) db: Db,
}

tokio::task_local! {
    static CURRENT: Arc<Scope>;
}

static GLOBAL_DEFAULT: RwLock<Option<Db>> = RwLock::new(None);

/// Runs `fut` inside a new scope of `db`.
pub(crate) async fn scope<F: Future>(db: Db, fut: F) -> F::Output {
    CURRENT.scope(Arc::new(Scope { db }), fut).await
}

/// The `Db` of the current scope, else the global default.
///
/// # Errors
/// [`Error::NoContext`] outside any scope and with no global default.
pub(crate) fn current_db() -> Result<Db> {
    if let Ok(db) = CURRENT.try_with(|s| s.db.clone()) {
        return Ok(db);
    }
    GLOBAL_DEFAULT
        .read()
        .map_err(|_| Error::NoContext)?
        .clone()
        .ok_or(Error::NoContext)
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
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        Ok(scope) => Either::Left(CURRENT.scope(scope, fut)),
        Err(_) => Either::Right(fut),
    }
}
