//! Lost COMMIT replies (PostgreSQL and MariaDB; in the `faults` area, which the SQLite
//! run leaves out): a proxy in front of the server cuts connections at their COMMIT,
//! before it reaches the server or after the server committed and answered. Without
//! commit tokens the outcome is reported unknown and the work is never run again; with
//! them every commit is exactly-once.

use std::time::Duration;

use flaskdb::{Config, Db, Error, Session};

use crate::proxy::{Cut, Proxy};
use crate::suite::reliability::{
    Tally, assert_tallies_once, commit_batch, spawn_writers, tally_counts,
};
use crate::{TestDb, TestResult, case};

/// The case's database, reached through a new proxy, with `commit_tokens` as given.
async fn through_proxy(t: &TestDb, tokens: bool) -> anyhow::Result<(Db, Proxy)> {
    let proxy = Proxy::start(&t.url).await?;
    let options = t.options.clone().max_connections(4).commit_tokens(tokens);
    let db = Db::connect(Config::new(proxy.url(&t.url)).engine_options(options)).await?;
    db.create_all().await?;
    Ok((db, proxy))
}

/// Queues rows `rows` of batch `batch` (writer 0).
fn add_batch(s: &mut Session, batch: i64, rows: std::ops::Range<i64>) {
    for row in rows {
        s.add(Tally::build().writer(0).batch(batch).row(row));
    }
}

async fn count(db: &Db) -> anyhow::Result<u64> {
    Ok(db.query::<Tally>().count().await?)
}

#[case(needs(Server))]
async fn a_lost_commit_reply_is_reported_and_never_run_again(t: TestDb) -> TestResult {
    let (db, proxy) = through_proxy(&t, false).await?;
    let mut s = db.session();
    add_batch(&mut s, 0, 0..3);
    proxy.cut_next(Cut::AfterReply);
    let err = s.commit().await.unwrap_err();
    assert!(
        matches!(err, Error::CommitOutcomeUnknown { token: None, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(count(&db).await?, 3, "the server committed");
    // The work was not queued again: committing again writes nothing twice.
    s.commit().await?;
    assert_eq!(count(&db).await?, 3);

    // Cut before the server saw the COMMIT: the client cannot tell that case apart.
    add_batch(&mut s, 1, 0..2);
    proxy.cut_next(Cut::BeforeCommit);
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err, Error::CommitOutcomeUnknown { .. }), "{err}");
    s.commit().await?;
    assert_eq!(count(&db).await?, 3, "nothing committed, nothing run again");
    assert_eq!(proxy.cuts(), 2);
    Ok(())
}

#[case(needs(Server))]
async fn commit_tokens_tell_a_lost_reply_from_a_lost_commit(t: TestDb) -> TestResult {
    let (db, proxy) = through_proxy(&t, true).await?;
    let mut s = db.session();
    add_batch(&mut s, 0, 0..3);
    proxy.cut_next(Cut::AfterReply);
    s.commit().await?;
    assert_eq!(count(&db).await?, 3, "the lost reply was a commit");
    s.commit().await?;
    assert_eq!(count(&db).await?, 3);

    add_batch(&mut s, 1, 0..2);
    proxy.cut_next(Cut::BeforeCommit);
    let err = s.commit().await.unwrap_err();
    assert!(
        matches!(err, Error::ConnectionLost(_)) && err.is_retryable(),
        "{err}"
    );
    assert_eq!(count(&db).await?, 3, "the lost COMMIT committed nothing");
    s.commit().await?;
    assert_eq!(count(&db).await?, 5, "the retry wrote the batch once");
    assert_eq!(proxy.cuts(), 2);
    Ok(())
}

const WRITERS: usize = 4;
const BATCHES: usize = 12;
const ROWS: usize = 3;

#[case(needs(Server))]
async fn commit_tokens_make_commits_exactly_once_through_cut_connections(t: TestDb) -> TestResult {
    let (db, proxy) = through_proxy(&t, true).await?;
    proxy.cut_every(3);
    let pause = Duration::from_millis(5);
    let failures = spawn_writers(&db, WRITERS, BATCHES, ROWS, pause, Duration::ZERO).await??;
    proxy.cut_every(0);
    eprintln!(
        "{:?}: {} connections cut at COMMIT, {failures} failed attempts retried",
        t.backend,
        proxy.cuts()
    );
    assert!(proxy.cuts() >= 10, "{} cuts", proxy.cuts());
    assert_tallies_once(&db, WRITERS, BATCHES, ROWS).await?;
    Ok(())
}

#[case(needs(Server))]
async fn without_commit_tokens_cut_commits_are_in_doubt_never_doubled(t: TestDb) -> TestResult {
    let (db, proxy) = through_proxy(&t, false).await?;
    proxy.cut_every(3);
    let mut in_doubt = Vec::new();
    for batch in 0..BATCHES {
        match commit_batch(&db, 0, batch, ROWS, Duration::from_millis(5)).await {
            Ok(_) => {}
            Err(Error::CommitOutcomeUnknown { .. }) => in_doubt.push(batch as i64),
            Err(e) => return Err(e.into()),
        }
    }
    proxy.cut_every(0);
    let counts = tally_counts(&db).await?;
    let rows_of = |batch: i64| -> usize {
        (0..ROWS as i64)
            .map(|r| counts.get(&(0, batch, r)).copied().unwrap_or(0))
            .sum()
    };
    let mut committed_in_doubt = 0;
    for batch in 0..BATCHES as i64 {
        let rows = rows_of(batch);
        if in_doubt.contains(&batch) {
            assert!(rows == 0 || rows == ROWS, "batch {batch}: {rows} rows");
            committed_in_doubt += usize::from(rows == ROWS);
        } else {
            assert_eq!(rows, ROWS, "batch {batch}");
        }
    }
    assert!(counts.values().all(|&n| n == 1), "no row was written twice");
    // Cuts alternate before the COMMIT and after its reply: some batches in doubt were
    // written and some were not, so neither retrying nor giving up would be right.
    assert!(
        committed_in_doubt > 0 && committed_in_doubt < in_doubt.len(),
        "{committed_in_doubt} of {} batches in doubt were written",
        in_doubt.len()
    );
    Ok(())
}
