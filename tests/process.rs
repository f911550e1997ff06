//! Cases that touch process-wide state (the global default context, a model on a named
//! bind), kept out of the backend suite so they cannot disturb its parallel cases. One
//! case puts the `analytics` bind on PostgreSQL; it is ignored, with a printed notice,
//! when `FLASKDB_TEST_POSTGRES_URL` is not set.

#![allow(clippy::unwrap_used, missing_docs)]

use flaskdb::prelude::*;
use flaskdb::{AssertSqlSafe, Backend, Error};

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

async fn global_default_is_the_fallback_context() {
    assert!(matches!(Note::query().count().await, Err(Error::NoContext)));
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    db.create_all().await.unwrap();
    flaskdb::set_global_default(db.clone());
    assert_eq!(Note::query().count().await.unwrap(), 0);
    // Queries fall back to it; the session does not: one session outside every scope
    // would be shared by every task of the process.
    let mut outside = flaskdb::session();
    outside.add(Note::build().text("from a task"));
    let err = outside.commit().await.unwrap_err();
    assert!(matches!(err, Error::NoScope), "{err}");
    assert!(err.to_string().contains("db.scope"), "{err}");
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

async fn joins_across_binds_are_refused() {
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", "sqlite::memory:"))
        .await
        .unwrap();
    db.create_all().await.unwrap();
    let err = db
        .select::<(Note, Event)>()
        .join_on::<Event>(Event::id.eq_col(Note::id))
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    assert!(err.to_string().contains("one database"), "{err}");
}

/// `DbLayer` (here under `route_layer`): each request gets its own scope, whose
/// uncommitted work is rolled back and whose recorded queries are its own.
async fn each_request_runs_in_its_own_scope() {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let db = Db::connect(
        Config::new("sqlite::memory:")
            .bind("analytics", "sqlite::memory:")
            .record_queries(true),
    )
    .await
    .unwrap();
    db.create_all().await.unwrap();
    let app = Router::new()
        .route(
            "/add",
            get(|| async {
                flaskdb::session().add(Note::build().text("never committed"));
                flaskdb::session().flush().await?;
                let n = Note::query().count().await?;
                Ok::<_, Error>(n.to_string())
            }),
        )
        .route(
            "/count",
            get(|| async {
                let n = Note::query().count().await?;
                Ok::<_, Error>(format!("{n} {}", flaskdb::get_recorded_queries().len()))
            }),
        )
        .route_layer(flaskdb::axum::DbLayer::new(db.clone()));
    let call = |uri: &'static str| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    assert_eq!(
        call("/add").await,
        "1",
        "the request sees its own flushed row"
    );
    assert_eq!(
        call("/count").await,
        "0 1",
        "rolled back at the end of the request; one query recorded"
    );
    assert_eq!(call("/count").await, "0 1", "each request records its own");
}

async fn engine_options_take_precedence_lowest_first() {
    use std::time::Duration;
    let config = Config::new("sqlite::memory:")
        .engine_options(
            flaskdb::EngineOptions::default()
                .max_connections(7)
                .acquire_timeout(Duration::from_secs(3)),
        )
        .bind_with(
            "analytics",
            flaskdb::BindConfig::new("sqlite::memory:").engine_options(
                flaskdb::EngineOptions::default()
                    .max_connections(2)
                    .idle_timeout(Duration::from_secs(9))
                    .test_before_acquire(true),
            ),
        );
    let db = Db::connect(config).await.unwrap();
    let default = db.engine().unwrap();
    let default = default.as_sqlite().unwrap().options();
    assert_eq!(default.get_max_connections(), 7);
    assert_eq!(default.get_acquire_timeout(), Duration::from_secs(3));
    assert!(
        !default.get_test_before_acquire(),
        "no ping before a statement where nobody asked for one (pool_pre_ping's default)"
    );
    let bind = db.engine_for(Some("analytics")).unwrap();
    let bind = bind.as_sqlite().unwrap().options();
    assert_eq!(bind.get_max_connections(), 2, "the bind's own option wins");
    assert_eq!(
        bind.get_acquire_timeout(),
        Duration::from_secs(3),
        "inherited from the config"
    );
    assert_eq!(bind.get_idle_timeout(), Some(Duration::from_secs(9)));
    assert!(bind.get_test_before_acquire(), "the bind's own option wins");
    // Each bind has its own engine, and each in-memory database is its own.
    db.create_all_for(&[None]).await.unwrap();
    assert_eq!(db.engines().unwrap().len(), 2);
    assert!(
        db.query::<Event>().count().await.is_err(),
        "analytics has no tables yet"
    );
}

/// The `analytics` bind on PostgreSQL, the default bind on SQLite: one `Db`, one session.
async fn sqlite_and_postgres_binds_in_one_db(base: String) {
    let admin = Db::connect(Config::new(base.clone())).await.unwrap();
    let schema = format!("flaskdb_binds_{}", std::process::id());
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")), vec![])
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let pg = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let db = Db::connect(Config::new("sqlite::memory:").bind("analytics", pg))
        .await
        .unwrap();
    assert_eq!(
        db.engine_for(Some("analytics")).unwrap().backend(),
        Backend::Postgres
    );
    db.create_all().await.unwrap();
    let mut s = db.session();
    s.add(Note::build().text("sqlite"));
    s.add(Event::build().name("postgres"));
    s.commit().await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM event")
        .fetch_one(
            db.engine_for(Some("analytics"))
                .unwrap()
                .as_postgres()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        tables_of(&db, None).await,
        ["note"],
        "only the note table is on SQLite"
    );
    db.drop_all_for(&[Some("analytics")]).await.unwrap();
    let (left,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(
        db.engine_for(Some("analytics"))
            .unwrap()
            .as_postgres()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(left, 0);
    admin
        .execute(
            AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")),
            vec![],
        )
        .await
        .unwrap();
}

fn main() -> std::process::ExitCode {
    use libtest_mimic::{Arguments, Failed, Trial};
    fn trial<F: std::future::Future<Output = ()> + Send + 'static>(
        name: &str,
        make: impl FnOnce() -> F + Send + 'static,
    ) -> Trial {
        Trial::test(name, move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Failed::from(e.to_string()))?;
            rt.block_on(async move { tokio::spawn(make()).await })
                .map_err(|e| Failed::from(e.to_string()))
        })
    }
    let pg = std::env::var("FLASKDB_TEST_POSTGRES_URL").ok();
    if pg.is_none() {
        println!(
            "note: process::sqlite_and_postgres_binds_in_one_db is skipped because \
             FLASKDB_TEST_POSTGRES_URL is not set"
        );
    }
    let trials = vec![
        trial(
            "global_default_is_the_fallback_context",
            global_default_is_the_fallback_context,
        ),
        trial(
            "a_model_on_an_unconfigured_bind_is_an_error_naming_it",
            a_model_on_an_unconfigured_bind_is_an_error_naming_it,
        ),
        trial("each_model_lives_on_its_bind", each_model_lives_on_its_bind),
        trial(
            "uninitialized_and_misconfigured_handles_fail_clearly",
            uninitialized_and_misconfigured_handles_fail_clearly,
        ),
        trial(
            "relative_sqlite_paths_resolve_under_the_instance_path",
            relative_sqlite_paths_resolve_under_the_instance_path,
        ),
        trial(
            "one_session_commits_on_several_binds",
            one_session_commits_on_several_binds,
        ),
        trial(
            "joins_across_binds_are_refused",
            joins_across_binds_are_refused,
        ),
        trial(
            "each_request_runs_in_its_own_scope",
            each_request_runs_in_its_own_scope,
        ),
        trial(
            "engine_options_take_precedence_lowest_first",
            engine_options_take_precedence_lowest_first,
        ),
        trial("sqlite_and_postgres_binds_in_one_db", {
            let pg = pg.clone().unwrap_or_default();
            move || sqlite_and_postgres_binds_in_one_db(pg)
        })
        .with_ignored_flag(pg.is_none()),
    ];
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}
