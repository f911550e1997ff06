//! The one error type of flaskdb.

use std::borrow::Cow;
use std::fmt;

use crate::backend::Backend;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What flaskdb shows instead of bound values with [`Config::hide_parameters`](crate::Config::hide_parameters)
/// (SQLAlchemy's text).
///
/// ```
/// assert!(flaskdb_core::HIDDEN_PARAMETERS.contains("hide_parameters"));
/// ```
pub const HIDDEN_PARAMETERS: &str = "[SQL parameters hidden due to hide_parameters=True]";

/// Everything that can go wrong in flaskdb.
///
/// Variants carry data in fields so callers can match on them; messages never contain a
/// password (URLs are redacted before they are put into an error).
///
/// ```
/// use flaskdb_core::Error;
/// let e = Error::NotFound { description: None };
/// assert_eq!(e.status_code(), 404);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `*_or_404` helper or pagination found nothing; maps to HTTP 404.
    #[error("404 not found: {}", description.as_deref().unwrap_or(NOT_FOUND_TEXT))]
    NotFound {
        /// Text for the 404 page; `None` means the standard text.
        description: Option<String>,
    },
    /// `one()` found no row.
    #[error("no row was found when one was required")]
    NoResultFound,
    /// `one()` found more than one row.
    #[error("multiple rows were found when exactly one was required")]
    MultipleResultsFound,
    /// `Model::query()` ran outside any scope with no global default.
    #[error(
        "no database context: run this inside `db.scope(async {{ .. }})`, call \
         `flaskdb::set_global_default(db.clone())`, or use `db.query::<M>()` explicitly"
    )]
    NoContext,
    /// A failure rolled back the session's transactions while they held work the
    /// session cannot send again: raw statements run through
    /// [`Session::transaction`](crate::Session::transaction), or bulk updates and
    /// deletes. The session refuses to go on (to commit the rest as if that work were
    /// there) until [`Session::rollback`](crate::Session::rollback) is called; then run
    /// the unit of work again from the start. SQLAlchemy's `PendingRollbackError`.
    #[error(
        "this session's transaction was rolled back after an error, with raw or bulk \
         statements in it that it cannot send again: call `rollback()`, then run the \
         work again from the start"
    )]
    PendingRollback,
    /// `flaskdb::session()` was used outside any `db.scope(..)`: there is no current
    /// session there (one would be shared by every task of the process).
    #[error(
        "flaskdb::session() was used outside `db.scope(async {{ .. }})`, where there is no \
         current session (one would be shared by every task): run the work in a scope \
         (`DbLayer` gives each request one), or use a session of your own from \
         `db.session()`"
    )]
    NoScope,
    /// A `Db` created with `Db::new()` was used before `db.init(config)`.
    #[error("the database is not initialized: call `db.init(config).await` before using it")]
    NotInitialized,
    /// `db.init` was called on a `Db` that is already initialized.
    #[error("the database is already initialized: `init` may be called only once")]
    AlreadyInitialized,
    /// A model, table or call names a bind key that is not configured.
    #[error(
        "bind `{0}` is not configured: add it with `Config::bind(\"{0}\", url)` or FLASKDB_BINDS"
    )]
    UnknownBind(String),
    /// The configuration is invalid; the message says which key and why.
    #[error("configuration error: {0}")]
    Config(String),
    /// A required (NOT NULL, no default) column was not set on a builder.
    #[error("missing value for required column `{table}.{column}`")]
    MissingColumn {
        /// The table.
        table: String,
        /// The column that was not set.
        column: String,
    },
    /// A value read from the database could not be decoded into the field's type.
    #[error("cannot decode column `{column}`: {message}")]
    Decode {
        /// The column (as named in the result set).
        column: String,
        /// What went wrong.
        message: String,
    },
    /// The query cannot be expressed (for example `update()` with a limit).
    #[error("invalid query: {0}")]
    InvalidQuery(Cow<'static, str>),
    /// The schema cannot be created as declared (for example a foreign-key cycle).
    #[error("schema error: {0}")]
    Schema(String),
    /// Connecting to a database failed: the server refused the connection or could not
    /// be found, it rejected the login, or the SQLite file cannot be opened. The
    /// message names the server and gives the driver's cause; the URL is redacted.
    #[error("cannot connect to {}: {source}", connect_target(url, server.as_deref()))]
    Connect {
        /// The URL, with its password replaced by `***`.
        url: String,
        /// The server tried, as `host:port` (or its Unix socket); `None` for SQLite.
        server: Option<String>,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A row broke a UNIQUE constraint or primary key.
    #[error("unique constraint {} violated: {message}", constraint.as_deref().unwrap_or("(unnamed)"))]
    UniqueViolation {
        /// The constraint (or, where the database names none, `table.column`).
        constraint: Option<String>,
        /// The database's message ([`HIDDEN_PARAMETERS`] with `Config::hide_parameters`).
        message: String,
    },
    /// A row referenced a missing row, or a referenced row was still in use.
    #[error("foreign key constraint {} violated: {message}", constraint.as_deref().unwrap_or("(unnamed)"))]
    ForeignKeyViolation {
        /// The constraint, where the database names it.
        constraint: Option<String>,
        /// The database's message ([`HIDDEN_PARAMETERS`] with `Config::hide_parameters`).
        message: String,
    },
    /// A NULL went into a NOT NULL column.
    #[error("NOT NULL constraint violated{}: {message}", column.as_deref().map(|c| format!(" on `{c}`")).unwrap_or_default())]
    NotNullViolation {
        /// The column, where the database names it.
        column: Option<String>,
        /// The database's message ([`HIDDEN_PARAMETERS`] with `Config::hide_parameters`).
        message: String,
    },
    /// The session found no row to update for a model it never loaded.
    #[error("no row of `{table}` has the primary key {key}: nothing was updated")]
    StaleData {
        /// The table.
        table: String,
        /// The key, as written by `Debug`.
        key: String,
    },
    /// A multi-row INSERT's result does not match the rows sent: the database reported
    /// fewer or more rows than were sent (a trigger or rule skipped or added some), or
    /// returned rows whose keys match none sent. The generated keys and defaults cannot
    /// be given to the right rows, so nothing is guessed: the flush fails, its
    /// transactions are rolled back and its work is queued again.
    ///
    /// ```
    /// let e = flaskdb_core::Error::InsertMismatch { table: "user".into(), sent: 3, matched: 2 };
    /// assert!(e.to_string().contains("sent 3 rows"));
    /// ```
    #[error(
        "an INSERT into `{table}` sent {sent} rows and the database reported {matched} \
         matching them: the generated values cannot be matched to the rows sent"
    )]
    InsertMismatch {
        /// The table.
        table: String,
        /// The rows sent in the statement.
        sent: usize,
        /// The rows the database reported that match rows sent.
        matched: usize,
    },
    /// A relationship was read before it was loaded, or `load`ed though it is
    /// `lazy = "raise"`.
    #[error(
        "relationship `{relationship}` is not loaded: load it with the query \
         (Query::eager) or with its load()"
    )]
    NotLoaded {
        /// `table.field` of the relationship.
        relationship: String,
    },
    /// A statement waited too long for a lock held by another transaction (on a shared
    /// in-memory SQLite database: typically a second session writing in the task that
    /// holds the first one open).
    #[error(
        "a statement waited {0:?} for a lock held by another open transaction; commit or \
         roll back the other session first"
    )]
    LockTimeout(std::time::Duration),
    /// No connection of the pool became free within its `acquire_timeout`: more work
    /// holds connections (open sessions, streams) than the pool has. Nothing was sent;
    /// the work can be retried once connections are released.
    #[error(
        "no database connection became free within the pool's acquire_timeout: every \
         connection is held (raise max_connections, or end sessions sooner)"
    )]
    PoolTimeout,
    /// The database could not run this transaction alongside another one: SQLite was
    /// busy or locked past its busy timeout, or a server found a deadlock, a lock wait
    /// timeout or a serialization failure. The transaction was rolled back; running it
    /// again from the start is the remedy ([`Error::is_retryable`]).
    #[error("transaction conflict, retry it: {0}")]
    Busy(sqlx::Error),
    /// The connection to the server was lost (killed, closed or the server restarted)
    /// while the work ran, before any COMMIT of it was sent (or, with commit tokens,
    /// after a COMMIT that is known not to have taken effect). A session keeps its
    /// queued work for a retry. A connection lost while a COMMIT waits for its reply is
    /// [`Error::CommitOutcomeUnknown`] instead.
    #[error("connection to the database lost: {0}")]
    ConnectionLost(sqlx::Error),
    /// The connection was lost after a COMMIT was sent and before the server replied:
    /// the transaction may have been committed or not, and flaskdb cannot tell. The
    /// session did not queue its work again (running it again could write it twice)
    /// and forgot the rows it had seen; the work of binds not yet committed was rolled
    /// back and queued again. Not [`Error::is_retryable`]: look in the database for the
    /// work, or make commits exactly-once with
    /// [`EngineOptions::commit_tokens`](crate::EngineOptions::commit_tokens), which
    /// answers the question itself and leaves this error for a server that stays out of
    /// reach.
    ///
    /// ```
    /// let e = flaskdb_core::Error::CommitOutcomeUnknown {
    ///     bind: None,
    ///     token: None,
    ///     cause: Box::new(flaskdb_core::Error::PoolTimeout),
    /// };
    /// assert!(!e.is_retryable());
    /// ```
    #[error(
        "the connection to the {} bind was lost before the server answered a COMMIT: \
         whether it took effect is unknown{}; its work was not queued again ({cause})",
        bind.as_deref().unwrap_or("default"),
        token.as_deref().map(commit_token_hint).unwrap_or_default()
    )]
    CommitOutcomeUnknown {
        /// The bind whose COMMIT is in doubt (`None`: the default bind).
        bind: Option<String>,
        /// With commit tokens on, the transaction's token: once the transaction has
        /// ended on the server, it committed if and only if `flaskdb_commit_tokens`
        /// holds a row with this token (kept for an hour).
        token: Option<String>,
        /// What ended the connection (or, with commit tokens, what kept the token from
        /// being looked up).
        cause: Box<Error>,
    },
    /// A value does not fit its column: a text longer than its `max_length`, or a float
    /// the backend cannot store (NaN on SQLite or MySQL, infinities on MySQL). Nothing
    /// was written.
    #[error("invalid value for `{table}.{column}`: {reason}")]
    InvalidValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Why the value does not fit.
        reason: String,
    },
    /// An SQL name (of a table, column, alias or index) holds a NUL character, which no
    /// backend takes in an identifier: the servers cut the name off there or refuse the
    /// statement in ways that do not say why. Nothing was sent.
    ///
    /// ```
    /// let e = flaskdb_core::Error::InvalidIdentifier { name: "a\0b".into() };
    /// assert!(e.to_string().contains("cannot hold a NUL character"));
    /// assert!(!e.is_retryable());
    /// ```
    #[error("invalid identifier {name:?}: an SQL name cannot hold a NUL character")]
    InvalidIdentifier {
        /// The name, NUL included.
        name: String,
    },
    /// A statement would bind more values than its backend takes in one statement
    /// (SQLite 32,766; PostgreSQL and MySQL 65,535): typically an `in_` list that long
    /// on SQLite or MySQL, or one whose values are of mixed types on PostgreSQL (a list
    /// of one type goes there as one array). Nothing was sent; split the list over
    /// several queries, or join to a table that holds the values.
    #[error(
        "the statement binds {count} values, more than the {limit} {backend:?} takes in \
         one statement; nothing was sent (split a long `in_` list over several queries)"
    )]
    TooManyParameters {
        /// How many values the statement binds.
        count: usize,
        /// The most the backend takes.
        limit: usize,
        /// The backend.
        backend: Backend,
    },
    /// [`Db::session_for`](crate::Db::session_for) was asked for a new key while as many
    /// keyed sessions as `Config::max_keyed_sessions` allows were open. No session was
    /// made and none was ended; end finished ones with
    /// [`Db::remove_session`](crate::Db::remove_session).
    #[error(
        "cannot open a session for key `{key}`: {limit} keyed sessions are open, the most \
         Config::max_keyed_sessions allows (end finished ones with Db::remove_session)"
    )]
    TooManySessions {
        /// The key asked for.
        key: String,
        /// The limit.
        limit: usize,
    },
    /// [`Db::reflect`](crate::Db::reflect) found tables that models declare differently
    /// from the database: every difference, each naming its bind, table and column. The
    /// reflected tables are in the metadata all the same.
    #[error("the database differs from the models: {}", mismatch_list(.0))]
    SchemaMismatch(Vec<Mismatch>),
    /// A migration file, the history of migrations, or a run of them went wrong; the
    /// message names the file, revision, bind and statement concerned.
    #[error("migration error: {0}")]
    Migration(String),
    /// An error from the database driver. With `Config::hide_parameters`, an error the
    /// database returned keeps its code, kind, constraint and table, and its message is
    /// [`HIDDEN_PARAMETERS`] (the driver's own error type is no longer reachable by
    /// downcasting). Its text is part of this error's message, so
    /// it is not also reported as the `source()` (a chain printer such as anyhow's
    /// `{:#}` would repeat it); match the variant to reach the `sqlx::Error`.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

fn commit_token_hint(token: &str) -> String {
    format!(
        " (once the old transaction has ended on the server, it did if and only if the \
         table flaskdb_commit_tokens holds the token '{token}', for an hour; it could not \
         be looked up)"
    )
}

fn mismatch_list(mismatches: &[Mismatch]) -> String {
    let items: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    items.join("; ")
}

/// What [`Error::Connect`] failed to reach: the server and its URL, or the URL alone.
fn connect_target(url: &str, server: Option<&str>) -> String {
    match server {
        Some(server) => format!("{server} (`{url}`)"),
        None => format!("`{url}`"),
    }
}

/// Every driver error goes through here: the kinds an application handles (pool
/// exhaustion, conflicts to retry, lost connections, broken constraints) get their own
/// variants; the rest stays [`Error::Database`].
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => Error::PoolTimeout,
            e if is_connection_loss(&e) => Error::ConnectionLost(e),
            e if is_conflict(&e) => Error::Busy(e),
            e => Error::Database(e).classify_constraint(),
        }
    }
}

/// Whether the connection is gone: I/O failures, a closed pool, or the server saying
/// it ended the session (PostgreSQL's class 08 and admin shutdown; MySQL's killed or
/// lost connection).
fn is_connection_loss(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                || matches!(mysql_number(db.as_ref()), Some(1053 | 1927 | 2006 | 2013))
        }
        _ => false,
    }
}

/// Whether the database refused the transaction because of another one: SQLite busy or
/// locked, PostgreSQL serialization failure, deadlock or lock timeout, MySQL deadlock
/// or lock wait timeout.
fn is_conflict(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    if let Some(n) = mysql_number(db.as_ref()) {
        return matches!(n, 1205 | 1213);
    }
    match code.parse::<u32>() {
        // SQLite reports extended result codes: the primary code is the low byte.
        Ok(n) if is_sqlite(db.as_ref()) => matches!(n & 0xff, 5 | 6),
        _ => matches!(code.as_ref(), "40001" | "40P01" | "55P03"),
    }
}

fn is_sqlite(db: &dyn sqlx::error::DatabaseError) -> bool {
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return true;
    }
    let _ = db;
    false
}

/// MySQL's own error number (its SQLSTATE is too coarse to tell the cases apart).
fn mysql_number(db: &dyn sqlx::error::DatabaseError) -> Option<u16> {
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return Some(my.number());
    }
    let _ = db;
    None
}

/// The standard text of a 404 page, as Werkzeug writes it.
pub const NOT_FOUND_TEXT: &str = "The requested URL was not found on the server. If you entered \
     the URL manually please check your spelling and try again.";

impl Error {
    /// The HTTP status that best describes this error: 404 for [`Error::NotFound`],
    /// 500 for everything else.
    ///
    /// ```
    /// assert_eq!(flaskdb_core::Error::NoResultFound.status_code(), 500);
    /// ```
    pub fn status_code(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            _ => 500,
        }
    }

    /// Whether running the same work again may succeed: a conflict with another
    /// transaction ([`Error::Busy`]), a lost connection ([`Error::ConnectionLost`]) or
    /// an exhausted pool ([`Error::PoolTimeout`]). A session that failed with one of
    /// these has rolled back and kept its queued work, so `commit()` can simply be
    /// called again.
    ///
    /// ```
    /// assert!(flaskdb_core::Error::PoolTimeout.is_retryable());
    /// assert!(!flaskdb_core::Error::NoResultFound.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Busy(_) | Error::ConnectionLost(_) | Error::PoolTimeout
        )
    }

    /// Whether the server answered the statement with an error of its own (a broken
    /// constraint, a conflict, any SQLSTATE or MySQL error number): the statement then
    /// failed, and a failed COMMIT did not commit. A connection that ended before the
    /// reply, or a reply flaskdb could not read, says nothing of the kind.
    pub(crate) fn is_server_reply(&self) -> bool {
        matches!(
            self,
            Error::UniqueViolation { .. }
                | Error::ForeignKeyViolation { .. }
                | Error::NotNullViolation { .. }
                | Error::Busy(sqlx::Error::Database(_))
                | Error::Database(sqlx::Error::Database(_))
        )
    }

    /// Whether this is [`Error::NotFound`].
    ///
    /// ```
    /// assert!(flaskdb_core::Error::NotFound { description: None }.is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Turns a driver error for a broken constraint into its own variant, naming the
    /// constraint or column as the database reports it.
    fn classify_constraint(self) -> Self {
        let Error::Database(sqlx::Error::Database(db)) = &self else {
            return self;
        };
        let message = db.message().to_owned();
        let named = db.constraint().map(str::to_owned);
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => Error::UniqueViolation {
                constraint: named.or_else(|| {
                    after(&message, "constraint failed: ")
                        .or_else(|| quoted_after(&message, "for key "))
                }),
                message,
            },
            sqlx::error::ErrorKind::ForeignKeyViolation => Error::ForeignKeyViolation {
                constraint: named.or_else(|| quoted_after(&message, "CONSTRAINT ")),
                message,
            },
            sqlx::error::ErrorKind::NotNullViolation => Error::NotNullViolation {
                column: pg_column(db.as_ref())
                    .or_else(|| after(&message, "constraint failed: "))
                    .or_else(|| quoted_after(&message, "Column ")),
                message,
            },
            _ => self,
        }
    }

    /// This error without the database's message, which may quote bound values
    /// (`Config::hide_parameters`): a constraint error keeps its constraint or column, a
    /// driver error its code, kind, constraint and table.
    pub(crate) fn without_values(self) -> Self {
        let hidden = || HIDDEN_PARAMETERS.to_owned();
        match self {
            Error::UniqueViolation { constraint, .. } => Error::UniqueViolation {
                constraint,
                message: hidden(),
            },
            Error::ForeignKeyViolation { constraint, .. } => Error::ForeignKeyViolation {
                constraint,
                message: hidden(),
            },
            Error::NotNullViolation { column, .. } => Error::NotNullViolation {
                column,
                message: hidden(),
            },
            Error::Database(sqlx::Error::Database(db)) => {
                Error::Database(sqlx::Error::Database(Box::new(HiddenMessage(db))))
            }
            other => other,
        }
    }

    pub(crate) fn not_found(description: Option<&str>) -> Self {
        Error::NotFound {
            description: description.map(str::to_owned),
        }
    }
}

/// A database error whose message is hidden (`Config::hide_parameters`): the driver's
/// error answers for its code, kind, constraint and table, never for its message. Its
/// `Display` and `Debug` are the code and [`HIDDEN_PARAMETERS`].
struct HiddenMessage(Box<dyn sqlx::error::DatabaseError>);

impl std::fmt::Display for HiddenMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.code() {
            Some(code) => write!(f, "(code {code}) {HIDDEN_PARAMETERS}"),
            None => f.write_str(HIDDEN_PARAMETERS),
        }
    }
}

impl std::fmt::Debug for HiddenMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HiddenMessage({self})")
    }
}

impl std::error::Error for HiddenMessage {}

impl sqlx::error::DatabaseError for HiddenMessage {
    fn message(&self) -> &str {
        HIDDEN_PARAMETERS
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        self.0.code()
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn constraint(&self) -> Option<&str> {
        self.0.constraint()
    }
    fn table(&self) -> Option<&str> {
        self.0.table()
    }
    fn kind(&self) -> sqlx::error::ErrorKind {
        self.0.kind()
    }
}

/// The rest of `message` after `marker` (SQLite: "UNIQUE constraint failed: user.name").
fn after(message: &str, marker: &str) -> Option<String> {
    message
        .split_once(marker)
        .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or(rest).to_owned())
}

/// The quoted name after `marker` (MySQL: "for key 'user.username'", "CONSTRAINT `fk`").
fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let rest = message.split_once(marker)?.1;
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '`' | '"'))?;
    let inner = &rest[1..];
    inner.find(quote).map(|end| inner[..end].to_owned())
}

/// The column PostgreSQL names in its error, if any.
fn pg_column(db: &dyn sqlx::error::DatabaseError) -> Option<String> {
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.column().map(str::to_owned);
    }
    let _ = db;
    None
}

/// One difference between a model's table and the database's, found by
/// [`Db::reflect`](crate::Db::reflect) and reported in
/// [`Error::SchemaMismatch`](crate::Error::SchemaMismatch).
///
/// ```
/// use flaskdb_core::{Mismatch, MismatchKind};
/// let m = Mismatch {
///     bind: None,
///     table: "user".into(),
///     column: "email".into(),
///     kind: MismatchKind::MissingColumn,
/// };
/// assert_eq!(m.to_string(), "`user.email` is declared by the model but not in the database");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The bind (`None` = default bind).
    pub bind: Option<String>,
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// What differs.
    pub kind: MismatchKind,
}

/// What differs between a model's column and the database's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchKind {
    /// The model declares a column the table does not have.
    MissingColumn,
    /// One allows NULL and the other does not.
    Nullability {
        /// Whether the model's column is nullable.
        model: bool,
        /// Whether the database's column is nullable.
        database: bool,
    },
    /// The column holds another kind of value (text where the model has an integer).
    Type {
        /// The model's type, as this database would declare it.
        model: String,
        /// The database's declared type.
        database: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}.{}`", self.table, self.column)?;
        match &self.kind {
            MismatchKind::MissingColumn => {
                f.write_str(" is declared by the model but not in the database")?;
            }
            MismatchKind::Nullability { model, database } => {
                let says = |nullable: &bool| if *nullable { "nullable" } else { "NOT NULL" };
                write!(
                    f,
                    " is {} in the model but {} in the database",
                    says(model),
                    says(database)
                )?;
            }
            MismatchKind::Type { model, database } => {
                write!(f, " is {model} in the model but {database} in the database")?;
            }
        }
        if let Some(bind) = &self.bind {
            write!(f, " (bind `{bind}`)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn a_driver_error_is_told_once() {
        let e = Error::from(sqlx::Error::Protocol("bad packet".into()));
        assert_eq!(
            e.to_string(),
            "database error: encountered unexpected or invalid data: bad packet"
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}
