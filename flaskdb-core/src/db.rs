//! [`Db`]: the engines of every bind, their metadata, and the entry points.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use crate::config::{Config, EngineOptions};
use crate::context;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::executor::{self, Conn, Row};
use crate::model::Model;
use crate::query::Query;
use crate::schema::{Metadata, Table, parents_first};
use crate::session::Session;
use crate::sql::{self, Rendered};
use crate::value::Value;

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
    inner: Arc<OnceLock<State>>,
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

    /// Connects every bind of `config`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration or URL, [`Error::Connect`] when a
    /// database cannot be reached (the URL in the error is redacted).
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
        if self.inner.get().is_some() {
            return Err(Error::AlreadyInitialized);
        }
        config.validate()?;
        let mut engines = Vec::new();
        let connect = |url: &str, options: EngineOptions| {
            let config = &config;
            let url = url.to_owned();
            async move {
                Engine::connect(&url, &options, config.instance_dir(), config.echo_enabled()).await
            }
        };
        if let Some(url) = config.database_uri() {
            engines.push((None, connect(url, config.options().clone()).await?));
        }
        for (key, bind) in config.binds() {
            let options = config.options().merged_with(bind.options());
            engines.push((Some(key.clone()), connect(bind.url(), options).await?));
        }
        self.inner
            .set(State { config, engines })
            .map_err(|_| Error::AlreadyInitialized)
    }

    fn state(&self) -> Result<&State> {
        self.inner.get().ok_or(Error::NotInitialized)
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

    /// The metadata of bind `key`: every model declared for it.
    pub fn metadata(&self, key: Option<&str>) -> Metadata {
        Metadata::for_bind(key)
    }

    /// The tables that live on bind `key`.
    pub fn tables_for_bind(&self, key: Option<&str>) -> Vec<Arc<Table>> {
        self.metadata(key).tables().to_vec()
    }

    /// The bind keys that have tables or engines, default first.
    fn all_binds(&self) -> Result<Vec<Option<String>>> {
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
    pub async fn create_all(&self) -> Result<()> {
        for key in self.all_binds()? {
            self.create_bind(key.as_deref()).await?;
        }
        Ok(())
    }

    /// Drops every table of every bind, children before parents.
    ///
    /// # Errors
    /// As [`Db::create_all`].
    pub async fn drop_all(&self) -> Result<()> {
        for key in self.all_binds()? {
            self.drop_bind(key.as_deref()).await?;
        }
        Ok(())
    }

    /// [`Db::create_all`] on the listed binds only (`None` = the default bind).
    ///
    /// # Errors
    /// As [`Db::create_all`].
    pub async fn create_all_for(&self, keys: &[Option<&str>]) -> Result<()> {
        for key in keys {
            self.create_bind(*key).await?;
        }
        Ok(())
    }

    /// [`Db::drop_all`] on the listed binds only.
    ///
    /// # Errors
    /// As [`Db::create_all`].
    pub async fn drop_all_for(&self, keys: &[Option<&str>]) -> Result<()> {
        for key in keys {
            self.drop_bind(*key).await?;
        }
        Ok(())
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
            for sql in sql::create_table(table, engine.backend()) {
                executor::execute(Conn::Pool(&engine), raw(&sql, Vec::new())).await?;
            }
        }
        Ok(())
    }

    async fn drop_bind(&self, key: Option<&str>) -> Result<()> {
        let Some((engine, tables)) = self.schema_of(key)? else {
            return Ok(());
        };
        for table in tables.iter().rev() {
            let sql = sql::drop_table(table, engine.backend());
            executor::execute(Conn::Pool(&engine), raw(&sql, Vec::new())).await?;
        }
        Ok(())
    }

    /// A new session (unit of work) on this database.
    pub fn session(&self) -> Session {
        Session::new(Some(self.clone()))
    }

    /// A query over model `M` bound to this database (on `M`'s bind).
    pub fn query<M: Model>(&self) -> Query<M> {
        Query::on(self.clone())
    }

    /// Runs raw SQL on the default bind and returns the number of rows affected.
    /// Values go in `params`, bound to the `?` (or `$n` on PostgreSQL) placeholders —
    /// never format them into `sql`.
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
    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64> {
        let engine = self.engine()?;
        Ok(executor::execute(Conn::Pool(&engine), raw(sql, params))
            .await?
            .rows_affected)
    }

    /// Runs raw SQL on the default bind and returns its rows, read by column name.
    ///
    /// # Errors
    /// As [`Db::execute`].
    pub async fn fetch_all(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>> {
        let engine = self.engine()?;
        executor::fetch_rows(Conn::Pool(&engine), raw(sql, params)).await
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
        context::scope(self.clone(), fut).await
    }
}

fn raw(sql: &str, params: Vec<Value>) -> Rendered {
    Rendered {
        sql: sql.to_owned(),
        params,
    }
}

impl fmt::Debug for Db {
    /// `<Db url +N engines>` like Flask-SQLAlchemy's repr, with the password redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(state) = self.inner.get() else {
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
