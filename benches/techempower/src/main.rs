//! TechEmpower Framework Benchmarks' four database tests — single query, multiple
//! queries, fortunes, updates — served twice: by axum + flaskdb (`DbLayer`, models,
//! `flaskdb::session()`) and by axum + raw sqlx on its own pool of the same size, each
//! in its own process on loopback, loaded in turns by `wrk` at several concurrencies,
//! on PostgreSQL, MariaDB and SQLite (a file in WAL mode).
//!
//! ```not_rust
//! bash scripts/load-tools.sh                                     # installs wrk
//! cargo run --release -p flaskdb-techempower                     # 10 s per run
//! cargo run --release -p flaskdb-techempower -- --quick          # 3 s per run
//! cargo run --release -p flaskdb-techempower -- --check          # answers only
//! cargo run --release -p flaskdb-techempower -- --backend pg --duration 5 \
//!     --connections 16,64,256 --tests db,queries,fortunes,updates --rounds 3 --pool 16
//! ```
//!
//! Per backend the driver drops and fills `te_world` (10,000 rows) and `te_fortune`
//! (TechEmpower's 12 fortunes), starts both servers (`serve` below), and before timing
//! checks their answers: `/db` and `/queries` well-formed, the right count (`?queries=`
//! clamped to 1..=500, 1 when missing or not a number) and equal to the stored rows;
//! `/updates` returning the written values, which a later read sees; `/fortunes`
//! byte-identical on both servers and equal to the expected page. A mismatch stops the
//! run. Then each test and concurrency is loaded with `wrk --latency`, flaskdb's server
//! and sqlx's taking turns (the first alternates by round), and a table gives requests
//! per second, p99 latency, non-2xx responses and socket errors, and the ratios
//! flaskdb / sqlx. Servers log their failed requests; logs and wrk's reports are kept in
//! `$TMPDIR/flaskdb-techempower/`.
//!
//! `serve flaskdb|sqlx URL PORT POOL` runs one server alone.
//!
//! PostgreSQL and MariaDB are reached at `postgres://postgres@127.0.0.1:5432/test` and
//! `mysql://root@127.0.0.1:3306/test` unless `FLASKDB_TEST_POSTGRES_URL` /
//! `FLASKDB_TEST_MYSQL_URL` say otherwise.

mod common;
mod driver;
mod flaskdb_app;
mod schema;
mod sqlx_app;

use anyhow::{Context, bail};

/// Runs one server until killed.
async fn serve(args: &[String]) -> anyhow::Result<()> {
    let [side, url, port, pool] = args else {
        bail!("usage: serve flaskdb|sqlx URL PORT POOL");
    };
    let port: u16 = port.parse().context("PORT")?;
    let pool: u32 = pool.parse().context("POOL")?;
    let app = match side.as_str() {
        "flaskdb" => flaskdb_app::app(flaskdb_app::connect(url, pool).await?),
        "sqlx" => sqlx_app::app(sqlx_app::RawPool::connect(url, pool).await?),
        other => bail!("unknown side {other} (flaskdb, sqlx)"),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("{side} listening on 127.0.0.1:{port}");
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]).await,
        _ => driver::run(driver::Options::parse(&args)?).await,
    }
}
