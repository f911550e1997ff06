//! flaskdb's benchmarks: the four workloads of Diesel's benchmark suite (trivial query,
//! medium complex query, insert, loading associations) and `get` by primary key, each
//! against raw sqlx as its users run it — on a plain connection (`PgConnection::connect`)
//! and on a default pool (`PgPool::connect`), each with its own connection and sqlx's
//! default configuration; then flaskdb against itself (recording on and off, keyset
//! against OFFSET pagination) in a table of its own, and a stream of 1,000,000 rows with
//! its peak memory.
//!
//! The schema is diesel_bench's, created by hand-written DDL, with no index on the
//! foreign keys (loading associations also runs with them indexed). Before a workload is
//! timed, each side's result is compared with flaskdb's (same rows, same values); a
//! mismatch stops the run. The sides run interleaved, taking turns at going first, so
//! machine noise hits all of them; medians and the ratios flaskdb / sqlx are printed.
//!
//! The whole run happens twice: unpinned, then (in a child process under `taskset -c 0`)
//! pinned to one CPU. Thread placement changes SQLite's figures several-fold (sqlx-sqlite
//! hands rows from its worker thread to the task), so neither placement alone describes a
//! side. SQLite runs in memory and on a file, reported apart.
//!
//! Run with
//!
//! ```not_rust
//! cargo run --release -p flaskdb-benches            # full run, both placements
//! cargo run --release -p flaskdb-benches -- --quick # a few minutes
//! cargo run --release -p flaskdb-benches -- --only insert,get # some workloads
//! cargo run --release -p flaskdb-benches -- --placement pinned # one placement
//! cargo run --release -p flaskdb-benches -- --quick --check # compare results only
//! ```
//!
//! `--check` times nothing: it compares every pair of results and fails on a mismatch
//! (CI runs it). The workloads `--only` names: `trivial`, `medium`, `insert`,
//! `associations`, `get`, `recording`, `pagination`, `stream`.
//!
//! SQLite always; PostgreSQL and MariaDB/MySQL too when `FLASKDB_TEST_POSTGRES_URL` /
//! `FLASKDB_TEST_MYSQL_URL` are set (a schema or database named `flaskdb_bench_<pid>` is
//! created there and dropped afterwards).

#![allow(unreachable_pub)]

mod models;
mod sides;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use anyhow::Context;
use flaskdb::{AssertSqlSafe, Backend, Config, Db, PageRequest};
use futures_util::TryStreamExt;
use sqlx::Connection;

use models::{Filled, User};
use sides::flask;

/// Raw sqlx as its users run it, for one backend: a plain connection and a default
/// pool, each connected by sqlx from the URL with sqlx's defaults.
enum Raw {
    Sqlite {
        conn: sqlx::SqliteConnection,
        pool: sqlx::SqlitePool,
    },
    Postgres {
        conn: sqlx::PgConnection,
        pool: sqlx::PgPool,
    },
    MySql {
        conn: sqlx::MySqlConnection,
        pool: sqlx::MySqlPool,
    },
}

impl Raw {
    async fn connect(backend: Backend, url: &str) -> anyhow::Result<Raw> {
        Ok(match backend {
            Backend::Sqlite => Raw::Sqlite {
                conn: sqlx::SqliteConnection::connect(url).await?,
                pool: sqlx::SqlitePool::connect(url).await?,
            },
            Backend::Postgres => Raw::Postgres {
                conn: sqlx::PgConnection::connect(url).await?,
                pool: sqlx::PgPool::connect(url).await?,
            },
            Backend::MySql => Raw::MySql {
                conn: sqlx::MySqlConnection::connect(url).await?,
                pool: sqlx::MySqlPool::connect(url).await?,
            },
        })
    }
}

/// Runs `sides::<backend>::$f` on the plain connection (`conn`) or on the pool (`pool`),
/// or on the plain connection's and, with `setup_all`, on the pool's database and
/// flaskdb's (each in-memory SQLite database is a database of its own).
macro_rules! raw {
    ($c:expr, conn, $f:ident($($arg:expr),*)) => {
        match &mut $c.raw {
            Raw::Sqlite { conn, .. } => sides::sqlite::$f(&mut *conn, $($arg),*).await,
            Raw::Postgres { conn, .. } => sides::postgres::$f(&mut *conn, $($arg),*).await,
            Raw::MySql { conn, .. } => sides::mysql::$f(&mut *conn, $($arg),*).await,
        }
    };
    ($c:expr, pool, $f:ident($($arg:expr),*)) => {
        match &$c.raw {
            Raw::Sqlite { pool, .. } => sides::sqlite::$f(pool, $($arg),*).await,
            Raw::Postgres { pool, .. } => sides::postgres::$f(pool, $($arg),*).await,
            Raw::MySql { pool, .. } => sides::mysql::$f(pool, $($arg),*).await,
        }
    };
    ($c:expr, setup_all, $f:ident($($arg:expr),*)) => {{
        raw!($c, conn, $f($($arg),*))?;
        if !$c.shared {
            on_flask!(&$c.db, $f($($arg),*))?;
            let Raw::Sqlite { pool, .. } = &$c.raw else { anyhow::bail!("unshared server") };
            sides::sqlite::$f(&mut *pool.acquire().await?, $($arg),*).await?;
        }
        anyhow::Ok(())
    }};
}

/// Runs `sides::sqlite::$f` on a flaskdb SQLite database of its own (in memory), in a
/// session's transaction: the engine's sqlx pool is left alone, as taking it changes
/// how flaskdb returns connections.
macro_rules! on_flask {
    ($db:expr, $f:ident($($arg:expr),*)) => {{
        let mut session = $db.session();
        let mut tx = session.transaction(None).await?;
        let conn = tx.as_sqlite().context("flaskdb's SQLite connection")?;
        let out = sides::sqlite::$f(conn, $($arg),*).await;
        drop(tx);
        session.commit().await?;
        out
    }};
}

/// Times flaskdb, raw sqlx on its plain connection and raw sqlx on its pool, `iters`
/// times each, taking turns at going first; returns the three medians.
macro_rules! race {
    ($c:expr, $iters:expr, $flask:expr, $f:ident($($arg:expr),*)) => {{
        match &mut $c.raw {
            Raw::Sqlite { conn, pool } => race(
                $iters,
                async || $flask,
                async || sides::sqlite::$f(&mut *conn, $($arg),*).await.map(drop),
                async || sides::sqlite::$f(&*pool, $($arg),*).await.map(drop),
            ).await,
            Raw::Postgres { conn, pool } => race(
                $iters,
                async || $flask,
                async || sides::postgres::$f(&mut *conn, $($arg),*).await.map(drop),
                async || sides::postgres::$f(&*pool, $($arg),*).await.map(drop),
            ).await,
            Raw::MySql { conn, pool } => race(
                $iters,
                async || $flask,
                async || sides::mysql::$f(&mut *conn, $($arg),*).await.map(drop),
                async || sides::mysql::$f(&*pool, $($arg),*).await.map(drop),
            ).await,
        }
    }};
}

/// One backend as the benchmarks see it.
struct Contenders {
    /// `sqlite (memory)`, `sqlite (file)`, `postgres`, `mysql`.
    name: &'static str,
    db: Db,
    raw: Raw,
    /// Whether all sides see one database (a file or a server), so one fill serves all.
    shared: bool,
    /// The URL, for the workloads that connect more `Db`s.
    url: String,
}

/// The median of measured durations.
fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// Times each side `iters` times after one warm-up run each, the three taking turns at
/// going first; returns their medians.
async fn race(
    iters: usize,
    mut a: impl AsyncFnMut() -> anyhow::Result<()>,
    mut b: impl AsyncFnMut() -> anyhow::Result<()>,
    mut c: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<[Duration; 3]> {
    a().await?;
    b().await?;
    c().await?;
    let mut times: [Vec<Duration>; 3] = Default::default();
    for i in 0..iters {
        for turn in 0..3 {
            let side = (i + turn) % 3;
            let start = Instant::now();
            match side {
                0 => a().await?,
                1 => b().await?,
                _ => c().await?,
            }
            times[side].push(start.elapsed());
        }
    }
    Ok(times.map(median))
}

/// Times two sides of flaskdb against each other, taking turns at going first.
async fn race_self(
    iters: usize,
    mut a: impl AsyncFnMut() -> anyhow::Result<()>,
    mut b: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, Duration)> {
    let [ta, tb, _] = race(iters, &mut a, &mut b, async || Ok(())).await?;
    Ok((ta, tb))
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Prints one row of the main table.
fn row(c: &Contenders, workload: &str, size: &str, [f, conn, pool]: [Duration; 3]) {
    println!(
        "{:<15} {workload:<36} {size:>9} {:>10} {:>10} {:>10} {:>7.3} {:>7.3}",
        c.name,
        show(f),
        show(conn),
        show(pool),
        ratio(f, conn),
        ratio(f, pool),
    );
}

/// Fails unless flaskdb's rows equal a raw side's, naming the first difference.
fn agree<T: PartialEq + Debug>(
    c: &Contenders,
    what: &str,
    side: &str,
    flask: &[T],
    raw: &[T],
) -> anyhow::Result<()> {
    if let Some(at) = (0..flask.len().max(raw.len())).find(|&i| flask.get(i) != raw.get(i)) {
        anyhow::bail!(
            "{} {what}: flaskdb's result differs from sqlx's on its {side}: {} rows against {}; \
             the first difference, at row {at}:\nflaskdb: {:?}\nsqlx:    {:?}",
            c.name,
            flask.len(),
            raw.len(),
            flask.get(at),
            raw.get(at)
        );
    }
    Ok(())
}

/// Compares flaskdb's result, normalised by `norm`, with both raw sides'.
macro_rules! check {
    ($c:expr, $what:expr, $flask:expr, $f:ident($($arg:expr),*), $norm:expr, $raw_norm:expr) => {{
        let flask = $norm(&$flask?)?;
        let conn = $raw_norm(&raw!($c, conn, $f($($arg),*))?)?;
        agree(&$c, $what, "plain connection", &flask, &conn)?;
        let pool = $raw_norm(&raw!($c, pool, $f($($arg),*))?)?;
        agree(&$c, $what, "default pool", &flask, &pool)?;
    }};
}

/// The workloads, as `--only` names them.
const WORKLOADS: [&str; 8] = [
    "trivial",
    "medium",
    "insert",
    "associations",
    "get",
    "recording",
    "pagination",
    "stream",
];

/// What to run: `--quick`, `--check`, and the workloads `--only` names (all when empty).
struct Options {
    quick: bool,
    check: bool,
    only: Vec<String>,
}

impl Options {
    fn wants(&self, workload: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|w| w == workload)
    }

    /// The iterations of a timed comparison: `full`, `quick`, or none under `--check`.
    fn iters(&self, full: usize, quick: usize) -> Option<usize> {
        match (self.check, self.quick) {
            (true, _) => None,
            (false, true) => Some(quick),
            (false, false) => Some(full),
        }
    }
}

/// Ok(rows) of users as compared rows, in key order.
fn user_rows(users: &[User]) -> anyhow::Result<Vec<models::UserRow>> {
    Ok(models::users(users.iter().map(models::user_row).collect()))
}

/// Ok(rows) of a join, in key order.
fn join_rows(
    rows: &[(User, Option<models::Post>)],
) -> anyhow::Result<Vec<(models::UserRow, Option<models::PostRow>)>> {
    Ok(models::joined(rows))
}

/// The main table's workloads on one backend.
async fn against_sqlx(c: &mut Contenders, o: &Options) -> anyhow::Result<()> {
    if o.wants("trivial") {
        for (n, full, quick) in [(1, 2000, 300), (100, 500, 100), (10_000, 80, 10)] {
            raw!(
                c,
                setup_all,
                fill(Filled {
                    users: n,
                    posts: 0,
                    comments: 0
                })
            )?;
            check!(
                c,
                "trivial",
                flask::trivial(&c.db).await,
                trivial(),
                user_rows,
                user_rows
            );
            if let Some(iters) = o.iters(full, quick) {
                let db = &c.db;
                let t = race!(c, iters, flask::trivial(db).await.map(drop), trivial())?;
                row(c, "trivial query", &n.to_string(), t);
            }
        }
    }
    if o.wants("medium") {
        for (n, full, quick) in [(1, 2000, 300), (100, 500, 100), (10_000, 80, 10)] {
            raw!(
                c,
                setup_all,
                fill(Filled {
                    users: n,
                    posts: 1,
                    comments: 0
                })
            )?;
            check!(
                c,
                "medium",
                flask::medium(&c.db).await,
                medium(),
                join_rows,
                join_rows
            );
            if let Some(iters) = o.iters(full, quick) {
                let db = &c.db;
                let t = race!(c, iters, flask::medium(db).await.map(drop), medium())?;
                row(c, "medium complex (LEFT JOIN)", &n.to_string(), t);
            }
        }
    }
    if o.wants("insert") {
        for (n, full, quick) in [(1, 500, 100), (100, 200, 40), (1000, 120, 10)] {
            raw!(
                c,
                setup_all,
                fill(Filled {
                    users: 0,
                    posts: 0,
                    comments: 0
                })
            )?;
            check_insert(c, n).await?;
            if let Some(iters) = o.iters(full, quick) {
                let db = &c.db;
                let t = race!(c, iters, flask::insert(db, n).await, insert(n))?;
                row(c, "insert (session add + commit)", &n.to_string(), t);
                let t = race!(c, iters, flask::insert(db, n).await, insert_loop(n))?;
                row(c, "  baseline: sqlx, INSERT per row", &n.to_string(), t);
            }
        }
    }
    if o.wants("associations") {
        let (full, quick) = (100, 15);
        let filled = Filled {
            users: 100,
            posts: 10,
            comments: 10,
        };
        raw!(c, setup_all, fill(filled))?;
        for indexed in [false, true] {
            if indexed {
                raw!(c, setup_all, index_foreign_keys())?;
            }
            let what = if indexed {
                "associations, indexed"
            } else {
                "associations"
            };
            check!(
                c,
                what,
                flask::associations(&c.db).await,
                associations(),
                |u: &Vec<User>| models::loaded_tree(u),
                |t: &Vec<models::UserTree>| anyhow::Ok(models::tree(t))
            );
            if let Some(iters) = o.iters(full, quick) {
                let db = &c.db;
                let t = race!(
                    c,
                    iters,
                    flask::associations(db).await.map(drop),
                    associations()
                )?;
                let label = if indexed {
                    "loading associations, FKs indexed"
                } else {
                    "loading associations"
                };
                row(c, label, "100x10x10", t);
            }
        }
    }
    if o.wants("get") {
        raw!(
            c,
            setup_all,
            fill(Filled {
                users: 100,
                posts: 0,
                comments: 0
            })
        )?;
        for id in [1, 50, 100, 101] {
            let one =
                |u: &Option<User>| anyhow::Ok(u.iter().map(models::user_row).collect::<Vec<_>>());
            check!(c, "get", flask::get(&c.db, id).await, get(id), one, one);
        }
        if let Some(iters) = o.iters(200, 40) {
            let db = &c.db;
            let t = race!(
                c,
                iters,
                {
                    for id in 1..=100 {
                        flask::get(db, id).await?;
                    }
                    Ok(())
                },
                get_100()
            )?;
            row(c, "get by primary key (x100)", "100", t);
        }
    }
    Ok(())
}

/// Each side inserts `n` users into an empty table, which then holds the same rows.
async fn check_insert(c: &mut Contenders, n: usize) -> anyhow::Result<()> {
    flask::insert(&c.db, n).await?;
    let flask = match (&mut c.raw, c.shared) {
        (Raw::Sqlite { .. }, false) => on_flask!(&c.db, names())?,
        _ => raw!(c, conn, names())?,
    };
    anyhow::ensure!(
        flask.len() == n,
        "{}: flaskdb inserted {} of {n} rows",
        c.name,
        flask.len()
    );
    if c.shared {
        raw!(c, conn, clear_users())?;
    }
    raw!(c, conn, insert(n))?;
    let conn = raw!(c, conn, names())?;
    agree(c, "insert", "plain connection", &flask, &conn)?;
    raw!(c, conn, clear_users())?;
    raw!(c, conn, insert_loop(n))?;
    let looped = raw!(c, conn, names())?;
    agree(c, "insert", "INSERT per row", &flask, &looped)?;
    raw!(c, conn, clear_users())?;
    raw!(c, pool, insert(n))?;
    let pool = if c.shared {
        raw!(c, conn, names())?
    } else {
        let Raw::Sqlite { pool, .. } = &c.raw else {
            anyhow::bail!("unshared server")
        };
        sides::sqlite::names(&mut *pool.acquire().await?).await?
    };
    agree(c, "insert", "default pool", &flask, &pool)?;
    raw!(c, setup_all, clear_users())?;
    Ok(())
}

/// flaskdb against itself: recording on and off, keyset against OFFSET pagination.
async fn against_itself(c: &mut Contenders, o: &Options) -> anyhow::Result<()> {
    if o.wants("recording") {
        // The same trivial query in a scope, on two `Db`s connected side by side.
        let connect = |record| Db::connect(Config::new(&c.url).record_queries(record));
        let (recording, plain) = (connect(true).await?, connect(false).await?);
        let filled = Filled {
            users: 100,
            posts: 0,
            comments: 0,
        };
        if c.shared {
            raw!(c, conn, fill(filled))?;
        } else {
            for db in [&recording, &plain] {
                on_flask!(db, fill(filled))?;
            }
        }
        if let Some(iters) = o.iters(500, 100) {
            let r = race_self(
                iters,
                async || recording.scope(flask::trivial(&recording)).await.map(drop),
                async || plain.scope(flask::trivial(&plain)).await.map(drop),
            )
            .await?;
            self_row(c, "trivial, record_queries on / off", "100", r);
        }
    }
    if o.wants("pagination") {
        // Page 1,000 of 100,000 rows, keyset against OFFSET.
        raw!(
            c,
            setup_all,
            fill(Filled {
                users: 100_000,
                posts: 0,
                comments: 0
            })
        )?;
        let q = || c.db.query::<User>().order_by(User::id);
        let cursor = q()
            .paginate_after_with_max(None, 99_900, None)
            .await?
            .next_cursor;
        let keyset = q().paginate_after(cursor.as_deref(), 100).await?.items;
        let offset = q()
            .paginate(PageRequest::new(Some(1000), Some(100)).count(false))
            .await?
            .items;
        agree(
            c,
            "pagination",
            "OFFSET page (flaskdb)",
            &user_rows(&keyset)?,
            &user_rows(&offset)?,
        )?;
        anyhow::ensure!(
            keyset.len() == 100,
            "{}: keyset page of {}",
            c.name,
            keyset.len()
        );
        if let Some(iters) = o.iters(100, 20) {
            let r = race_self(
                iters,
                async || {
                    q().paginate_after(cursor.as_deref(), 100)
                        .await
                        .map(drop)
                        .map_err(Into::into)
                },
                async || {
                    q().paginate(PageRequest::new(Some(1000), Some(100)).count(false))
                        .await
                        .map(drop)
                        .map_err(Into::into)
                },
            )
            .await?;
            self_row(c, "page 1,000 of 100,000: keyset / OFFSET", "100", r);
        }
    }
    Ok(())
}

/// Prints one row of the flaskdb-against-itself table.
fn self_row(c: &Contenders, comparison: &str, size: &str, (a, b): (Duration, Duration)) {
    println!(
        "{:<15} {comparison:<44} {size:>9} {:>10} {:>10} {:>7.3}",
        c.name,
        show(a),
        show(b),
        ratio(a, b)
    );
}

/// The stream workload, in a process of its own so the peak memory is the stream's.
async fn stream(c: &Contenders, o: &Options) -> anyhow::Result<()> {
    if !o.wants("stream") || o.check {
        return Ok(());
    }
    let digits = if o.quick { 5 } else { 6 };
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--stream-child", &digits.to_string(), &c.url])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "stream child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{:<15} {}", c.name, String::from_utf8_lossy(&out.stdout));
    Ok(())
}

/// The stream workload, run in a child process: fills `users` with 10^`digits` rows
/// inside the database (an INSERT .. SELECT over a cross join of digits), resets the
/// peak-RSS mark, streams every row and prints the time and the peak.
async fn stream_child(digits: u32, url: &str) -> anyhow::Result<()> {
    let db = Db::connect(Config::new(url)).await?;
    db.drop_all().await?;
    db.create_all().await?;
    let digit = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                 UNION ALL SELECT 8 UNION ALL SELECT 9)";
    let from: Vec<String> = (0..digits).map(|i| format!("{digit} AS d{i}")).collect();
    let sql = format!(
        "INSERT INTO users (name, hair_color) SELECT 'User', 'black' FROM {}",
        from.join(" CROSS JOIN ")
    );
    db.execute(AssertSqlSafe(sql), vec![]).await?;
    let n = 10usize.pow(digits);
    // Reset the peak-RSS mark (Linux: writing 5 to clear_refs), then stream.
    std::fs::write("/proc/self/clear_refs", "5")?;
    let start = Instant::now();
    let mut stream = db.query::<User>().stream();
    let mut count = 0usize;
    while let Some(user) = stream.try_next().await? {
        count += usize::from(!user.name.is_empty());
    }
    anyhow::ensure!(count == n, "streamed {count} of {n} rows");
    println!(
        "{:<34} {n:>8} {:>11} peak RSS {} MiB while streaming",
        "stream()",
        show(start.elapsed()),
        rss_kib("VmHWM:") / 1024
    );
    db.drop_all().await?;
    Ok(())
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A fresh schema (PostgreSQL) or database (MySQL) on the server at `base`.
async fn server_url(backend: Backend, base: &str) -> anyhow::Result<(String, Db, String)> {
    let admin = Db::connect(Config::new(base)).await?;
    let name = format!("flaskdb_bench_{}", std::process::id());
    Ok(match backend {
        Backend::Postgres => {
            admin
                .execute(AssertSqlSafe(format!("CREATE SCHEMA {name}")), vec![])
                .await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
            (url, admin, format!("DROP SCHEMA {name} CASCADE"))
        }
        _ => {
            admin
                .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")), vec![])
                .await?;
            let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
            (
                format!("{root}/{name}"),
                admin,
                format!("DROP DATABASE {name}"),
            )
        }
    })
}

/// Every backend's contenders: SQLite in memory and on a file always, the servers whose
/// URL variables are set. Each holds what to drop when the run ends.
async fn contenders() -> anyhow::Result<Vec<(Contenders, Cleanup)>> {
    let mut all = Vec::new();
    let memory = "sqlite::memory:";
    all.push((
        Contenders {
            name: "sqlite (memory)",
            db: Db::connect(Config::new(memory)).await?,
            raw: Raw::connect(Backend::Sqlite, memory).await?,
            shared: false,
            url: memory.into(),
        },
        Cleanup::Nothing,
    ));
    let file = std::env::temp_dir().join(format!("flaskdb-bench-{}.db", std::process::id()));
    let url = format!("sqlite://{}", file.display());
    // flaskdb creates the file (in write-ahead-log mode); sqlx then opens it as it is.
    let db = Db::connect(Config::new(&url)).await?;
    all.push((
        Contenders {
            name: "sqlite (file)",
            db,
            raw: Raw::connect(Backend::Sqlite, &url).await?,
            shared: true,
            url,
        },
        Cleanup::File(file),
    ));
    for (backend, name, var) in [
        (Backend::Postgres, "postgres", "FLASKDB_TEST_POSTGRES_URL"),
        (Backend::MySql, "mysql", "FLASKDB_TEST_MYSQL_URL"),
    ] {
        match std::env::var(var) {
            Ok(base) => {
                let (url, admin, drop) = server_url(backend, &base).await?;
                all.push((
                    Contenders {
                        name,
                        db: Db::connect(Config::new(&url)).await?,
                        raw: Raw::connect(backend, &url).await?,
                        shared: true,
                        url,
                    },
                    Cleanup::Server(admin, drop),
                ));
            }
            Err(_) => println!("note: {name} skipped: {var} is not set"),
        }
    }
    Ok(all)
}

/// What a backend leaves behind.
enum Cleanup {
    Nothing,
    /// A SQLite file (and its write-ahead log).
    File(std::path::PathBuf),
    /// A schema or database, and the statement that drops it.
    Server(Db, String),
}

impl Cleanup {
    async fn run(self) -> anyhow::Result<()> {
        match self {
            Cleanup::Nothing => {}
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.clone().into_os_string();
                    name.push(suffix);
                    std::fs::remove_file(name).ok();
                }
            }
            Cleanup::Server(admin, drop) => {
                admin.execute(AssertSqlSafe(drop), vec![]).await?;
            }
        }
        Ok(())
    }
}

/// Every table for every backend, in this process's placement.
async fn run(o: &Options, placement: &str) -> anyhow::Result<()> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!("== {placement}: {cpus} CPU(s) ==");
    let mut all = contenders().await?;
    let outcome = async {
        if o.check {
            println!("checking that every side's results agree");
        } else {
            println!(
                "{:<15} {:<36} {:>9} {:>10} {:>10} {:>10} {:>7} {:>7}",
                "backend",
                "workload",
                "size",
                "flaskdb",
                "sqlx conn",
                "sqlx pool",
                "/conn",
                "/pool"
            );
        }
        for (c, _) in &mut all {
            against_sqlx(c, o).await?;
        }
        if !o.check {
            println!();
            println!(
                "{:<15} {:<44} {:>9} {:>10} {:>10} {:>7}",
                "flaskdb vs itself", "comparison", "size", "first", "second", "ratio"
            );
        }
        for (c, _) in &mut all {
            against_itself(c, o).await?;
        }
        for (c, _) in &all {
            stream(c, o).await?;
        }
        anyhow::Ok(())
    }
    .await;
    for (_, cleanup) in all {
        cleanup.run().await?;
    }
    outcome?;
    if o.check {
        println!("every result agreed");
    }
    Ok(())
}

/// One runtime thread: the measured code and any task it spawns share it, as a request
/// handler and its tasks share a worker of a server's runtime. On a multi-threaded
/// runtime, code in `block_on` on the main thread would hand every spawned task to
/// another thread. Both sides run in the same setting.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, digits, url] = args.as_slice()
        && flag == "--stream-child"
    {
        return stream_child(digits.parse()?, url).await;
    }
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let options = Options {
        quick: args.iter().any(|a| a == "--quick"),
        check: args.iter().any(|a| a == "--check"),
        only: value("--only")
            .map(|list| list.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    if let Some(unknown) = options
        .only
        .iter()
        .find(|w| !WORKLOADS.contains(&w.as_str()))
    {
        anyhow::bail!(
            "unknown workload `{unknown}`; --only takes a comma-separated list of {}",
            WORKLOADS.join(", ")
        );
    }
    let started = Instant::now();
    if args.iter().any(|a| a == "--pinned-child") {
        return run(&options, "pinned to CPU 0").await;
    }
    let placement = value("--placement").map_or(
        if options.check { "unpinned" } else { "both" },
        String::as_str,
    );
    if !["both", "pinned", "unpinned"].contains(&placement) {
        anyhow::bail!(
            "unknown placement `{placement}`; --placement takes both, pinned or unpinned"
        );
    }
    if placement != "pinned" {
        run(&options, "unpinned").await?;
    }
    if placement != "unpinned" {
        // The pinned run is a child process that `taskset` starts on CPU 0, so every
        // thread it makes (sqlx-sqlite's workers too) shares that CPU.
        let status = std::process::Command::new("taskset")
            .args(["-c", "0"])
            .arg(std::env::current_exe()?)
            .args(&args[1..])
            .arg("--pinned-child")
            .status()
            .context("running the pinned pass under taskset (util-linux)")?;
        anyhow::ensure!(status.success(), "the pinned pass failed: {status}");
    }
    println!("finished in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
