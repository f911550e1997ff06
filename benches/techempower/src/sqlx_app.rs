//! The four tests on axum + raw sqlx, as TechEmpower's sqlx entries write them: a
//! pool built by `PoolOptions::new().max_connections(n)` with sqlx's defaults otherwise,
//! one connection acquired per request for the multi-row tests, hand-written SQL, and
//! the updates written one `UPDATE` per row (in key order) in a transaction.

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use sqlx::Connection;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::common::{self, FortuneRow, WorldRow};

/// A raw sqlx pool on one of the three backends.
#[derive(Clone, Debug)]
pub(crate) enum RawPool {
    /// PostgreSQL.
    Postgres(sqlx::PgPool),
    /// MariaDB or MySQL.
    MySql(sqlx::MySqlPool),
    /// SQLite on a file.
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$p` bound to the pool, whatever its backend, and `$sql` to that
/// backend's statements.
macro_rules! each_backend {
    ($pool:expr, $p:ident, $sql:ident => $body:expr) => {
        match $pool {
            $crate::sqlx_app::RawPool::Postgres($p) => {
                let $sql = &$crate::sqlx_app::POSTGRES;
                $body
            }
            $crate::sqlx_app::RawPool::MySql($p) => {
                let $sql = &$crate::sqlx_app::QUESTION_MARKS;
                $body
            }
            $crate::sqlx_app::RawPool::Sqlite($p) => {
                let $sql = &$crate::sqlx_app::QUESTION_MARKS;
                $body
            }
        }
    };
}
pub(crate) use each_backend;

/// The statements of one placeholder style.
pub(crate) struct Statements {
    /// One world by key.
    pub(crate) world: &'static str,
    /// All fortunes.
    pub(crate) fortunes: &'static str,
    /// A world's new value.
    pub(crate) update: &'static str,
}

/// PostgreSQL's (`$1`).
pub(crate) const POSTGRES: Statements = Statements {
    world: "SELECT id, randomnumber FROM te_world WHERE id = $1",
    fortunes: "SELECT id, message FROM te_fortune",
    update: "UPDATE te_world SET randomnumber = $1 WHERE id = $2",
};

/// SQLite's and MariaDB's (`?`).
pub(crate) const QUESTION_MARKS: Statements = Statements {
    world: "SELECT id, randomnumber FROM te_world WHERE id = ?",
    fortunes: "SELECT id, message FROM te_fortune",
    update: "UPDATE te_world SET randomnumber = ? WHERE id = ?",
};

impl RawPool {
    /// A pool of `size` connections to `url` (`sqlite://` + an absolute path for
    /// SQLite, opened in WAL mode, created if missing), sqlx's defaults otherwise.
    pub(crate) async fn connect(url: &str, size: u32) -> anyhow::Result<RawPool> {
        Ok(if url.starts_with("postgres") {
            RawPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(size)
                    .connect(url)
                    .await?,
            )
        } else if url.starts_with("mysql") {
            RawPool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(size)
                    .connect(url)
                    .await?,
            )
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            RawPool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(size)
                    .connect_with(options)
                    .await?,
            )
        })
    }
}

/// A failed request: logged (counted) and answered with a 500.
pub(crate) struct Failure(String);

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure(e.to_string())
    }
}

impl From<minijinja::Error> for Failure {
    fn from(e: minijinja::Error) -> Self {
        Failure(e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        common::log_failure("sqlx", &self.0);
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

/// The server's state.
#[derive(Clone)]
struct App {
    pool: RawPool,
    templates: Arc<minijinja::Environment<'static>>,
}

async fn db(State(app): State<App>) -> Result<Json<WorldRow>, Failure> {
    let id = common::random_id();
    let row = each_backend!(&app.pool, p, sql => {
        sqlx::query_as::<_, WorldRow>(sql.world).bind(id).fetch_one(p).await?
    });
    Ok(Json(row))
}

async fn queries(
    State(app): State<App>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<WorldRow>>, Failure> {
    let n = common::query_count(query.as_deref());
    let mut out = Vec::with_capacity(n);
    each_backend!(&app.pool, p, sql => {
        let mut conn = p.acquire().await?;
        for _ in 0..n {
            let row = sqlx::query_as::<_, WorldRow>(sql.world)
                .bind(common::random_id())
                .fetch_one(&mut *conn)
                .await?;
            out.push(row);
        }
    });
    Ok(Json(out))
}

async fn fortunes(State(app): State<App>) -> Result<Html<String>, Failure> {
    let rows = each_backend!(&app.pool, p, sql => {
        sqlx::query_as::<_, FortuneRow>(sql.fortunes).fetch_all(p).await?
    });
    let rows = rows.into_iter().map(|f| (f.id, f.message)).collect();
    Ok(Html(common::render_fortunes(&app.templates, rows)?))
}

async fn updates(
    State(app): State<App>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<WorldRow>>, Failure> {
    let n = common::query_count(query.as_deref());
    let mut out = Vec::with_capacity(n);
    each_backend!(&app.pool, p, sql => {
        let mut conn = p.acquire().await?;
        for _ in 0..n {
            let mut row = sqlx::query_as::<_, WorldRow>(sql.world)
                .bind(common::random_id())
                .fetch_one(&mut *conn)
                .await?;
            row.randomnumber = common::random_id();
            out.push(row);
        }
        // In key order (stable: of one key written twice, the later value wins), so
        // that concurrent requests lock rows in one order.
        let mut writes = out.clone();
        writes.sort_by_key(|w| w.id);
        let mut tx = conn.begin().await?;
        for w in &writes {
            sqlx::query(sql.update)
                .bind(w.randomnumber)
                .bind(w.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(Json(out))
}

/// The raw sqlx server's routes.
pub(crate) fn app(pool: RawPool) -> Router {
    let app = App {
        pool,
        templates: Arc::new(common::templates()),
    };
    Router::new()
        .route("/db", get(db))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .with_state(app)
}
