//! One cell of the benchmark, one side, repeated: for a profiler, not a timer.
//!
//! ```text
//! cell <flaskdb|sqlx> <trivial|insert> <url> <rows> <iterations>
//! valgrind --tool=callgrind target/release/cell flaskdb trivial sqlite::memory: 1 2000
//! ```
//!
//! `trivial` fills `users` (diesel_bench's table) with `rows` rows, then reads them all
//! `iterations` times: with flaskdb's `db.query::<User>().all()` on its default pool,
//! as benches/ runs it, or with sqlx's `query_as` on a plain connection. `insert` adds
//! `rows` users `iterations` times: through a session and its commit, or with sqlx's
//! multi-row INSERT in a transaction. Run under callgrind, each side's
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

/// The table and `rows` rows, in one statement each (the backend's own key type).
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

/// The sqlx side on a plain connection of type `$conn`: the rows read or written.
macro_rules! raw {
    ($db:ty, $workload:expr, $url:expr, $rows:expr, $iterations:expr) => {{
        let mut conn = <<$db as sqlx::Database>::Connection>::connect($url).await?;
        let read = $workload == "trivial";
        for sql in setup($url, if read { $rows } else { 0 }) {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
        }
        let mut total = 0;
        for _ in 0..$iterations {
            if read {
                let users: Vec<(i64, String, Option<String>)> =
                    sqlx::query_as(SELECT).fetch_all(&mut conn).await?;
                total += users.len();
            } else {
                let mut tx = conn.begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO users (name, hair_color) ");
                q.push_values(0..$rows, |mut b, i| {
                    b.push_bind(format!("User {i}")).push_bind("black");
                });
                total += q.build().execute(&mut *tx).await?.rows_affected() as usize;
                tx.commit().await?;
            }
        }
        total
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, side, workload, url, rows, iterations] = args.as_slice() else {
        anyhow::bail!("usage: cell <flaskdb|sqlx> <trivial|insert> <url> <rows> <iterations>");
    };
    anyhow::ensure!(
        ["trivial", "insert"].contains(&workload.as_str()),
        "unknown workload `{workload}`: trivial or insert"
    );
    let (rows, iterations): (usize, usize) = (rows.parse()?, iterations.parse()?);
    let total = match side.as_str() {
        "flaskdb" => {
            let db = Db::connect(Config::new(url.clone())).await?;
            let read = workload == "trivial";
            for sql in setup(url, if read { rows } else { 0 }) {
                db.execute(AssertSqlSafe(sql), vec![]).await?;
            }
            let mut total = 0;
            for _ in 0..iterations {
                if read {
                    total += db.query::<User>().all().await?.len();
                } else {
                    let mut session = db.session();
                    for i in 0..rows {
                        session.add(User::build().name(format!("User {i}")).hair_color("black"));
                    }
                    session.commit().await?;
                    total += rows;
                }
            }
            total
        }
        "sqlx" if url.starts_with("postgres") => {
            raw!(sqlx::Postgres, workload, url, rows, iterations)
        }
        "sqlx" if url.starts_with("mysql") => raw!(sqlx::MySql, workload, url, rows, iterations),
        "sqlx" => raw!(sqlx::Sqlite, workload, url, rows, iterations),
        other => anyhow::bail!("unknown side `{other}`: flaskdb or sqlx"),
    };
    anyhow::ensure!(
        total == rows * iterations,
        "{total} rows instead of {}",
        rows * iterations
    );
    println!("{side}: {iterations} × {workload} of {rows} rows");
    Ok(())
}
