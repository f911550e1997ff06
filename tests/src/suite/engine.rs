//! Driver defaults and engine options, read back from the live pools.

use std::time::Duration;

use flaskdb::{Backend, Db, EngineOptions};

use crate::{Case, TestDb, TestResult, cases};

pub fn cases() -> Vec<Case> {
    cases!("engine"; driver_defaults_and_overrides)
}

async fn driver_defaults_and_overrides(t: TestDb) -> TestResult {
    let engine = t.db.engine()?;
    assert_eq!(engine.backend(), t.backend);
    assert!(
        engine.supports_returning(),
        "SQLite, PostgreSQL and MariaDB 10.5+ return rows"
    );
    assert_eq!(format!("{:?}", t.db), format!("<Db {}>", engine.url()));
    if t.backend == Backend::MySql {
        let pool = engine.as_mysql().unwrap();
        assert_eq!(
            pool.options().get_max_lifetime(),
            Some(Duration::from_secs(7200))
        );
        let (charset,): (String,) =
            sqlx::query_as("SELECT CAST(@@character_set_connection AS CHAR)")
                .fetch_one(pool)
                .await?;
        assert_eq!(charset, "utf8mb4");
        // Engine options override the driver default.
        let options = EngineOptions::default().max_lifetime(Duration::from_secs(60));
        let db = Db::connect(t.config().engine_options(options)).await?;
        let lifetime = db
            .engine()?
            .as_mysql()
            .unwrap()
            .options()
            .get_max_lifetime();
        assert_eq!(lifetime, Some(Duration::from_secs(60)));
    }
    Ok(())
}
