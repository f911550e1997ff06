//! A session shared by tasks: what one task writes in the session's transaction is
//! committed, or the commit fails; never "Ok" for work that was rolled back.

use std::time::Duration;

use flaskdb::{Backend, SessionTransaction};

use crate::suite::reliability::Entry;
use crate::{Case, TestDb, TestResult, cases};

pub fn cases() -> Vec<Case> {
    cases!("integrity"; a_flush_cut_off_in_another_task_leaves_the_transaction_alone)
}

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

/// One handle of a session uses its transaction while another handle's flush, waiting
/// for it, is cut off (a request timeout in another task). The cut-off flush must not
/// take the transaction from under the first: the first handle's commit then writes
/// everything, its raw statement included, and reports Ok only because it did.
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
    let mut labels: Vec<String> = db
        .query::<Entry>()
        .all()
        .await?
        .into_iter()
        .map(|e| e.label)
        .collect();
    labels.sort();
    assert_eq!(labels, ["flushed", "queued", "raw"]);
    Ok(())
}
