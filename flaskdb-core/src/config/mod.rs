//! Configuration: Flask-SQLAlchemy's `SQLALCHEMY_*` keys as a typed builder.

mod url;

pub use url::redact_url;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// Pool options of an engine (Flask-SQLAlchemy's `SQLALCHEMY_ENGINE_OPTIONS`).
///
/// Unset options fall back, in order of precedence (lowest first), to the driver
/// defaults, then `Config::engine_options`, then a bind's own options.
///
/// ```
/// use std::time::Duration;
/// use flaskdb_core::EngineOptions;
/// let o = EngineOptions::default()
///     .max_connections(10)
///     .acquire_timeout(Duration::from_secs(10))   // pool_timeout
///     .max_lifetime(Duration::from_secs(7200))    // pool_recycle
///     .test_before_acquire(true);                 // pool_pre_ping
/// assert_eq!(o.get_max_connections(), Some(10));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineOptions {
    max_connections: Option<u32>,
    min_connections: Option<u32>,
    acquire_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    test_before_acquire: Option<bool>,
    returning: Option<bool>,
    commit_tokens: Option<bool>,
}

macro_rules! engine_option {
    ($($(#[$doc:meta])* $name:ident, $getter:ident: $ty:ty;)*) => {
        impl EngineOptions {$(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = Some(value);
                self
            }
            /// The value set for this option, if any.
            pub fn $getter(&self) -> Option<$ty> {
                self.$name
            }
        )*}

        impl EngineOptions {
            /// These options with every option set in `over` replacing this one's.
            pub fn merged_with(&self, over: &EngineOptions) -> EngineOptions {
                EngineOptions { $($name: over.$name.or(self.$name),)* }
            }
        }
    };
}

engine_option! {
    /// The most connections the pool opens (SQLAlchemy's `pool_size`).
    max_connections, get_max_connections: u32;
    /// The connections the pool keeps open at least.
    min_connections, get_min_connections: u32;
    /// How long to wait for a free connection (`pool_timeout`).
    acquire_timeout, get_acquire_timeout: Duration;
    /// How long an idle connection is kept.
    idle_timeout, get_idle_timeout: Duration;
    /// How long a connection lives before it is replaced (`pool_recycle`).
    max_lifetime, get_max_lifetime: Duration;
    /// Whether a connection is pinged before it is handed out (`pool_pre_ping`).
    test_before_acquire, get_test_before_acquire: bool;
    /// Whether inserts read generated keys with `RETURNING` where the database has it
    /// (default); `false` uses the last-insert id, as on MySQL, everywhere.
    returning, get_returning: bool;
    /// Exactly-once commits (default: off). Each transaction that writes also writes a
    /// random token into the table `flaskdb_commit_tokens` (created when the `Db`
    /// connects, if missing); when the
    /// connection is lost before the server answers the COMMIT, flaskdb looks the token
    /// up on a new connection: found, the commit took effect and `commit()` returns Ok;
    /// absent, it did not, and `commit()` fails with a retryable
    /// [`Error::ConnectionLost`](crate::Error::ConnectionLost), the work queued again.
    /// Costs one INSERT per writing commit (it shows in echo and recorded queries);
    /// tokens older than an hour are deleted. Needs one primary server: on a
    /// multi-primary cluster the lookup may reach a node that has not applied the
    /// commit yet. Without it, such a commit fails with
    /// [`Error::CommitOutcomeUnknown`](crate::Error::CommitOutcomeUnknown).
    commit_tokens, get_commit_tokens: bool;
}

/// One extra database (Flask-SQLAlchemy's `SQLALCHEMY_BINDS` entry): its URL and options.
///
/// ```
/// use flaskdb_core::{BindConfig, EngineOptions};
/// let b = BindConfig::new("sqlite::memory:").engine_options(EngineOptions::default().max_connections(4));
/// assert_eq!(b.url(), "sqlite::memory:");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BindConfig {
    url: String,
    engine_options: EngineOptions,
}

impl BindConfig {
    /// A bind at `url` with no options of its own.
    pub fn new(url: impl Into<String>) -> Self {
        BindConfig {
            url: url.into(),
            engine_options: EngineOptions::default(),
        }
    }

    /// The bind's own engine options (they win over `Config::engine_options`).
    pub fn engine_options(mut self, options: EngineOptions) -> Self {
        self.engine_options = options;
        self
    }

    /// The URL (with its password: do not log it; `Debug` redacts it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bind's own options.
    pub fn options(&self) -> &EngineOptions {
        &self.engine_options
    }
}

impl fmt::Debug for BindConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindConfig")
            .field("url", &redact_url(&self.url))
            .field("engine_options", &self.engine_options)
            .finish()
    }
}

/// The configuration of a [`Db`](crate::Db): every Flask-SQLAlchemy configuration key.
///
/// ```
/// use flaskdb_core::{BindConfig, Config, EngineOptions};
/// let config = Config::new("sqlite::memory:")              // SQLALCHEMY_DATABASE_URI
///     .bind("users", "sqlite::memory:")                   // SQLALCHEMY_BINDS
///     .engine_options(EngineOptions::default().max_connections(5))
///     .echo(true)                                         // SQLALCHEMY_ECHO
///     .record_queries(true)                               // SQLALCHEMY_RECORD_QUERIES
///     .track_modifications(true)                          // SQLALCHEMY_TRACK_MODIFICATIONS
///     .instance_path("instance");
/// assert_eq!(config.binds().len(), 1);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    database_uri: Option<String>,
    binds: Vec<(String, BindConfig)>,
    engine_options: EngineOptions,
    echo: bool,
    hide_parameters: bool,
    record_queries: bool,
    n_plus_one_threshold: usize,
    max_recorded_queries: usize,
    max_keyed_sessions: usize,
    track_modifications: bool,
    instance_path: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_uri: None,
            binds: Vec::new(),
            engine_options: EngineOptions::default(),
            echo: false,
            hide_parameters: false,
            record_queries: false,
            n_plus_one_threshold: 10,
            max_recorded_queries: 10_000,
            max_keyed_sessions: 10_000,
            track_modifications: false,
            instance_path: PathBuf::from("instance"),
        }
    }
}

impl Config {
    /// A configuration whose default bind is at `database_uri`.
    pub fn new(database_uri: impl Into<String>) -> Self {
        Config {
            database_uri: Some(database_uri.into()),
            ..Config::default()
        }
    }

    /// A configuration with no default bind; add binds with [`Config::bind`].
    pub fn without_default() -> Self {
        Config::default()
    }

    /// Adds (or replaces) the bind `key` at `url`.
    pub fn bind(self, key: impl Into<String>, url: impl Into<String>) -> Self {
        self.bind_with(key, BindConfig::new(url))
    }

    /// Adds (or replaces) the bind `key` with its own options.
    pub fn bind_with(mut self, key: impl Into<String>, bind: BindConfig) -> Self {
        let key = key.into();
        self.binds.retain(|(k, _)| *k != key);
        self.binds.push((key, bind));
        self
    }

    /// Engine options for every bind (a bind's own options win).
    pub fn engine_options(mut self, options: EngineOptions) -> Self {
        self.engine_options = options;
        self
    }

    /// Logs every statement through `tracing` (target `flaskdb::sql`).
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Keeps the values bound to statements out of everything flaskdb shows
    /// (SQLAlchemy's `hide_parameters`; also `FLASKDB_HIDE_PARAMETERS=1`): echo logs
    /// [`HIDDEN_PARAMETERS`](crate::HIDDEN_PARAMETERS) instead of them, recorded queries
    /// ([`QueryInfo::parameters`](crate::QueryInfo::parameters)) hold that text once per
    /// value, and an error from the database keeps its code and constraint but not its
    /// message, which may quote a value (MariaDB's "Duplicate entry 'alice@example.com'
    /// for key ..", PostgreSQL's "invalid input syntax for type integer: \"..\""), so
    /// neither the error's `Display` nor the axum handler's log shows one. Default: off.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use flaskdb_core::{Config, Db, Value, HIDDEN_PARAMETERS};
    /// let config = Config::new("sqlite::memory:").record_queries(true).hide_parameters(true);
    /// assert!(config.hide_parameters_enabled());
    /// let db = Db::connect(config).await?;
    /// db.scope(async {
    ///     db.execute("SELECT ?", vec![Value::from("alice@example.com")]).await?;
    ///     let recorded = flaskdb_core::get_recorded_queries();
    ///     assert_eq!(recorded[0].parameters, [Value::from(HIDDEN_PARAMETERS)]);
    ///     Ok::<_, flaskdb_core::Error>(())
    /// }).await?;
    /// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
    /// ```
    pub fn hide_parameters(mut self, on: bool) -> Self {
        self.hide_parameters = on;
        self
    }

    /// Records every statement run in a scope (see `get_recorded_queries`).
    pub fn record_queries(mut self, on: bool) -> Self {
        self.record_queries = on;
        self
    }

    /// With recording on: how many times one statement shape may run in a scope before
    /// a `tracing` warning points at a likely N+1 pattern (default 10).
    pub fn n_plus_one_threshold(mut self, n: usize) -> Self {
        self.n_plus_one_threshold = n;
        self
    }

    /// With recording on: how many statements one scope keeps (default 10,000). Past it,
    /// statements are counted ([`recorded_queries_dropped`](crate::recorded_queries_dropped))
    /// but not kept, and a `tracing` warning says so once per scope; the N+1 warning
    /// still counts them (for at most this many distinct statement shapes).
    ///
    /// ```
    /// let config = flaskdb_core::Config::new("sqlite::memory:").max_recorded_queries(500);
    /// assert_eq!(config.recorded_queries_limit(), 500);
    /// ```
    pub fn max_recorded_queries(mut self, n: usize) -> Self {
        self.max_recorded_queries = n;
        self
    }

    /// How many sessions by key ([`Db::session_for`](crate::Db::session_for)) may be
    /// open at once (default 10,000). Asking for a new key past it is
    /// [`Error::TooManySessions`]: no open session is ended to make room, so no
    /// uncommitted work is lost.
    ///
    /// ```
    /// let config = flaskdb_core::Config::new("sqlite::memory:").max_keyed_sessions(100);
    /// assert_eq!(config.keyed_sessions_limit(), 100);
    /// ```
    pub fn max_keyed_sessions(mut self, n: usize) -> Self {
        self.max_keyed_sessions = n;
        self
    }

    /// Sends the model-change signals on commit.
    pub fn track_modifications(mut self, on: bool) -> Self {
        self.track_modifications = on;
        self
    }

    /// Where relative SQLite paths resolve (created if missing); default `instance`.
    pub fn instance_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.instance_path = path.into();
        self
    }

    /// Reads the configuration from the environment: `DATABASE_URL`, `FLASKDB_BINDS`
    /// (`key=url;key=url`), `FLASKDB_ECHO`, `FLASKDB_HIDE_PARAMETERS`,
    /// `FLASKDB_RECORD_QUERIES`, `FLASKDB_TRACK_MODIFICATIONS` (`1/0`, `true/false`, `yes/no`, `on/off`) and
    /// `FLASKDB_INSTANCE_PATH`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable (and the entry of `FLASKDB_BINDS`) that is
    /// malformed, or when neither `DATABASE_URL` nor `FLASKDB_BINDS` is set.
    ///
    /// ```no_run
    /// let config = flaskdb_core::Config::from_env()?;
    /// # Ok::<(), flaskdb_core::Error>(())
    /// ```
    pub fn from_env() -> Result<Config> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// [`Config::from_env`] over any lookup function (handy in tests).
    ///
    /// ```
    /// use flaskdb_core::Config;
    /// let c = Config::from_lookup(|k| match k {
    ///     "DATABASE_URL" => Some("sqlite::memory:".into()),
    ///     "FLASKDB_BINDS" => Some("users=sqlite://users.db".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(c.binds()[0].0, "users");
    /// # Ok::<(), flaskdb_core::Error>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let mut config = Config {
            database_uri: lookup("DATABASE_URL").filter(|s| !s.is_empty()),
            ..Config::default()
        };
        if let Some(binds) = lookup("FLASKDB_BINDS") {
            for entry in binds.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                let (key, url) = entry
                    .split_once('=')
                    .map(|(k, u)| (k.trim(), u.trim()))
                    .filter(|(k, u)| !k.is_empty() && !u.is_empty())
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "FLASKDB_BINDS entry `{}` is not of the form key=url",
                            redact_url(entry)
                        ))
                    })?;
                config = config.bind(key, url);
            }
        }
        let flag = |name: &str| -> Result<bool> {
            match lookup(name)
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("") | Some("0" | "false" | "no" | "off") => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some(other) => Err(Error::Config(format!(
                    "{name}={other:?} is not a boolean (use 1/0, true/false, yes/no or on/off)"
                ))),
            }
        };
        config.echo = flag("FLASKDB_ECHO")?;
        config.hide_parameters = flag("FLASKDB_HIDE_PARAMETERS")?;
        config.record_queries = flag("FLASKDB_RECORD_QUERIES")?;
        config.track_modifications = flag("FLASKDB_TRACK_MODIFICATIONS")?;
        if let Some(path) = lookup("FLASKDB_INSTANCE_PATH").filter(|s| !s.is_empty()) {
            config.instance_path = path.into();
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks that at least one database is configured.
    ///
    /// # Errors
    /// [`Error::Config`] when neither a default URL nor any bind is set.
    pub fn validate(&self) -> Result<()> {
        if self.database_uri.is_none() && self.binds.is_empty() {
            return Err(Error::Config(
                "either the database URL (DATABASE_URL) or at least one bind (FLASKDB_BINDS) \
                 must be set"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The default bind's URL.
    pub fn database_uri(&self) -> Option<&str> {
        self.database_uri.as_deref()
    }
    /// The extra binds, in the order they were added.
    pub fn binds(&self) -> &[(String, BindConfig)] {
        &self.binds
    }
    /// The options shared by every bind.
    pub fn options(&self) -> &EngineOptions {
        &self.engine_options
    }
    /// Whether statements are logged.
    pub fn echo_enabled(&self) -> bool {
        self.echo
    }
    /// Whether bound values are kept out of logs, recordings and errors
    /// ([`Config::hide_parameters`]).
    pub fn hide_parameters_enabled(&self) -> bool {
        self.hide_parameters
    }
    /// Whether statements are recorded.
    pub fn record_queries_enabled(&self) -> bool {
        self.record_queries
    }
    /// The N+1 warning threshold.
    pub fn n_plus_one_limit(&self) -> usize {
        self.n_plus_one_threshold
    }
    /// How many statements a scope's recording keeps.
    pub fn recorded_queries_limit(&self) -> usize {
        self.max_recorded_queries
    }
    /// How many sessions by key may be open at once.
    pub fn keyed_sessions_limit(&self) -> usize {
        self.max_keyed_sessions
    }
    /// Whether change signals are sent.
    pub fn track_modifications_enabled(&self) -> bool {
        self.track_modifications
    }
    /// Where relative SQLite paths resolve.
    pub fn instance_dir(&self) -> &std::path::Path {
        &self.instance_path
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_uri",
                &self.database_uri.as_deref().map(redact_url),
            )
            .field("binds", &self.binds)
            .field("engine_options", &self.engine_options)
            .field("echo", &self.echo)
            .field("hide_parameters", &self.hide_parameters)
            .field("record_queries", &self.record_queries)
            .field("max_recorded_queries", &self.max_recorded_queries)
            .field("max_keyed_sessions", &self.max_keyed_sessions)
            .field("track_modifications", &self.track_modifications)
            .field("instance_path", &self.instance_path)
            .finish()
    }
}

/// With feature `serde`, a `Config` reads from TOML, JSON or any serde format, with the
/// keys `database_uri`, `binds` (key to URL, or to `{ url, engine_options }`),
/// `engine_options` (`max_connections`, `min_connections`, `acquire_timeout`,
/// `idle_timeout`, `max_lifetime` in seconds, `test_before_acquire`), `echo`,
/// `hide_parameters`, `record_queries`, `track_modifications` and `instance_path`. Unknown keys are errors.
#[cfg(feature = "serde")]
mod de {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use serde::Deserialize;

    use super::{BindConfig, Config, EngineOptions};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawConfig {
        database_uri: Option<String>,
        #[serde(default)]
        binds: BTreeMap<String, RawBind>,
        #[serde(default)]
        engine_options: RawOptions,
        #[serde(default)]
        echo: bool,
        #[serde(default)]
        hide_parameters: bool,
        #[serde(default)]
        record_queries: bool,
        #[serde(default)]
        track_modifications: bool,
        instance_path: Option<PathBuf>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum RawBind {
        Url(String),
        Full {
            url: String,
            #[serde(default)]
            engine_options: RawOptions,
        },
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawOptions {
        max_connections: Option<u32>,
        min_connections: Option<u32>,
        acquire_timeout: Option<f64>,
        idle_timeout: Option<f64>,
        max_lifetime: Option<f64>,
        test_before_acquire: Option<bool>,
        returning: Option<bool>,
        commit_tokens: Option<bool>,
    }

    impl RawOptions {
        fn into_options<E: serde::de::Error>(self) -> Result<EngineOptions, E> {
            let seconds = |name: &str, s: Option<f64>| -> Result<Option<Duration>, E> {
                s.map(|s| {
                    Duration::try_from_secs_f64(s).map_err(|_| {
                        E::custom(format!(
                            "engine_options.{name} must be a number of seconds >= 0"
                        ))
                    })
                })
                .transpose()
            };
            Ok(EngineOptions {
                max_connections: self.max_connections,
                min_connections: self.min_connections,
                acquire_timeout: seconds("acquire_timeout", self.acquire_timeout)?,
                idle_timeout: seconds("idle_timeout", self.idle_timeout)?,
                max_lifetime: seconds("max_lifetime", self.max_lifetime)?,
                test_before_acquire: self.test_before_acquire,
                returning: self.returning,
                commit_tokens: self.commit_tokens,
            })
        }
    }

    impl<'de> Deserialize<'de> for Config {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let raw = RawConfig::deserialize(deserializer)?;
            let mut config = Config {
                database_uri: raw.database_uri,
                engine_options: raw.engine_options.into_options()?,
                echo: raw.echo,
                hide_parameters: raw.hide_parameters,
                record_queries: raw.record_queries,
                track_modifications: raw.track_modifications,
                ..Config::default()
            };
            if let Some(path) = raw.instance_path {
                config.instance_path = path;
            }
            for (key, bind) in raw.binds {
                let bind = match bind {
                    RawBind::Url(url) => BindConfig::new(url),
                    RawBind::Full {
                        url,
                        engine_options,
                    } => BindConfig::new(url).engine_options(engine_options.into_options()?),
                };
                config = config.bind_with(key, bind);
            }
            config
                .validate()
                .map_err(|e| serde::de::Error::custom(e.to_string()))?;
            Ok(config)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_env_reads_every_key() {
        let c = Config::from_lookup(env(&[
            ("DATABASE_URL", "postgres://app:secret@db/app"),
            (
                "FLASKDB_BINDS",
                "users=sqlite://users.db; stats = mysql://root@x/stats",
            ),
            ("FLASKDB_ECHO", "true"),
            ("FLASKDB_HIDE_PARAMETERS", "1"),
            ("FLASKDB_RECORD_QUERIES", "1"),
            ("FLASKDB_TRACK_MODIFICATIONS", "off"),
        ]))
        .unwrap();
        assert_eq!(c.database_uri(), Some("postgres://app:secret@db/app"));
        let keys: Vec<_> = c
            .binds()
            .iter()
            .map(|(k, b)| (k.as_str(), b.url()))
            .collect();
        assert_eq!(
            keys,
            [
                ("users", "sqlite://users.db"),
                ("stats", "mysql://root@x/stats")
            ]
        );
        assert!(c.echo_enabled() && c.record_queries_enabled());
        assert!(c.hide_parameters_enabled());
        assert!(!c.track_modifications_enabled());
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn from_env_names_the_bad_entry_without_its_password() {
        let err = Config::from_lookup(env(&[(
            "FLASKDB_BINDS",
            "ok=sqlite::memory:;postgres://u:hunter2@h/db",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("FLASKDB_BINDS entry"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = Config::from_lookup(env(&[("DATABASE_URL", "x"), ("FLASKDB_ECHO", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("FLASKDB_ECHO"), "{err}");
        assert!(Config::from_lookup(env(&[])).is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserializes_every_key() {
        let c: Config = serde_json::from_value(serde_json::json!({
            "database_uri": "sqlite::memory:",
            "binds": {
                "users": "sqlite://users.db",
                "stats": {"url": "mysql://root@localhost/stats",
                          "engine_options": {"max_connections": 4}}
            },
            "engine_options": {"max_connections": 10, "acquire_timeout": 2.5,
                               "max_lifetime": 7200, "test_before_acquire": true},
            "echo": true,
            "hide_parameters": true,
            "record_queries": true,
            "track_modifications": false,
            "instance_path": "var/instance"
        }))
        .unwrap();
        assert_eq!(c.database_uri(), Some("sqlite::memory:"));
        assert_eq!(
            c.options().get_acquire_timeout(),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            c.options().get_max_lifetime(),
            Some(Duration::from_secs(7200))
        );
        let stats = &c.binds().iter().find(|(k, _)| k == "stats").unwrap().1;
        assert_eq!(stats.options().get_max_connections(), Some(4));
        assert!(c.echo_enabled() && c.record_queries_enabled());
        assert!(c.hide_parameters_enabled());
        assert_eq!(c.instance_dir(), std::path::Path::new("var/instance"));
        let unknown = serde_json::from_value::<Config>(serde_json::json!({
            "database_uri": "sqlite::memory:", "pool_size": 5
        }));
        assert!(unknown.unwrap_err().to_string().contains("pool_size"));
        let empty = serde_json::from_value::<Config>(serde_json::json!({}));
        assert!(empty.unwrap_err().to_string().contains("must be set"));
    }

    #[test]
    fn option_precedence_lowest_first() {
        let config = EngineOptions::default()
            .max_connections(10)
            .min_connections(1);
        let bind = EngineOptions::default().max_connections(4);
        let merged = config.merged_with(&bind);
        assert_eq!(merged.get_max_connections(), Some(4));
        assert_eq!(merged.get_min_connections(), Some(1));
        assert_eq!(merged.get_idle_timeout(), None);
    }
}
