//! The benchmark's tables, created afresh and filled by raw sqlx before the servers
//! start: `te_world` (10,000 rows) and `te_fortune` (TechEmpower's 12 fortunes). Their
//! names keep them apart from the test suites' tables.

use sqlx::AssertSqlSafe;

use crate::common::{FortuneRow, WORLD_ROWS, WorldRow, random_id};
use crate::sqlx_app::{RawPool, each_backend};

/// TechEmpower's fortunes, with their keys.
pub(crate) const FORTUNES: [(i32, &str); 12] = [
    (1, "fortune: No such file or directory"),
    (
        2,
        "A computer scientist is someone who fixes things that aren't broken.",
    ),
    (3, "After enough decimal places, nobody gives a damn."),
    (
        4,
        "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    ),
    (
        5,
        "A computer program does what you tell it to do, not what you want it to do.",
    ),
    (
        6,
        "Emacs is a nice operating system, but I prefer UNIX. \u{2014} Tom Christaensen",
    ),
    (7, "Any program that runs right is obsolete."),
    (
        8,
        "A list is only as strong as its weakest link. \u{2014} Donald Knuth",
    ),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (
        11,
        "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    ),
    (12, "フレームワークのベンチマーク"),
];

/// Drops and creates the two tables and fills them.
pub(crate) async fn setup(pool: &RawPool) -> anyhow::Result<()> {
    let table_options = match pool {
        RawPool::MySql(_) => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        _ => "",
    };
    let mut statements = vec![
        "DROP TABLE IF EXISTS te_world".to_owned(),
        "DROP TABLE IF EXISTS te_fortune".to_owned(),
        format!(
            "CREATE TABLE te_world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL){table_options}"
        ),
        format!(
            "CREATE TABLE te_fortune (id INTEGER PRIMARY KEY, message VARCHAR(2048) NOT NULL){table_options}"
        ),
    ];
    // Integers and fixed texts only: written into the statements, quotes doubled.
    for chunk in (1..=WORLD_ROWS).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|id| format!("({id}, {})", random_id()))
            .collect();
        statements.push(format!(
            "INSERT INTO te_world (id, randomnumber) VALUES {}",
            values.join(", ")
        ));
    }
    let values: Vec<String> = FORTUNES
        .iter()
        .map(|(id, message)| format!("({id}, '{}')", message.replace('\'', "''")))
        .collect();
    statements.push(format!(
        "INSERT INTO te_fortune (id, message) VALUES {}",
        values.join(", ")
    ));
    each_backend!(pool, p, _sql => {
        for statement in statements {
            sqlx::query(AssertSqlSafe(statement)).execute(p).await?;
        }
    });
    Ok(())
}

/// The worlds with these keys, as stored now (to check that an update was written).
pub(crate) async fn worlds(pool: &RawPool, ids: &[i32]) -> anyhow::Result<Vec<WorldRow>> {
    let mut out = Vec::with_capacity(ids.len());
    each_backend!(pool, p, sql => {
        for id in ids {
            out.push(sqlx::query_as::<_, WorldRow>(sql.world).bind(id).fetch_one(p).await?);
        }
    });
    Ok(out)
}

/// The stored fortunes, by key.
pub(crate) async fn fortunes(pool: &RawPool) -> anyhow::Result<Vec<FortuneRow>> {
    let mut rows = each_backend!(pool, p, sql => {
        sqlx::query_as::<_, FortuneRow>(sql.fortunes).fetch_all(p).await?
    });
    rows.sort_by_key(|f| f.id);
    Ok(rows)
}
