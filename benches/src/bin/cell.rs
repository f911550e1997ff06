//! One cell of the benchmark, one side, repeated: for a profiler, not a timer.
//!
//! ```text
//! cell <flaskdb|sqlx> <url> <rows> <iterations>
//! valgrind --tool=callgrind target/release/cell flaskdb sqlite::memory: 1 2000
//! ```
//!
//! Fills `users` (diesel_bench's table) with `rows` rows, then reads them all
//! `iterations` times: with flaskdb's `db.query::<User>().all()` on its default pool, as benches/ runs it, or
//! with sqlx's `query_as` on a plain connection. Run under callgrind, each side's
//! instruction count divided by the iterations is its cost per statement, in every
//! thread (sqlx-sqlite's worker included); the difference, annotated, is where
//! flaskdb's extra time goes.

use flaskdb::{AssertSqlSafe, Config, Db, Model};
use sqlx::Connection;

/// A user (diesel_bench's `users`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "users")]
struct User {
    id: i64,
    #[model(max_length = 50)]
    name: String,
    #[model(max_length = 50)]
    hair_color: Option<String>,
}

const SELECT: &str = "SELECT id, name, hair_color FROM users";

/// The table and its rows, in one statement each (the backend's own key type).
fn setup(url: &str, rows: usize) -> Vec<String> {
    let key = if url.starts_with("postgres") {
        "BIGSERIAL PRIMARY KEY"
    } else if url.starts_with("mysql") {
        "BIGINT AUTO_INCREMENT PRIMARY KEY"
    } else {
        "INTEGER PRIMARY KEY"
    };
    let mut out = vec![
        "DROP TABLE IF EXISTS users".to_owned(),
        format!("CREATE TABLE users (id {key}, name VARCHAR(50) NOT NULL, hair_color VARCHAR(50))"),
    ];
    out.extend(
        (0..rows)
            .map(|i| format!("INSERT INTO users (name, hair_color) VALUES ('User {i}', 'black')")),
    );
    out
}

/// The sqlx side on a plain connection of type `$conn`: the rows read in all.
macro_rules! raw {
    ($conn:ty, $url:expr, $rows:expr, $iterations:expr) => {{
        let mut conn = <$conn>::connect($url).await?;
        for sql in setup($url, $rows) {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
        }
        let mut total = 0;
        for _ in 0..$iterations {
            let users: Vec<(i64, String, Option<String>)> =
                sqlx::query_as(SELECT).fetch_all(&mut conn).await?;
            total += users.len();
        }
        total
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, side, url, rows, iterations] = args.as_slice() else {
        anyhow::bail!("usage: cell <flaskdb|sqlx> <url> <rows> <iterations>");
    };
    let (rows, iterations): (usize, usize) = (rows.parse()?, iterations.parse()?);
    let mut total = 0;
    match side.as_str() {
        "flaskdb" => {
            let db = Db::connect(Config::new(url.clone())).await?;
            for sql in setup(url, rows) {
                db.execute(AssertSqlSafe(sql), vec![]).await?;
            }
            for _ in 0..iterations {
                total += db.query::<User>().all().await?.len();
            }
        }
        "sqlx" if url.starts_with("postgres") => {
            total = raw!(sqlx::PgConnection, url, rows, iterations);
        }
        "sqlx" if url.starts_with("mysql") => {
            total = raw!(sqlx::MySqlConnection, url, rows, iterations);
        }
        "sqlx" => total = raw!(sqlx::SqliteConnection, url, rows, iterations),
        other => anyhow::bail!("unknown side `{other}`: flaskdb or sqlx"),
    }
    anyhow::ensure!(total == rows * iterations, "read {total} rows");
    println!("{side}: {iterations} reads of {rows} rows");
    Ok(())
}
