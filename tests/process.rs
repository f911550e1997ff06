//! Cases that touch process-wide state (the global default context, a model on a named
//! bind), kept out of the backend suite so they cannot disturb its parallel cases.

#![allow(clippy::unwrap_used, missing_docs)]

use flaskdb::prelude::*;
use flaskdb::{Backend, Error};

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub text: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(bind = "analytics")]
pub struct Event {
    pub id: i64,
    pub name: String,
}

async fn tables_of(db: &Db, bind: Option<&str>) -> Vec<String> {
    let engine = db.engine_for(bind).unwrap();
    assert_eq!(engine.backend(), Backend::Sqlite);
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(engine.as_sqlite().unwrap())
    .await
    .unwrap();
    rows.into_iter().map(|(n,)| n).collect()
}

#[tokio::test]
async fn global_default_is_the_fallback_context() {
    assert!(matches!(Note::query().count().await, Err(Error::NoContext)));
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    db.create_all().await.unwrap();
    flaskdb::set_global_default(db.clone());
    assert_eq!(Note::query().count().await.unwrap(), 0);
    // Scopes still win over the global default.
    let other = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    let in_other = other.scope(async { Note::query().count().await }).await;
    assert!(
        in_other.is_err(),
        "the other db has no tables: the scope was used"
    );
    flaskdb::clear_global_default();
    assert!(matches!(Note::query().count().await, Err(Error::NoContext)));
}

#[tokio::test]
async fn a_model_on_an_unconfigured_bind_is_an_error_naming_it() {
    let db = Db::connect(Config::new("sqlite::memory:")).await.unwrap();
    let err = db.create_all().await.unwrap_err();
    assert!(
        matches!(&err, Error::UnknownBind(b) if b == "analytics"),
        "{err}"
    );
    assert!(err.to_string().contains("analytics"));
    assert!(matches!(
        db.engine_for(Some("analytics")),
        Err(Error::UnknownBind(_))
    ));
    let err = db.query::<Event>().all().await.unwrap_err();
    assert!(matches!(err, Error::UnknownBind(b) if b == "analytics"));
}

#[tokio::test]
async fn each_model_lives_on_its_bind() {
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    assert_eq!(format!("{db:?}"), "<Db sqlite::memory: +1 engines>");
    let names = |key| {
        db.tables_for_bind(key)
            .iter()
            .map(|t| t.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Some("analytics")), ["event"]);
    assert!(names(None).contains(&"note".to_owned()));

    db.create_all_for(&[Some("analytics")]).await.unwrap();
    assert_eq!(tables_of(&db, Some("analytics")).await, ["event"]);
    assert!(
        tables_of(&db, None).await.is_empty(),
        "the default bind was not touched"
    );

    db.create_all().await.unwrap();
    assert_eq!(tables_of(&db, None).await, ["note"]);
    assert_eq!(db.query::<Event>().count().await.unwrap(), 0);

    db.drop_all_for(&[None]).await.unwrap();
    assert!(tables_of(&db, None).await.is_empty());
    assert_eq!(tables_of(&db, Some("analytics")).await, ["event"]);
}

#[tokio::test]
async fn uninitialized_and_misconfigured_handles_fail_clearly() {
    let db = Db::new();
    assert_eq!(format!("{db:?}"), "<Db>");
    assert!(matches!(
        db.query::<Note>().all().await,
        Err(Error::NotInitialized)
    ));
    assert!(matches!(db.create_all().await, Err(Error::NotInitialized)));
    db.init(Config::new("sqlite::memory:")).await.unwrap();
    assert!(matches!(
        db.init(Config::new("sqlite::memory:")).await,
        Err(Error::AlreadyInitialized)
    ));

    let err = Db::connect(Config::without_default()).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    let err = Db::connect(Config::new("oracle://scott:tiger@db/x"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("tiger"), "{err}");
    let only_binds = Db::connect(Config::without_default().bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    assert_eq!(
        format!("{only_binds:?}"),
        "<Db (No default engine) +1 engines>"
    );
    assert!(matches!(only_binds.engine(), Err(Error::Config(_))));
}

#[tokio::test]
async fn relative_sqlite_paths_resolve_under_the_instance_path() {
    let dir = std::env::temp_dir().join(format!("flaskdb-instance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::connect(
        Config::new("sqlite://app.db")
            .instance_path(&dir)
            .bind("analytics", "sqlite::memory:"),
    )
    .await
    .unwrap();
    db.create_all().await.unwrap();
    assert!(
        dir.join("app.db").is_file(),
        "the instance path was created and holds app.db"
    );
    drop(db);
    // The file keeps the data: a new handle on the same path sees the table.
    let again = Db::connect(
        Config::new("sqlite://app.db")
            .instance_path(&dir)
            .bind("analytics", "sqlite::memory:"),
    )
    .await
    .unwrap();
    assert_eq!(again.query::<Note>().count().await.unwrap(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn one_session_commits_on_several_binds() {
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    db.create_all().await.unwrap();
    let mut s = db.session();
    s.add(Note::build().text("on the default bind"));
    s.add(Event::build().name("on analytics"));
    s.commit().await.unwrap();
    assert_eq!(db.query::<Note>().count().await.unwrap(), 1);
    assert_eq!(db.query::<Event>().count().await.unwrap(), 1);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM event")
        .fetch_one(
            db.engine_for(Some("analytics"))
                .unwrap()
                .as_sqlite()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1, "the event row is in the analytics database");
    s.add(Event::build().name("rolled back"));
    s.add(Note::build().text("rolled back"));
    s.flush().await.unwrap();
    s.rollback().await.unwrap();
    assert_eq!(db.query::<Event>().count().await.unwrap(), 1);
    assert_eq!(db.query::<Note>().count().await.unwrap(), 1);
}
