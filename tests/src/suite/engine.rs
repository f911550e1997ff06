//! Driver defaults and engine options, read back from the live pools.

use std::time::Duration;

use flaskdb::{Backend, Config, Db, EngineOptions, Error};

use crate::{TestDb, TestResult, case};

#[case]
async fn engine_options_override_the_driver_defaults(t: TestDb) -> TestResult {
    let engine = t.db.engine()?;
    assert_eq!(engine.backend(), t.backend);
    assert!(
        engine.supports_returning(),
        "SQLite, PostgreSQL and MariaDB 10.5+ return rows"
    );
    assert_eq!(format!("{:?}", t.db), format!("<Db {}>", engine.url()));
    let options = EngineOptions::default().max_lifetime(Duration::from_secs(60));
    let db = Db::connect(t.config().engine_options(options)).await?;
    assert_eq!(max_lifetime(&db)?, Some(Duration::from_secs(60)));
    Ok(())
}

/// The MySQL driver's defaults, as Flask-SQLAlchemy's: the utf8mb4 character set, and
/// connections recycled after two hours.
#[case(needs(MySqlDriverDefaults))]
async fn the_mysql_driver_sets_its_defaults(t: TestDb) -> TestResult {
    assert_eq!(max_lifetime(&t.db)?, Some(Duration::from_secs(7200)));
    let pool = t.db.engine()?.as_mysql().unwrap().clone();
    let (charset,): (String,) = sqlx::query_as("SELECT CAST(@@character_set_connection AS CHAR)")
        .fetch_one(&pool)
        .await?;
    assert_eq!(charset, "utf8mb4");
    Ok(())
}

/// The `max_lifetime` of `db`'s pool, read back from sqlx.
fn max_lifetime(db: &Db) -> anyhow::Result<Option<Duration>> {
    let engine = db.engine()?;
    Ok(match engine.backend() {
        Backend::Sqlite => engine.as_sqlite().unwrap().options().get_max_lifetime(),
        Backend::Postgres => engine.as_postgres().unwrap().options().get_max_lifetime(),
        Backend::MySql => engine.as_mysql().unwrap().options().get_max_lifetime(),
    })
}

/// `p@ss:w/rd%40`, percent-encoded for a URL.
const PASSWORD: &str = "p%40ss%3Aw%2Frd%2540";

/// `Db::connect` fails at once with the driver's own cause: a login the server rejects
/// (a user it does not know), or a SQLite file that cannot be opened.
#[case]
async fn connect_errors_name_the_server_and_the_cause(t: TestDb) -> TestResult {
    let url = match t.backend {
        Backend::Sqlite => "sqlite:///nonexistent-dir/for/sure/app.db?mode=rw".to_owned(),
        _ => {
            let (scheme, rest) = t.url.split_once("://").unwrap();
            let host = rest.split_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://flaskdb_nobody:{PASSWORD}@{host}")
        }
    };
    let e = Db::connect(Config::new(url)).await.unwrap_err();
    let shown = format!("{e} / {e:?}");
    let Error::Connect { server, source, .. } = &e else {
        panic!("not a connect error: {shown}");
    };
    assert!(matches!(source, sqlx::Error::Database(_)), "{shown}");
    match server {
        // PostgreSQL: the role does not exist; MariaDB: access denied for the user.
        Some(server) => assert!(
            e.to_string().contains(server.as_str()) && shown.contains("flaskdb_nobody"),
            "{shown}"
        ),
        None => assert!(shown.contains("unable to open database file"), "{shown}"),
    }
    assert!(
        !shown.contains(PASSWORD) && !shown.contains("p@ss"),
        "{shown}"
    );
    Ok(())
}
