//! The one place where SQL meets a connection.
//!
//! Every statement flaskdb runs passes through here: it is bound (values as parameters),
//! sent on the engine's pool or a session's transaction, logged when `echo` is on, and
//! its rows decoded straight into the caller's type.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::stream::BoxStream;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Database};

use crate::driver::engine::{Engine, with_pool};
use crate::driver::recording::{self, QueryInfo};
use crate::error::HIDDEN_PARAMETERS;
use crate::error::{Error, Result};
use crate::model::{FromRow, RowSource};
use crate::schema::ColumnDef;
use crate::sql::Rendered;
use crate::value::Value;
use crate::value::column_type::{ColumnType, Native};
use crate::value::row::read_value;

use super::lease::Lease;

/// Builds the sqlx query for rendered SQL.
///
/// This is the only `AssertSqlSafe` in flaskdb. It is sound because the renderer binds
/// every value as a parameter and quotes every identifier; raw SQL given to
/// `Db::execute` arrives as a `sqlx::SqlSafeStr` (a literal, or the caller's own
/// `AssertSqlSafe`), as with `sqlx::query`.
fn prepare<'q, DB>(
    sql: String,
    params: Vec<Cow<'q, Value>>,
) -> Result<sqlx::query::Query<'q, DB, DB::Arguments>>
where
    DB: Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Value: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    // The arguments are built here, sized once, rather than bound one by one through
    // `Query::bind` (which looks its arguments up again for each value).
    let mut args = DB::Arguments::default();
    sqlx::Arguments::reserve(&mut args, params.len(), 0);
    for p in params {
        // An owned value moves into the arguments; a borrowed one is encoded from
        // where it is.
        match p {
            Cow::Owned(value) => sqlx::Arguments::add(&mut args, value),
            Cow::Borrowed(value) => sqlx::Arguments::add(&mut args, value),
        }
        .map_err(|e| Error::from(sqlx::Error::Encode(e)))?;
    }
    Ok(sqlx::query_with::<DB, _>(AssertSqlSafe(sql), args))
}

/// Runs `task` to completion even if the caller stops waiting: it is polled in place,
/// and if the caller drops it unfinished (a timeout, a dropped request), it is handed
/// to the runtime to finish on a task of its own. So a BEGIN or COMMIT is never cut
/// off half-way, and the common case pays no task spawn (spawning each one cost a
/// one-row insert 20-50 µs of wall time on PostgreSQL and MariaDB).
pub(crate) fn uncancelled<T: Send + 'static>(
    task: impl Future<Output = Result<T>> + Send + 'static,
) -> Uncancelled<T> {
    Uncancelled(Some(Box::pin(task)))
}

/// The future of [`uncancelled`].
pub(crate) struct Uncancelled<T: Send + 'static>(
    Option<Pin<Box<dyn Future<Output = Result<T>> + Send>>>,
);

impl<T: Send + 'static> Future for Uncancelled<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        // Out while it is polled: a task that panics is not handed on.
        let Some(mut task) = self.0.take() else {
            return Poll::Ready(Err(Error::InvalidQuery(
                "a finished transaction step was polled again".into(),
            )));
        };
        match task.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(out),
            Poll::Pending => {
                self.0 = Some(task);
                Poll::Pending
            }
        }
    }
}

impl<T: Send + 'static> Drop for Uncancelled<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            // Without a runtime (it is shutting down) the task is dropped: sqlx then
            // rolls back an open transaction when its connection is next used.
            runtime.spawn(async move {
                let _ = task.await;
            });
        }
    }
}

/// A connection of one engine's pool that a session holds between its reads outside
/// a transaction, as SQLAlchemy's session holds its connection: the next read runs on
/// it without going back through the pool, and a transaction on its bind begins on it.
pub(crate) struct Held {
    pub(crate) engine: Engine,
    inner: AnyLease,
}

/// A transaction on one bind, as a session holds it.
pub(crate) struct Tx {
    pub(crate) engine: Engine,
    inner: AnyLease,
}

/// The leased connection of whichever backend the engine is.
enum AnyLease {
    #[cfg(feature = "sqlite")]
    Sqlite(Lease<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Lease<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Lease<sqlx::MySql>),
}

macro_rules! lease_from {
    ($feature:literal, $variant:ident, $db:ty) => {
        #[cfg(feature = $feature)]
        impl From<Lease<$db>> for AnyLease {
            fn from(lease: Lease<$db>) -> Self {
                AnyLease::$variant(lease)
            }
        }
    };
}
lease_from!("sqlite", Sqlite, sqlx::Sqlite);
lease_from!("postgres", Postgres, sqlx::Postgres);
lease_from!("mysql", MySql, sqlx::MySql);

/// Runs `$body` with `$t` bound to the concrete lease.
macro_rules! with_lease {
    ($lease:expr, $t:ident => $body:expr) => {
        match $lease {
            #[cfg(feature = "sqlite")]
            AnyLease::Sqlite($t) => $body,
            #[cfg(feature = "postgres")]
            AnyLease::Postgres($t) => $body,
            #[cfg(feature = "mysql")]
            AnyLease::MySql($t) => $body,
        }
    };
}

impl Held {
    /// Takes a connection from `engine`'s pool to hold.
    pub(crate) async fn acquire(engine: &Engine) -> Result<Held> {
        let inner = with_pool!(engine.pool(), pool => AnyLease::from(Lease::acquire(pool).await?));
        Ok(Held {
            engine: engine.clone(),
            inner,
        })
    }

    /// Takes a connection from `engine`'s pool that is closed when dropped, never
    /// handed back: for work that leaves state on the server's session (a named lock,
    /// a transaction begun with a statement of its own), so no later user inherits it.
    pub(crate) async fn acquire_private(engine: &Engine) -> Result<Held> {
        let mut held = Held::acquire(engine).await?;
        with_lease!(&mut held.inner, lease => lease.make_private());
        Ok(held)
    }

    /// Whether its last statement finished cleanly and it is not yet due back in
    /// sqlx's pool for sqlx's checks: only then is it kept for the next one.
    pub(crate) fn reusable(&self) -> bool {
        with_lease!(&self.inner, lease => lease.reusable())
    }
}

impl Tx {
    /// Begins a transaction on `held`, or on a connection of `engine`'s pool.
    /// With `lock`, the transaction takes the write lock where the backend locks at
    /// that level (see `Backend::begin_sql`).
    ///
    /// The BEGIN cannot be cut off (see [`uncancelled`]). Cut off after the server began
    /// but before sqlx read the reply, it would leave the pooled connection inside a
    /// transaction that sqlx does not know of, so later statements on that connection
    /// would run in it: reads from an old snapshot, writes never committed. It always
    /// finishes, and a transaction nobody waits for any more is rolled back as it drops.
    pub(crate) async fn begin(engine: &Engine, held: Option<Held>, lock: bool) -> Result<Tx> {
        let sql = engine.backend().begin_sql(lock);
        let owner = engine.clone();
        let task = async move {
            let Held { engine, mut inner } = match held {
                Some(held) => held,
                None => Held::acquire(&owner).await?,
            };
            with_lease!(&mut inner, lease => lease.begin(sql).await?);
            Ok::<_, Error>(Tx { engine, inner })
        };
        uncancelled(task).await
    }

    /// Commits, returning the connection to the pool.
    pub(crate) async fn commit(self) -> Result<()> {
        with_lease!(self.inner, t => t.commit().await)
    }

    /// Rolls back, returning the connection to the pool.
    pub(crate) async fn rollback(self) -> Result<()> {
        with_lease!(self.inner, t => t.rollback().await)
    }

    /// The SQLite connection inside the transaction, for raw sqlx queries.
    #[cfg(feature = "sqlite")]
    pub(crate) fn as_sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        match &mut self.inner {
            AnyLease::Sqlite(t) => Some(t.connection()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The PostgreSQL connection inside the transaction, for raw sqlx queries.
    #[cfg(feature = "postgres")]
    pub(crate) fn as_postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match &mut self.inner {
            AnyLease::Postgres(t) => Some(t.connection()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The MySQL connection inside the transaction, for raw sqlx queries.
    #[cfg(feature = "mysql")]
    pub(crate) fn as_mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        match &mut self.inner {
            AnyLease::MySql(t) => Some(t.connection()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// Where a statement runs: on any connection of a pool, on a held connection outside a
/// transaction, or inside a transaction.
pub(crate) enum Conn<'a> {
    Pool(&'a Engine),
    Held(&'a mut Held),
    Tx(&'a mut Tx),
}

impl Conn<'_> {
    /// The same place, borrowed for one statement.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Pool(engine) => Conn::Pool(engine),
            Conn::Held(held) => Conn::Held(held),
            Conn::Tx(tx) => Conn::Tx(tx),
        }
    }

    /// The engine the statement runs on.
    pub(crate) fn engine(&self) -> &Engine {
        match self {
            Conn::Pool(engine) => engine,
            Conn::Held(held) => &held.engine,
            Conn::Tx(tx) => &tx.engine,
        }
    }
}

/// Runs the statement `$body` with `$e` bound to `$lease`'s connection, marking the
/// lease busy until it ends (`?` and `return` in `$body` end the statement, not the
/// caller), so a statement cut off part-way is known when the lease drops.
macro_rules! run_leased {
    ($lease:expr, $e:ident => $body:expr) => {{
        let $e = $lease.start();
        let out: Result<_> = async { $body }.await;
        $lease.finish();
        if out.is_err() {
            $lease.failed();
        }
        out
    }};
}

/// Runs `$body` with `$e` bound to a leased sqlx connection of `$conn` (one of the
/// pool's, the held one, or the transaction's).
macro_rules! with_conn {
    ($conn:expr, $e:ident => $body:expr) => {
        match $conn {
            Conn::Pool(engine) => with_pool!(engine.pool(), pool => {
                let mut lease = Lease::acquire(pool).await?;
                run_leased!(lease, $e => $body)
            }),
            Conn::Held(held) => with_lease!(&mut held.inner, lease => run_leased!(lease, $e => $body)),
            Conn::Tx(tx) => with_lease!(&mut tx.inner, lease => run_leased!(lease, $e => $body)),
        }
    };
}

/// Runs `f` on the rendered statement, logging and recording it as configured; one that
/// binds more values than the backend takes is refused unsent.
///
/// `may_wait` says the statement can wait for another transaction's lock (it writes,
/// or runs in a transaction); where the engine has a lock timeout (shared in-memory
/// SQLite), such a statement gives up after it. A read on the pool cannot wait there
/// (readers do not take locks), so it skips the timer.
async fn run<'a, T, F, Fut>(engine: &Engine, r: Rendered<'a>, may_wait: bool, f: F) -> Result<T>
where
    F: FnOnce(Rendered<'a>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    engine.backend().check_param_count(r.params.len())?;
    let started = Instant::now();
    let logged = (engine.echo() || engine.record().is_some()).then(|| r.clone().into_owned());
    let out = match engine.lock_timeout().filter(|_| may_wait) {
        Some(limit) => tokio::time::timeout(limit, f(r))
            .await
            .unwrap_or(Err(Error::LockTimeout(limit))),
        None => f(r).await,
    };
    if let Some(r) = logged {
        observe(engine, r, started);
    }
    out.map_err(|e| hidden(engine, e))
}

/// `e`, without the database's message when the engine hides parameters.
fn hidden(engine: &Engine, e: Error) -> Error {
    if engine.hide_parameters() {
        e.without_values()
    } else {
        e
    }
}

/// Echoes and records a statement that ran, as the configuration asks.
fn observe(engine: &Engine, r: Rendered<'static>, started: Instant) {
    if engine.echo() {
        echo(engine, &r, started);
    }
    if let Some(threshold) = engine.record() {
        let parameters = if engine.hide_parameters() {
            vec![Value::from(HIDDEN_PARAMETERS); r.params.len()]
        } else {
            r.params.into_iter().map(Cow::into_owned).collect()
        };
        let info = QueryInfo {
            statement: r.sql,
            parameters,
            start_time: started,
            end_time: Instant::now(),
            location: recording::location(),
        };
        recording::record(info, threshold);
    }
}

fn echo(engine: &Engine, r: &Rendered<'_>, started: Instant) {
    let elapsed = started.elapsed();
    let bind = engine.bind_key().unwrap_or("default");
    tracing::info!(target: "flaskdb::sql", bind, ?elapsed, "{}", r.sql);
    if engine.hide_parameters() {
        tracing::debug!(target: "flaskdb::sql", params = HIDDEN_PARAMETERS, "parameters");
    } else {
        tracing::debug!(target: "flaskdb::sql", params = ?r.params, "parameters");
    }
}

/// Runs a statement and decodes up to `max` rows (all of them for `None`), dropping the
/// rest unread.
pub(crate) async fn fetch<T: FromRow>(
    conn: Conn<'_>,
    r: Rendered<'_>,
    max: Option<usize>,
) -> Result<Vec<T>> {
    let engine = conn.engine().clone();
    let may_wait = matches!(conn, Conn::Tx(_));
    run(&engine, r, may_wait, |r| async move {
        with_conn!(conn, e => {
            let query = prepare(r.sql, r.params)?;
            // Each row is decoded as it arrives and dropped: the driver's row (on SQLite
            // a copy of every value) never outlives its decoding, and on SQLite decoding
            // goes on while the worker thread steps to the next rows.
            let mut rows = query.fetch(e);
            let mut out = Vec::with_capacity(max.unwrap_or(0).min(1024));
            let max = max.unwrap_or(usize::MAX);
            while out.len() < max {
                match rows.try_next().await? {
                    Some(row) => out.push(T::from_row(&row, 0)?),
                    None => break,
                }
            }
            Ok(out)
        })
    })
    .await
}

/// Decodes every row into a vector allocated once: collecting `Result`s would grow it
/// step by step (the iterator cannot tell its length), copying the decoded rows each
/// time.
fn decode_all<R, T>(rows: &[R], decode: impl Fn(&R) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs a statement and reads every row as the values of `columns`.
pub(crate) async fn fetch_values(
    conn: Conn<'_>,
    r: Rendered<'_>,
    columns: &[&ColumnDef],
) -> Result<Vec<Vec<Value>>> {
    let engine = conn.engine().clone();
    run(&engine, r, true, |r| async move {
        with_conn!(conn, e => {
            let rows = prepare(r.sql, r.params)?.fetch_all(e).await?;
            decode_all(&rows, |row| {
                (columns.iter().enumerate())
                    .map(|(i, column)| read_value(row, i, column.sql_type()))
                    .collect()
            })
        })
    })
    .await
}

/// What a statement that returns no rows did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done {
    pub(crate) rows_affected: u64,
    /// The key the database generated for the last row inserted (SQLite, MySQL).
    pub(crate) last_insert_id: Option<i64>,
}

trait IntoDone {
    fn into_done(self) -> Done;
}

#[cfg(feature = "sqlite")]
impl IntoDone for sqlx::sqlite::SqliteQueryResult {
    fn into_done(self) -> Done {
        Done {
            rows_affected: self.rows_affected(),
            last_insert_id: Some(self.last_insert_rowid()),
        }
    }
}

#[cfg(feature = "postgres")]
impl IntoDone for sqlx::postgres::PgQueryResult {
    fn into_done(self) -> Done {
        Done {
            rows_affected: self.rows_affected(),
            last_insert_id: None,
        }
    }
}

#[cfg(feature = "mysql")]
impl IntoDone for sqlx::mysql::MySqlQueryResult {
    fn into_done(self) -> Done {
        Done {
            rows_affected: self.rows_affected(),
            last_insert_id: i64::try_from(self.last_insert_id()).ok(),
        }
    }
}

/// Runs a statement that returns no rows.
pub(crate) async fn execute(conn: Conn<'_>, r: Rendered<'_>) -> Result<Done> {
    let engine = conn.engine().clone();
    run(&engine, r, true, |r| async move {
        with_conn!(conn, e => Ok(prepare(r.sql, r.params)?.execute(e).await?.into_done()))
    })
    .await
}

/// Runs a statement and yields its rows one at a time, holding one connection and at
/// most one row in memory (or only the error of a statement `run` would refuse).
pub(crate) fn stream<T: FromRow + Send + 'static>(
    engine: Engine,
    r: Rendered<'static>,
) -> BoxStream<'static, Result<T>> {
    if let Err(e) = engine.backend().check_param_count(r.params.len()) {
        return Box::pin(futures_util::stream::once(std::future::ready(Err(e))));
    }
    if engine.echo() || engine.record().is_some() {
        observe(&engine, r.clone(), Instant::now());
    }
    let Rendered { sql, params, .. } = r;
    with_pool!(engine.pool().clone(), pool => Box::pin(async_stream::try_stream! {
        // A stream dropped before its end leaves its lease busy: the connection is
        // closed rather than read to the end of a result nobody wants.
        let mut lease = Lease::acquire(&pool).await?;
        let mut rows = prepare(sql, params)?.fetch(lease.start());
        while let Some(row) = rows.try_next().await.map_err(|e| hidden(&engine, e.into()))? {
            yield T::from_row(&row, 0)?;
        }
        drop(rows);
        lease.finish();
    }))
}

/// A result row of raw SQL, read by column name.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db, Value};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// let rows = db.fetch_all("SELECT ? AS full_name", vec![Value::from("Ada")]).await?;
/// assert_eq!(rows[0].get::<String>("full_name")?, "Ada");
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub struct Row(RowInner);

enum RowInner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
}

macro_rules! row_from {
    ($feature:literal, $variant:ident, $row:ty) => {
        #[cfg(feature = $feature)]
        impl From<$row> for Row {
            fn from(row: $row) -> Row {
                Row(RowInner::$variant(row))
            }
        }
    };
}
row_from!("sqlite", Sqlite, sqlx::sqlite::SqliteRow);
row_from!("postgres", Postgres, sqlx::postgres::PgRow);
row_from!("mysql", MySql, sqlx::mysql::MySqlRow);

macro_rules! with_row {
    ($row:expr, $r:ident => $body:expr) => {
        match $row {
            #[cfg(feature = "sqlite")]
            RowInner::Sqlite($r) => $body,
            #[cfg(feature = "postgres")]
            RowInner::Postgres($r) => $body,
            #[cfg(feature = "mysql")]
            RowInner::MySql($r) => $body,
        }
    };
}

impl Row {
    /// The value of the column named `name`.
    ///
    /// # Errors
    /// [`Error::Decode`] when there is no such column or its value does not fit `T`.
    pub fn get<T: ColumnType>(&self, name: &str) -> Result<T> {
        let index = self.index_of(name).ok_or_else(|| Error::Decode {
            column: name.to_owned(),
            message: "no such column in the result".into(),
        })?;
        self.get_at(index)
    }

    /// The value of the column at `index` (0-based).
    ///
    /// # Errors
    /// [`Error::Decode`] when the value does not fit `T`.
    pub fn get_at<T: ColumnType>(&self, index: usize) -> Result<T> {
        with_row!(&self.0, r => r.get(index))
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<String> {
        use sqlx::{Column, Row as _};
        with_row!(&self.0, r => r.columns().iter().map(|c| c.name().to_owned()).collect())
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c == name)
    }
}

impl std::fmt::Debug for Row {
    /// The column names (the values stay undecoded until read with a type).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("columns", &self.columns())
            .finish()
    }
}

impl RowSource for Row {
    fn get<T: ColumnType>(&self, index: usize) -> Result<T> {
        self.get_at(index)
    }

    fn native<T: Native>(&self, index: usize) -> Result<T> {
        with_row!(&self.0, r => r.native(index))
    }

    fn column_name(&self, index: usize) -> String {
        with_row!(&self.0, r => r.column_name(index))
    }

    fn is_null(&self, index: usize) -> Result<bool> {
        with_row!(&self.0, r => r.is_null(index))
    }

    fn len(&self) -> usize {
        with_row!(&self.0, r => r.len())
    }
}

/// Runs raw SQL and returns its rows, readable by column name.
pub(crate) async fn fetch_rows(conn: Conn<'_>, r: Rendered<'_>) -> Result<Vec<Row>> {
    let engine = conn.engine().clone();
    run(&engine, r, true, |r| async move {
        with_conn!(conn, e => {
            let rows = prepare(r.sql, r.params)?.fetch_all(e).await?;
            Ok(rows.into_iter().map(Row::from).collect())
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn uncancelled_work_runs_in_the_callers_task() {
        let caller = tokio::task::try_id();
        let inside = uncancelled(async { Ok(tokio::task::try_id()) }).await;
        assert_eq!(inside.unwrap(), caller, "no task of its own was spawned");
    }

    #[tokio::test]
    async fn uncancelled_work_finishes_after_its_caller_stops_waiting() {
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel();
        let work = uncancelled(async move {
            let _ = wait.await;
            let _ = done.send("finished");
            Ok(())
        });
        // The caller gives up while the work waits, which drops its future.
        let gave_up = tokio::time::timeout(Duration::from_millis(10), work).await;
        assert!(gave_up.is_err());
        go.send(()).unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(5), finished).await;
        assert_eq!(outcome.unwrap().unwrap(), "finished");
    }
}
