//! Session events: the order listeners run in across flush and commit, a
//! `before_flush` listener adding and changing rows in the same transaction, and
//! aborting listeners that leave nothing written and the work queued.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use flaskdb::{Db, Error, Model, Operation, SessionEvent, Value};

use crate::models::*;
use crate::{TestDb, TestResult, case};

const EVENTS: [SessionEvent; 5] = [
    SessionEvent::BeforeFlush,
    SessionEvent::AfterFlush,
    SessionEvent::BeforeCommit,
    SessionEvent::AfterCommit,
    SessionEvent::AfterRollback,
];

type Log = Arc<Mutex<Vec<String>>>;

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn user(name: &str) -> UserBuilder {
    User::build()
        .username(name)
        .email(format!("{name}@example.com"))
}

#[case]
async fn listeners_run_in_order_across_flush_and_commit(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let log: Log = Log::default();
    for event in EVENTS {
        let l = log.clone();
        db.listen(event, move |ctx| {
            let line = format!("db {:?} {}", ctx.event(), ctx.changes().len());
            l.lock().unwrap().push(line);
            Ok(())
        });
    }
    let mut s = db.session();
    for event in EVENTS {
        let l = log.clone();
        s.listen(event, move |ctx| {
            let line = format!("session {:?} {}", ctx.event(), ctx.changes().len());
            l.lock().unwrap().push(line);
            Ok(())
        });
    }
    s.add(user("a"));
    s.add(user("b"));
    s.commit().await?;
    assert_eq!(
        take(&log),
        [
            "db BeforeFlush 2",
            "session BeforeFlush 2",
            "db AfterFlush 2",
            "session AfterFlush 2",
            "db BeforeCommit 2",
            "session BeforeCommit 2",
            "db AfterCommit 2",
            "session AfterCommit 2",
        ]
    );
    // Two flushes, then a rollback that discards what they wrote.
    s.add(user("c"));
    s.flush().await?;
    s.add(user("d"));
    s.flush().await?;
    s.rollback().await?;
    let seen = take(&log);
    assert_eq!(seen.len(), 10, "{seen:#?}");
    assert_eq!(seen[8..], ["db AfterRollback 2", "session AfterRollback 2"]);
    assert_eq!(db.query::<User>().count().await?, 2);
    // Another session of the same Db runs the Db's listeners only.
    let mut other = db.session();
    other.add(user("e"));
    other.commit().await?;
    assert!(take(&log).iter().all(|l| l.starts_with("db ")));
    Ok(())
}

#[case]
async fn before_flush_adds_and_changes_rows_in_the_same_transaction(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    db.listen(SessionEvent::BeforeFlush, |ctx| {
        let users: Vec<(usize, String, Operation)> = ctx
            .changes()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.table == "user")
            .map(|(i, c)| {
                let email = match c.new_value("email") {
                    Some(Value::Text(e)) => e.clone(),
                    _ => String::new(),
                };
                (i, email, c.operation)
            })
            .collect();
        for (i, email, operation) in users {
            // Normalize the value about to be written...
            if !email.is_empty() {
                ctx.set(i, User::email, email.to_lowercase())?;
            }
            // ...and write an audit row with it.
            ctx.add(
                AuditLog::build()
                    .table_name("user")
                    .operation(format!("{operation:?}"))
                    .detail(Some(email.to_lowercase())),
            )?;
        }
        Ok(())
    });
    let mut s = db.session();
    s.add(User::build().username("ann").email("Ann@Example.COM"));
    s.commit().await?;
    let ann = db.query::<User>().one().await?;
    assert_eq!(ann.email, "ann@example.com");
    let audit = db.query::<AuditLog>().all().await?;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].operation.as_str(), audit[0].detail.as_deref()),
        ("Insert", Some("ann@example.com"))
    );
    // The audit row shares the transaction: a rollback takes both away.
    let mut s = db.session();
    s.add(user("bob"));
    s.flush().await?;
    assert_eq!(s.query::<AuditLog>().count().await?, 2);
    s.rollback().await?;
    assert_eq!(db.query::<AuditLog>().count().await?, 1);
    assert_eq!(db.query::<User>().count().await?, 1);
    // Listeners may change pending work only before a flush.
    let mut s = db.session();
    s.listen(SessionEvent::AfterFlush, |ctx| {
        ctx.add(AuditLog::build().table_name("x").operation("x"))
    });
    s.add(user("cy"));
    let err = s.flush().await.unwrap_err();
    assert!(err.to_string().contains("before a flush"), "{err}");
    Ok(())
}

#[case]
async fn a_listener_can_set_a_column_the_database_would_fill(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.listen(SessionEvent::BeforeFlush, |ctx| {
        let inserts: Vec<usize> = (0..ctx.changes().len())
            .filter(|&i| ctx.changes()[i].operation == Operation::Insert)
            .collect();
        for i in inserts {
            // The key is left to the database by the builder; the listener sets it.
            ctx.set(i, User::id, 1000 + i as i64)?;
            ctx.set(i, User::bio, Some("set by a listener".to_string()))?;
        }
        Ok(())
    });
    s.add(user("kim"));
    s.add(user("lee"));
    s.commit().await?;
    let users = db.query::<User>().order_by(User::id).all().await?;
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids, [1000, 1001]);
    assert!(
        users
            .iter()
            .all(|u| u.bio.as_deref() == Some("set by a listener"))
    );
    // A wrong index or a column of another model is an error that aborts the flush.
    let mut s = db.session();
    s.listen(SessionEvent::BeforeFlush, |ctx| ctx.set(7, User::bio, None));
    s.add(user("max"));
    let err = s.commit().await.unwrap_err();
    assert!(err.to_string().contains("pending change 7"), "{err}");
    let mut s = db.session();
    s.listen(SessionEvent::BeforeFlush, |ctx| {
        ctx.set(0, AuditLog::detail, None)
    });
    s.add(user("ned"));
    let err = s.commit().await.unwrap_err();
    assert!(
        err.to_string().contains("not a row of `audit_log`"),
        "{err}"
    );
    assert_eq!(db.query::<User>().count().await?, 2);
    Ok(())
}

#[case]
async fn changes_carry_old_and_new_column_values(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let seen: Arc<Mutex<Vec<flaskdb::Change>>> = Arc::default();
    let sink = seen.clone();
    db.listen(SessionEvent::AfterCommit, move |ctx| {
        sink.lock().unwrap().extend(ctx.changes().iter().cloned());
        Ok(())
    });
    let mut s = db.session();
    s.add(user("dan"));
    s.commit().await?;
    let insert = seen.lock().unwrap().pop().unwrap();
    assert_eq!(insert.operation, Operation::Insert);
    assert_eq!(
        insert.new_value("username"),
        Some(&Value::Text("dan".into()))
    );
    assert_eq!(insert.old_value("username"), None);
    let mut dan = s.query::<User>().one().await?;
    dan.bio = Some("hello".into());
    s.add(dan.clone());
    s.commit().await?;
    let update = seen.lock().unwrap().pop().unwrap();
    assert_eq!(update.operation, Operation::Update);
    let columns: Vec<&str> = update.columns.iter().map(|c| c.column).collect();
    assert_eq!(columns, ["bio"], "only the changed column");
    assert!(matches!(update.old_value("bio"), Some(Value::Null(_))));
    assert_eq!(update.new_value("bio"), Some(&Value::Text("hello".into())));
    assert_eq!(update.model::<User>().map(|u| u.id), Some(dan.id));
    let dan = s.query::<User>().one().await?;
    s.delete(&dan);
    s.commit().await?;
    let delete = seen.lock().unwrap().pop().unwrap();
    assert_eq!(delete.operation, Operation::Delete);
    assert_eq!(delete.old_value("bio"), Some(&Value::Text("hello".into())));
    assert_eq!(delete.new_value("bio"), None);
    Ok(())
}

#[case]
async fn an_aborting_listener_leaves_nothing_written(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    for event in [
        SessionEvent::BeforeFlush,
        SessionEvent::BeforeCommit,
        SessionEvent::AfterFlush,
    ] {
        let refuse = Arc::new(AtomicBool::new(false));
        let mut s = db.session();
        let flag = refuse.clone();
        s.listen(event, move |_| match flag.load(Ordering::SeqCst) {
            true => Err(Error::InvalidQuery("refused by a listener".into())),
            false => Ok(()),
        });
        let name = format!("{event:?}").to_lowercase();
        let early = format!("{name}-early");
        // An earlier flush of the same transaction is rolled back too.
        s.add(user(&early));
        s.flush().await?;
        refuse.store(true, Ordering::SeqCst);
        s.add(user(&name));
        let err = s.commit().await.unwrap_err();
        assert!(
            err.to_string().contains("refused by a listener"),
            "{event:?}: {err}"
        );
        let count = |name: String| db.query::<User>().filter_by(User::username, name).count();
        assert_eq!(count(name.clone()).await?, 0, "{event:?}: nothing written");
        assert_eq!(count(early.clone()).await?, 0, "{event:?}: nothing written");
        // The work is still queued, the earlier flush's too: the next commit writes it.
        refuse.store(false, Ordering::SeqCst);
        s.commit().await?;
        for name in [name, early] {
            assert_eq!(count(name).await?, 1, "{event:?}: written once on retry");
        }
    }
    Ok(())
}

async fn history(db: &flaskdb::Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = db
        .fetch_all(
            "SELECT title, version FROM page_history ORDER BY version",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.get::<String>("title")?, r.get::<i64>("version")?)))
        .collect()
}

#[case]
async fn versioned_models_keep_their_history(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    assert_eq!(
        Page::table().history_table().map(|h| h.name()),
        Some("page_history")
    );
    let mut s = db.session();
    s.add(Page::build().title("v1"));
    s.commit().await?;
    assert!(
        history(&db).await?.is_empty(),
        "an insert has no previous version"
    );
    for title in ["v2", "v3"] {
        let mut page = s.query::<Page>().one().await?;
        page.title = title.into();
        s.add(page);
        s.commit().await?;
    }
    // An update that changes nothing writes nothing, history included.
    let page = s.query::<Page>().one().await?;
    s.add(page.clone());
    s.commit().await?;
    assert_eq!(
        history(&db).await?,
        [("v1".to_string(), 1), ("v2".to_string(), 2)]
    );
    // A rolled-back update leaves no history.
    let mut changed = page.clone();
    changed.body = Some("draft".into());
    s.add(changed);
    s.flush().await?;
    s.rollback().await?;
    assert_eq!(history(&db).await?.len(), 2);
    s.delete(&page);
    s.commit().await?;
    assert_eq!(
        history(&db).await?,
        [
            ("v1".to_string(), 1),
            ("v2".to_string(), 2),
            ("v3".to_string(), 3)
        ]
    );
    assert_eq!(db.query::<Page>().count().await?, 0);
    // The history keeps the key; a new row with the same title is no conflict there.
    s.add(Page::build().title("v1"));
    s.commit().await?;
    let again = s.query::<Page>().one().await?;
    s.delete(&again);
    s.commit().await?;
    assert_eq!(history(&db).await?.len(), 4);
    Ok(())
}

#[case]
async fn sessions_by_key_outlive_their_scopes(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let count = |name: &'static str| {
        let db = db.clone();
        async move {
            db.query::<User>()
                .filter_by(User::username, name)
                .count()
                .await
        }
    };
    // One key, one session.
    db.session_for("a")?.add(user("one"));
    db.session_for("a")?.commit().await?;
    assert_eq!(count("one").await?, 1);
    // Work added in one scope of a key is committed by a later scope of the same key.
    db.scope_for("job", async { flaskdb::session().add(user("two")) })
        .await?;
    assert_eq!(count("two").await?, 0);
    db.scope_for("job", async { flaskdb::session().commit().await })
        .await??;
    assert_eq!(count("two").await?, 1);
    // A plain scope's session ends with it: the next scope's commit is another
    // session's and leaves out what the first scope added. A keyed session ends when
    // it is removed: the key's next scope starts a new one.
    db.scope(async { flaskdb::session().add(user("three")) })
        .await;
    db.scope(async { flaskdb::session().commit().await })
        .await?;
    db.scope_for("job", async {
        let mut s = flaskdb::session();
        s.add(user("four"));
        s.flush().await
    })
    .await??;
    db.remove_session("job").await;
    db.scope_for("job", async { flaskdb::session().commit().await })
        .await??;
    assert_eq!((count("three").await?, count("four").await?), (0, 0));
    Ok(())
}

/// At most `max_keyed_sessions` keys have a session at once (10,000 by default): a new
/// key past it is a clear error that ends no session, so every key's uncommitted work
/// is still there to commit.
#[case]
async fn sessions_by_key_are_bounded(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    for k in 0..10_000 {
        db.session_for(&format!("k{k}"))?;
    }
    let err = db.session_for("one too many").unwrap_err();
    assert!(
        matches!(&err, Error::TooManySessions { key, limit: 10_000 } if key == "one too many"),
        "{err}"
    );
    let db = Db::connect(t.config().max_keyed_sessions(2)).await?;
    db.create_all().await?;
    db.session_for("a")?.add(user("a1"));
    db.scope_for("b", async { flaskdb::session().add(user("b1")) })
        .await?;
    let ran = AtomicBool::new(false);
    let err = db
        .scope_for("c", async { ran.store(true, Ordering::SeqCst) })
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("key `c`: 2 keyed sessions are open"),
        "{err}"
    );
    assert!(!ran.into_inner(), "the scope of a refused key does not run");
    // The open keys are untouched, their work still pending; ending one makes room.
    db.session_for("a")?.commit().await?;
    db.scope_for("b", async { flaskdb::session().commit().await })
        .await??;
    let names = db.query::<User>().order_by(User::username).all().await?;
    assert_eq!(
        names
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["a1", "b1"]
    );
    db.remove_session("a").await;
    db.session_for("c")?;
    Ok(())
}
