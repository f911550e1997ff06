//! A server restart under load, PostgreSQL and MariaDB: writers keep committing batches
//! while the server is stopped and started again, with commit tokens on. Work in flight
//! fails with retryable errors, the pool heals, and every batch is in the database once
//! and whole (counted in a table with no unique column).
//!
//! It restarts the machine's servers, so it is `#[ignore]`d in `cargo test`; CI runs it
//! as a step of its own: `cargo test --workspace --test restart -- --ignored`. Asked
//! for, each test needs its server's URL (`FLASKDB_TEST_POSTGRES_URL`,
//! `FLASKDB_TEST_MYSQL_URL`) and fails naming the variable without it. It works in a
//! scratch database next to the URL's, dropped afterwards.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;
use std::time::{Duration, Instant};

use flaskdb::{AssertSqlSafe, Backend, Config, Db, EngineOptions};
use flaskdb_tests::suite::reliability::{assert_tallies_once, spawn_writers};
use flaskdb_tests::{scratch_database, server_var};

const WRITERS: usize = 4;
const BATCHES: usize = 60;
const ROWS: usize = 5;

/// How long the server has been up, in seconds.
async fn uptime(db: &Db, server: Backend) -> f64 {
    let sql = match server {
        Backend::Postgres => {
            "SELECT CAST(EXTRACT(EPOCH FROM now() - pg_postmaster_start_time()) AS DOUBLE PRECISION) AS t"
        }
        _ => {
            "SELECT CAST(VARIABLE_VALUE AS DOUBLE) AS t \
             FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"
        }
    };
    let rows = db.fetch_all(sql, Vec::new()).await.unwrap();
    rows[0].get::<f64>("t").unwrap()
}

fn restart(server: Backend) {
    let status = match server {
        Backend::Postgres => {
            let version = std::fs::read_dir("/etc/postgresql")
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .file_name();
            Command::new("pg_ctlcluster")
                .args([
                    "--skip-systemctl-redirect",
                    version.to_str().unwrap(),
                    "main",
                    "restart",
                ])
                .status()
                .unwrap()
        }
        _ => {
            let stopped = Command::new("mariadb-admin")
                .args(["-uroot", "shutdown"])
                .status()
                .unwrap();
            assert!(stopped.success());
            Command::new("start-stop-daemon")
                .args([
                    "--start",
                    "--oknodo",
                    "--background",
                    "--exec",
                    "/usr/sbin/mariadbd",
                ])
                .status()
                .unwrap()
        }
    };
    assert!(status.success(), "restarting {server:?}");
}

/// [`load_through_a_restart`] in a scratch database on `server`, dropped afterwards
/// whatever the outcome.
async fn restart_under_load(server: Backend) {
    let var = server_var(server).unwrap();
    let base = std::env::var(var)
        .unwrap_or_else(|_| panic!("the {server:?} restart test needs {var} (a server URL)"));
    // The connection that made the database does not outlive the restart: another one
    // drops it.
    let (url, scratch) = scratch_database(server, Some(&base)).await.unwrap();
    let (_, drop) = scratch.unwrap();
    let outcome = tokio::spawn(load_through_a_restart(server, url)).await;
    let dropped = async {
        Db::connect(Config::new(base))
            .await?
            .execute(AssertSqlSafe(drop), vec![])
            .await
    };
    let dropped = dropped.await;
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
    dropped.unwrap();
}

/// Writers commit batches into the database at `url` while `server` restarts; then
/// every batch is there once.
async fn load_through_a_restart(server: Backend, url: String) {
    let options = EngineOptions::default()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(true)
        .commit_tokens(true);
    let db = Db::connect(Config::new(url).engine_options(options))
        .await
        .unwrap();
    db.create_all().await.unwrap();
    let (up_before, clock) = (uptime(&db, server).await, Instant::now());
    let writers = spawn_writers(
        &db,
        WRITERS,
        BATCHES,
        ROWS,
        Duration::from_millis(100),
        Duration::from_millis(10),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking(move || restart(server))
        .await
        .unwrap();
    let failures = writers.await.unwrap().unwrap();
    println!(
        "{server:?}: restarted under load; {} batches committed, {failures} failed attempts retried",
        WRITERS * BATCHES
    );
    // The server did restart (connections that were idle at the time are replaced
    // without an error, by the test before each acquire).
    let up_after = uptime(&db, server).await;
    let elapsed = clock.elapsed().as_secs_f64();
    assert!(
        up_after < up_before + elapsed - 1.0,
        "the server restarted: up {up_before}s, then {up_after}s after {elapsed}s"
    );
    assert_tallies_once(&db, WRITERS, BATCHES, ROWS)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the database servers; CI runs it as its own step"]
async fn postgres_restart_loses_nothing() {
    restart_under_load(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the database servers; CI runs it as its own step"]
async fn mariadb_restart_loses_nothing() {
    restart_under_load(Backend::MySql).await;
}
