//! The flaskdb integration suite: every case is written once (in [`suite`]) and run on
//! each backend by the `sqlite`, `postgres` and `mysql` test binaries.
//!
//! Each case gets a database of its own: a new in-memory SQLite database, a new
//! PostgreSQL schema, or a new MySQL database, dropped afterwards; so cases run in
//! parallel. The server suites read `FLASKDB_TEST_POSTGRES_URL` and
//! `FLASKDB_TEST_MYSQL_URL`; without them every case is reported as ignored, with a
//! printed notice naming the variable.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

pub mod logs;
pub mod models;
pub mod passwords;
pub mod proxy;
pub mod suite;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use flaskdb::{AssertSqlSafe, Backend, Config, Db, EngineOptions};
use libtest_mimic::{Arguments, Failed, Trial};
use sqlx::SqlSafeStr;

/// The result of a case.
pub type TestResult = anyhow::Result<()>;

/// One case of the suite: an async function of a fresh [`TestDb`].
pub type CaseFn = fn(TestDb) -> Pin<Box<dyn Future<Output = TestResult> + Send>>;

/// A case, registered by [`case`] on its function.
pub struct Case {
    /// The path of the module the function is in (its `module_path!()`).
    pub module: &'static str,
    /// The function's name.
    pub function: &'static str,
    pub run: CaseFn,
    /// What the case needs beyond what every backend offers.
    pub needs: &'static [Need],
}

impl Case {
    /// `area::function`, where the area is the module of [`suite`] the function is in
    /// (`faults` for `suite::faults::stalls`).
    pub fn name(&self) -> String {
        let path = self.module.strip_prefix("flaskdb_tests::suite::").unwrap();
        let area = path.split("::").next().unwrap();
        format!("{area}::{}", self.function)
    }
}

inventory::collect!(Case);

/// Registers an async function of [`suite`] as a case: `#[case]`, or with what it needs,
/// `#[case(needs(Server))]`.
pub use flaskdb_tests_macros::case;

/// What a case declares it needs (toasty's `requires(..)`): the runner decides from
/// these, not from the case's name or its backend, where and how often it runs. A case
/// that needs what a backend does not offer is reported there as ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A database server whose connections can be killed or cut (PostgreSQL, MariaDB);
    /// SQLite runs in the test's process.
    Server,
    /// The database reports the last inserted key (SQLite, MySQL), so a case that inserts
    /// rows and checks their keys can run without RETURNING, as on MySQL 8. Unlike the
    /// other needs it does not gate the case, which runs with RETURNING everywhere: it
    /// adds a `no_returning::` copy, listed on every backend and reported as ignored
    /// where the need is not offered (PostgreSQL).
    LastInsertId,
    /// The database runs in the test's process (SQLite): ten thousand statements take
    /// no time, where a server takes a round trip for each.
    InProcess,
    /// A writing transaction locks the whole database (SQLite), so a second writer
    /// waits for the first; the servers lock rows.
    DatabaseWriteLock,
    /// A connection can number new keys in steps (MariaDB's `auto_increment_increment`
    /// and `auto_increment_offset`, as Galera sets them); SQLite and PostgreSQL number
    /// keys per table or sequence, never per connection.
    SteppedKeys,
    /// A BEFORE INSERT trigger can skip a row silently (SQLite's `RAISE(IGNORE)`,
    /// PostgreSQL's `RETURN NULL`); MariaDB's triggers can only fail the statement.
    SkippingTriggers,
    /// The connection defaults flaskdb's MySQL driver sets, as Flask-SQLAlchemy does:
    /// the utf8mb4 character set and connections recycled after two hours; SQLite and
    /// PostgreSQL keep sqlx's defaults.
    MySqlDriverDefaults,
}

impl Need {
    /// Whether `backend` offers this need (for [`Need::LastInsertId`]: whether the case's
    /// `no_returning::` copy runs there).
    fn offered_by(self, backend: Backend) -> bool {
        match self {
            Need::Server => backend != Backend::Sqlite,
            Need::LastInsertId => backend != Backend::Postgres,
            Need::InProcess | Need::DatabaseWriteLock => backend == Backend::Sqlite,
            Need::SteppedKeys | Need::MySqlDriverDefaults => backend == Backend::MySql,
            Need::SkippingTriggers => backend != Backend::MySql,
        }
    }
}

/// The database of one case.
pub struct TestDb {
    /// The connected handle.
    pub db: Db,
    /// Its backend.
    pub backend: Backend,
    /// The URL it was connected with (for cases that connect again).
    pub url: String,
    /// The engine options it was connected with.
    pub options: EngineOptions,
}

impl TestDb {
    /// A `Db` with every model's table created.
    /// The configuration this case's database was connected with, for cases that
    /// connect again with other settings.
    pub fn config(&self) -> Config {
        Config::new(self.url.clone()).engine_options(self.options.clone())
    }

    pub async fn with_tables(&self) -> anyhow::Result<Db> {
        self.db.create_all().await?;
        Ok(self.db.clone())
    }
}

/// The variable that names `backend`'s server for the tests (`None` for SQLite, which
/// needs none).
pub fn server_var(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some("FLASKDB_TEST_POSTGRES_URL"),
        Backend::MySql => Some("FLASKDB_TEST_MYSQL_URL"),
    }
}

static DATABASES: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty database for one case; the returned guard drops it.
async fn fresh_database(
    backend: Backend,
    base: Option<&str>,
    options: EngineOptions,
) -> anyhow::Result<(TestDb, Option<Scratch>)> {
    // Declared before any case runs, so every case sees the same tables.
    models::enrollment();
    let (url, admin) = scratch_database(backend, base).await?;
    let db = Db::connect(Config::new(url.clone()).engine_options(options.clone())).await?;
    let test_db = TestDb {
        db,
        backend,
        url,
        options,
    };
    Ok((test_db, admin))
}

/// What drops a scratch database: a connection to the server and the statement.
pub type Scratch = (Db, String);

/// The URL of a new, empty database: in-memory on SQLite, a new schema on PostgreSQL
/// (through `search_path`), a new database on MySQL, next to `base`'s; with what drops
/// it again.
///
/// # Errors
/// When the server cannot create it.
pub async fn scratch_database(
    backend: Backend,
    base: Option<&str>,
) -> anyhow::Result<(String, Option<Scratch>)> {
    let n = DATABASES.fetch_add(1, Ordering::Relaxed);
    let name = format!("flaskdb_t{}_{n}", std::process::id());
    Ok(match (backend, base) {
        (Backend::Sqlite, _) => ("sqlite::memory:".to_owned(), None),
        (Backend::Postgres, Some(base)) => {
            let admin = Db::connect(Config::new(base)).await?;
            admin
                .execute(AssertSqlSafe(format!("CREATE SCHEMA {name}")), vec![])
                .await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
            (url, Some((admin, format!("DROP SCHEMA {name} CASCADE"))))
        }
        (Backend::MySql, Some(base)) => {
            let admin = Db::connect(Config::new(base)).await?;
            admin
                .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")), vec![])
                .await?;
            let (head, query) = base
                .split_once('?')
                .map_or((base, None), |(h, q)| (h, Some(q)));
            let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
            let url = match query {
                Some(q) => format!("{root}/{name}?{q}"),
                None => format!("{root}/{name}"),
            };
            (url, Some((admin, format!("DROP DATABASE {name}"))))
        }
        (_, None) => anyhow::bail!("no server URL"),
    })
}

/// Runs the whole suite on `backend` and exits with libtest's status.
pub fn run(backend: Backend) -> ExitCode {
    let args = Arguments::from_args();
    let var = server_var(backend);
    let base = var.and_then(|var| std::env::var(var).ok());
    let skip_reason = var.filter(|_| base.is_none());
    if let Some(var) = skip_reason {
        println!(
            "note: the {backend:?} suite is skipped because {var} is not set \
             (set it to a server URL to run it; .ci/run does)"
        );
    }
    let mut trials = Vec::new();
    for case in suite::all() {
        // Where a need is not offered, the case is ignored; all but LastInsertId, which
        // only decides whether the `no_returning::` copy is.
        let unmet = case
            .needs
            .iter()
            .any(|&need| need != Need::LastInsertId && !need.offered_by(backend));
        let variants: &[bool] = match case.needs.contains(&Need::LastInsertId) {
            true => &[true, false],
            false => &[true],
        };
        for &returning in variants {
            let base = base.clone();
            let run = case.run;
            let (name, ignored) = match returning {
                true => (case.name(), unmet),
                false => (
                    format!("no_returning::{}", case.name()),
                    unmet || !Need::LastInsertId.offered_by(backend),
                ),
            };
            let options = EngineOptions::default().returning(returning);
            let trial = Trial::test(name, move || {
                run_case(backend, base.as_deref(), options, run)
            });
            trials.push(trial.with_ignored_flag(skip_reason.is_some() || ignored));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

fn run_case(
    backend: Backend,
    base: Option<&str>,
    options: EngineOptions,
    run: CaseFn,
) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("runtime: {e}")))?;
    runtime.block_on(async {
        let (test_db, admin) = fresh_database(backend, base, options)
            .await
            .map_err(|e| Failed::from(format!("setting up the database: {e:#}")))?;
        let outcome = tokio::spawn(run(test_db)).await;
        if let Some((admin, drop)) = admin {
            admin
                .execute(AssertSqlSafe(drop), vec![])
                .await
                .map_err(|e| Failed::from(format!("dropping the test database: {e}")))?;
        }
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failed::from(format!("{e:#}"))),
            Err(panic) => Err(Failed::from(format!("the case panicked: {panic}"))),
        }
    })
}

/// Runs raw SQL written with `?` placeholders and `"quoted"` identifiers on any backend
/// (it rewrites them to `$n` on PostgreSQL and backticks on MySQL): for fixtures.
pub async fn exec(
    t: &TestDb,
    sql: impl SqlSafeStr,
    params: Vec<flaskdb::Value>,
) -> anyhow::Result<u64> {
    let sql = portable(t.backend, sql.into_sql_str().as_str());
    Ok(t.db.execute(AssertSqlSafe(sql), params).await?)
}

/// Raw SQL rows, written as for [`exec`].
pub async fn fetch(
    t: &TestDb,
    sql: impl SqlSafeStr,
    params: Vec<flaskdb::Value>,
) -> anyhow::Result<Vec<flaskdb::Row>> {
    let sql = portable(t.backend, sql.into_sql_str().as_str());
    Ok(t.db.fetch_all(AssertSqlSafe(sql), params).await?)
}

fn portable(backend: Backend, sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut n = 0;
    for c in sql.chars() {
        match (backend, c) {
            (Backend::Postgres, '?') => {
                n += 1;
                out.push_str(&format!("${n}"));
            }
            (Backend::MySql, '"') => out.push('`'),
            _ => out.push(c),
        }
    }
    out
}
