//! The SQLite read fast path, measured (issue #11): sqlx-sqlite's `fetch_all` of 10,000
//! rows against the same statement stepped directly on the connection's raw handle
//! while `SqliteConnection::lock_handle()` holds it (sqlx guarantees its worker thread
//! makes no call on a locked handle). An experiment, not flaskdb code:
//!
//! The stepping is measured twice: on the async task itself, and inside
//! `tokio::task::block_in_place`. Only the second is fit for a library: `sqlite3_step`
//! can run long (a large result) or sleep in SQLite's busy handler while another
//! connection holds a lock (up to the busy timeout, 5 s by default), and on the task
//! itself that stalls every other task of the runtime thread. The lock guard borrows
//! the connection, so the work cannot move to `spawn_blocking`; `block_in_place` exists
//! only on a multi-threaded runtime.
//!
//! ```not_rust
//! cargo run --release -p sqlite-fast-path
//! ```
use std::ffi::{CStr, CString};
use std::time::Instant;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

#[derive(Debug)]
#[allow(dead_code)]
struct User {
    id: i64,
    name: String,
    hair_color: Option<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with("sqlite::memory:".parse::<SqliteConnectOptions>()?)
        .await?;
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)")
        .execute(&pool)
        .await?;
    let mut tx = pool.begin().await?;
    for i in 0..10_000 {
        sqlx::query("INSERT INTO users (name, hair_color) VALUES (?, ?)")
            .bind(format!("User {i}"))
            .bind(if i % 2 == 0 { Some("black") } else { None })
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let sql = "SELECT id, name, hair_color FROM users";
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..60 {
        let run_sqlx = async {
            let t = Instant::now();
            let rows: Vec<User> = sqlx::query(sql)
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| User {
                    id: r.get(0),
                    name: r.get(1),
                    hair_color: r.get(2),
                })
                .collect();
            assert_eq!(rows.len(), 10_000);
            t.elapsed().as_secs_f64() * 1e3
        };
        // `blocking`: the stepping runs in `block_in_place`, so the runtime's other tasks
        // move to another worker meanwhile (a long query, or a busy wait on a lock,
        // would otherwise stall them all).
        let run_raw = async |blocking: bool| {
            let t = Instant::now();
            let mut conn = pool.acquire().await.unwrap();
            let mut handle = conn.lock_handle().await.unwrap();
            let db = handle.as_raw_handle().as_ptr();
            // SAFETY: `handle` keeps the connection locked while `step_all` runs, so
            // sqlx's worker thread makes no call on `db` meanwhile; `db` is a valid open
            // connection for as long as `conn` lives.
            let out = if blocking {
                tokio::task::block_in_place(|| unsafe { step_all(db, sql) })
            } else {
                unsafe { step_all(db, sql) }
            };
            assert_eq!(out.len(), 10_000);
            t.elapsed().as_secs_f64() * 1e3
        };
        if round % 2 == 0 {
            a.push(run_sqlx.await);
            b.push(run_raw(false).await);
            c.push(run_raw(true).await);
        } else {
            c.push(run_raw(true).await);
            b.push(run_raw(false).await);
            a.push(run_sqlx.await);
        }
    }
    let (ma, mb, mc) = (median(a), median(b), median(c));
    println!(
        "10,000 rows: sqlx fetch_all {ma:.2} ms, locked raw handle {mb:.2} ms (speed-up \
         {:.2}x), the same in block_in_place {mc:.2} ms (speed-up {:.2}x)",
        ma / mb,
        ma / mc
    );
    Ok(())
}

/// Prepares `sql`, steps through every row decoding it into a `User`, and finalizes.
///
/// # Safety
/// `db` is an open connection on which no other thread makes a call until this returns.
/// The statement is prepared, stepped and finalized here, so none outlives the call;
/// each text pointer is read (and copied) before the next step invalidates it.
unsafe fn step_all(db: *mut libsqlite3_sys::sqlite3, sql: &str) -> Vec<User> {
    use libsqlite3_sys::*;
    let csql = CString::new(sql).unwrap();
    let mut out = Vec::with_capacity(16);
    // SAFETY: as the function's contract says.
    unsafe {
        let mut stmt = std::ptr::null_mut();
        assert_eq!(
            sqlite3_prepare_v2(db, csql.as_ptr(), -1, &mut stmt, std::ptr::null_mut()),
            SQLITE_OK
        );
        loop {
            match sqlite3_step(stmt) {
                SQLITE_ROW => {
                    let id = sqlite3_column_int64(stmt, 0);
                    let text = |i| {
                        let p = sqlite3_column_text(stmt, i);
                        (!p.is_null())
                            .then(|| CStr::from_ptr(p.cast()).to_string_lossy().into_owned())
                    };
                    out.push(User {
                        id,
                        name: text(1).unwrap(),
                        hair_color: text(2),
                    });
                }
                SQLITE_DONE => break,
                rc => panic!("step {rc}"),
            }
        }
        sqlite3_finalize(stmt);
    }
    out
}
