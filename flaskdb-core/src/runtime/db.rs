//! [`Db`]: the engines of every bind, their metadata, and the entry points.

use std::future::Future;
use std::panic::Location;

use crate::driver::recording;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::config::Config;
use crate::driver::engine::Engine;
use crate::driver::executor::{self, Conn, Row};
use crate::error::{Error, Result};
use crate::runtime::context;
use crate::runtime::events::{Change, EventContext, Listeners, SessionEvent};
use crate::runtime::session::{Session, create_token_table};
use crate::schema::{Metadata, Table, parents_first};
use crate::sql::{self, Rendered};
use crate::value::Value;
use sqlx::SqlSafeStr;

/// The database handle: one engine (connection pool) per bind, the metadata of every
/// bind, and the entry points to schema, queries and the context. Flask-SQLAlchemy's
/// `db = SQLAlchemy(app)`.
///
/// `Db` is a cheap handle: clone it freely (every clone shares the same engines).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// // Mode 1: configured at construction.
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// // Mode 2: created first, initialised later (Flask's init_app pattern).
/// let later = Db::new();
/// later.init(Config::new("sqlite::memory:").bind("users", "sqlite::memory:")).await?;
/// assert_eq!(format!("{later:?}"), "<Db sqlite::memory: +1 engines>");
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Db {
    inner: Arc<Inner>,
}

/// A bind key (`None` = default) and tables found there.
type BindTables = (Option<String>, Vec<Arc<Table>>);

#[derive(Default)]
struct Inner {
    state: OnceLock<State>,
    listeners: Listeners,
    /// The tables [`Db::reflect`] read, per bind.
    reflected: std::sync::RwLock<Vec<BindTables>>,
    /// The sessions of [`Db::session_for`], by key.
    keyed: std::sync::Mutex<std::collections::HashMap<String, Session>>,
}

struct State {
    config: Config,
    /// `None` is the default bind; binds in configuration order.
    engines: Vec<(Option<String>, Engine)>,
}

impl Db {
    /// An unconfigured handle; every use before [`Db::init`] fails with
    /// [`Error::NotInitialized`].
    pub fn new() -> Db {
        Db::default()
    }

    /// Connects every bind of `config`. Each server gets one connection before its pool
    /// is built, so a server that refuses it fails here at once, not after the pool's
    /// `acquire_timeout`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration or URL; [`Error::Connect`] when a
    /// database cannot be reached or rejects the login, naming the server and the
    /// driver's cause (the URL in the error is redacted).
    pub async fn connect(config: Config) -> Result<Db> {
        let db = Db::new();
        db.init(config).await?;
        Ok(db)
    }

    /// Configures a handle made by [`Db::new`]. Every clone of it sees the engines.
    ///
    /// # Errors
    /// As [`Db::connect`]; [`Error::AlreadyInitialized`] on a second call.
    pub async fn init(&self, config: Config) -> Result<()> {
        if self.inner.state.get().is_some() {
            return Err(Error::AlreadyInitialized);
        }
        config.validate()?;
        let mut engines = Vec::new();
        if let Some(url) = config.database_uri() {
            let engine = Engine::connect(None, url, config.options(), &config).await?;
            engines.push((None, engine));
        }
        for (key, bind) in config.binds() {
            let options = config.options().merged_with(bind.options());
            let engine = Engine::connect(Some(key), bind.url(), &options, &config).await?;
            engines.push((Some(key.clone()), engine));
        }
        for (_, engine) in engines.iter().filter(|(_, e)| e.commit_tokens().is_some()) {
            create_token_table(engine).await?;
        }
        self.inner
            .state
            .set(State { config, engines })
            .map_err(|_| Error::AlreadyInitialized)
    }

    fn state(&self) -> Result<&State> {
        self.inner.state.get().ok_or(Error::NotInitialized)
    }

    /// The configuration this handle was initialised with.
    ///
    /// # Errors
    /// [`Error::NotInitialized`].
    pub fn config(&self) -> Result<&Config> {
        Ok(&self.state()?.config)
    }

    /// The default bind's engine.
    ///
    /// # Errors
    /// [`Error::NotInitialized`]; [`Error::Config`] when only named binds are configured.
    pub fn engine(&self) -> Result<Engine> {
        self.engine_for(None).map_err(|e| match e {
            Error::UnknownBind(_) => Error::Config(
                "no default database is configured (set the database URL, or use \
                 `engine_for(Some(key))`)"
                    .into(),
            ),
            other => other,
        })
    }

    /// The engine of bind `key` (`None` = the default bind).
    ///
    /// # Errors
    /// [`Error::UnknownBind`] naming a bind that is not configured.
    pub fn engine_for(&self, key: Option<&str>) -> Result<Engine> {
        self.state()?
            .engines
            .iter()
            .find(|(k, _)| k.as_deref() == key)
            .map(|(_, e)| e.clone())
            .ok_or_else(|| Error::UnknownBind(key.unwrap_or("<default>").to_owned()))
    }

    /// Every configured bind key (`None` = default) with its engine, in configuration
    /// order.
    ///
    /// # Errors
    /// [`Error::NotInitialized`].
    pub fn engines(&self) -> Result<Vec<(Option<String>, Engine)>> {
        Ok(self.state()?.engines.clone())
    }

    /// The metadata of bind `key`: every model and table declared for it, and the
    /// tables [`Db::reflect`] found there.
    pub fn metadata(&self, key: Option<&str>) -> Metadata {
        Metadata::for_bind(key, &self.reflected(key))
    }

    /// The tables the last [`Db::reflect`] read from bind `key`, as the database
    /// describes them (those a model declares too): what `flaskdb reflect` turns into
    /// models. Empty before any reflection.
    pub fn reflected(&self, key: Option<&str>) -> Vec<Arc<Table>> {
        self.inner
            .reflected
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(k, _)| k.as_deref() == key)
            .map(|(_, tables)| tables.clone())
            .unwrap_or_default()
    }

    /// Reads every table and view of every bind's database into that bind's metadata
    /// (Flask-SQLAlchemy's `db.reflect()`): columns with their types, nullability and
    /// defaults, primary keys, autoincrement, unique constraints, indexes and foreign
    /// keys. Reflected tables are queryable by name with [`Db::table`].
    ///
    /// A table that a model declares keeps the model's description, and is checked
    /// against the database's.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db, SqlType};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// db.execute("CREATE TABLE legacy_customer (id INTEGER PRIMARY KEY, \
    ///             full_name VARCHAR(80) NOT NULL)", vec![]).await?;
    /// db.reflect().await?;
    /// let metadata = db.metadata(None);
    /// let customer = metadata.table("legacy_customer").unwrap();
    /// let name = customer.column_named("full_name").unwrap();
    /// assert_eq!((name.sql_type(), name.length()), (SqlType::Text, Some(80)));
    /// assert_eq!(customer.primary_key(), ["id"]);
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] listing every column where a model and the database
    /// differ (missing, nullability, kind of type); the reflected tables are stored all
    /// the same. Database errors.
    #[track_caller]
    pub fn reflect(&self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            let keys: Vec<Option<String>> = self.engines()?.into_iter().map(|(k, _)| k).collect();
            let keys: Vec<Option<&str>> = keys.iter().map(Option::as_deref).collect();
            self.reflect_binds(&keys).await
        })
    }

    /// [`Db::reflect`] on the listed binds only (`None` = the default bind).
    ///
    /// # Errors
    /// As [`Db::reflect`]; [`Error::UnknownBind`] for a bind that is not configured.
    #[track_caller]
    pub fn reflect_for(&self, keys: &[Option<&str>]) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), self.reflect_binds(keys))
    }

    async fn reflect_binds(&self, keys: &[Option<&str>]) -> Result<()> {
        let mut mismatches = Vec::new();
        for key in keys {
            let engine = self.engine_for(*key)?;
            let tables = crate::runtime::reflect::tables(&engine, *key).await?;
            for declared in crate::schema::registered_tables() {
                if declared.bind_key() == *key
                    && let Some(found) = tables.iter().find(|t| t.name() == declared.name())
                {
                    mismatches.extend(crate::runtime::reflect::mismatches(
                        declared,
                        found,
                        engine.backend(),
                    ));
                }
            }
            let tables = tables.into_iter().map(Arc::new).collect();
            let mut reflected = self
                .inner
                .reflected
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            reflected.retain(|(k, _)| k.as_deref() != *key);
            reflected.push((key.map(str::to_owned), tables));
        }
        match mismatches.is_empty() {
            true => Ok(()),
            false => Err(Error::SchemaMismatch(mismatches)),
        }
    }

    /// The tables that live on bind `key`.
    pub fn tables_for_bind(&self, key: Option<&str>) -> Vec<Arc<Table>> {
        self.metadata(key).tables().to_vec()
    }

    /// The bind keys that have tables or engines, default first.
    pub(crate) fn all_binds(&self) -> Result<Vec<Option<String>>> {
        let mut keys: Vec<Option<String>> = self
            .state()?
            .engines
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        for table in crate::schema::registered_tables() {
            let key = table.bind_key().map(str::to_owned);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys.sort_by_key(Option::is_some);
        Ok(keys)
    }

    /// Creates every missing table of every bind, parents before children. Existing
    /// tables are left as they are; views are skipped. Idempotent.
    ///
    /// # Errors
    /// [`Error::UnknownBind`] when a model lives on a bind that is not configured;
    /// [`Error::Schema`] for a foreign-key cycle; database errors.
    #[track_caller]
    pub fn create_all(&self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            for key in self.all_binds()? {
                self.create_bind(key.as_deref()).await?;
            }
            Ok(())
        })
    }

    /// Drops every table of every bind, children before parents.
    ///
    /// # Errors
    /// As [`Db::create_all`].
    #[track_caller]
    pub fn drop_all(&self) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            for key in self.all_binds()? {
                self.drop_bind(key.as_deref()).await?;
            }
            Ok(())
        })
    }

    /// [`Db::create_all`] on the listed binds only (`None` = the default bind).
    ///
    /// # Errors
    /// As [`Db::create_all`].
    #[track_caller]
    pub fn create_all_for(&self, keys: &[Option<&str>]) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            for key in keys {
                self.create_bind(*key).await?;
            }
            Ok(())
        })
    }

    /// [`Db::drop_all`] on the listed binds only.
    ///
    /// # Errors
    /// As [`Db::create_all`].
    #[track_caller]
    pub fn drop_all_for(&self, keys: &[Option<&str>]) -> impl Future<Output = Result<()>> + Send {
        recording::at(Location::caller(), async move {
            for key in keys {
                self.drop_bind(*key).await?;
            }
            Ok(())
        })
    }

    /// The tables of a bind that `create_all` manages (views excluded), parents first,
    /// with the bind's engine; `None` when the bind has no such table.
    fn schema_of(&self, key: Option<&str>) -> Result<Option<(Engine, Vec<Table>)>> {
        let metadata = self.metadata(key);
        let tables: Vec<&Table> = metadata
            .tables()
            .iter()
            .map(Arc::as_ref)
            .filter(|t| !t.is_view())
            .collect();
        if tables.is_empty() {
            return Ok(None);
        }
        let ordered = parents_first(&tables)?.into_iter().cloned().collect();
        Ok(Some((self.engine_for(key)?, ordered)))
    }

    async fn create_bind(&self, key: Option<&str>) -> Result<()> {
        let Some((engine, tables)) = self.schema_of(key)? else {
            return Ok(());
        };
        for table in &tables {
            for sql in sql::create_table(table, engine.backend(), true)? {
                executor::execute(Conn::Pool(&engine), Rendered::new(sql, Vec::new())).await?;
            }
        }
        Ok(())
    }

    async fn drop_bind(&self, key: Option<&str>) -> Result<()> {
        let Some((engine, tables)) = self.schema_of(key)? else {
            return Ok(());
        };
        for table in tables.iter().rev() {
            let sql = sql::drop_table(table, engine.backend())?;
            executor::execute(Conn::Pool(&engine), Rendered::new(sql, Vec::new())).await?;
        }
        Ok(())
    }

    /// Calls `handler` with the changes of every commit that has some, after the last
    /// flush and before the database commits (Flask-SQLAlchemy's
    /// `before_models_committed`). Needs `Config::track_modifications(true)`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db};
    /// let db = Db::connect(Config::new("sqlite::memory:").track_modifications(true)).await?;
    /// db.on_before_models_committed(|changes| println!("about to commit {}", changes.len()));
    /// db.on_models_committed(|changes| println!("committed {}", changes.len()));
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub fn on_before_models_committed(&self, handler: impl Fn(&[Change]) + Send + Sync + 'static) {
        self.listen(SessionEvent::BeforeCommit, signal(handler));
    }

    /// Calls `handler` with the changes of every successful commit that has some
    /// (Flask-SQLAlchemy's `models_committed`). Needs `Config::track_modifications(true)`.
    pub fn on_models_committed(&self, handler: impl Fn(&[Change]) + Send + Sync + 'static) {
        self.listen(SessionEvent::AfterCommit, signal(handler));
    }

    /// Runs `listener` at `event` of every session of this `Db` (before the session's
    /// own listeners); see [`EventContext`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db, SessionEvent};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// db.listen(SessionEvent::BeforeFlush, |ctx| {
    ///     println!("{} rows to write", ctx.changes().len());
    ///     Ok(())
    /// });
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub fn listen(
        &self,
        event: SessionEvent,
        listener: impl Fn(&mut EventContext<'_>) -> crate::Result<()> + Send + Sync + 'static,
    ) {
        self.inner.listeners.add(event, Arc::new(listener));
    }

    pub(crate) fn listeners(&self) -> &Listeners {
        &self.inner.listeners
    }

    /// Whether sessions record changes for the signals.
    pub(crate) fn tracks_modifications(&self) -> bool {
        self.state()
            .is_ok_and(|s| s.config.track_modifications_enabled())
    }

    /// A new session (unit of work) on this database.
    pub fn session(&self) -> Session {
        Session::new(Some(self.clone()))
    }

    /// Runs raw SQL on the default bind and returns the number of rows affected.
    /// Values go in `params`, bound to the `?` (or `$n` on PostgreSQL) placeholders —
    /// never format them into `sql`.
    ///
    /// `sql` is a [`sqlx::SqlSafeStr`], as for `sqlx::query`: a string literal
    /// (`&'static str`) passes as it is; SQL built at run time (`format!`) does not
    /// compile until it is wrapped in [`AssertSqlSafe`](crate::AssertSqlSafe), the
    /// caller's statement that nothing untrusted went into it:
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{AssertSqlSafe, Config, Db};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// for table in ["a", "b"] {
    ///     // The table names are this program's own constants, never user input.
    ///     db.execute(AssertSqlSafe(format!("CREATE TABLE {table} (x INTEGER)")), vec![]).await?;
    /// }
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// Database errors; [`Error::Config`] when no default bind is configured.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db, Value};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// db.execute("CREATE TABLE t (x INTEGER)", vec![]).await?;
    /// assert_eq!(db.execute("INSERT INTO t VALUES (?), (?)", vec![Value::from(1), Value::from(2)]).await?, 2);
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn execute(
        &self,
        sql: impl SqlSafeStr,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<u64>> + Send {
        let statement = raw(sql, params);
        recording::at(Location::caller(), async move {
            let engine = self.engine()?;
            Ok(executor::execute(Conn::Pool(&engine), statement)
                .await?
                .rows_affected)
        })
    }

    /// Runs raw SQL on the default bind and returns its rows, read by column name.
    /// `sql` is a string literal or SQL wrapped in [`AssertSqlSafe`](crate::AssertSqlSafe),
    /// as for [`Db::execute`].
    ///
    /// # Errors
    /// As [`Db::execute`].
    #[track_caller]
    pub fn fetch_all(
        &self,
        sql: impl SqlSafeStr,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send {
        let statement = raw(sql, params);
        recording::at(Location::caller(), async move {
            let engine = self.engine()?;
            executor::fetch_rows(Conn::Pool(&engine), statement).await
        })
    }

    /// Runs `fut` with this database as the current context: inside it,
    /// `Model::query()` uses this `Db`. See [`crate::in_current_scope`] for spawned tasks.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// let answer = db.scope(async { 42 }).await;
    /// assert_eq!(answer, 42);
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        context::scope(self.clone(), None, fut).await
    }

    /// The session that belongs to `key`: the same one for every call with that key,
    /// until [`Db::remove_session`] (Flask-SQLAlchemy's `scopefunc` option, for one
    /// session per something other than a request: a job, a connection, a user).
    ///
    /// At most `Config::max_keyed_sessions` (default 10,000) are open at once: remove
    /// each when its job is done.
    ///
    /// # Errors
    /// [`Error::TooManySessions`] for a new key when that many are open; no session is
    /// ended to make room, so nothing uncommitted is lost.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db};
    /// let db = Db::connect(Config::new("sqlite::memory:")).await?;
    /// db.execute("CREATE TABLE t (x INTEGER)", vec![]).await?;
    /// let job = db.session_for("job-7")?;
    /// {
    ///     let mut tx = job.transaction(None).await?;
    ///     sqlx::query("INSERT INTO t VALUES (1)").execute(tx.as_sqlite().unwrap()).await?;
    /// }
    /// db.session_for("job-7")?.commit().await?;    // the same session: commits the insert
    /// db.remove_session("job-7").await;
    /// assert_eq!(db.fetch_all("SELECT x FROM t", vec![]).await?.len(), 1);
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub fn session_for(&self, key: &str) -> Result<Session> {
        let limit = self
            .config()
            .map_or(usize::MAX, Config::keyed_sessions_limit);
        let mut keyed = self
            .inner
            .keyed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(session) = keyed.get(key) {
            return Ok(session.clone());
        }
        if keyed.len() >= limit {
            return Err(Error::TooManySessions {
                key: key.to_owned(),
                limit,
            });
        }
        let session = self.session();
        keyed.insert(key.to_owned(), session.clone());
        Ok(session)
    }

    /// Ends the session of `key`: anything it did not commit is rolled back, and the
    /// next [`Db::session_for`] with that key starts a new one.
    pub async fn remove_session(&self, key: &str) {
        let session = self
            .inner
            .keyed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
        if let Some(session) = session {
            session.close().await;
        }
    }

    /// [`Db::scope`] whose session is the one of `key` ([`Db::session_for`]): it
    /// outlives the scope, so several scopes with one key share their unit of work.
    ///
    /// # Errors
    /// [`Error::TooManySessions`] as [`Db::session_for`]: then `fut` is not run.
    pub async fn scope_for<F: Future>(&self, key: &str, fut: F) -> Result<F::Output> {
        let session = self.session_for(key)?;
        Ok(context::scope(self.clone(), Some(session), fut).await)
    }
}

/// Raw SQL as a statement to run: the caller's own text, vouched for by its
/// [`SqlSafeStr`] type.
fn raw(sql: impl SqlSafeStr, params: Vec<Value>) -> Rendered<'static> {
    Rendered::new(sql.into_sql_str().as_str().to_owned(), params)
}

impl fmt::Debug for Db {
    /// `<Db url +N engines>` like Flask-SQLAlchemy's repr, with the password redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(state) = self.inner.state.get() else {
            return f.write_str("<Db>");
        };
        let default = state.engines.iter().find(|(k, _)| k.is_none());
        let others = state.engines.len() - usize::from(default.is_some());
        match default {
            Some((_, e)) => write!(f, "<Db {}", e.url())?,
            None => f.write_str("<Db (No default engine)")?,
        }
        if others > 0 {
            write!(f, " +{others} engines")?;
        }
        f.write_str(">")
    }
}

/// A signal handler as a listener: called with a commit's changes when the `Db` tracks
/// modifications and there are some.
fn signal(
    handler: impl Fn(&[Change]) + Send + Sync + 'static,
) -> impl Fn(&mut EventContext<'_>) -> crate::Result<()> + Send + Sync + 'static {
    move |ctx| {
        if ctx.tracking && !ctx.changes.is_empty() {
            handler(&ctx.changes);
        }
        Ok(())
    }
}
