//! A session shared by tasks: what one task writes in the session's transaction is
//! committed, or the commit fails; never "Ok" for work that was rolled back.

use std::time::Duration;

use flaskdb::{AssertSqlSafe, Backend, Db, Error, Model, SessionTransaction};

use crate::suite::reliability::Entry;
use crate::{TestDb, TestResult, case};

/// Inserts an entry labelled `raw` with sqlx, inside the session's transaction.
async fn raw_insert(tx: &mut SessionTransaction<'_>, backend: Backend) -> anyhow::Result<()> {
    const SQL: &str = "INSERT INTO entry (label) VALUES ('raw')";
    let inserted = match backend {
        Backend::Sqlite => sqlx::query(SQL)
            .execute(tx.as_sqlite().unwrap())
            .await?
            .rows_affected(),
        Backend::Postgres => sqlx::query(SQL)
            .execute(tx.as_postgres().unwrap())
            .await?
            .rows_affected(),
        Backend::MySql => sqlx::query(SQL)
            .execute(tx.as_mysql().unwrap())
            .await?
            .rows_affected(),
    };
    assert_eq!(inserted, 1);
    Ok(())
}

/// The labels of every entry, sorted.
async fn labels(db: &Db) -> anyhow::Result<Vec<String>> {
    let mut labels: Vec<String> = db
        .query::<Entry>()
        .all()
        .await?
        .into_iter()
        .map(|e| e.label)
        .collect();
    labels.sort();
    Ok(labels)
}

/// One handle of a session uses its transaction while another handle's flush, waiting
/// for it, is cut off (a request timeout in another task). The cut-off flush must not
/// take the transaction from under the first: the first handle's commit then writes
/// everything, its raw statement included, and reports Ok only because it did.
#[case]
async fn a_flush_cut_off_in_another_task_leaves_the_transaction_alone(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut session = db.session();
    let mut other = session.clone();
    session.add(Entry::build().label("flushed"));
    session.flush().await?;

    let mut tx = session.transaction(None).await?;
    other.add(Entry::build().label("queued"));
    let cut = tokio::time::timeout(Duration::from_millis(50), other.flush()).await;
    assert!(cut.is_err(), "the flush waited for the transaction in use");
    raw_insert(&mut tx, t.backend).await?;
    drop(tx);

    session.commit().await?;
    assert_eq!(labels(&db).await?, ["flushed", "queued", "raw"]);
    Ok(())
}

/// An `INSERT` of token `token` written `minutes` ago.
fn token_written(backend: Backend, token: &str, minutes: u32) -> String {
    let at = match backend {
        Backend::Sqlite => format!("datetime('now', '-{minutes} minutes')"),
        Backend::Postgres => format!("CURRENT_TIMESTAMP - INTERVAL '{minutes} minutes'"),
        Backend::MySql => format!("CURRENT_TIMESTAMP - INTERVAL {minutes} MINUTE"),
    };
    format!("INSERT INTO flaskdb_commit_tokens (token, created_at) VALUES ('{token}', {at})")
}

async fn tokens(db: &Db) -> anyhow::Result<Vec<String>> {
    let rows = db
        .fetch_all(
            "SELECT token FROM flaskdb_commit_tokens ORDER BY token",
            vec![],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.get::<String>("token"))
        .collect::<Result<_, _>>()?)
}

/// The table of commit tokens is made when the `Db` connects; each commit leaves its
/// token; an engine's first commit (and every thousandth) deletes the tokens older than
/// an hour, in the background, and keeps the others. Reflection leaves the table out.
#[case]
async fn commit_tokens_older_than_an_hour_are_pruned(t: TestDb) -> TestResult {
    let db = Db::connect(
        t.config()
            .engine_options(t.options.clone().commit_tokens(true)),
    )
    .await?;
    db.create_all().await?;
    db.execute(AssertSqlSafe(token_written(t.backend, "old", 61)), vec![])
        .await?;
    db.execute(
        AssertSqlSafe(token_written(t.backend, "recent", 59)),
        vec![],
    )
    .await?;
    let mut s = db.session();
    s.add(Entry::build().label("one"));
    s.commit().await?;
    let mut left = tokens(&db).await?;
    for _ in 0..100 {
        if !left.iter().any(|t| t == "old") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = tokens(&db).await?;
    }
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"recent".to_owned()), "{left:?}");
    assert!(left.iter().all(|t| t != "old"), "{left:?}");
    // flaskdb's own table is not reflected as one of the application's.
    db.reflect().await?;
    assert!(db.table("flaskdb_commit_tokens").is_err());
    assert!(db.table("entry").is_ok());
    Ok(())
}

/// Raw statements in the session's transaction cannot be queued again: when a failure
/// rolls the transaction back, the session refuses to commit the rest as if they were
/// there, until the application rolls back and starts over.
#[case]
async fn raw_work_a_failure_rolled_back_is_never_committed_as_ok(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut first = db.session();
    first.add(Entry::build().label("taken"));
    first.commit().await?;

    let mut session = db.session();
    let mut tx = session.transaction(None).await?;
    raw_insert(&mut tx, t.backend).await?;
    drop(tx);
    session.add(Entry::build().label("taken"));
    let err = session.commit().await.unwrap_err();
    assert!(matches!(err, Error::UniqueViolation { .. }), "{err}");
    // The application removes the cause and commits again: the raw row is gone.
    db.query::<Entry>().delete().await?;
    let err = session.commit().await.unwrap_err();
    assert!(matches!(err, Error::PendingRollback), "{err}");
    assert!(!err.is_retryable());
    assert!(matches!(session.flush().await, Err(Error::PendingRollback)));
    assert_eq!(db.query::<Entry>().count().await?, 0);
    // After rollback() the session works again, from a clean start.
    session.rollback().await?;
    session.add(Entry::build().label("again"));
    session.commit().await?;
    assert_eq!(db.query::<Entry>().count().await?, 1);
    Ok(())
}

/// A bulk update the server refuses (a unique violation) inside the session's
/// transaction, caught by the application; then a commit. PostgreSQL aborts the
/// transaction at the failed statement and answers its COMMIT with a rollback, so the
/// session rolls back at once and queues its flushed work again: the commit writes it.
#[case]
async fn a_statement_the_server_refused_does_not_lose_flushed_work(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(Entry::build().label("a"));
    s.add(Entry::build().label("b"));
    s.commit().await?;
    let committed = db
        .scope(async {
            let mut s = flaskdb::session();
            s.add(Entry::build().label("c"));
            s.flush().await?;
            let refused = Entry::query()
                .filter_by(Entry::label, "b")
                .update(Entry::label.set("a"))
                .await;
            assert!(
                matches!(refused, Err(Error::UniqueViolation { .. })),
                "{refused:?}"
            );
            s.commit().await
        })
        .await;
    committed?;
    assert_eq!(labels(&db).await?, ["a", "b", "c"]);
    Ok(())
}
