//! axum integration (feature `axum`): a layer that gives every request its own scope,
//! errors as responses, and the `?page=&per_page=` extractor.
//!
//! ```
//! use axum::{Router, routing::get};
//! use flaskdb_core::{Config, Db};
//! use flaskdb_core::axum::DbLayer;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Db::connect(Config::new("sqlite::memory:")).await?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(DbLayer::new(db));   // each request runs inside db.scope(..)
//! # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};

use crate::error::{Error, NOT_FOUND_TEXT};
use crate::query::pagination::PageRequest;
use crate::runtime::db::Db;

/// A tower layer running each request inside [`Db::scope`]: the request gets its own
/// session (closed at the end of the request, anything uncommitted rolled back) and its
/// own recorded queries. Works with `Router::layer` and `Router::route_layer`.
#[derive(Clone, Debug)]
pub struct DbLayer {
    db: Db,
}

impl DbLayer {
    /// The layer for `db`.
    pub fn new(db: Db) -> Self {
        DbLayer { db }
    }
}

impl<S> tower::Layer<S> for DbLayer {
    type Service = DbService<S>;
    fn layer(&self, inner: S) -> DbService<S> {
        DbService {
            db: self.db.clone(),
            inner,
        }
    }
}

/// The service [`DbLayer`] wraps around each route.
#[derive(Clone, Debug)]
pub struct DbService<S> {
    db: Db,
    inner: S,
}

impl<S, R> tower::Service<R> for DbService<S>
where
    S: tower::Service<R> + Send,
    S::Future: Send + 'static,
    S::Response: Send,
    S::Error: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let response = self.inner.call(request);
        let db = self.db.clone();
        Box::pin(async move { db.scope(response).await })
    }
}

fn page(title: &str, text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<!doctype html>\n<html lang=en>\n<title>{0}</title>\n<h1>{0}</h1>\n<p>{1}</p>\n",
        escape(title),
        escape(text)
    )
}

/// `Error::NotFound` is a 404 page with its description (Flask's `abort(404)`); every
/// other error is a 500 with a generic body, its detail logged through `tracing`
/// (target `flaskdb::http`), never sent: no SQL, no URL, no password in a response.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::NotFound { description } => {
                let text = description.as_deref().unwrap_or(NOT_FOUND_TEXT);
                (StatusCode::NOT_FOUND, Html(page("404 Not Found", text))).into_response()
            }
            _ => {
                tracing::error!(target: "flaskdb::http", error = %self, "request failed");
                let text = "The server encountered an internal error and was unable to \
                            complete your request.";
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html(page("500 Internal Server Error", text)),
                )
                    .into_response()
            }
        }
    }
}

/// `?page=&per_page=` from the query string, as Flask-SQLAlchemy reads them: absent
/// values are the defaults (page 1, 20 per page); a value that is not an integer is a
/// 404 (surrounding spaces are allowed, as Python's `int()` allows them). Turn it into
/// a [`PageRequest`] with `.into()`.
///
/// ```
/// # use flaskdb_core::{axum::PageParams, PageRequest};
/// async fn list(page: PageParams) -> String {
///     let request: PageRequest = page.into();
///     format!("{:?}", request.resolve())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageParams {
    /// `?page=`.
    pub page: Option<i64>,
    /// `?per_page=`.
    pub per_page: Option<i64>,
}

impl<S: Send + Sync> FromRequestParts<S> for PageParams {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let Query(args) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::not_found(None))?;
        let number = |name: &str| -> Result<Option<i64>, Error> {
            args.get(name)
                .map(|v| v.trim().parse::<i64>().map_err(|_| Error::not_found(None)))
                .transpose()
        };
        Ok(PageParams {
            page: number("page")?,
            per_page: number("per_page")?,
        })
    }
}

impl From<PageParams> for PageRequest {
    fn from(p: PageParams) -> PageRequest {
        PageRequest::new(p.page, p.per_page)
    }
}
