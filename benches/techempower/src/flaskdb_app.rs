//! The four tests on axum + flaskdb, as a flaskdb user writes them: models with
//! `#[derive(Model)]`, `DbLayer` giving each request its scope and session, reads with
//! `Model::query()`, updates changed on the loaded rows and committed through
//! `flaskdb::session()`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use flaskdb::axum::DbLayer;
use flaskdb::prelude::*;
use serde::Serialize;

use crate::common::{self, WorldRow};

/// A row of `te_world`.
#[derive(Model, Debug, Clone, PartialEq, Serialize)]
#[model(table = "te_world")]
pub(crate) struct World {
    /// The key, 1..=10,000.
    pub(crate) id: i32,
    /// The value, 1..=10,000.
    pub(crate) randomnumber: i32,
}

/// A row of `te_fortune`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "te_fortune")]
pub(crate) struct Fortune {
    /// The key.
    pub(crate) id: i32,
    /// The text.
    #[model(max_length = 2048)]
    pub(crate) message: String,
}

impl From<&World> for WorldRow {
    fn from(w: &World) -> Self {
        WorldRow {
            id: w.id,
            randomnumber: w.randomnumber,
        }
    }
}

/// A failed request: logged (counted) and answered with a 500.
pub(crate) struct Failure(String);

impl From<flaskdb::Error> for Failure {
    fn from(e: flaskdb::Error) -> Self {
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
        common::log_failure("flaskdb", &self.0);
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

/// One world by key; a missing row is a failure (the table has every key).
async fn world(id: i32) -> Result<World, Failure> {
    World::query()
        .get(id)
        .await?
        .ok_or_else(|| Failure(format!("no world {id}")))
}

async fn db() -> Result<Json<WorldRow>, Failure> {
    let w = world(common::random_id()).await?;
    Ok(Json(WorldRow::from(&w)))
}

async fn queries(RawQuery(query): RawQuery) -> Result<Json<Vec<WorldRow>>, Failure> {
    let n = common::query_count(query.as_deref());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(WorldRow::from(&world(common::random_id()).await?));
    }
    Ok(Json(out))
}

async fn fortunes(
    State(templates): State<Arc<minijinja::Environment<'static>>>,
) -> Result<Html<String>, Failure> {
    let rows = Fortune::query().all().await?;
    let rows = rows.into_iter().map(|f| (f.id, f.message)).collect();
    Ok(Html(common::render_fortunes(&templates, rows)?))
}

async fn updates(RawQuery(query): RawQuery) -> Result<Json<Vec<WorldRow>>, Failure> {
    let n = common::query_count(query.as_deref());
    // All reads first, then the changes, as the raw side does. Changing each row as it
    // is read makes the next read autoflush the change (one UPDATE per row, in the
    // order read, each holding its lock until the commit): concurrent requests then
    // lock rows in different orders and deadlock, which the flush's key order cannot
    // prevent.
    let mut worlds = Vec::with_capacity(n);
    for _ in 0..n {
        worlds.push(world(common::random_id()).await?);
    }
    let mut out = Vec::with_capacity(n);
    let mut session = flaskdb::session();
    for mut w in worlds {
        w.randomnumber = common::random_id();
        out.push(WorldRow::from(&w));
        session.add(w);
    }
    session.commit().await?;
    Ok(Json(out))
}

/// The flaskdb server's routes, each request in its own scope.
pub(crate) fn app(db: Db) -> Router {
    Router::new()
        .route("/db", get(db_route))
        .route("/queries", get(queries))
        .route("/fortunes", get(fortunes))
        .route("/updates", get(updates))
        .with_state(Arc::new(common::templates()))
        .layer(DbLayer::new(db))
}

/// `/db` (named apart from the `db` parameter of [`app`]).
async fn db_route() -> Result<Json<WorldRow>, Failure> {
    db().await
}

/// Connects flaskdb to `url` with a pool of `pool` connections (Flask-SQLAlchemy's
/// `pool_size`), every other option at flaskdb's default.
pub(crate) async fn connect(url: &str, pool: u32) -> anyhow::Result<Db> {
    let options = EngineOptions::default().max_connections(pool);
    Ok(Db::connect(Config::new(url).engine_options(options)).await?)
}
