//! The engine's pool on a server: what a client sends for a pooled statement and a
//! read-only session (counted by a proxy), and a kept connection the server killed.

use std::time::Duration;

use flaskdb::Backend;

use crate::proxy::Proxy;
use crate::suite::pool::one_connection;
use crate::suite::reliability::Entry;
use crate::{TestDb, TestResult, case};

#[case(needs(Server))]
async fn a_pooled_statement_sends_nothing_but_itself(t: TestDb) -> TestResult {
    let proxy = Proxy::start(&t.url).await?;
    let db = one_connection(&t, &proxy.url(&t.url), Duration::from_secs(5)).await?;
    let count = || db.query::<Entry>().count();
    // Once, so the statement is prepared on the connection.
    count().await?;
    let before = proxy.sends();
    for _ in 0..20 {
        count().await?;
    }
    // One send per statement, where sqlx's release of a connection to its pool adds a
    // ping of its own (40 in all). A few more for anything else on the connection.
    let sends = proxy.sends() - before;
    anyhow::ensure!(
        sends <= 24,
        "20 statements made {sends} sends: more than one round trip each"
    );
    Ok(())
}

#[case(needs(Server))]
async fn a_session_that_only_reads_sends_only_its_reads(t: TestDb) -> TestResult {
    let proxy = Proxy::start(&t.url).await?;
    let db = one_connection(&t, &proxy.url(&t.url), Duration::from_secs(5)).await?;
    // Once, so the statement is prepared on the connection.
    db.query::<Entry>().count().await?;
    let before = proxy.sends();
    for _ in 0..10 {
        // A read-only request: a session, one read, the end of the request.
        let mut s = db.session();
        s.query::<Entry>().count().await?;
        s.rollback().await?;
    }
    // One send per read; a transaction around each would add a BEGIN and a ROLLBACK.
    let sends = proxy.sends() - before;
    anyhow::ensure!(
        sends <= 12,
        "10 read-only sessions made {sends} sends: more than their reads"
    );
    Ok(())
}

#[case(needs(Server))]
async fn a_connection_killed_while_kept_fails_one_statement_only(t: TestDb) -> TestResult {
    let db = one_connection(&t, &t.url, Duration::from_secs(5)).await?;
    let own_id = match t.backend {
        Backend::Postgres => "SELECT CAST(pg_backend_pid() AS BIGINT) AS id",
        _ => "SELECT CAST(CONNECTION_ID() AS SIGNED) AS id",
    };
    // The only connection ends its statement cleanly and is kept for the next one.
    let id: i64 = db.fetch_all(own_id, Vec::new()).await?[0].get("id")?;
    // The server ends it while it waits.
    let kill = match t.backend {
        Backend::Postgres => format!("SELECT pg_terminate_backend({id})"),
        _ => format!("KILL {id}"),
    };
    t.db.execute(flaskdb::AssertSqlSafe(kill), Vec::new())
        .await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // No ping before use: the next statement finds it dead, and fails (retryably).
    let first = db.query::<Entry>().count().await;
    anyhow::ensure!(
        first.as_ref().is_err_and(flaskdb::Error::is_retryable),
        "the first statement after the kill: {first:?}"
    );
    // The dead connection is not kept again: the statement after runs on a new one.
    let second = db.query::<Entry>().count().await;
    anyhow::ensure!(
        second.is_ok(),
        "the second statement after the kill: {second:?}"
    );
    Ok(())
}
