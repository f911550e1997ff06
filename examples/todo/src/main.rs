//! A small web application on flaskdb: axum and minijinja, with HTML forms to add,
//! complete and delete todos, a paginated list with Flask-SQLAlchemy's page widget,
//! flash messages, 404 pages and a JSON API. Each request runs in its own scope
//! (`DbLayer`). The routes and handlers are in `lib.rs`.
//!
//! Run with
//!
//! ```not_rust
//! cargo run -p example-todo
//! ```
//!
//! and open <http://127.0.0.1:8000>. It keeps its rows in `instance/todo.db` (SQLite)
//! unless `DATABASE_URL` names another database (PostgreSQL needs
//! `--features postgres`); `BIND` changes the address.

use flaskdb::prelude::*;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://todo.db".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let db = Db::connect(Config::new(url)).await?;
    let app = example_todo::app(db).await?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("Listening on http://{bind}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
