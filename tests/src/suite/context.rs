//! The scoped context: `Model::query()` without passing a db.

use flaskdb::{Config, Db, Error, Model};

use crate::models::*;
use crate::{TestDb, TestResult, case, exec};

#[case]
pub async fn query_outside_any_scope_is_no_context(_t: TestDb) -> TestResult {
    // This binary never sets a global default (that is tested in its own binary).
    let e = User::query().all().await.unwrap_err();
    assert!(matches!(e, Error::NoContext));
    assert!(
        e.to_string().contains("db.scope"),
        "the message says how to fix it: {e}"
    );
    Ok(())
}

#[case]
pub async fn scope_provides_the_db(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    exec(
        &t,
        r#"INSERT INTO "user" ("username", "email") VALUES (?, ?)"#,
        vec!["s".into(), "s@s".into()],
    )
    .await?;
    let found =
        t.db.scope(async { User::query().filter_by(User::username, "s").one().await })
            .await?;
    assert_eq!(found.email, "s@s");
    Ok(())
}

#[case]
pub async fn concurrent_scopes_stay_separate(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let other = Db::connect(Config::new("sqlite::memory:")).await?;
    other.create_all().await?;
    other
        .execute(
            "INSERT INTO \"user\" (username, email) VALUES ('o1', 'o1'), ('o2', 'o2')",
            vec![],
        )
        .await?;
    let (a, b) = tokio::join!(
        t.db.scope(async {
            tokio::task::yield_now().await;
            User::query().count().await
        }),
        other.scope(async {
            tokio::task::yield_now().await;
            User::query().count().await
        }),
    );
    assert_eq!((a?, b?), (0, 2));
    Ok(())
}

#[case]
pub async fn nested_scopes_shadow_and_restore(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let inner = Db::connect(Config::new("sqlite::memory:")).await?;
    inner.create_all().await?;
    inner
        .execute(
            "INSERT INTO \"user\" (username, email) VALUES ('i', 'i')",
            vec![],
        )
        .await?;
    let counts =
        t.db.scope(async {
            let before = User::query().count().await?;
            let nested = inner.scope(async { User::query().count().await }).await?;
            let after = User::query().count().await?;
            Ok::<_, Error>((before, nested, after))
        })
        .await?;
    assert_eq!(counts, (0, 1, 0));
    Ok(())
}

#[case]
pub async fn spawned_tasks_need_in_current_scope(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let (plain, carried) =
        t.db.scope(async {
            let plain = tokio::spawn(async { User::query().count().await }).await;
            let carried = tokio::spawn(flaskdb::in_current_scope(async {
                User::query().count().await
            }))
            .await;
            (plain, carried)
        })
        .await;
    assert!(matches!(plain?, Err(Error::NoContext)));
    assert_eq!(carried??, 0);
    Ok(())
}
