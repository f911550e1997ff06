//! The order a flush writes changed rows in: table by table, each by primary key,
//! whatever order the session queued them in, so two sessions changing the same rows
//! take their locks in one order (as SQLAlchemy's unit of work does). Read from the
//! recorded statements' parameters.

use flaskdb::{Db, Error, Value};

use crate::suite::reliability::Entry;
use crate::{TestDb, TestResult, case};

/// The keys of the recorded statements that start with `verb`, in the order sent.
fn keys_of(verb: &str, ids: &[i64]) -> Vec<i64> {
    flaskdb::get_recorded_queries()
        .iter()
        .filter(|q| q.statement.starts_with(verb))
        .filter_map(|q| {
            q.parameters.iter().find_map(|p| match p {
                Value::I64(id) if ids.contains(id) => Some(*id),
                _ => None,
            })
        })
        .collect()
}

#[case]
async fn a_flush_writes_updates_and_deletes_in_key_order(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().record_queries(true)).await?;
    db.create_all().await?;
    let mut s = db.session();
    for label in ["a", "b", "c", "d", "e"] {
        s.add(Entry::build().label(label));
    }
    s.commit().await?;
    let entries = db.query::<Entry>().order_by(Entry::id).all().await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    db.scope(async {
        let mut s = db.session();
        // Queued out of key order.
        for i in [3, 0, 4, 1, 2] {
            let mut e = entries[i].clone();
            e.short = Some(format!("v{i}"));
            s.add(e);
        }
        s.flush().await?;
        assert_eq!(keys_of("UPDATE", &ids), sorted, "updates in key order");
        for i in [2, 4, 0, 3, 1] {
            s.delete(&entries[i]);
        }
        s.commit().await?;
        assert_eq!(keys_of("DELETE", &ids), sorted, "deletes in key order");
        Ok::<_, Error>(())
    })
    .await?;
    assert_eq!(db.query::<Entry>().count().await?, 0);
    Ok(())
}
