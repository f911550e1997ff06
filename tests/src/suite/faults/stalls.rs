//! Statements cut off while the server's reply is part-way across (PostgreSQL and
//! MariaDB; in the `faults` area, which the SQLite run leaves out): a proxy in front of
//! the server relays one byte of a reply and then nothing, and the caller stops waiting.
//! The connection is then in the middle of a message; it must never serve another
//! statement, and must not keep its place in the pool.

use std::time::Duration;

use flaskdb::{Config, Db};

use crate::proxy::Proxy;
use crate::suite::reliability::{Entry, Tally};
use crate::{TestDb, TestResult, case};

/// Long enough for a statement to reach the stalled reply; far shorter than the wait
/// for a pool connection.
const CUT_AFTER: Duration = Duration::from_millis(300);

/// The case's database through a new proxy, with a pool of one connection that later
/// statements wait for at most 5 s.
async fn one_connection(t: &TestDb) -> anyhow::Result<(Db, Proxy)> {
    let proxy = Proxy::start(&t.url).await?;
    let options = t
        .options
        .clone()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5));
    let db = Db::connect(Config::new(proxy.url(&t.url)).engine_options(options)).await?;
    db.create_all().await?;
    Ok((db, proxy))
}

#[case(needs(Server))]
async fn a_statement_cut_mid_reply_gives_its_pool_connection_back(t: TestDb) -> TestResult {
    let (db, proxy) = one_connection(&t).await?;
    for round in 0..3 {
        proxy.stall_reply_to(b"stalled label");
        let read = db.query::<Entry>().filter(Entry::label.eq("stalled label"));
        let cut = tokio::time::timeout(CUT_AFTER, read.all()).await;
        anyhow::ensure!(cut.is_err(), "round {round}: the stalled read returned");
        assert_eq!(proxy.stalls(), round + 1);
        // The only connection was mid-reply: the pool must not wait on it, and the
        // connection it hands out next must work.
        let mut s = db.session();
        s.add(Entry::build().label(format!("after stall {round}")));
        s.commit().await?;
        assert_eq!(db.query::<Entry>().count().await?, round + 1);
    }
    Ok(())
}

#[case(needs(Server))]
async fn a_session_statement_cut_mid_reply_loses_no_work(t: TestDb) -> TestResult {
    let (db, proxy) = one_connection(&t).await?;
    let mut s = db.session();
    for row in 0..3 {
        s.add(Tally::build().writer(0).batch(0).row(row));
    }
    s.flush().await?;
    // The read runs in the session's transaction, which holds the flushed rows.
    proxy.stall_reply_to(b"stalled label");
    let read = s.query::<Entry>().filter(Entry::label.eq("stalled label"));
    let cut = tokio::time::timeout(CUT_AFTER, read.all()).await;
    anyhow::ensure!(cut.is_err(), "the stalled read returned");
    assert_eq!(proxy.stalls(), 1);
    // The transaction cannot go on on that connection; the rows it held are queued
    // again, and committing writes each once. (The commit is bounded: on a connection
    // left mid-reply it would wait for the rest of the reply for ever.)
    let committed = tokio::time::timeout(Duration::from_secs(20), s.commit()).await;
    anyhow::ensure!(
        committed.is_ok(),
        "the commit hung on the stalled connection"
    );
    committed??;
    assert_eq!(db.query::<Tally>().count().await?, 3);
    Ok(())
}
