//! flaskdb's benchmarks: the four workloads of Diesel's benchmark suite (trivial query,
//! medium complex query, insert, loading associations), plus `get` by primary key, deep
//! pagination (OFFSET against keyset), query recording on and off, and a stream of
//! 1,000,000 rows with its peak memory.
//!
//! Each comparison runs flaskdb and hand-written sqlx on the same pool, interleaved
//! (alternating which goes first) so machine noise hits both, and prints the medians
//! and the ratio flaskdb / sqlx.
//!
//! Run with
//!
//! ```not_rust
//! cargo run --release -p flaskdb-benches            # full run
//! cargo run --release -p flaskdb-benches -- --quick # under 2 minutes
//! cargo run --release -p flaskdb-benches -- --only insert,get # some workloads
//! ```
//!
//! The workloads `--only` names: `trivial`, `medium`, `insert`, `associations`, `get`,
//! `recording`, `pagination`, `stream`.
//!
//! SQLite (in memory) always; PostgreSQL and MariaDB/MySQL too when
//! `FLASKDB_TEST_POSTGRES_URL` / `FLASKDB_TEST_MYSQL_URL` are set (a schema or database
//! named `flaskdb_bench_<pid>` is created there and dropped afterwards).

#![allow(unreachable_pub)]

mod models;
mod sides;

use std::time::{Duration, Instant};

use anyhow::Context;
use flaskdb::{AssertSqlSafe, Backend, Config, Db, PageRequest};
use futures_util::TryStreamExt;

use models::{Comment, Post, User};
use sides::flask;

/// The raw sqlx side of one backend.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

macro_rules! raw {
    ($raw:expr, $f:ident($($arg:expr),*)) => {
        match $raw {
            Raw::Sqlite(p) => sides::sqlite::$f(p, $($arg),*).await,
            Raw::Postgres(p) => sides::postgres::$f(p, $($arg),*).await,
            Raw::MySql(p) => sides::mysql::$f(p, $($arg),*).await,
        }
    };
}

impl Raw {
    fn of(db: &Db) -> anyhow::Result<Raw> {
        let engine = db.engine()?;
        Ok(match engine.backend() {
            Backend::Sqlite => Raw::Sqlite(engine.as_sqlite().context("pool")?.clone()),
            Backend::Postgres => Raw::Postgres(engine.as_postgres().context("pool")?.clone()),
            Backend::MySql => Raw::MySql(engine.as_mysql().context("pool")?.clone()),
        })
    }
}

/// The median of measured durations.
fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// Times `a` and `b` `iters` times each, alternating which runs first; returns medians.
async fn compare(
    iters: usize,
    mut a: impl AsyncFnMut() -> anyhow::Result<()>,
    mut b: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, Duration)> {
    a().await?;
    b().await?;
    let (mut ta, mut tb) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    for i in 0..iters {
        for first in [i % 2 == 0, i % 2 != 0] {
            let start = Instant::now();
            if first {
                a().await?;
                ta.push(start.elapsed());
            } else {
                b().await?;
                tb.push(start.elapsed());
            }
        }
    }
    Ok((median(ta), median(tb)))
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn row(backend: &str, workload: &str, size: &str, (a, b): (Duration, Duration), sides: &str) {
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    println!(
        "{backend:<9} {workload:<34} {size:>8} {:>11} {:>11} {ratio:>7.3}   {sides}",
        show(a),
        show(b)
    );
}

/// Empties the tables and fills `users` users (even ones with black hair), each with
/// `posts` posts, each with `comments` comments.
async fn fill(db: &Db, users: usize, posts: usize, comments: usize) -> anyhow::Result<()> {
    db.drop_all().await?;
    db.create_all().await?;
    let mut s = db.session();
    for i in 0..users {
        let hair = if i % 2 == 0 { "black" } else { "brown" };
        s.add(User::build().name(format!("User {i}")).hair_color(hair));
        if s_len(i) {
            s.commit().await?;
        }
    }
    s.commit().await?;
    let ids: Vec<i64> = db
        .query::<User>()
        .all()
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    for (n, id) in ids.iter().enumerate() {
        for p in 0..posts {
            s.add(
                Post::build()
                    .user_id(*id)
                    .title(format!("Post {p}"))
                    .body("text"),
            );
        }
        if s_len(n * posts) {
            s.commit().await?;
        }
    }
    s.commit().await?;
    if comments > 0 {
        let post_ids: Vec<i64> = db
            .query::<Post>()
            .all()
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        for id in post_ids {
            for c in 0..comments {
                s.add(Comment::build().post_id(id).text(format!("Comment {c}")));
            }
        }
        s.commit().await?;
    }
    Ok(())
}

/// Whether to commit a fill batch now (every 10,000 rows).
fn s_len(i: usize) -> bool {
    i > 0 && i.is_multiple_of(10_000)
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

/// What to run: `--quick`, and the workloads `--only` names (all when empty).
struct Options {
    quick: bool,
    only: Vec<String>,
}

impl Options {
    fn wants(&self, workload: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|w| w == workload)
    }
}

async fn run_backend(name: &str, url: &str, options: &Options) -> anyhow::Result<()> {
    let db = Db::connect(Config::new(url)).await?;
    let raw = Raw::of(&db)?;
    let quick = options.quick;
    let it = |full: usize, fast: usize| if quick { fast } else { full };

    if options.wants("trivial") {
        for (n, iters) in [
            (1, it(2000, 300)),
            (100, it(500, 100)),
            (10_000, it(80, 10)),
        ] {
            fill(&db, n, 0, 0).await?;
            let r = compare(
                iters,
                async || flask::trivial(&db).await.map(drop),
                async || raw!(&raw, trivial()).map(drop),
            )
            .await?;
            row(
                name,
                "trivial query",
                &n.to_string(),
                r,
                "query().all() vs query_as",
            );
        }
    }
    if options.wants("medium") {
        for (n, iters) in [
            (1, it(2000, 300)),
            (100, it(500, 100)),
            (10_000, it(80, 10)),
        ] {
            fill(&db, n, 1, 0).await?;
            let r = compare(
                iters,
                async || flask::medium(&db).await.map(drop),
                async || raw!(&raw, medium()).map(drop),
            )
            .await?;
            row(
                name,
                "medium complex (LEFT JOIN)",
                &n.to_string(),
                r,
                "select::<(User, Option<Post>)> vs query",
            );
        }
    }
    if options.wants("insert") {
        fill(&db, 0, 0, 0).await?;
        for (n, iters) in [(1, it(500, 100)), (100, it(200, 40)), (1000, it(120, 10))] {
            let r = compare(
                iters,
                async || flask::insert(&db, n).await,
                async || raw!(&raw, insert(n)),
            )
            .await?;
            row(
                name,
                "insert (session add + commit)",
                &n.to_string(),
                r,
                "vs multi-row QueryBuilder",
            );
            let r = compare(
                iters,
                async || flask::insert(&db, n).await,
                async || raw!(&raw, insert_loop(n)),
            )
            .await?;
            row(
                name,
                "insert, against a per-row loop",
                &n.to_string(),
                r,
                "vs one INSERT per row",
            );
        }
    }
    if options.wants("associations") {
        fill(&db, 100, 10, 10).await?;
        let r = compare(
            it(100, 15),
            async || flask::associations(&db).await.map(drop),
            async || raw!(&raw, associations()).map(drop),
        )
        .await?;
        row(
            name,
            "loading associations",
            "100x10x10",
            r,
            "nested eager vs IN lists",
        );
    }
    if options.wants("get") {
        fill(&db, 100, 0, 0).await?;
        let r = compare(
            it(200, 40),
            async || {
                for id in 1..=100 {
                    flask::get(&db, id).await?;
                }
                Ok(())
            },
            async || {
                for id in 1..=100 {
                    raw!(&raw, get(id))?;
                }
                Ok(())
            },
        )
        .await?;
        row(
            name,
            "get by primary key (x100)",
            "100",
            r,
            "query().get(id) vs query_as",
        );
    }
    if options.wants("recording") {
        // Recording: the same trivial query in a scope, with recording on and off, on two
        // `Db`s connected side by side (against the long-used `db`, the fresh one was up
        // to 1.5x slower with recording off too).
        let connect = |record| Db::connect(Config::new(url).record_queries(record));
        let (recording, plain) = (connect(true).await?, connect(false).await?);
        // A server database is the same for both; SQLite's in-memory ones are not.
        fill(&recording, 100, 0, 0).await?;
        if name == "sqlite" {
            fill(&plain, 100, 0, 0).await?;
        }
        let r = compare(
            it(500, 100),
            async || recording.scope(flask::trivial(&recording)).await.map(drop),
            async || plain.scope(flask::trivial(&plain)).await.map(drop),
        )
        .await?;
        row(
            name,
            "recording on / off (trivial)",
            "100",
            r,
            "record_queries(true) vs false",
        );
    }
    if options.wants("pagination") {
        // Deep pagination: page 1,000 of 100,000 rows, OFFSET against keyset.
        fill(&db, 100_000, 0, 0).await?;
        let q = || db.query::<User>().order_by(User::id);
        let cursor = q()
            .paginate_after_with_max(None, 99_900, None)
            .await?
            .next_cursor;
        let r = compare(
            it(100, 20),
            async || {
                let page = q().paginate_after(cursor.as_deref(), 100).await?;
                anyhow::ensure!(page.items.len() == 100);
                Ok(())
            },
            async || {
                let page = q()
                    .paginate(PageRequest::new(Some(1000), Some(100)).count(false))
                    .await?;
                anyhow::ensure!(page.items.len() == 100);
                Ok(())
            },
        )
        .await?;
        row(
            name,
            "page 1,000 of 100,000: keyset",
            "100",
            r,
            "paginate_after vs paginate (OFFSET)",
        );
    }
    if options.wants("stream") {
        // Stream: constant memory whatever the number of rows, in a process of its own so
        // the peak is the stream's.
        let digits = if quick { 5 } else { 6 };
        let out = std::process::Command::new(std::env::current_exe()?)
            .args(["--stream-child", &digits.to_string(), url])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "stream child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{name:<9} {}", String::from_utf8_lossy(&out.stdout));
    }
    db.drop_all().await?;
    Ok(())
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
    let options = Options {
        quick: args.iter().any(|a| a == "--quick"),
        only: args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
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
    println!(
        "{:<9} {:<34} {:>8} {:>11} {:>11} {:>7}   compared",
        "backend", "workload", "size", "flaskdb", "sqlx", "ratio"
    );
    run_backend("sqlite", "sqlite::memory:", &options).await?;
    for (backend, name, var) in [
        (Backend::Postgres, "postgres", "FLASKDB_TEST_POSTGRES_URL"),
        (Backend::MySql, "mysql", "FLASKDB_TEST_MYSQL_URL"),
    ] {
        match std::env::var(var) {
            Ok(base) => {
                let (url, admin, drop) = server_url(backend, &base).await?;
                let outcome = run_backend(name, &url, &options).await;
                admin.execute(AssertSqlSafe(drop), vec![]).await?;
                outcome?;
            }
            Err(_) => println!("note: {name} skipped: {var} is not set"),
        }
    }
    println!("finished in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
