//! The todo application: a small but real web application on flaskdb and axum, with
//! HTML forms to add, complete and delete todos, a paginated list with the page widget
//! of Flask-SQLAlchemy's documentation, 404 pages, flash messages, and a JSON API.
//!
//! Every request runs in its own flaskdb scope (`DbLayer`), so handlers use
//! `Todo::query()` and `flaskdb::session()` directly; anything a request does not
//! commit is rolled back when it ends. Around the whole router, a request from another
//! site's page that would change data is refused, and every response carries a
//! Content-Security-Policy and the other security headers (`security.rs`). `main.rs`
//! serves it; the tests below drive it without a network.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use flaskdb::axum::{DbLayer, PageParams};
use flaskdb::prelude::*;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

mod security;

/// One todo; the table is named `todo`.
#[derive(Model, Debug, Clone, PartialEq, Serialize)]
pub struct Todo {
    /// The key.
    pub id: i64,
    /// What to do.
    #[model(max_length = 200)]
    pub title: String,
    /// Whether it is done.
    #[model(default = false)]
    pub done: bool,
}

#[derive(Clone)]
struct App {
    templates: Arc<minijinja::Environment<'static>>,
    backend: &'static str,
}

/// What can go wrong in a handler: the database's errors (a 404, or a 500 that leaks
/// nothing) and the templates' (a 500 too).
enum AppError {
    Db(flaskdb::Error),
    Template(minijinja::Error),
}

impl From<flaskdb::Error> for AppError {
    fn from(e: flaskdb::Error) -> Self {
        AppError::Db(e)
    }
}

impl From<minijinja::Error> for AppError {
    fn from(e: minijinja::Error) -> Self {
        AppError::Template(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Db(e) => e.into_response(),
            AppError::Template(e) => {
                // Logged, never shown; the page says as little as flaskdb's 500 does.
                eprintln!("template error: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
        }
    }
}

/// A one-shot message shown on the next page, carried in a cookie.
#[derive(Serialize)]
struct Flash {
    kind: &'static str,
    text: String,
}

/// Percent-encodes a flash message for its cookie.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn flash_of(headers: &HeaderMap) -> Option<Flash> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("flash="))?;
    let (kind, text) = value.split_once(':')?;
    let kind = if kind == "error" { "error" } else { "ok" };
    Some(Flash {
        kind,
        text: decode(text),
    })
}

/// A 303 to `to`, with a flash message for the next page.
fn redirect_with(to: &str, kind: &str, text: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    let cookie = format!(
        "flash={kind}:{}; Path=/; HttpOnly; SameSite=Lax",
        encode(text)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Renders a page; a flash message shown on it is cleared.
fn render(
    app: &App,
    name: &str,
    mut ctx: minijinja::Value,
    flash: Option<Flash>,
) -> Result<Response, AppError> {
    let shown = flash.is_some();
    let flash = minijinja::Value::from(Serde(&flash));
    ctx = minijinja::context! { flash => flash, backend => app.backend, ..ctx };
    let html = app.templates.get_template(name)?.render(ctx)?;
    let mut response = Html(html).into_response();
    if shown {
        let clear = HeaderValue::from_static("flash=; Path=/; Max-Age=0");
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    Ok(response)
}

/// What the page widget needs of a [`Pagination`].
#[derive(Serialize)]
struct PageView {
    page: u64,
    pages: u64,
    first: u64,
    last: u64,
    total: Option<u64>,
    iter_pages: Vec<Option<u64>>,
}

async fn list(
    State(app): State<App>,
    page: PageParams,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let request = PageRequest::from(page).max_per_page(Some(50));
    let todos = Todo::query()
        .order_by(Todo::id.desc())
        .paginate(request)
        .await?;
    let view = PageView {
        page: todos.page,
        pages: todos.pages(),
        first: todos.first(),
        last: todos.last(),
        total: todos.total,
        iter_pages: todos.iter_pages().collect(),
    };
    let ctx = minijinja::context! {
        todos => minijinja::Value::from(Serde(&todos.items)),
        pagination => minijinja::Value::from(Serde(&view)),
    };
    render(&app, "todos.html", ctx, flash_of(&headers))
}

#[derive(Deserialize)]
struct NewTodo {
    title: String,
}

async fn add(Form(form): Form<NewTodo>) -> Result<Response, AppError> {
    let title = form.title.trim();
    if title.is_empty() {
        return Ok(redirect_with("/todos", "error", "A todo needs a title."));
    }
    if title.chars().count() > 200 {
        return Ok(redirect_with(
            "/todos",
            "error",
            "A title has at most 200 characters.",
        ));
    }
    flaskdb::session().add(Todo::build().title(title));
    flaskdb::session().commit().await?;
    Ok(redirect_with("/todos", "ok", &format!("Added “{title}”.")))
}

async fn todo_or_404(id: i64) -> Result<Todo, AppError> {
    Ok(Todo::query()
        .description(format!("No todo {id}."))
        .get_or_404(id)
        .await?)
}

async fn show(
    State(app): State<App>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let todo = todo_or_404(id).await?;
    let ctx = minijinja::context! { todo => minijinja::Value::from(Serde(&todo)) };
    render(&app, "todo.html", ctx, flash_of(&headers))
}

async fn complete(Path(id): Path<i64>) -> Result<Response, AppError> {
    let mut todo = todo_or_404(id).await?;
    todo.done = !todo.done;
    flaskdb::session().add(&todo);
    flaskdb::session().commit().await?;
    let word = if todo.done { "Done" } else { "Reopened" };
    Ok(redirect_with(
        "/todos",
        "ok",
        &format!("{word}: “{}”.", todo.title),
    ))
}

async fn delete(Path(id): Path<i64>) -> Result<Response, AppError> {
    let todo = todo_or_404(id).await?;
    flaskdb::session().delete(&todo);
    flaskdb::session().commit().await?;
    Ok(redirect_with(
        "/todos",
        "ok",
        &format!("Deleted “{}”.", todo.title),
    ))
}

async fn api(page: PageParams) -> flaskdb::Result<Json<Pagination<Todo>>> {
    let todos = Todo::query()
        .order_by(Todo::id.asc())
        .paginate(page.into())
        .await?;
    Ok(Json(todos))
}

/// The pages' stylesheet: a file, since the Content-Security-Policy allows no inline
/// style.
async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/style.css"),
    )
}

async fn not_found() -> flaskdb::Error {
    flaskdb::Error::NotFound { description: None }
}

fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        (
            "pagination.html",
            include_str!("../templates/pagination.html"),
        ),
        ("todos.html", include_str!("../templates/todos.html")),
        ("todo.html", include_str!("../templates/todo.html")),
    ] {
        // The templates are part of the program: a broken one is a bug, caught by
        // the tests.
        if let Err(e) = env.add_template(name, source) {
            eprintln!("template {name}: {e}");
        }
    }
    env
}

/// The application on `db` (its tables are created if missing).
///
/// # Errors
/// Database errors from `create_all`.
pub async fn app(db: Db) -> flaskdb::Result<Router> {
    db.create_all().await?;
    let backend = match db.engine()?.backend() {
        flaskdb::Backend::Sqlite => "SQLite",
        flaskdb::Backend::Postgres => "PostgreSQL",
        flaskdb::Backend::MySql => "MySQL",
    };
    let state = App {
        templates: Arc::new(templates()),
        backend,
    };
    Ok(Router::new()
        .route("/", get(|| async { Redirect::to("/todos") }))
        .route("/todos", get(list).post(add))
        .route("/todos/{id}", get(show))
        .route("/todos/{id}/complete", post(complete))
        .route("/todos/{id}/delete", post(delete))
        .route("/api/todos", get(api))
        .route("/style.css", get(stylesheet))
        .fallback(not_found)
        .layer(DbLayer::new(db))
        // The last layer is the outermost: a refused request opens no database scope,
        // and its 403 carries the headers too.
        .layer(middleware::from_fn(security::refuse_cross_origin))
        .layer(middleware::from_fn(security::security_headers))
        .with_state(state))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn new_app() -> (Router, Db) {
        let db = Db::connect(Config::new("sqlite::memory:")).await.unwrap();
        (app(db.clone()).await.unwrap(), db)
    }

    /// Sends a request; returns the status, the body, and the flash cookie set (if any).
    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String, Option<String>) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .filter(|c| c.starts_with("flash=") && !c.contains("Max-Age=0"))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned(), cookie)
    }

    fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
        let mut request = Request::get(uri);
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        request.body(Body::empty()).unwrap()
    }

    fn post(uri: &str, form: &str) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn create_and_list_with_a_flash_message() {
        let (app, _) = new_app().await;
        let (status, body, _) = send(&app, get("/todos", None)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Nothing to do"));
        let (status, _, flash) = send(&app, post("/todos", "title=Write+tests")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let flash = flash.expect("a flash cookie");
        let (_, body, _) = send(&app, get("/todos", Some(&flash))).await;
        assert!(body.contains("Write tests"));
        assert!(
            body.contains("Added “Write tests”."),
            "the flash message is shown"
        );
        let (_, body, _) = send(&app, get("/todos", None)).await;
        assert!(!body.contains("Added"), "and only once");
        let (_, _, flash) = send(&app, post("/todos", "title=+++")).await;
        let (_, body, _) = send(&app, get("/todos", flash.as_deref())).await;
        assert!(body.contains("A todo needs a title."));
        // Titles are escaped, never interpreted as HTML.
        send(&app, post("/todos", "title=%3Cscript%3Ex%3C%2Fscript%3E")).await;
        let (_, body, _) = send(&app, get("/todos", None)).await;
        assert!(body.contains("&lt;script&gt;") && !body.contains("<script>"));
    }

    #[tokio::test]
    async fn pages_with_the_page_widget() {
        let (app, db) = new_app().await;
        let mut s = db.session();
        for i in 1..=45 {
            s.add(Todo::build().title(format!("Task {i}")));
        }
        s.commit().await.unwrap();
        let (_, body, _) = send(&app, get("/todos", None)).await;
        assert!(body.contains("Task 45") && !body.contains("Task 25<"));
        assert!(body.contains("1 - 20 of 45"));
        assert!(
            body.contains("<strong>1</strong>")
                && body.contains(r#"<a href="/todos?page=3">3</a>"#),
            "{body}"
        );
        let (_, body, _) = send(&app, get("/todos?page=3", None)).await;
        assert!(body.contains("41 - 45 of 45") && body.contains("Task 1<"));
        let (status, _, _) = send(&app, get("/todos?page=4", None)).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "an empty page past the first"
        );
        let (status, _, _) = send(&app, get("/todos?page=abc", None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a page that is not a number");
        let (status, _, _) = send(&app, get("/todos?per_page=0", None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn complete_and_delete() {
        let (app, db) = new_app().await;
        send(&app, post("/todos", "title=Ship+it")).await;
        let todo = db.query::<Todo>().one().await.unwrap();
        let (status, _, _) = send(&app, post(&format!("/todos/{}/complete", todo.id), "")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(db.query::<Todo>().get(todo.id).await.unwrap().unwrap().done);
        let (_, body, _) = send(&app, get(&format!("/todos/{}", todo.id), None)).await;
        assert!(body.contains("Ship it"));
        let (_, _, flash) = send(&app, post(&format!("/todos/{}/delete", todo.id), "")).await;
        assert_eq!(db.query::<Todo>().count().await.unwrap(), 0);
        let (_, body, _) = send(&app, get("/todos", flash.as_deref())).await;
        assert!(body.contains("Deleted “Ship it”."));
    }

    #[tokio::test]
    async fn missing_todos_and_paths_are_404_pages() {
        let (app, _) = new_app().await;
        let (status, body, _) = send(&app, get("/todos/9999", None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("No todo 9999."), "{body}");
        let (status, _, _) = send(&app, post("/todos/9999/delete", "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body, _) = send(&app, get("/nowhere", None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("The requested URL was not found on the server."));
    }

    #[tokio::test]
    async fn json_api_pages() {
        let (app, db) = new_app().await;
        let mut s = db.session();
        for i in 1..=3 {
            s.add(Todo::build().title(format!("T{i}")));
        }
        s.commit().await.unwrap();
        let (status, body, _) = send(&app, get("/api/todos?per_page=2", None)).await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["total"], 3);
        assert_eq!(json["pages"], 2);
        assert_eq!(json["has_next"], true);
        assert_eq!(json["items"][0]["title"], "T1");
    }

    /// A form POST as a browser sends it: `Host` is the application's, and each
    /// `(name, value)` of `headers` is added (`Sec-Fetch-Site`, `Origin`).
    fn browser_post(uri: &str, form: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut request = Request::post(uri)
            .header(header::HOST, "127.0.0.1:8000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::from(form.to_owned())).unwrap()
    }

    /// Every row of the `todo` table, in key order: what a refused request must leave
    /// as it was.
    async fn rows(db: &Db) -> Vec<Todo> {
        db.query::<Todo>()
            .order_by(Todo::id.asc())
            .all()
            .await
            .unwrap()
    }

    /// Sends each of the three forms (add, complete, delete) with `headers`, and checks
    /// that every one is refused with a 403 that says why, and that the database is
    /// unchanged.
    async fn refused(app: &Router, db: &Db, headers: &[(&str, &str)], why: &str) {
        let before = rows(db).await;
        let id = before[0].id;
        for (uri, form) in [
            ("/todos".to_owned(), "title=Planted"),
            (format!("/todos/{id}/complete"), ""),
            (format!("/todos/{id}/delete"), ""),
        ] {
            let (status, body, flash) = send(app, browser_post(&uri, form, headers)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{uri} with {headers:?}");
            assert!(body.contains(why), "{uri} with {headers:?}: {body}");
            assert_eq!(flash, None, "no flash message for a refused request");
        }
        assert_eq!(rows(db).await, before, "{headers:?} changed the database");
    }

    async fn app_with_a_todo() -> (Router, Db) {
        let (app, db) = new_app().await;
        let mut s = db.session();
        s.add(Todo::build().title("Keep me"));
        s.commit().await.unwrap();
        (app, db)
    }

    #[tokio::test]
    async fn a_cross_site_post_is_refused_and_changes_nothing() {
        let (app, db) = app_with_a_todo().await;
        // A page on another site, and one on another origin of the same site (another
        // port or subdomain): browsers say so in Sec-Fetch-Site, whatever Origin says.
        for site in ["cross-site", "same-site"] {
            let why = format!("Sec-Fetch-Site: {site}");
            refused(&app, &db, &[("sec-fetch-site", site)], &why).await;
            let both = [
                ("sec-fetch-site", site),
                ("origin", "http://127.0.0.1:8000"),
            ];
            refused(&app, &db, &both, &why).await;
        }
    }

    #[tokio::test]
    async fn a_foreign_origin_without_fetch_metadata_is_refused() {
        // Browsers older than Sec-Fetch-Site still send Origin on a form POST.
        let (app, db) = app_with_a_todo().await;
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:9999",
            "http://127.0.0.1:8000.evil.example",
            // A sandboxed frame or a data: URL.
            "null",
        ] {
            let why = format!("Origin {origin} is not this site");
            refused(&app, &db, &[("origin", origin)], &why).await;
        }
    }

    #[tokio::test]
    async fn same_origin_posts_and_clients_without_browser_headers_still_work() {
        let (app, db) = new_app().await;
        for (i, headers) in [
            // A browser's form on the application's own page.
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://127.0.0.1:8000"),
            ][..],
            // A request the user made (a bookmark, the address bar).
            &[("sec-fetch-site", "none")],
            // An older browser: Origin only, the application's own.
            &[("origin", "http://127.0.0.1:8000")],
            // curl and other clients that are not browsers send neither.
            &[],
        ]
        .into_iter()
        .enumerate()
        {
            let form = format!("title=Task+{i}");
            let (status, _, _) = send(&app, browser_post("/todos", &form, headers)).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
            let todo = db.query::<Todo>().order_by(Todo::id.desc()).first().await;
            assert_eq!(
                todo.unwrap().unwrap().title,
                format!("Task {i}"),
                "{headers:?}"
            );
        }
        let id = rows(&db).await[0].id;
        let same_origin = [("sec-fetch-site", "same-origin")];
        let complete = format!("/todos/{id}/complete");
        let (status, _, _) = send(&app, browser_post(&complete, "", &same_origin)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(db.query::<Todo>().get(id).await.unwrap().unwrap().done);
        let delete = format!("/todos/{id}/delete");
        let (status, _, _) = send(&app, browser_post(&delete, "", &same_origin)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(db.query::<Todo>().get(id).await.unwrap(), None);
        // A cross-site GET only reads: links to the application from elsewhere work.
        let request = Request::get("/todos")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, request).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn every_response_carries_the_security_headers() {
        let (app, db) = app_with_a_todo().await;
        let id = rows(&db).await[0].id;
        let cross_site = [("sec-fetch-site", "cross-site")];
        let requests = [
            get("/", None),
            get("/todos", None),
            get(&format!("/todos/{id}"), None),
            get("/todos/9999", None),
            get("/nowhere", None),
            get("/api/todos", None),
            get("/style.css", None),
            browser_post("/todos", "title=New", &[]),
            browser_post(&format!("/todos/{id}/complete"), "", &cross_site),
        ];
        for request in requests {
            let uri = request.uri().clone();
            let response = app.clone().oneshot(request).await.unwrap();
            let headers = response.headers();
            for (name, value) in [
                (
                    "content-security-policy",
                    "default-src 'none'; style-src 'self'; img-src 'self'; \
                     form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                ),
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("referrer-policy", "same-origin"),
            ] {
                assert_eq!(
                    headers.get(name).and_then(|v| v.to_str().ok()),
                    Some(value),
                    "{name} on {uri} ({})",
                    response.status()
                );
            }
        }
    }

    #[tokio::test]
    async fn the_pages_need_nothing_the_policy_forbids() {
        // No inline script or style: the policy allows only the stylesheet.
        let (app, db) = app_with_a_todo().await;
        let id = rows(&db).await[0].id;
        for uri in [
            "/todos".to_owned(),
            format!("/todos/{id}"),
            "/todos/9999".to_owned(),
        ] {
            let (_, body, _) = send(&app, get(&uri, None)).await;
            for inline in ["<script", "<style", "style=", "javascript:"] {
                assert!(!body.contains(inline), "{inline:?} in {uri}: {body}");
            }
        }
        let (_, body, _) = send(&app, get("/todos", None)).await;
        assert!(body.contains(r#"<link rel="stylesheet" href="/style.css">"#));
        let response = app.clone().oneshot(get("/style.css", None)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("ul.todos"));
    }

    #[tokio::test]
    async fn a_database_failure_is_a_500_that_leaks_nothing() {
        let (app, db) = new_app().await;
        db.execute("DROP TABLE todo", vec![]).await.unwrap();
        let (status, body, _) = send(&app, get("/todos", None)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        for secret in ["SELECT", "todo\"", "no such table", "sqlite", "memory"] {
            assert!(!body.contains(secret), "{secret:?} leaked: {body}");
        }
        assert!(body.contains("Internal Server Error"));
    }
}
