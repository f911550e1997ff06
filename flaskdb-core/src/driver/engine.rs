//! Engines: one sqlx pool per bind, behind an enum over the concrete pool types.
//!
//! flaskdb does not build on `sqlx::Any`: it supports fewer column types and converts
//! every value at runtime. Each enabled backend has its variant here, and the executor
//! dispatches on it once per statement.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::backend::Backend;
use crate::config::{Config, EngineOptions, redact_url};
use crate::error::{Error, Result};

use super::pooled::Pooled;

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("flaskdb needs at least one backend feature: sqlite, postgres or mysql");

/// The pool of one engine; one variant per enabled backend.
#[derive(Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<Pooled<sqlx::Sqlite>>),
    #[cfg(feature = "postgres")]
    Postgres(Arc<Pooled<sqlx::Postgres>>),
    #[cfg(feature = "mysql")]
    MySql(Arc<Pooled<sqlx::MySql>>),
}

/// Runs `$body` with `$p` bound to the concrete pool (or any value of the same shape)
/// of whichever backend `$pool` holds.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            $crate::driver::engine::Pool::Sqlite($p) => $body,
            #[cfg(feature = "postgres")]
            $crate::driver::engine::Pool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            $crate::driver::engine::Pool::MySql($p) => $body,
        }
    };
}
pub(crate) use with_pool;

struct EngineInner {
    backend: Backend,
    url: String,
    pool: Pool,
    /// The bind key it serves (`None`: the default bind), for logs.
    bind: Option<String>,
    echo: bool,
    /// Whether bound values stay out of logs, recordings and errors.
    hide_parameters: bool,
    /// The N+1 threshold when statements are recorded; `None` when they are not.
    record: Option<usize>,
    /// Whether `INSERT .. RETURNING` works (SQLite, PostgreSQL, MariaDB 10.5+).
    returning: bool,
    /// How long a statement may wait for a lock before it fails (shared in-memory SQLite
    /// waits on table locks without any timeout of its own).
    lock_timeout: Option<std::time::Duration>,
    /// With `EngineOptions::commit_tokens`: the state of its token table.
    commit_tokens: Option<CommitTokens>,
    /// Keeps a shared in-memory SQLite database alive while the engine lives, whatever
    /// the pool does with its own connections.
    #[cfg(feature = "sqlite")]
    _keep_alive: Option<tokio::sync::Mutex<sqlx::SqliteConnection>>,
}

/// One database connection pool with its backend and redacted URL (Flask-SQLAlchemy's
/// engine). Cheap to clone.
///
/// ```
/// # tokio_test(async {
/// use flaskdb_core::{Backend, Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// let engine = db.engine()?;
/// assert_eq!(engine.backend(), Backend::Sqlite);
/// assert!(engine.as_sqlite().is_some());   // the sqlx pool, for raw sqlx queries
/// # Ok::<(), flaskdb_core::Error>(()) });
/// # fn tokio_test<F: std::future::Future<Output = flaskdb_core::Result<()>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap()
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl Engine {
    /// The backend.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The URL with its password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    pub(crate) fn echo(&self) -> bool {
        self.inner.echo
    }

    pub(crate) fn hide_parameters(&self) -> bool {
        self.inner.hide_parameters
    }

    pub(crate) fn record(&self) -> Option<usize> {
        self.inner.record
    }

    /// The bind key this engine serves (`None` for the default bind).
    pub fn bind_key(&self) -> Option<&str> {
        self.inner.bind.as_deref()
    }

    /// Whether this database returns inserted rows (`INSERT .. RETURNING`): SQLite,
    /// PostgreSQL and MariaDB 10.5 or later do; MySQL does not, and flaskdb reads the
    /// generated key with `LAST_INSERT_ID()` there instead.
    pub fn supports_returning(&self) -> bool {
        self.inner.returning
    }

    pub(crate) fn lock_timeout(&self) -> Option<std::time::Duration> {
        self.inner.lock_timeout
    }

    /// The commit-token state, when this engine's commits are exactly-once.
    pub(crate) fn commit_tokens(&self) -> Option<&CommitTokens> {
        self.inner.commit_tokens.as_ref()
    }

    /// The SQLite pool, if this is a SQLite engine.
    ///
    /// Once an engine's pool has been taken for raw sqlx, flaskdb hands every connection
    /// back to it after each statement (and sqlx pings it then), rather than keeping it
    /// for its next statement: a raw user never waits for a connection flaskdb holds
    /// idle. Raw SQL through [`Db::execute`](crate::Db::execute) or a session's
    /// [`transaction`](crate::Session::transaction) keeps flaskdb's pace.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn as_sqlite(&self) -> Option<&sqlx::SqlitePool> {
        match &self.inner.pool {
            Pool::Sqlite(p) => Some(p.raw()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The PostgreSQL pool, if this is a PostgreSQL engine (see
    /// [`as_sqlite`](Engine::as_sqlite) for what taking it changes).
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn as_postgres(&self) -> Option<&sqlx::PgPool> {
        match &self.inner.pool {
            Pool::Postgres(p) => Some(p.raw()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The MySQL/MariaDB pool, if this is a MySQL engine (see
    /// [`as_sqlite`](Engine::as_sqlite) for what taking it changes).
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn as_mysql(&self) -> Option<&sqlx::MySqlPool> {
        match &self.inner.pool {
            Pool::MySql(p) => Some(p.raw()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Connects bind `bind` at `url` with `options` over the driver defaults.
    pub(crate) async fn connect(
        bind: Option<&str>,
        url: &str,
        options: &EngineOptions,
        config: &Config,
    ) -> Result<Engine> {
        let instance_path = config.instance_dir();
        let flags = Flags {
            bind: bind.map(str::to_owned),
            echo: config.echo_enabled(),
            hide_parameters: config.hide_parameters_enabled(),
            record: config
                .record_queries_enabled()
                .then(|| config.n_plus_one_limit()),
            returning: options.get_returning().unwrap_or(true),
            commit_tokens: options.get_commit_tokens().unwrap_or(false),
        };
        let backend = Backend::from_url(url)?;
        let redacted = redact_url(url);
        let fail = |server: Option<String>| {
            let url = redacted.clone();
            move |source: sqlx::Error| Error::Connect {
                url,
                server,
                source,
            }
        };
        match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let (pool, keep_alive) = sqlite::connect(url, options, instance_path)
                    .await
                    .map_err(|e| match e {
                        Error::Database(source) => fail(None)(source),
                        other => other,
                    })?;
                Ok(Engine::new(
                    backend,
                    redacted,
                    Pool::Sqlite(Arc::new(Pooled::new(pool))),
                    flags,
                    keep_alive,
                    true,
                ))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                no_user_info_in_parameters(url)?;
                let connect: sqlx::postgres::PgConnectOptions =
                    url.parse().map_err(|e| invalid_url(url, e))?;
                let fail = fail(Some(server(
                    connect.get_socket(),
                    connect.get_host(),
                    connect.get_port(),
                )));
                let pool = pool_options(options, &EngineOptions::default());
                let first = first_connection(&connect, pool.get_acquire_timeout())
                    .await
                    .map_err(fail.clone())?;
                // Only a polite goodbye: a failure here says nothing of the server.
                sqlx::Connection::close(first).await.ok();
                let pool = pool.connect_with(connect).await.map_err(fail)?;
                Ok(Engine::new(
                    backend,
                    redacted,
                    Pool::Postgres(Arc::new(Pooled::new(pool))),
                    flags,
                    None,
                    true,
                ))
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                no_user_info_in_parameters(&url)?;
                let connect: sqlx::mysql::MySqlConnectOptions =
                    url.parse().map_err(|e| invalid_url(&url, e))?;
                let connect = connect.charset("utf8mb4");
                let fail = fail(Some(server(
                    connect.get_socket(),
                    connect.get_host(),
                    connect.get_port(),
                )));
                // Flask-SQLAlchemy's MySQL defaults: utf8mb4, and recycle after 2 hours.
                let defaults =
                    EngineOptions::default().max_lifetime(std::time::Duration::from_secs(7200));
                let pool = pool_options(options, &defaults);
                let mut first = first_connection(&connect, pool.get_acquire_timeout())
                    .await
                    .map_err(fail.clone())?;
                let (version,): (String,) = sqlx::query_as("SELECT VERSION()")
                    .fetch_one(&mut first)
                    .await
                    .map_err(fail.clone())?;
                sqlx::Connection::close(first).await.ok();
                let returning = mariadb_has_returning(&version);
                let pool = pool.connect_with(connect).await.map_err(fail)?;
                Ok(Engine::new(
                    backend,
                    redacted,
                    Pool::MySql(Arc::new(Pooled::new(pool))),
                    flags,
                    None,
                    returning,
                ))
            }
            #[allow(unreachable_patterns)]
            other => {
                let _ = (instance_path, flags, options);
                Err(Error::Config(format!(
                    "`{redacted}` needs the `{}` feature of flaskdb, which is not enabled",
                    other.feature()
                )))
            }
        }
    }

    fn new(
        backend: Backend,
        url: String,
        pool: Pool,
        flags: Flags,
        keep_alive: Option<KeepAlive>,
        returning: bool,
    ) -> Engine {
        // A shared in-memory SQLite database waits for table locks with no timeout: a
        // second writer in the task that holds the first would wait forever.
        let lock_timeout = keep_alive.is_some().then(|| options_acquire_timeout(&pool));
        Engine {
            inner: Arc::new(EngineInner {
                backend,
                url,
                pool,
                bind: flags.bind,
                echo: flags.echo,
                hide_parameters: flags.hide_parameters,
                record: flags.record,
                // PostgreSQL has no last-insert id: it always returns rows.
                returning: returning && (flags.returning || backend == Backend::Postgres),
                lock_timeout,
                commit_tokens: flags.commit_tokens.then(CommitTokens::default),
                #[cfg(feature = "sqlite")]
                _keep_alive: keep_alive.map(tokio::sync::Mutex::new),
            }),
        }
    }
}

/// The table of commit tokens, on each bind that uses them.
/// The table where each bind records the migrations applied to it.
pub(crate) const MIGRATION_TABLE: &str = "flaskdb_migrations";

pub(crate) const COMMIT_TOKEN_TABLE: &str = "flaskdb_commit_tokens";

/// An engine's commit tokens (see `session::tokens`): how many transactions were
/// stamped (every so many, old tokens are deleted).
#[derive(Default)]
pub(crate) struct CommitTokens {
    pub(crate) stamped: AtomicU64,
}

/// What an engine takes from the configuration besides its pool.
struct Flags {
    bind: Option<String>,
    echo: bool,
    hide_parameters: bool,
    record: Option<usize>,
    returning: bool,
    commit_tokens: bool,
}

/// Opens one connection outside the pool, so that a server which refuses it (closed
/// port, unknown host, rejected login) fails `Db::connect` at once with the driver's
/// own cause: the pool would retry a refused connection until its acquire timeout and
/// then report only that it timed out. A server that does not answer at all fails
/// after `timeout`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn first_connection<O: sqlx::ConnectOptions<Connection: Sized>>(
    options: &O,
    timeout: std::time::Duration,
) -> std::result::Result<O::Connection, sqlx::Error> {
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(connected) => connected,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the server did not answer within the acquire_timeout of {timeout:?}"),
        ))),
    }
}

/// The server a connection goes to, for errors: `host:port`, or the Unix socket.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn server(socket: Option<&std::path::PathBuf>, host: &str, port: u16) -> String {
    match socket {
        Some(path) => path.display().to_string(),
        None if host.contains(':') => format!("[{host}]:{port}"),
        None => format!("{host}:{port}"),
    }
}

/// The pool's acquire timeout: how long anything waits for the database.
fn options_acquire_timeout(pool: &Pool) -> std::time::Duration {
    with_pool!(pool, p => p.options().get_acquire_timeout())
}

#[cfg(feature = "sqlite")]
type KeepAlive = sqlx::SqliteConnection;
#[cfg(not(feature = "sqlite"))]
type KeepAlive = std::convert::Infallible;

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Engine({})", self.inner.url)
    }
}

/// Whether a MySQL-protocol server is MariaDB 10.5 or later (`INSERT .. RETURNING`).
#[cfg(feature = "mysql")]
fn mariadb_has_returning(version: &str) -> bool {
    if !version.contains("MariaDB") {
        return false;
    }
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (10, 5)
}

/// Refuses a server URL whose last `@` comes after its `?`: a password holding an
/// unencoded `?` (`app:pa?ss@host`) would be read as the start of the parameters, and
/// the driver would log the rest of it as a parameter it does not know. An `@` in a
/// parameter is written `%40`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn no_user_info_in_parameters(url: &str) -> Result<()> {
    match (url.find('?'), url.rfind('@')) {
        (Some(query), Some(at)) if at > query => Err(Error::Config(format!(
            "invalid database URL `{}`: an `@` after the `?` (a password that holds `?`, \
             or a parameter that holds `@`): percent-encode them as %3F and %40",
            redact_url(url)
        ))),
        _ => Ok(()),
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn invalid_url(url: &str, e: sqlx::Error) -> Error {
    // sqlx's parse errors may quote the URL; say what is wrong without it.
    let reason = match e {
        sqlx::Error::Configuration(inner) => redact_url(&inner.to_string()).replace(url, ""),
        other => other.to_string().replace(url, ""),
    };
    Error::Config(format!(
        "invalid database URL `{}`: {reason}",
        redact_url(url)
    ))
}

/// The pool options: `defaults` (the driver's) overridden by `options`.
fn pool_options<DB: sqlx::Database>(
    options: &EngineOptions,
    defaults: &EngineOptions,
) -> sqlx::pool::PoolOptions<DB> {
    let o = defaults.merged_with(options);
    // No ping before a connection is handed out unless `test_before_acquire` asks for
    // one: SQLAlchemy's `pool_pre_ping` is off by default, and a ping is a round trip
    // before every statement.
    let mut pool = sqlx::pool::PoolOptions::<DB>::new().test_before_acquire(false);
    if let Some(n) = o.get_max_connections() {
        pool = pool.max_connections(n);
    }
    if let Some(n) = o.get_min_connections() {
        pool = pool.min_connections(n);
    }
    if let Some(t) = o.get_acquire_timeout() {
        pool = pool.acquire_timeout(t);
    }
    if let Some(t) = o.get_idle_timeout() {
        pool = pool.idle_timeout(t);
    }
    if let Some(t) = o.get_max_lifetime() {
        pool = pool.max_lifetime(t);
    }
    if let Some(b) = o.get_test_before_acquire() {
        pool = pool.test_before_acquire(b);
    }
    pool
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use std::path::Path;
    use std::sync::atomic::Ordering;

    /// A process-wide counter naming each in-memory database, so two `Db`s never share one.
    static MEMORY_DATABASES: AtomicU64 = AtomicU64::new(0);

    /// Connects a SQLite pool.
    ///
    /// An in-memory URL (`sqlite::memory:`, `sqlite://`, `sqlite://:memory:`, or
    /// `mode=memory`) becomes one named shared-cache database per engine: every pooled
    /// connection sees the same data, as Flask-SQLAlchemy's single shared connection does.
    /// `read_uncommitted` lets a reader see an open write transaction instead of waiting
    /// on its table lock. A relative file path resolves under `instance_path`; a file
    /// database uses write-ahead logging unless `journal_mode=` says otherwise, and
    /// `busy_timeout=<ms>` sets how long a statement waits for a lock (sqlx's 5 s by
    /// default).
    pub(super) async fn connect(
        url: &str,
        options: &EngineOptions,
        instance_path: &Path,
    ) -> Result<(sqlx::SqlitePool, Option<sqlx::SqliteConnection>)> {
        // `Backend::from_url` has checked that the URL starts with `sqlite:`.
        let rest = url.split_once(':').map_or("", |(_, rest)| rest);
        let rest = rest.trim_start_matches("//");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let memory =
            path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
        if memory {
            let n = MEMORY_DATABASES.fetch_add(1, Ordering::Relaxed);
            let connect = SqliteConnectOptions::new()
                .filename(format!("file:flaskdb-memory-{}-{n}", std::process::id()))
                .in_memory(true)
                .shared_cache(true)
                .pragma("read_uncommitted", "true");
            let keep_alive = connect.connect().await?;
            // The memory database lives as long as the keep-alive connection: pooled
            // connections may come and go freely.
            let pool = pool_options(options, &EngineOptions::default())
                .connect_with(connect)
                .await?;
            return Ok((pool, Some(keep_alive)));
        }
        let path = Path::new(path);
        let file = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::fs::create_dir_all(instance_path).map_err(|e| {
                Error::Config(format!(
                    "cannot create the instance path {}: {e}",
                    instance_path.display()
                ))
            })?;
            instance_path.join(path)
        };
        // Write-ahead logging unless the URL says otherwise: readers and a writer then
        // go on at once, where the default rollback journal makes a writer wait for
        // every reader.
        let wal = !query
            .split('&')
            .any(|p| p.starts_with("journal_mode=") || p == "mode=ro");
        let mut connect = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true);
        if wal {
            connect = connect.journal_mode(SqliteJournalMode::Wal);
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            connect = match (
                key,
                value.parse::<SqliteJournalMode>(),
                value.parse::<u64>(),
            ) {
                ("mode", ..) if value == "ro" => connect.read_only(true),
                ("mode", ..) if value == "rw" => connect.create_if_missing(false),
                ("mode", ..) if value == "rwc" => connect,
                ("cache", ..) if value == "shared" => connect.shared_cache(true),
                ("cache", ..) if value == "private" => connect,
                ("journal_mode", Ok(mode), _) => connect.journal_mode(mode),
                ("busy_timeout", _, Ok(ms)) => {
                    connect.busy_timeout(std::time::Duration::from_millis(ms))
                }
                _ => {
                    return Err(Error::Config(format!(
                        "unsupported SQLite URL parameter `{}` in `{}`",
                        redact_url(pair),
                        redact_url(url)
                    )));
                }
            };
        }
        let pool = pool_options(options, &EngineOptions::default())
            .connect_with(connect)
            .await?;
        Ok((pool, None))
    }
}
