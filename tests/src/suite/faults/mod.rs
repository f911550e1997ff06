//! Server faults (PostgreSQL and MariaDB only: every case needs `Server`):
//! the server kills the pool's connections again and again while writers commit
//! batches, with commit tokens on. Every batch ends up written exactly once and whole
//! (counted in a table with no unique column), each failure is a retryable error, and
//! the pool heals for the work that follows.

mod lost_commit;
mod pool;
mod stalls;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use flaskdb::{Backend, Config, Db, EngineOptions, Value};

use crate::suite::reliability::{Tally, assert_tallies_once, spawn_writers};
use crate::{TestDb, TestResult, case};

const WRITERS: usize = 8;
const BATCHES: usize = 40;
const ROWS: usize = 5;

/// The statement that kills every connection of the writers' pool but the caller's.
fn kill_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE application_name = $1"
        }
        _ => {
            "SELECT CAST(id AS SIGNED) AS id FROM information_schema.processlist \
             WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        }
    }
}

/// Kills the writers' connections once; returns how many it killed.
async fn kill(backend: Backend, admin: &Db, app: &str) -> anyhow::Result<u64> {
    match backend {
        Backend::Postgres => {
            let rows = admin
                .fetch_all(kill_sql(backend), vec![Value::from(app)])
                .await?;
            Ok(rows[0].get::<i64>("n")? as u64)
        }
        _ => {
            let rows = admin.fetch_all(kill_sql(backend), Vec::new()).await?;
            let mut killed = 0;
            for row in rows {
                let id = row.get::<i64>("id")?;
                // A connection may end by itself between the listing and the KILL.
                if admin
                    .execute(flaskdb::AssertSqlSafe(format!("KILL {id}")), Vec::new())
                    .await
                    .is_ok()
                {
                    killed += 1;
                }
            }
            Ok(killed)
        }
    }
}

#[case(needs(Server))]
async fn killed_connections_lose_and_duplicate_nothing(t: TestDb) -> TestResult {
    let app = format!("flaskdb_faults_{}", std::process::id());
    let url = match t.backend {
        Backend::Postgres => {
            let sep = if t.url.contains('?') { '&' } else { '?' };
            format!("{}{sep}application_name={app}", t.url)
        }
        _ => t.url.clone(),
    };
    let options = EngineOptions::default()
        .max_connections(6)
        .test_before_acquire(true)
        .commit_tokens(true);
    let db = Db::connect(Config::new(url).engine_options(options)).await?;
    db.create_all().await?;
    let admin = Db::connect(
        Config::new(t.url.clone()).engine_options(EngineOptions::default().max_connections(1)),
    )
    .await?;

    let done = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicU64::new(0));
    let killer = {
        let (done, kills, backend) = (done.clone(), kills.clone(), t.backend);
        let (admin, app) = (admin.clone(), app.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(25)).await;
                let n = kill(backend, &admin, &app).await?;
                kills.fetch_add(n, Ordering::Relaxed);
            }
            Ok::<(), anyhow::Error>(())
        })
    };
    let writers = spawn_writers(
        &db,
        WRITERS,
        BATCHES,
        ROWS,
        Duration::from_millis(5),
        Duration::ZERO,
    );
    let failures = writers.await??;
    done.store(true, Ordering::Relaxed);
    killer.await??;
    let kills = kills.load(Ordering::Relaxed);
    eprintln!(
        "{:?}: {} batches committed, {kills} connections killed, {failures} failed attempts retried",
        t.backend,
        WRITERS * BATCHES
    );
    assert!(kills > 0 && failures > 0, "faults were injected and met");

    // Every batch is there, whole and once; the pool serves the next requests.
    assert_tallies_once(&db, WRITERS, BATCHES, ROWS).await?;
    let mut s = db.session();
    s.add(Tally::build().writer(-1).batch(0).row(0));
    s.commit().await?;
    assert_eq!(
        db.query::<Tally>()
            .filter_by(Tally::writer, -1)
            .count()
            .await?,
        1
    );
    Ok(())
}
