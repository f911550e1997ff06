//! The one place where SQL meets a connection.
//!
//! Every statement flaskdb runs passes through here: it is bound (values as parameters),
//! sent on the engine's pool, logged when `echo` is on, and its rows decoded straight
//! into the caller's type.

use std::time::Instant;

use futures_core::stream::BoxStream;
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Database};

use crate::engine::{Engine, with_pool};
use crate::error::{Error, Result};
use crate::model::{FromRow, RowSource};
use crate::sql::Rendered;
use crate::value::{ColumnType, Value};
use std::future::Future;

/// Builds the sqlx query for rendered SQL.
///
/// This is the only `AssertSqlSafe` in flaskdb. It is sound because the renderer binds
/// every value as a parameter and quotes every identifier; raw SQL given to
/// `Db::execute` is the caller's own text, as with `sqlx::query`.
fn prepare<'q, DB>(sql: String, params: Vec<Value>) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    Value: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    let mut query = sqlx::query::<DB>(AssertSqlSafe(sql));
    for p in params {
        query = query.bind(p);
    }
    query
}

/// Runs `f` on the rendered statement, logging it (when `echo` is on) once it is done.
async fn run<T, F, Fut>(engine: &Engine, r: Rendered, f: F) -> Result<T>
where
    F: FnOnce(Rendered) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let logged = engine.echo().then(|| r.clone());
    let out = f(r).await;
    if let Some(r) = logged {
        echo(engine, &r, started);
    }
    out
}

fn echo(engine: &Engine, r: &Rendered, started: Instant) {
    let elapsed = started.elapsed();
    tracing::info!(target: "flaskdb::sql", url = engine.url(), ?elapsed, "{}", r.sql);
    tracing::debug!(target: "flaskdb::sql", params = ?r.params, "parameters");
}

/// Runs a statement and decodes every row.
pub(crate) async fn fetch_all<T: FromRow>(engine: &Engine, r: Rendered) -> Result<Vec<T>> {
    run(engine, r, |r| async move {
        with_pool!(engine.pool(), pool => {
            let rows = prepare(r.sql, r.params).fetch_all(pool).await?;
            rows.iter().map(|row| T::from_row(row, 0)).collect()
        })
    })
    .await
}

/// Runs a statement and decodes up to `max` rows, dropping the rest unread.
pub(crate) async fn fetch_some<T: FromRow>(
    engine: &Engine,
    r: Rendered,
    max: usize,
) -> Result<Vec<T>> {
    run(engine, r, |r| async move {
        with_pool!(engine.pool(), pool => {
            let mut rows = prepare(r.sql, r.params).fetch(pool);
            let mut out = Vec::with_capacity(max);
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

/// Runs a statement that returns no rows; returns the number of rows affected.
pub(crate) async fn execute(engine: &Engine, r: Rendered) -> Result<u64> {
    run(engine, r, |r| async move {
        with_pool!(engine.pool(), pool => {
            Ok(prepare(r.sql, r.params).execute(pool).await?.rows_affected())
        })
    })
    .await
}

/// Runs a statement and yields its rows one at a time, holding one connection and at
/// most one row in memory.
pub(crate) fn stream<T: FromRow + Send + 'static>(
    engine: Engine,
    r: Rendered,
) -> BoxStream<'static, Result<T>> {
    if engine.echo() {
        echo(&engine, &r, Instant::now());
    }
    let Rendered { sql, params } = r;
    with_pool!(engine.pool().clone(), pool => Box::pin(async_stream::try_stream! {
        let mut rows = prepare(sql, params).fetch(&pool);
        while let Some(row) = rows.try_next().await? {
            yield T::from_row(&row, 0)?;
        }
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

impl RowSource for Row {
    fn get<T: ColumnType>(&self, index: usize) -> Result<T> {
        self.get_at(index)
    }
}

/// Runs raw SQL and returns its rows, readable by column name.
pub(crate) async fn fetch_rows(engine: &Engine, r: Rendered) -> Result<Vec<Row>> {
    run(engine, r, |r| async move {
        Ok(match engine.pool() {
            #[cfg(feature = "sqlite")]
            crate::engine::Pool::Sqlite(pool) => {
                let rows = prepare(r.sql, r.params).fetch_all(pool).await?;
                rows.into_iter()
                    .map(|row| Row(RowInner::Sqlite(row)))
                    .collect()
            }
            #[cfg(feature = "postgres")]
            crate::engine::Pool::Postgres(pool) => {
                let rows = prepare(r.sql, r.params).fetch_all(pool).await?;
                rows.into_iter()
                    .map(|row| Row(RowInner::Postgres(row)))
                    .collect()
            }
            #[cfg(feature = "mysql")]
            crate::engine::Pool::MySql(pool) => {
                let rows = prepare(r.sql, r.params).fetch_all(pool).await?;
                rows.into_iter()
                    .map(|row| Row(RowInner::MySql(row)))
                    .collect()
            }
        })
    })
    .await
}
