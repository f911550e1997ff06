//! The engine's pool: flaskdb keeps a connection whose statement ended cleanly for its
//! next statement instead of handing it back to sqlx (whose release pings it). These
//! cases check that nobody waits for a connection kept that way: not a raw sqlx user of
//! the engine's pool, not another statement waiting for the only connection. The
//! round-trip cases (servers only) are in `faults::pool`.
//!
//! A session begins its transaction lazily, before its first write (or locking read):
//! reads before then run in autocommit, on a connection the session holds from its
//! first read until it commits, rolls back or is dropped.

use std::time::Duration;

use flaskdb::{Backend, Config, Db, Error};

use crate::suite::reliability::Entry;
use crate::{TestDb, TestResult, case};

/// The case's database again with a pool of one connection, which a statement waits
/// for at most `wait`.
pub(super) async fn one_connection(t: &TestDb, url: &str, wait: Duration) -> anyhow::Result<Db> {
    let options = t.options.clone().max_connections(1).acquire_timeout(wait);
    let db = Db::connect(Config::new(url).engine_options(options)).await?;
    db.create_all().await?;
    Ok(db)
}

#[case]
async fn a_raw_sqlx_user_never_waits_for_a_connection_flaskdb_keeps(t: TestDb) -> TestResult {
    let db = one_connection(&t, &t.url, Duration::from_secs(2)).await?;
    // flaskdb's statement ends cleanly: its connection would be kept for the next one.
    assert_eq!(db.query::<Entry>().count().await?, 0);
    let engine = db.engine()?;
    // The pool's only connection must reach the raw user (before the 2 s timeout).
    let acquired = match t.backend {
        Backend::Sqlite => engine.as_sqlite().unwrap().acquire().await.map(drop),
        Backend::Postgres => engine.as_postgres().unwrap().acquire().await.map(drop),
        Backend::MySql => engine.as_mysql().unwrap().acquire().await.map(drop),
    };
    anyhow::ensure!(
        acquired.is_ok(),
        "the raw pool's acquire failed: {acquired:?}"
    );
    // And flaskdb goes on sharing the pool with its raw users.
    assert_eq!(db.query::<Entry>().count().await?, 0);
    Ok(())
}

#[case]
async fn a_session_holds_the_connection_of_its_reads_until_it_ends(t: TestDb) -> TestResult {
    let db = one_connection(&t, &t.url, Duration::from_millis(300)).await?;
    let outside = || async { db.query::<Entry>().count().await };
    let mut s = db.session();
    assert_eq!(s.query::<Entry>().count().await?, 0);
    // The session holds the only connection: a statement outside it gets none.
    let waited = outside().await;
    anyhow::ensure!(
        matches!(waited, Err(Error::PoolTimeout)),
        "a read outside the session got a connection while the session held it: {waited:?}"
    );
    // Its next read and its transaction run on the connection it holds: with one
    // connection, a BEGIN that waited for another while holding it would time out.
    assert_eq!(s.query::<Entry>().count().await?, 0);
    s.add(Entry::build().label("written"));
    s.commit().await?;
    // Committed: the connection is back in the pool.
    assert_eq!(outside().await?, 1);
    // So after a commit with nothing to write, after a rollback, and once the session
    // is dropped.
    assert_eq!(s.query::<Entry>().count().await?, 1);
    s.commit().await?;
    assert_eq!(outside().await?, 1);
    assert_eq!(s.query::<Entry>().count().await?, 1);
    s.rollback().await?;
    assert_eq!(outside().await?, 1);
    let s = db.session();
    assert_eq!(s.query::<Entry>().count().await?, 1);
    drop(s);
    assert_eq!(outside().await?, 1);
    Ok(())
}

#[case]
async fn a_statement_waiting_for_the_only_connection_gets_it_when_it_is_free(
    t: TestDb,
) -> TestResult {
    // A waiter that is never handed the connection fails after 5 s.
    let db = one_connection(&t, &t.url, Duration::from_secs(5)).await?;
    let mut s = db.session();
    s.add(Entry::build().label("held"));
    s.flush().await?;
    // The session's transaction holds the only connection; a statement waits for it.
    let reader = db.clone();
    let waiting = tokio::spawn(async move { reader.query::<Entry>().count().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "the read did not wait");
    // The commit ends the transaction cleanly: the waiting read must get the connection.
    s.commit().await?;
    let counted = waiting.await?;
    anyhow::ensure!(counted.is_ok(), "the waiting read failed: {counted:?}");
    assert_eq!(counted?, 1);
    Ok(())
}

#[case]
async fn a_session_reads_in_autocommit_until_its_first_write(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    assert_eq!(s.query::<Entry>().count().await?, 0);
    // Another session commits a row between the session's two reads. Inside one
    // transaction the second read would not see it on MariaDB (REPEATABLE READ keeps
    // the first read's snapshot); PostgreSQL's READ COMMITTED and the suite's in-memory
    // SQLite (read_uncommitted) show it either way, and there the proxy case
    // `faults::a_session_that_only_reads_sends_only_its_reads` shows no BEGIN is sent.
    let mut other = db.session();
    other.add(Entry::build().label("committed by another"));
    other.commit().await?;
    assert_eq!(
        s.query::<Entry>().count().await?,
        1,
        "a read before the first write saw an older snapshot: it ran in a transaction"
    );
    // After a write, reads run in the session's transaction and see its own rows.
    s.add(Entry::build().label("own"));
    assert_eq!(s.query::<Entry>().count().await?, 2);
    // The servers isolate the open transaction; the suite's in-memory SQLite database
    // reads uncommitted rows from every connection.
    let seen = if t.backend == Backend::Sqlite { 2 } else { 1 };
    assert_eq!(
        other.query::<Entry>().count().await?,
        seen,
        "not committed yet"
    );
    s.commit().await?;
    assert_eq!(other.query::<Entry>().count().await?, 2);
    Ok(())
}
