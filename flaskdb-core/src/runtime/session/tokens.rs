//! Exactly-once commits ([`EngineOptions::commit_tokens`](crate::EngineOptions)).
//!
//! A client whose connection drops after it sent COMMIT cannot tell whether the server
//! committed. With commit tokens, each transaction also inserts a random token into
//! `flaskdb_commit_tokens` just before its COMMIT, so the token is there exactly when
//! the transaction committed. After a lost reply, a new connection tries to insert the
//! same token: a unique violation means the transaction committed; success means it did
//! not, and never will. The answer cannot be early: while the old transaction is still
//! open on the server, its uncommitted row holds the key, and the probe waits for it to
//! end either way. The probe is rolled back: it only asks.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::driver::engine::{COMMIT_TOKEN_TABLE, Engine};
use crate::driver::executor::{self, Conn, Tx};
use crate::error::{Error, Result};
use crate::sql::Rendered;
use crate::value::Value;

const TABLE: &str = COMMIT_TOKEN_TABLE;

/// How long a lost commit's token is looked for (through a server restart, say)
/// before its outcome is reported unknown. One probe may wait up to 10 s more for an
/// old transaction still open on the server.
const RESOLVE_FOR: Duration = Duration::from_secs(30);

/// Every this many commits on an engine (and on its first), tokens older than an hour
/// are deleted, in the background; an hour is far beyond [`RESOLVE_FOR`].
const PRUNE_EVERY: u64 = 1_000;

/// What the token of a commit whose reply was lost says.
pub(super) enum Outcome {
    /// The transaction committed.
    Committed,
    /// It did not, and cannot any more.
    RolledBack,
    /// The token could not be looked up (the server stayed out of reach): the last
    /// error met.
    Unknown(Error),
}

/// Writes a new token in `tx`, the last statement before its COMMIT, when its engine
/// uses commit tokens; returns the token.
///
/// # Errors
/// Database errors (the transaction has not committed then).
pub(super) async fn stamp(tx: &mut Tx) -> Result<Option<String>> {
    let engine = tx.engine.clone();
    let Some(state) = engine.commit_tokens() else {
        return Ok(None);
    };
    if state.stamped.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == 0 {
        let engine = engine.clone();
        tokio::spawn(async move {
            if let Err(e) = executor::execute(Conn::Pool(&engine), prune(engine.backend())).await {
                tracing::warn!(target: "flaskdb::commit_tokens", "pruning old tokens failed: {e}");
            }
        });
    }
    let token = new_token()?;
    executor::execute(Conn::Tx(tx), insert(engine.backend(), &token)).await?;
    Ok(Some(token))
}

/// Finds out whether the transaction stamped with `token` committed, asking again on a
/// new connection for up to [`RESOLVE_FOR`] while the server is out of reach.
pub(super) async fn resolve(engine: &Engine, token: &str) -> Outcome {
    let deadline = Instant::now() + RESOLVE_FOR;
    let mut pause = Duration::from_millis(50);
    loop {
        let error = match probe(engine, token).await {
            Ok(true) => return Outcome::Committed,
            Ok(false) => return Outcome::RolledBack,
            Err(e) => e,
        };
        if Instant::now() + pause > deadline {
            return Outcome::Unknown(error);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Whether `token` is in the table: tries to insert it, in a transaction rolled back
/// afterwards.
async fn probe(engine: &Engine, token: &str) -> Result<bool> {
    let backend = engine.backend();
    let mut tx = Tx::begin(engine, None, false).await?;
    // An old transaction still open on the server holds the token's key; the probe
    // waits for it at most this long, then asks again (see `resolve`).
    let wait = match backend {
        Backend::Postgres => Some("SET LOCAL lock_timeout = '10s'"),
        Backend::MySql => Some("SET SESSION innodb_lock_wait_timeout = 10"),
        Backend::Sqlite => None,
    };
    if let Some(sql) = wait {
        executor::execute(Conn::Tx(&mut tx), Rendered::new(sql.into(), Vec::new())).await?;
    }
    let inserted = executor::execute(Conn::Tx(&mut tx), insert(backend, token)).await;
    if backend == Backend::MySql {
        // A session setting outlives the transaction: the pooled connection gets the
        // server's own back.
        let reset = "SET SESSION innodb_lock_wait_timeout = DEFAULT";
        let _ = executor::execute(Conn::Tx(&mut tx), Rendered::new(reset.into(), Vec::new())).await;
    }
    // The probe only asks: whatever it did is undone (a failed rollback ends with its
    // connection, which does the same).
    let _ = tx.rollback().await;
    match inserted {
        Ok(_) => Ok(false),
        Err(Error::UniqueViolation { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Creates the token table of `engine` if it has none: when it connects, so that no
/// commit waits for a connection to do it while it holds one.
///
/// # Errors
/// [`Error::Config`] naming the table and the database's reason.
pub(crate) async fn create_table(engine: &Engine) -> Result<()> {
    // Looked for first, so that a role without the right to create tables can use a
    // table made for it.
    let exists = format!("SELECT 1 FROM {TABLE} WHERE 1 = 0");
    if executor::execute(Conn::Pool(engine), Rendered::new(exists, Vec::new()))
        .await
        .is_ok()
    {
        return Ok(());
    }
    // When the row is written, not when its transaction began (PostgreSQL's
    // CURRENT_TIMESTAMP), so a long transaction's token does not look old at once.
    let created_at = match engine.backend() {
        Backend::Postgres => "TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()",
        Backend::Sqlite | Backend::MySql => "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
    };
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (token VARCHAR(32) NOT NULL PRIMARY KEY, \
         created_at {created_at})"
    );
    executor::execute(Conn::Pool(engine), Rendered::new(sql, Vec::new()))
        .await
        .map_err(|e| {
            Error::Config(format!(
                "commit_tokens: cannot create the table {TABLE} on the {} bind: {e}",
                engine.bind_key().unwrap_or("default")
            ))
        })?;
    Ok(())
}

fn insert(backend: Backend, token: &str) -> Rendered<'static> {
    let mut sql = format!("INSERT INTO {TABLE} (token) VALUES (");
    backend.placeholder(1, &mut sql);
    sql.push(')');
    Rendered::new(sql, vec![Value::Text(token.to_owned())])
}

fn prune(backend: Backend) -> Rendered<'static> {
    let hour_ago = match backend {
        Backend::Sqlite => "datetime('now', '-1 hour')",
        Backend::Postgres => "CURRENT_TIMESTAMP - INTERVAL '1 hour'",
        Backend::MySql => "CURRENT_TIMESTAMP - INTERVAL 1 HOUR",
    };
    Rendered::new(
        format!("DELETE FROM {TABLE} WHERE created_at < {hour_ago}"),
        Vec::new(),
    )
}

/// 128 random bits from the operating system, as 32 hex digits.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Config(format!("no random numbers for a commit token: {e}")))?;
    let mut token = String::with_capacity(32);
    for b in bytes {
        let _ = write!(token, "{b:02x}");
    }
    Ok(token)
}
