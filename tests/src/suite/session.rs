//! The unit of work: add, insert, update, delete, flush, commit, rollback, autoflush,
//! the identity map, flush order, retries, the scoped session and the no-hang cases.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flaskdb::{Backend, Config, Db, EngineOptions, Error, Model, SessionEvent};

use super::record::recording;
use crate::models::*;
use crate::{TestDb, TestResult, case, exec};

fn user(name: &str) -> UserBuilder {
    User::build()
        .username(name)
        .email(format!("{name}@example.com"))
}

#[case(needs(LastInsertId))]
async fn add_and_commit(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    // The no_returning variant really takes the last-insert-id path.
    let returning = t.options.get_returning().unwrap_or(true);
    assert_eq!(
        db.engine()?.supports_returning(),
        returning || t.backend == Backend::Postgres
    );
    let mut s = db.session();
    s.add(user("admin"));
    s.add_all([user("guest"), user("other")]);
    s.commit().await?;
    let users = db.query::<User>().order_by(User::id).all().await?;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["admin", "guest", "other"]);
    assert!(
        users.windows(2).all(|w| w[0].id < w[1].id),
        "keys were generated in order"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn insert_returns_the_stored_row(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    let admin = s.insert(user("admin")).await?;
    assert!(admin.id > 0);
    assert_eq!(
        (admin.username.as_str(), admin.bio.as_deref()),
        ("admin", None)
    );
    // Literal defaults, server defaults and NULLs come back as stored.
    let ham = s.insert(Ham::build()).await?;
    assert_eq!(
        (ham.rank, ham.label.as_str(), ham.name.as_deref()),
        (0, "fresh", None)
    );
    let group = s.insert(Group::build().code(7).label("seven")).await?;
    assert_eq!(group.code, 7);
    let small = s
        .insert(
            AllTypes::build()
                .flag(true)
                .small(1)
                .int(2)
                .big(3)
                .real(0.5)
                .double(1.5)
                .text("t")
                .bytes(vec![1u8]),
        )
        .await?;
    assert_eq!(small.maybe_int, None);
    s.commit().await?;
    assert_eq!(db.query::<User>().get(admin.id).await?, Some(admin));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn missing_required_column_is_reported_and_dropped(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("ok"));
    s.add(User::build().username("no-email"));
    let err = s.commit().await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { table, column } if table == "user" && column == "email"),
        "{err}"
    );
    // The valid row is still queued; the invalid builder is gone.
    s.commit().await?;
    assert_eq!(db.query::<User>().count().await?, 1);
    let err = s.insert(User::build().email("x@x")).await.unwrap_err();
    assert!(matches!(err, Error::MissingColumn { column, .. } if column == "username"));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn update_writes_only_changed_columns(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    let mut s = db.session();
    s.add(user("a"));
    s.commit().await?;
    let mut a = s
        .query::<User>()
        .filter_by(User::username, "a")
        .one()
        .await?;
    // Another connection changes `bio` after the session loaded the row.
    db.query::<User>()
        .update(User::bio.set("written elsewhere"))
        .await?;
    a.email = "new@example.com".into();
    s.add(&a);
    s.commit().await?;
    let stored = db.query::<User>().get(a.id).await?.unwrap();
    assert_eq!(stored.email, "new@example.com");
    assert_eq!(
        stored.bio.as_deref(),
        Some("written elsewhere"),
        "bio was not overwritten"
    );
    // Adding an unchanged model writes nothing: its flush sends no statement.
    let same = s.query::<User>().get(a.id).await?.unwrap();
    db.scope(async {
        s.add(same);
        s.flush().await?;
        let sent = flaskdb::get_recorded_queries();
        assert!(sent.is_empty(), "an unchanged model sent {sent:?}");
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

#[case(needs(LastInsertId))]
async fn update_of_an_unknown_row_is_stale_data(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("a"));
    s.commit().await?;
    let a = db.query::<User>().one().await?;
    // A session that never loaded the row updates every column by key.
    let mut other = db.session();
    other.add(User {
        bio: Some("set".into()),
        ..a.clone()
    });
    other.commit().await?;
    assert_eq!(
        db.query::<User>().get(a.id).await?.unwrap().bio.as_deref(),
        Some("set")
    );
    other.add(User { id: 999, ..a });
    let err = other.commit().await.unwrap_err();
    assert!(
        matches!(&err, Error::StaleData { table, .. } if table == "user"),
        "{err}"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn delete_flush_and_rollback(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add_all([user("a"), user("b")]);
    s.commit().await?;
    let a = s
        .query::<User>()
        .filter_by(User::username, "a")
        .one()
        .await?;
    s.delete(&a);
    s.flush().await?;
    assert_eq!(
        s.query::<User>().count().await?,
        1,
        "the session sees its flushed delete"
    );
    s.rollback().await?;
    assert_eq!(
        db.query::<User>().count().await?,
        2,
        "rollback undid the flushed delete"
    );
    s.delete(&a);
    s.commit().await?;
    assert_eq!(db.query::<User>().count().await?, 1);
    assert!(s.query::<User>().get(a.id).await?.is_none());
    Ok(())
}

#[case(needs(LastInsertId))]
async fn autoflush_makes_pending_rows_visible(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("pending"));
    let seen = s
        .query::<User>()
        .filter_by(User::username, "pending")
        .first()
        .await?;
    assert!(seen.is_some(), "autoflush sent the insert before the query");
    s.rollback().await?;
    assert_eq!(db.query::<User>().count().await?, 0);

    let mut manual = db.session().autoflush(false);
    manual.add(user("later"));
    assert_eq!(
        manual.query::<User>().count().await?,
        0,
        "no autoflush: not yet sent"
    );
    manual.flush().await?;
    assert_eq!(manual.query::<User>().count().await?, 1);
    manual.commit().await?;
    Ok(())
}

#[case(needs(LastInsertId))]
async fn identity_map_serves_get_until_commit(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    let a = s.insert(user("a")).await?;
    s.commit().await?;
    let loaded = s.query::<User>().get(a.id).await?.unwrap();
    assert_eq!(loaded.bio, None);
    // Changed behind the session's back: `get` answers from the identity map, without
    // reading the row again.
    db.query::<User>().update(User::bio.set("changed")).await?;
    let again = s.query::<User>().get(a.id).await?.unwrap();
    assert_eq!(again.bio, None, "served from the identity map");
    // A filtered query reads the database. The session has written nothing since its
    // commit, so it has no transaction: the read runs in autocommit and sees the
    // committed change on every backend (inside a transaction, MySQL's REPEATABLE READ
    // would keep showing the snapshot of its first read).
    let read = s
        .query::<User>()
        .filter_by(User::username, "a")
        .one()
        .await?;
    assert_eq!(read.bio.as_deref(), Some("changed"));
    // commit expires the map (expire_on_commit): `get` reads again.
    s.commit().await?;
    db.query::<User>().update(User::bio.set("later")).await?;
    assert_eq!(
        s.query::<User>().get(a.id).await?.unwrap().bio.as_deref(),
        Some("later")
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn flush_orders_parents_first_and_children_first(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    // Children are added before their parents: the flush inserts parents first.
    s.add(Comment::build().id(1).post_id(10).body("first!"));
    s.add(Post::build().id(10).user_id(5).title("hello"));
    s.add(User::build().id(5).username("author").email("a@a"));
    s.commit().await?;
    assert_eq!(db.query::<Comment>().count().await?, 1);
    // Parents are deleted before their children here: the flush deletes children first.
    let post = s.query::<Post>().get(10).await?.unwrap();
    let comment = s.query::<Comment>().get(1).await?.unwrap();
    s.delete(&post);
    s.delete(&comment);
    s.commit().await?;
    assert_eq!(
        (
            db.query::<Post>().count().await?,
            db.query::<Comment>().count().await?
        ),
        (0, 0)
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn failed_commit_keeps_the_work_for_a_retry(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("taken"));
    s.commit().await?;
    s.add(user("fine"));
    s.flush().await?;
    s.add(user("taken"));
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err, Error::UniqueViolation { .. }), "{err}");
    // Nothing of the failed transaction was committed...
    assert_eq!(db.query::<User>().count().await?, 1);
    // ...and nothing was lost: fix the cause, commit again.
    db.query::<User>()
        .filter_by(User::username, "taken")
        .delete()
        .await?;
    s.commit().await?;
    let mut names: Vec<String> = db
        .query::<User>()
        .all()
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    names.sort();
    assert_eq!(names, ["fine", "taken"]);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn many_rows_go_in_multi_row_statements(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    // More rows than one statement can carry on SQLite (32,766 parameters / 3 columns).
    let n = 25_000;
    for i in 0..n {
        s.add(
            User::build()
                .username(format!("u{i}"))
                .email(format!("u{i}@x")),
        );
    }
    s.commit().await?;
    assert_eq!(db.query::<User>().count().await?, n);
    let last = db
        .query::<User>()
        .order_by(User::id.desc())
        .first()
        .await?
        .unwrap();
    assert_eq!(
        last.username,
        format!("u{}", n - 1),
        "rows kept their order"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn scoped_session_is_closed_with_its_scope(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    db.scope(async {
        flaskdb::session().add(user("kept"));
        flaskdb::session().commit().await?;
        flaskdb::session().add(user("dropped"));
        flaskdb::session().flush().await?;
        // The scope's queries run through its session: they see the flushed row.
        assert_eq!(User::query().count().await?, 2);
        Ok::<_, Error>(())
    })
    .await?;
    let names: Vec<String> = db
        .query::<User>()
        .all()
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        ["kept"],
        "the uncommitted row was rolled back when the scope ended"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn refresh_and_expunge(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session().expire_on_commit(false);
    let mut a = s.insert(user("a")).await?;
    s.commit().await?;
    db.query::<User>().update(User::bio.set("fresh")).await?;
    s.refresh(&mut a).await?;
    assert_eq!(a.bio.as_deref(), Some("fresh"));
    s.expunge(&a);
    a.bio = None;
    s.add(&a); // not in the identity map: every column is written
    s.commit().await?;
    assert_eq!(db.query::<User>().get(a.id).await?.unwrap().bio, None);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn raw_sqlx_in_the_session_transaction(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("via-session"));
    s.flush().await?;
    {
        let mut tx = s.transaction(None).await?;
        let n = match t.backend {
            Backend::Sqlite => {
                let (n,): (i64,) = sqlx::query_as(r#"SELECT COUNT(*) FROM "user""#)
                    .fetch_one(tx.as_sqlite().unwrap())
                    .await?;
                n
            }
            Backend::Postgres => {
                let (n,): (i64,) = sqlx::query_as(r#"SELECT COUNT(*) FROM "user""#)
                    .fetch_one(tx.as_postgres().unwrap())
                    .await?;
                n
            }
            Backend::MySql => {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM `user`")
                    .fetch_one(tx.as_mysql().unwrap())
                    .await?;
                n
            }
        };
        assert_eq!(
            n, 1,
            "raw sqlx sees the session's flushed row in its transaction"
        );
    }
    s.rollback().await?;
    assert_eq!(db.query::<User>().count().await?, 0);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn reading_while_a_session_writes_does_not_hang(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("uncommitted"));
    s.flush().await?;
    // A guard against hanging, not a speed limit: a read that waited for the writer
    // would wait for ever, as nothing here commits before it returns.
    let seen = tokio::time::timeout(Duration::from_secs(20), db.query::<User>().count()).await??;
    // SQLite in memory reads uncommitted (as Flask-SQLAlchemy's one shared connection
    // does); the servers isolate the open transaction.
    let expected = if t.backend == Backend::Sqlite { 1 } else { 0 };
    assert_eq!(seen, expected);
    s.commit().await?;
    Ok(())
}

/// Two writing sessions in one task: the second waits for the first's lock on the
/// database and gives up after the acquire timeout, never hanging; so does a query
/// while a session holds the only connection.
#[case(needs(DatabaseWriteLock))]
async fn waiting_for_the_database_lock_times_out(_: TestDb) -> TestResult {
    let options = EngineOptions::default().acquire_timeout(Duration::from_secs(1));
    let small = Db::connect(Config::new("sqlite::memory:").engine_options(options.clone())).await?;
    small.create_all().await?;
    let mut first = small.session();
    first.add(user("first"));
    first.flush().await?;
    let mut second = small.session();
    second.add(user("second"));
    let waited = tokio::time::timeout(Duration::from_secs(20), second.flush()).await?;
    assert!(matches!(waited, Err(Error::LockTimeout(_))), "{waited:?}");
    first.commit().await?;
    second.commit().await?; // the queued insert was kept
    assert_eq!(small.query::<User>().count().await?, 2);

    // One connection in all: a query while a session holds it times out.
    let single =
        Db::connect(Config::new("sqlite::memory:").engine_options(options.max_connections(1)))
            .await?;
    single.create_all().await?;
    let mut holder = single.session();
    holder.add(user("h"));
    holder.flush().await?;
    let waited =
        tokio::time::timeout(Duration::from_secs(20), single.query::<User>().count()).await?;
    assert!(waited.is_err(), "the pool timed out instead of hanging");
    holder.commit().await?;
    assert_eq!(single.query::<User>().count().await?, 1);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn typed_constraint_errors(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(user("a"));
    s.commit().await?;
    s.add(User::build().username("a").email("another@example.com"));
    match s.commit().await.unwrap_err() {
        Error::UniqueViolation { constraint, .. } => {
            let c = constraint.unwrap_or_default();
            assert!(
                c.contains("username"),
                "the constraint names the column: {c}"
            );
        }
        other => panic!("expected a unique violation, got {other}"),
    }
    s.rollback().await?;
    s.add(Comment::build().post_id(404).body("orphan"));
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation { .. }), "{err}");
    s.rollback().await?;
    let err = exec(
        &t,
        r#"INSERT INTO "user" ("username", "email") VALUES (?, ?)"#,
        vec!["n".into(), flaskdb::Value::Null(flaskdb::SqlType::Text)],
    )
    .await
    .expect_err("a NULL in a NOT NULL column is refused");
    match err.downcast::<Error>()? {
        Error::NotNullViolation { column, .. } => {
            let c = column.unwrap_or_default();
            assert!(c.contains("email"), "the error names the column: {c}");
        }
        other => panic!("expected a NOT NULL violation, got {other}"),
    }
    Ok(())
}

#[case(needs(LastInsertId))]
async fn dropping_a_session_rolls_back(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    {
        let mut s = db.session();
        s.add(user("never committed"));
        s.flush().await?;
    }
    // sqlx rolls a dropped transaction back as soon as its connection is free again.
    let deadline = Instant::now() + Duration::from_secs(5);
    while db.query::<User>().count().await? != 0 {
        assert!(
            Instant::now() < deadline,
            "the dropped session's insert is still there"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut s = db.session();
    s.add(user("never committed"));
    s.commit().await?;
    assert_eq!(
        db.query::<User>().count().await?,
        1,
        "no leftover lock or row"
    );
    Ok(())
}

/// 100 authors with 3 books each, added by cascade: every book's foreign key names its
/// own author, and every key the session hands back (to listeners, and from `insert`)
/// is the stored one. With RETURNING and without (the last-insert id).
#[case(needs(LastInsertId))]
async fn generated_keys_follow_the_servers_numbering(t: TestDb) -> TestResult {
    cascaded_keys(t, false).await
}

/// The same on a connection that numbers keys 3 apart from 2
/// (`auto_increment_increment = 3`, `auto_increment_offset = 2`, as Galera and
/// multi-primary replication set them). With RETURNING (MariaDB returns its keys) and
/// without (the last-insert id, stepped by the connection's increment).
#[case(needs(LastInsertId, SteppedKeys))]
async fn generated_keys_follow_a_stepped_numbering(t: TestDb) -> TestResult {
    cascaded_keys(t, true).await
}

/// Adds and checks the authors and books of the two cases above, on a connection that
/// numbers keys 3 apart if `stepped`.
async fn cascaded_keys(t: TestDb, stepped: bool) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session().expire_on_commit(false);
    let handed_back: Arc<Mutex<(Vec<Author>, Vec<Book>)>> = Arc::default();
    let seen = handed_back.clone();
    s.listen(SessionEvent::AfterFlush, move |ctx| {
        let mut seen = seen.lock().unwrap();
        for change in ctx.changes() {
            seen.0.extend(change.model::<Author>().cloned());
            seen.1.extend(change.model::<Book>().cloned());
        }
        Ok(())
    });
    if stepped {
        // The session's transaction is the connection its flush writes on.
        let mut tx = s.transaction(None).await?;
        sqlx::query("SET SESSION auto_increment_increment = 3, auto_increment_offset = 2")
            .execute(tx.as_mysql().unwrap())
            .await?;
    }
    for a in 0..100 {
        let books = (0..3).map(|b| Book::build().title(format!("{a}.{b}")));
        s.add(Author::build().name(a.to_string()).books(books));
    }
    s.flush().await?;
    let last = s
        .insert(
            Author::build()
                .name("100")
                .books((0..3).map(|b| Book::build().title(format!("100.{b}")))),
        )
        .await?;
    s.commit().await?;
    let authors = db.query::<Author>().all().await?;
    let books = db.query::<Book>().all().await?;
    assert_eq!((authors.len(), books.len()), (101, 303));
    let name_of = |id: i64| authors.iter().find(|a| a.id == id).map(|a| a.name.as_str());
    for book in &books {
        let (author, _) = book.title.split_once('.').unwrap();
        assert_eq!(
            book.author_id.and_then(name_of),
            Some(author),
            "book {} is linked to its own author",
            book.title
        );
    }
    if stepped {
        assert!(
            authors.iter().all(|a| a.id % 3 == 2) && books.iter().all(|b| b.id % 3 == 2),
            "the connection numbered the keys 3 apart from 2"
        );
    }
    let (seen_authors, seen_books) = std::mem::take(&mut *handed_back.lock().unwrap());
    assert_eq!((seen_authors.len(), seen_books.len()), (101, 303));
    assert!(seen_authors.contains(&last));
    for a in &seen_authors {
        assert_eq!(name_of(a.id), Some(a.name.as_str()), "author {}", a.name);
    }
    for b in &seen_books {
        let stored = books.iter().find(|s| s.id == b.id);
        assert_eq!(
            stored.map(|s| (&s.title, s.author_id)),
            Some((&b.title, b.author_id)),
            "book {}",
            b.title
        );
    }
    Ok(())
}

/// A trigger that skips a row makes the database report fewer rows than the INSERT
/// sent: a flush that reads the keys back fails with `InsertMismatch` rather than
/// giving the rows after it their neighbours' keys, nothing is written, and the work
/// is queued again. Both for
/// keys alone (`user`) and for whole rows with a server default (`spam`).
#[case(needs(LastInsertId, SkippingTriggers))]
async fn rows_a_trigger_skips_fail_the_flush(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let triggers: &[&'static str] = match t.backend {
        Backend::Sqlite => &[
            r#"CREATE TRIGGER skip_user BEFORE INSERT ON "user" WHEN NEW.username = 'skipped'
               BEGIN SELECT RAISE(IGNORE); END"#,
            r#"CREATE TRIGGER skip_spam BEFORE INSERT ON "spam"
               WHEN NEW.display_name = 'skipped' BEGIN SELECT RAISE(IGNORE); END"#,
        ],
        _ => &[
            r#"CREATE FUNCTION skip() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF to_jsonb(NEW) ->> 'username' = 'skipped'
                    OR to_jsonb(NEW) ->> 'display_name' = 'skipped' THEN RETURN NULL; END IF;
                 RETURN NEW;
               END $$"#,
            r#"CREATE TRIGGER skip_user BEFORE INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION skip()"#,
            r#"CREATE TRIGGER skip_spam BEFORE INSERT ON "spam" FOR EACH ROW EXECUTE FUNCTION skip()"#,
        ],
    };
    for sql in triggers {
        exec(&t, *sql, vec![]).await?;
    }
    for table in ["user", "spam"] {
        let mut s = db.session();
        for name in ["kept", "skipped", "last"] {
            match table {
                "user" => s.add(user(name)),
                _ => s.add(Ham::build().name(name)),
            }
        }
        // A flush reads the keys back (a commit that expires everything would not).
        let err = s.flush().await.unwrap_err();
        assert!(
            matches!(&err, Error::InsertMismatch { table: t, sent: 3, matched: 2 } if t == table),
            "{err}"
        );
        assert_eq!(db.query::<User>().count().await?, 0);
        assert_eq!(db.query::<Ham>().count().await?, 0);
        // The work was queued again: without the trigger, it is written whole.
        let drop = match t.backend {
            Backend::Sqlite => format!(r#"DROP TRIGGER "skip_{table}""#),
            _ => format!(r#"DROP TRIGGER "skip_{table}" ON "{table}""#),
        };
        exec(&t, flaskdb::AssertSqlSafe(drop), vec![]).await?;
        s.commit().await?;
        let stored = match table {
            "user" => db.query::<User>().count().await?,
            _ => db.query::<Ham>().count().await?,
        };
        assert_eq!(stored, 3, "{table}");
        db.query::<User>().delete().await?;
        db.query::<Ham>().delete().await?;
    }
    Ok(())
}
