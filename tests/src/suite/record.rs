//! Query recording, echo, N+1 detection and change signals.

use std::sync::{Arc, Mutex};

use flaskdb::{AssertSqlSafe, Backend, Config, Db, Error, Model, Operation, Value};

use crate::logs::capture;
use crate::models::*;
use crate::{TestDb, TestResult, case};

/// A connection to this case's database that records queries, with every model's
/// table created.
pub(crate) async fn recording(t: &TestDb) -> anyhow::Result<Db> {
    let db = Db::connect(t.config().record_queries(true)).await?;
    db.create_all().await?;
    Ok(db)
}

fn user(name: &str) -> UserBuilder {
    User::build()
        .username(name)
        .email(format!("{name}@example.com"))
}

#[case(needs(LastInsertId))]
async fn recorded_fields_and_location(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    db.scope(async {
        db.create_all().await?;
        let ddl = flaskdb::get_recorded_queries();
        assert!(
            ddl.iter()
                .any(|q| q.statement.starts_with("CREATE TABLE IF NOT EXISTS"))
        );
        let line = line!() + 1;
        let rows = User::query().filter(User::id.lt(5)).all().await?;
        assert!(rows.is_empty());
        let info = flaskdb::get_recorded_queries().pop().unwrap();
        assert!(info.statement.starts_with("SELECT "), "{}", info.statement);
        assert!(info.statement.contains("FROM ") && info.statement.contains("user"));
        assert_eq!(info.parameters, [Value::I64(5)]);
        assert_eq!(info.duration(), info.end_time - info.start_time);
        assert_eq!(info.location, format!("{}:{line}", file!()));
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

#[case(needs(LastInsertId))]
async fn nothing_recorded_when_off_or_outside_a_scope(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    db.scope(async {
        db.query::<User>().count().await?;
        assert!(
            flaskdb::get_recorded_queries().is_empty(),
            "recording is off"
        );
        Ok::<_, Error>(())
    })
    .await?;
    let on = recording(&t).await?;
    on.query::<User>().count().await?;
    assert!(
        flaskdb::get_recorded_queries().is_empty(),
        "outside any scope"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn concurrent_scopes_record_separately(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    let run = |n: usize| {
        let db = db.clone();
        async move {
            db.scope(async {
                for _ in 0..n {
                    db.query::<User>().count().await?;
                    tokio::task::yield_now().await;
                }
                Ok::<_, Error>(flaskdb::get_recorded_queries().len())
            })
            .await
        }
    };
    let (a, b) = tokio::join!(run(3), run(5));
    assert_eq!((a?, b?), (3, 5));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn session_statements_are_recorded(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    db.scope(async {
        let mut s = db.session();
        for i in 0..10_000 {
            s.add(
                User::build()
                    .username(format!("u{i}"))
                    .email(format!("u{i}@x")),
            );
        }
        let line = line!() + 1;
        s.commit().await?;
        let queries = flaskdb::get_recorded_queries();
        let inserts: Vec<_> = queries
            .iter()
            .filter(|q| q.statement.starts_with("INSERT"))
            .collect();
        assert_eq!(inserts.len(), 1, "10,000 rows in one multi-row statement");
        assert_eq!(inserts[0].parameters.len(), 30_000);
        assert_eq!(inserts[0].location, format!("{}:{line}", file!()));
        assert!(
            !queries.iter().any(|q| q.statement.contains("COMMIT")),
            "COMMIT is not recorded"
        );

        // The identity map answers `get` of a loaded row without a statement.
        let loaded = s
            .query::<User>()
            .filter_by(User::username, "u7")
            .one()
            .await?;
        let before = flaskdb::get_recorded_queries().len();
        let again = s.query::<User>().get(loaded.id).await?;
        assert_eq!(again.as_ref(), Some(&loaded));
        assert_eq!(
            flaskdb::get_recorded_queries().len(),
            before,
            "no second SELECT"
        );

        // An UPDATE names only the changed column.
        let mut changed = loaded;
        changed.bio = Some("new".into());
        s.add(&changed);
        s.flush().await?;
        let update = flaskdb::get_recorded_queries().pop().unwrap();
        let quote = if t.backend == Backend::MySql {
            '`'
        } else {
            '"'
        };
        let set_bio = format!("SET {quote}bio{quote} = ");
        assert!(
            update.statement.starts_with("UPDATE ") && update.statement.contains(&set_bio),
            "{}",
            update.statement
        );
        assert!(!update.statement.contains("username") && !update.statement.contains("email"));
        s.commit().await?;
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

/// A scope keeps at most `max_recorded_queries` statements and counts the rest, saying
/// so once; the N+1 warning still counts every statement.
#[case(needs(LastInsertId))]
async fn recording_is_bounded(t: TestDb) -> TestResult {
    let config = t
        .config()
        .record_queries(true)
        .max_recorded_queries(3)
        .n_plus_one_threshold(5);
    let db = Db::connect(config).await?;
    db.create_all().await?;
    let (kept, logs) = capture(
        tracing::Level::WARN,
        db.scope(async {
            for id in 0..8 {
                db.query::<User>().get(id).await?;
            }
            Ok::<_, Error>((
                flaskdb::get_recorded_queries().len(),
                flaskdb::recorded_queries_dropped(),
            ))
        }),
    )
    .await;
    assert_eq!(kept?, (3, 5));
    assert_eq!(logs.matches("N+1").count(), 1, "{logs}");
    assert_eq!(logs.matches("later ones are counted").count(), 1, "{logs}");
    Ok(())
}

/// By default a scope keeps 10,000 statements (tried where 10,010 take no time).
#[case(needs(InProcess))]
async fn recording_is_bounded_by_default(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    let (kept, logs) = capture(
        tracing::Level::WARN,
        db.scope(async {
            for _ in 0..10_010 {
                db.execute("SELECT 1", vec![]).await?;
            }
            Ok::<_, Error>((
                flaskdb::get_recorded_queries().len(),
                flaskdb::recorded_queries_dropped(),
            ))
        }),
    )
    .await;
    assert_eq!(kept?, (10_000, 10));
    assert_eq!(
        logs.matches("later ones are counted, not kept").count(),
        1,
        "{logs}"
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn n_plus_one_warning(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().record_queries(true).n_plus_one_threshold(5)).await?;
    db.create_all().await?;
    let mut s = db.session();
    for i in 0..8 {
        s.add(user(&format!("n{i}")));
    }
    s.commit().await?;
    let ids: Vec<i64> = db
        .query::<User>()
        .all()
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    // A loop of lookups: one statement per row.
    let (summary, logs) = capture(
        tracing::Level::WARN,
        db.scope(async {
            for id in &ids {
                db.query::<User>().get(*id).await?;
            }
            Ok::<_, Error>(flaskdb::recorded_query_summary())
        }),
    )
    .await;
    let summary = summary?;
    assert_eq!(summary[0].count, 8);
    assert_eq!(summary[0].locations.len(), 1);
    assert!(summary[0].locations[0].starts_with(file!()));
    assert_eq!(
        logs.matches("N+1").count(),
        1,
        "one warning per shape: {logs}"
    );
    assert!(
        logs.contains(file!()),
        "the warning names the location: {logs}"
    );
    // Loading them at once warns about nothing.
    let (found, logs) = capture(
        tracing::Level::WARN,
        db.scope(async {
            db.query::<User>()
                .filter(User::id.in_(ids.clone()))
                .all()
                .await
        }),
    )
    .await;
    assert_eq!(found?.len(), 8);
    assert!(!logs.contains("N+1"), "{logs}");
    Ok(())
}

#[case(needs(LastInsertId))]
async fn echo_logs_statements_without_passwords(t: TestDb) -> TestResult {
    // PostgreSQL here trusts local connections, so a password in the URL is accepted
    // and must never show up in a log line, an error or a Debug string.
    let url = match t.backend {
        Backend::Postgres => {
            t.url
                .replacen("postgres://postgres@", "postgres://postgres:hunter2@", 1)
        }
        _ => t.url.clone(),
    };
    let db = Db::connect(Config::new(url).echo(true)).await?;
    let (count, info) = capture(tracing::Level::INFO, async {
        db.create_all().await?;
        db.query::<User>()
            .filter_by(User::username, "secret-value")
            .count()
            .await
    })
    .await;
    assert_eq!(count?, 0);
    assert!(
        info.contains("flaskdb::sql") && info.contains("SELECT COUNT(*)"),
        "{info}"
    );
    assert!(
        !info.contains("secret-value"),
        "parameters only at debug level: {info}"
    );
    let (_, debug) = capture(
        tracing::Level::DEBUG,
        db.query::<User>()
            .filter_by(User::username, "secret-value")
            .count(),
    )
    .await;
    assert!(debug.contains("secret-value"), "{debug}");
    for text in [&info, &debug, &format!("{db:?}")] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    Ok(())
}

/// With `hide_parameters`, a bound value shows in none of the echo log, the recorded
/// queries, the database's errors (MariaDB's duplicate entry, PostgreSQL's invalid
/// input) and the axum handler's log; without it, it shows in each of them (in errors
/// where the backend's message quotes values: not SQLite's).
#[case(needs(LastInsertId))]
async fn hide_parameters_keeps_values_out_of_logs_recordings_and_errors(t: TestDb) -> TestResult {
    use axum::response::IntoResponse;
    const SECRET: &str = "alice-s3cret@example.com";
    let postgres = t.backend == Backend::Postgres;
    let placeholder = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    for hide in [false, true] {
        let config = t.config().echo(true).record_queries(true);
        let db = Db::connect(config.hide_parameters(hide)).await?;
        let table = if hide { "hp_hidden" } else { "hp_shown" };
        let create = format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE)"
        );
        db.execute(AssertSqlSafe(create), vec![]).await?;
        let insert = format!(
            "INSERT INTO {table} (id, email) VALUES ({}, {})",
            placeholder(1),
            placeholder(2)
        );
        let row = |id: i64| vec![Value::from(id), Value::from(SECRET)];
        let (outcome, logs) = capture(
            tracing::Level::DEBUG,
            db.scope(async {
                db.execute(AssertSqlSafe(insert.as_str()), row(1)).await?;
                let mut errors = vec![
                    db.execute(AssertSqlSafe(insert.as_str()), row(2))
                        .await
                        .expect_err("duplicate"),
                ];
                if postgres {
                    let cast = db.execute("SELECT CAST($1 AS INTEGER)", vec![Value::from(SECRET)]);
                    errors.push(cast.await.expect_err("not an integer"));
                }
                Ok::<_, Error>((errors, flaskdb::get_recorded_queries()))
            }),
        )
        .await;
        let (errors, recorded) = outcome?;
        assert!(
            matches!(errors[0], Error::UniqueViolation { .. }),
            "{:?}",
            errors[0]
        );
        let shown: Vec<String> = errors.iter().map(|e| format!("{e}")).collect();
        let errors_shown = shown.join("\n");
        let (_, handler_log) = capture(tracing::Level::ERROR, async {
            errors.into_iter().for_each(|e| drop(e.into_response()));
        })
        .await;
        let inserts: Vec<_> = recorded.iter().filter(|q| q.statement == insert).collect();
        assert_eq!(inserts.len(), 2);
        let recorded_values = format!("{:?}", inserts[0].parameters);
        let quoted_by_backend = t.backend != Backend::Sqlite;
        let wrong: Vec<_> = [
            ("echo", &logs, !hide),
            ("recording", &recorded_values, !hide),
            ("error", &errors_shown, !hide && quoted_by_backend),
            ("axum log", &handler_log, !hide && quoted_by_backend),
        ]
        .into_iter()
        .filter(|(_, text, shows)| text.contains(SECRET) != *shows)
        .collect();
        assert!(
            wrong.is_empty(),
            "hide={hide}, the value shows wrongly in {wrong:#?}"
        );
        if hide {
            let hidden = Value::from(flaskdb::HIDDEN_PARAMETERS);
            assert_eq!(inserts[0].parameters, [hidden.clone(), hidden]);
            assert!(logs.contains(flaskdb::HIDDEN_PARAMETERS), "{logs}");
            assert!(
                shown.iter().all(|e| e.contains(flaskdb::HIDDEN_PARAMETERS)),
                "{shown:?}"
            );
        }
    }
    Ok(())
}

/// One signal as a test sees it: which one, and each change's operation and username.
type Signal = (&'static str, Vec<(Operation, Option<String>)>);
type Seen = Arc<Mutex<Vec<Signal>>>;

fn listen(db: &Db) -> Seen {
    let seen: Seen = Arc::default();
    let describe = |changes: &[flaskdb::Change]| {
        changes
            .iter()
            .map(|c| (c.operation, c.model::<User>().map(|u| u.username.clone())))
            .collect::<Vec<_>>()
    };
    let before = seen.clone();
    db.on_before_models_committed(move |changes| {
        before.lock().unwrap().push(("before", describe(changes)))
    });
    let after = seen.clone();
    db.on_models_committed(move |changes| after.lock().unwrap().push(("after", describe(changes))));
    seen
}

fn take(seen: &Seen) -> Vec<Signal> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[case(needs(LastInsertId))]
async fn signals_on_commit(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().track_modifications(true)).await?;
    db.create_all().await?;
    let seen = listen(&db);
    let mut s = db.session();
    s.add(user("item"));
    assert!(take(&seen).is_empty(), "nothing before the commit");
    s.flush().await?;
    assert!(take(&seen).is_empty(), "a flush only records");
    s.commit().await?;
    let insert = vec![(Operation::Insert, Some("item".to_string()))];
    assert_eq!(take(&seen), [("before", insert.clone()), ("after", insert)]);

    let mut item = s
        .query::<User>()
        .filter_by(User::username, "item")
        .one()
        .await?;
    item.username = "renamed".into();
    s.add(&item);
    s.commit().await?;
    let update = vec![(Operation::Update, Some("renamed".to_string()))];
    assert_eq!(take(&seen), [("before", update.clone()), ("after", update)]);

    let item = s.query::<User>().get(item.id).await?.unwrap();
    s.delete(&item);
    s.commit().await?;
    let delete = vec![(Operation::Delete, Some("renamed".to_string()))];
    assert_eq!(take(&seen), [("before", delete.clone()), ("after", delete)]);

    // An empty commit and a bulk update send nothing.
    s.commit().await?;
    db.query::<User>().update(User::bio.set("bulk")).await?;
    assert!(take(&seen).is_empty());

    // Insert, flush, update, commit: two changes, as in Flask-SQLAlchemy.
    let mut fresh = s.insert(user("fresh")).await?;
    fresh.bio = Some("x".into());
    s.add(&fresh);
    s.commit().await?;
    let events = take(&seen);
    let ops: Vec<Operation> = events[1].1.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops, [Operation::Insert, Operation::Update]);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn no_signals_after_rollback_or_when_off(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().track_modifications(true)).await?;
    db.create_all().await?;
    let seen = listen(&db);
    let mut s = db.session();
    s.add(user("gone"));
    s.flush().await?;
    s.rollback().await?;
    s.commit().await?;
    assert!(
        take(&seen).is_empty(),
        "flushed then rolled back: never signalled"
    );
    // A failed flush signals nothing and keeps nothing for later.
    s.add(user("dup"));
    s.commit().await?;
    take(&seen);
    s.add(User::build().username("dup").email("other@x"));
    assert!(s.commit().await.is_err());
    assert!(take(&seen).is_empty());
    s.rollback().await?;
    // With track_modifications off, handlers never run.
    let off = t.with_tables().await?;
    let quiet = listen(&off);
    let mut s = off.session();
    s.add(user("quiet"));
    s.commit().await?;
    assert!(take(&quiet).is_empty());
    Ok(())
}
