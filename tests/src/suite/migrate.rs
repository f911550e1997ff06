//! Migrations run against each backend: a chain up and down with rows in every table,
//! the version table's checks, failures, and concurrent upgrades.

use flaskdb::migrate::Migrations;
use flaskdb::{AssertSqlSafe, Backend, Db, Value};

use crate::{TestDb, TestResult, case};

/// The chain: each migration as (file name, text).
const CHAIN: [(&str, &str); 8] = [
    (
        "a1_authors.toml",
        r#"revision = "a1"
message = "authors"

[[upgrade]]
op = "create_table"
table = "authors"
columns = [
    { name = "id", type = "bigint", primary_key = true },
    { name = "name", type = "text", length = 80 },
]

[[downgrade]]
op = "drop_table"
table = "authors"
"#,
    ),
    (
        "b2_country.toml",
        r#"revision = "b2"
down_revision = "a1"
message = "a NOT NULL column with a default"

[[upgrade]]
op = "add_column"
table = "authors"
column = { name = "country", type = "text", length = 2, default = "'nl'" }

[[downgrade]]
op = "drop_column"
table = "authors"
column = "country"
"#,
    ),
    (
        "c3_books.toml",
        r#"revision = "c3"
down_revision = "b2"
message = "books, with a foreign key and an index"

[[upgrade]]
op = "create_table"
table = "books"
columns = [
    { name = "id", type = "bigint", primary_key = true },
    { name = "author_id", type = "bigint" },
    { name = "title", type = "text", length = 120 },
]
foreign_keys = [
    { columns = ["author_id"], references = "authors", ref_columns = ["id"], on_delete = "cascade" },
]

[[upgrade]]
op = "create_index"
table = "books"
name = "ix_books_title"
columns = ["title"]

[[downgrade]]
op = "drop_index"
table = "books"
name = "ix_books_title"

[[downgrade]]
op = "drop_table"
table = "books"
"#,
    ),
    (
        "d4_rename.toml",
        r#"revision = "d4"
down_revision = "c3"
message = "rename a column"

[[upgrade]]
op = "rename_column"
table = "authors"
column = "name"
to = "full_name"

[[downgrade]]
op = "rename_column"
table = "authors"
column = "full_name"
to = "name"
"#,
    ),
    (
        "e5_isbn.toml",
        r#"revision = "e5"
down_revision = "d4"
message = "a nullable column with a unique index, filled by SQL"

[[upgrade]]
op = "add_column"
table = "books"
column = { name = "isbn", type = "text", length = 20, nullable = true }

[[upgrade]]
op = "create_index"
table = "books"
name = "uq_books_isbn"
columns = ["isbn"]
unique = true

[[upgrade]]
op = "sql"
sql = ["UPDATE books SET isbn = 'isbn-' || CAST(id AS TEXT)"]
mysql = ["UPDATE books SET isbn = CONCAT('isbn-', id)"]

[[downgrade]]
op = "drop_index"
table = "books"
name = "uq_books_isbn"

[[downgrade]]
op = "drop_column"
table = "books"
column = "isbn"
"#,
    ),
    (
        "f6_drop.toml",
        r#"revision = "f6"
down_revision = "e5"
message = "drop a column"

[[upgrade]]
op = "drop_column"
table = "authors"
column = "country"

[[downgrade]]
op = "add_column"
table = "authors"
column = { name = "country", type = "text", length = 2, default = "'nl'" }
"#,
    ),
    (
        "g7_widen.toml",
        r#"revision = "g7"
down_revision = "f6"
message = "a longer, nullable title; a longer name in a table others reference"

[[upgrade]]
op = "alter_column"
table = "books"
from = { name = "title", type = "text", length = 120 }
to = { name = "title", type = "text", length = 200, nullable = true }

[[upgrade]]
op = "alter_column"
table = "authors"
from = { name = "full_name", type = "text", length = 80 }
to = { name = "full_name", type = "text", length = 100 }

[[upgrade]]
op = "add_column"
table = "books"
column = { name = "pages", type = "integer", default = "0" }

[[downgrade]]
op = "drop_column"
table = "books"
column = "pages"

[[downgrade]]
op = "alter_column"
table = "authors"
from = { name = "full_name", type = "text", length = 100 }
to = { name = "full_name", type = "text", length = 80 }

[[downgrade]]
op = "alter_column"
table = "books"
from = { name = "title", type = "text", length = 200, nullable = true }
to = { name = "title", type = "text", length = 120 }
"#,
    ),
    (
        "h8_retype.toml",
        r#"revision = "h8"
down_revision = "g7"
message = "a type change, with the values converted"

[[upgrade]]
op = "alter_column"
table = "books"
from = { name = "pages", type = "integer", default = "0" }
to = { name = "pages", type = "text", length = 10, default = "'0'" }

[[downgrade]]
op = "alter_column"
table = "books"
from = { name = "pages", type = "text", length = 10, default = "'0'" }
to = { name = "pages", type = "integer", default = "0" }
"#,
    ),
];

fn chain() -> Migrations {
    Migrations::from_sources(&CHAIN).unwrap()
}

/// Every row of `sql`'s result, each as its values: integers as `I64`, text as `Text`.
async fn rows(db: &Db, sql: &str) -> anyhow::Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    for row in db.fetch_all(AssertSqlSafe(sql.to_owned()), vec![]).await? {
        let mut values = Vec::new();
        for i in 0..row.columns().len() {
            let value = if let Ok(n) = row.get_at::<i64>(i) {
                Value::I64(n)
            } else if let Ok(n) = row.get_at::<i32>(i) {
                Value::I64(n.into())
            } else {
                match row.get_at::<Option<String>>(i)? {
                    Some(s) => Value::Text(s),
                    None => Value::Null(flaskdb::SqlType::Text),
                }
            };
            values.push(value);
        }
        out.push(values);
    }
    Ok(out)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

async fn exec(db: &Db, sql: &str) -> anyhow::Result<()> {
    db.execute(AssertSqlSafe(sql.to_owned()), vec![]).await?;
    Ok(())
}

#[case]
pub async fn a_chain_runs_up_and_down_keeping_every_row(t: TestDb) -> TestResult {
    let db = &t.db;
    let m = chain();
    let authors = "SELECT * FROM authors ORDER BY id";
    let books = "SELECT * FROM books ORDER BY id";

    assert_eq!(m.upgrade_bind(db, None, Some("a1")).await?, ["a1"]);
    exec(
        db,
        "INSERT INTO authors (id, name) VALUES (1, 'Ann'), (2, 'Bob')",
    )
    .await?;

    assert_eq!(m.upgrade_bind(db, None, Some("b2")).await?, ["b2"]);
    let nl = || text("nl");
    assert_eq!(
        rows(db, authors).await?,
        [
            vec![Value::I64(1), text("Ann"), nl()],
            vec![Value::I64(2), text("Bob"), nl()]
        ],
        "the rows there before the NOT NULL column got its default"
    );

    m.upgrade_bind(db, None, Some("c3")).await?;
    exec(
        db,
        "INSERT INTO books (id, author_id, title) VALUES (10, 1, 'Sea'), (11, 2, 'Sky')",
    )
    .await?;
    assert!(
        db.execute(
            AssertSqlSafe("INSERT INTO books (id, author_id, title) VALUES (12, 9, 'x')"),
            vec![]
        )
        .await
        .is_err(),
        "the foreign key refuses a book of no author"
    );

    m.upgrade_bind(db, None, Some("d4")).await?;
    let named = rows(db, "SELECT full_name FROM authors ORDER BY id").await?;
    assert_eq!(
        named,
        [vec![text("Ann")], vec![text("Bob")]],
        "renamed, values kept"
    );

    m.upgrade_bind(db, None, Some("e5")).await?;
    assert_eq!(
        rows(db, books).await?,
        [
            vec![Value::I64(10), Value::I64(1), text("Sea"), text("isbn-10")],
            vec![Value::I64(11), Value::I64(2), text("Sky"), text("isbn-11")]
        ]
    );
    assert!(
        db.execute(
            AssertSqlSafe("UPDATE books SET isbn = 'isbn-10' WHERE id = 11"),
            vec![]
        )
        .await
        .is_err(),
        "the unique index refuses a second isbn-10"
    );

    assert_eq!(m.upgrade_bind(db, None, Some("f6")).await?, ["f6"]);
    assert_eq!(m.current(db, None).await?.as_deref(), Some("f6"));
    assert_eq!(
        rows(db, authors).await?,
        [
            vec![Value::I64(1), text("Ann")],
            vec![Value::I64(2), text("Bob")]
        ]
    );

    // Altered columns: on SQLite both tables are rebuilt, `authors` while `books`
    // references it.
    assert_eq!(m.upgrade_bind(db, None, Some("g7")).await?, ["g7"]);
    let with_pages = [
        vec![
            Value::I64(10),
            Value::I64(1),
            text("Sea"),
            text("isbn-10"),
            Value::I64(0),
        ],
        vec![
            Value::I64(11),
            Value::I64(2),
            text("Sky"),
            text("isbn-11"),
            Value::I64(0),
        ],
    ];
    assert_eq!(
        rows(db, books).await?,
        with_pages,
        "no book lost in the rebuilds"
    );
    exec(
        db,
        "INSERT INTO books (id, author_id, title) VALUES (12, 1, NULL)",
    )
    .await?;
    let long = "x".repeat(100);
    exec(
        db,
        &format!("UPDATE authors SET full_name = '{long}' WHERE id = 2"),
    )
    .await?;
    exec(db, "UPDATE authors SET full_name = 'Bob' WHERE id = 2").await?;
    for refused in [
        "INSERT INTO books (id, author_id, title) VALUES (13, 9, 'x')",
        "UPDATE books SET isbn = 'isbn-10' WHERE id = 11",
    ] {
        assert!(
            db.execute(AssertSqlSafe(refused), vec![]).await.is_err(),
            "the rebuilt table kept its keys: {refused}"
        );
    }
    exec(db, "DELETE FROM books WHERE id = 12").await?;

    assert_eq!(m.upgrade_bind(db, None, None).await?, ["h8"]);
    assert_eq!(
        rows(db, "SELECT id, pages FROM books ORDER BY id").await?,
        [
            vec![Value::I64(10), text("0")],
            vec![Value::I64(11), text("0")]
        ],
        "the integers converted to text"
    );
    assert!(m.upgrade_bind(db, None, None).await?.is_empty(), "at head");
    assert_eq!(m.downgrade_bind(db, None, Some("f6")).await?, ["h8", "g7"]);
    assert_eq!(
        rows(db, books).await?,
        [
            vec![Value::I64(10), Value::I64(1), text("Sea"), text("isbn-10")],
            vec![Value::I64(11), Value::I64(2), text("Sky"), text("isbn-11")]
        ]
    );
    assert!(
        db.execute(
            AssertSqlSafe("INSERT INTO books (id, author_id, title) VALUES (12, 1, NULL)"),
            vec![]
        )
        .await
        .is_err(),
        "the title is NOT NULL again"
    );

    // Down, one step at a time, the rows checked after each.
    assert_eq!(m.downgrade_bind(db, None, None).await?, ["f6"]);
    assert_eq!(
        rows(db, "SELECT id, full_name, country FROM authors ORDER BY id").await?,
        [
            vec![Value::I64(1), text("Ann"), nl()],
            vec![Value::I64(2), text("Bob"), nl()]
        ]
    );
    assert_eq!(m.downgrade_bind(db, None, None).await?, ["e5"]);
    assert_eq!(
        rows(db, books).await?,
        [
            vec![Value::I64(10), Value::I64(1), text("Sea")],
            vec![Value::I64(11), Value::I64(2), text("Sky")]
        ]
    );
    assert_eq!(m.downgrade_bind(db, None, None).await?, ["d4"]);
    assert_eq!(
        rows(db, "SELECT id, name FROM authors ORDER BY id").await?,
        [
            vec![Value::I64(1), text("Ann")],
            vec![Value::I64(2), text("Bob")]
        ]
    );
    assert_eq!(m.downgrade_bind(db, None, Some("a1")).await?, ["c3", "b2"]);
    assert_eq!(
        rows(db, authors).await?,
        [
            vec![Value::I64(1), text("Ann")],
            vec![Value::I64(2), text("Bob")]
        ]
    );
    assert!(
        db.fetch_all(AssertSqlSafe(books), vec![]).await.is_err(),
        "books dropped"
    );
    assert_eq!(m.downgrade_bind(db, None, Some("base")).await?, ["a1"]);
    assert_eq!(m.current(db, None).await?, None);
    assert!(db.fetch_all(AssertSqlSafe(authors), vec![]).await.is_err());
    Ok(())
}

#[case]
pub async fn a_file_changed_after_it_was_applied_is_refused(t: TestDb) -> TestResult {
    let db = &t.db;
    chain().upgrade_bind(db, None, Some("b2")).await?;
    let mut changed = CHAIN;
    let edited = CHAIN[1].1.replace("'nl'", "'de'");
    changed[1].1 = &edited;
    let m = Migrations::from_sources(&changed)?;
    let err = m
        .upgrade_bind(db, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b2_country.toml") && err.contains("changed after it was applied"),
        "{err}"
    );
    assert!(m.current(db, None).await.is_err(), "current checks too");
    assert_eq!(chain().current(db, None).await?.as_deref(), Some("b2"));
    Ok(())
}

#[case]
pub async fn a_revision_the_files_do_not_have_is_refused(t: TestDb) -> TestResult {
    let db = &t.db;
    chain().upgrade_bind(db, None, Some("b2")).await?;
    let fewer = Migrations::from_sources(&CHAIN[..1])?;
    let err = fewer
        .upgrade_bind(db, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`b2`") && err.contains("no migration file has"),
        "{err}"
    );
    Ok(())
}

/// A migration whose second step fails: where DDL is transactional the first step is
/// rolled back with it; on MySQL it stays, and the version table says the migration
/// failed until the database is stamped.
#[case]
pub async fn a_failed_migration_stops_at_the_revision_before(t: TestDb) -> TestResult {
    let db = &t.db;
    let broken = r#"revision = "b2"
down_revision = "a1"

[[upgrade]]
op = "create_table"
table = "notes"
columns = [{ name = "id", type = "bigint", primary_key = true }]

[[upgrade]]
op = "sql"
sql = ["INSERT INTO no_such_table VALUES (1)"]

[[downgrade]]
op = "drop_table"
table = "notes"
"#;
    let m = Migrations::from_sources(&[CHAIN[0], ("b2_broken.toml", broken)])?;
    let err = m
        .upgrade_bind(db, None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b2_broken.toml") && err.contains("upgrade step 2"),
        "{err}"
    );
    let notes = db
        .fetch_all(AssertSqlSafe("SELECT * FROM notes"), vec![])
        .await;
    if t.backend == Backend::MySql {
        assert!(notes.is_ok(), "MySQL committed the CREATE TABLE by itself");
        let again = m
            .upgrade_bind(db, None, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            again.contains("`b2` failed") && again.contains("db stamp a1"),
            "{again}"
        );
        // Repaired by hand, stamped back, and upgraded with the fixed file.
        exec(db, "DROP TABLE notes").await?;
        m.stamp(db, None, "a1").await?;
        let fixed = broken.replace("INSERT INTO no_such_table VALUES (1)", "SELECT 1");
        let m = Migrations::from_sources(&[CHAIN[0], ("b2_fixed.toml", &fixed)])?;
        assert_eq!(m.upgrade_bind(db, None, None).await?, ["b2"]);
    } else {
        assert!(notes.is_err(), "the CREATE TABLE was rolled back");
        assert_eq!(m.current(db, None).await?.as_deref(), Some("a1"));
    }
    Ok(())
}

#[case]
pub async fn concurrent_upgrades_apply_each_migration_once(t: TestDb) -> TestResult {
    let db = &t.db;
    let counted = r#"revision = "a1"

[[upgrade]]
op = "create_table"
table = "runs"
columns = [{ name = "id", type = "bigint", primary_key = true, autoincrement = true }, { name = "n", type = "integer" }]

[[upgrade]]
op = "sql"
sql = ["INSERT INTO runs (n) VALUES (1)"]

[[downgrade]]
op = "drop_table"
table = "runs"
"#;
    let second = r#"revision = "b2"
down_revision = "a1"

[[upgrade]]
op = "sql"
sql = ["INSERT INTO runs (n) VALUES (2)"]

[[downgrade]]
op = "sql"
sql = ["DELETE FROM runs WHERE n = 2"]
"#;
    let m = Migrations::from_sources(&[("a1.toml", counted), ("b2.toml", second)])?;
    // Each run takes a connection of its own, as another process would; on a server,
    // from a pool of its own too (an in-memory SQLite database is its pool's alone).
    let other = match t.backend {
        Backend::Sqlite => db.clone(),
        _ => Db::connect(t.config()).await?,
    };
    let (a, b) = tokio::join!(
        m.upgrade_bind(db, None, None),
        m.upgrade_bind(&other, None, None)
    );
    let (a, b) = (a?, b?);
    let mut all = [a, b].concat();
    all.sort();
    assert_eq!(
        all,
        ["a1", "b2"],
        "each migration applied by one of the two"
    );
    assert_eq!(
        rows(db, "SELECT n FROM runs ORDER BY n").await?,
        [vec![Value::I64(1)], vec![Value::I64(2)]]
    );
    Ok(())
}

#[case]
pub async fn stamp_records_a_revision_without_running_it(t: TestDb) -> TestResult {
    let db = &t.db;
    let m = chain();
    exec(
        db,
        "CREATE TABLE authors (id BIGINT PRIMARY KEY, name VARCHAR(80) NOT NULL)",
    )
    .await?;
    m.stamp(db, None, "a1").await?;
    assert_eq!(m.current(db, None).await?.as_deref(), Some("a1"));
    assert_eq!(m.upgrade_bind(db, None, Some("b2")).await?, ["b2"]);
    let err = m
        .upgrade_bind(db, None, Some("a1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("use downgrade"), "{err}");
    m.stamp(db, None, "base").await?;
    assert_eq!(m.current(db, None).await?, None);
    assert!(m.stamp(db, None, "zz").await.is_err());
    Ok(())
}

/// Every step autogenerate would write, one per line (for a failure's message).
fn listed(diff: &flaskdb::migrate::Diff) -> String {
    diff.upgrade
        .iter()
        .map(|op| format!("{op:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The default bind's tables as the database has them, by name.
async fn reflected(db: &Db) -> anyhow::Result<Vec<flaskdb::Table>> {
    db.reflect_for(&[None]).await.ok();
    Ok(db.reflected(None).iter().map(|t| (**t).clone()).collect())
}

#[case]
pub async fn create_all_leaves_nothing_to_autogenerate(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let diff = flaskdb::migrate::compare(&db, None).await?;
    assert!(diff.is_empty(), "autogenerate found:\n{}", listed(&diff));
    Ok(())
}

/// Upgrading an empty database through the autogenerated migration gives the schema
/// `create_all` gives, after which autogenerate finds nothing; its steps down leave
/// the database empty again.
#[case]
pub async fn autogenerated_steps_build_what_create_all_builds(t: TestDb) -> TestResult {
    let db = &t.db;
    let diff = flaskdb::migrate::compare(db, None).await?;
    assert!(!diff.is_empty());
    let text = flaskdb::migrate::migration_text("a1", None, "every model", &[(None, &diff)]);
    let m = Migrations::from_sources(&[("a1_models.toml", &text)])?;
    m.upgrade(db).await?;
    let again = flaskdb::migrate::compare(db, None).await?;
    assert!(
        again.is_empty(),
        "after the upgrade, autogenerate found:\n{}",
        listed(&again)
    );

    // The same schema as create_all's, in a database of its own.
    let var = crate::server_var(t.backend);
    let base = var.and_then(|v| std::env::var(v).ok());
    let (url, scratch) = crate::scratch_database(t.backend, base.as_deref()).await?;
    let other = Db::connect(flaskdb::Config::new(url)).await?;
    other.create_all().await?;
    let (migrated, created) = (reflected(db).await?, reflected(&other).await?);
    drop(other);
    if let Some((admin, drop)) = scratch {
        admin.execute(AssertSqlSafe(drop), vec![]).await?;
    }
    assert_eq!(migrated.len(), created.len());
    for (a, b) in migrated.iter().zip(&created) {
        assert_eq!(a, b, "table `{}` differs from create_all's", b.name());
    }

    m.downgrade_bind(db, None, Some("base")).await?;
    assert!(
        reflected(db).await?.is_empty(),
        "the steps down dropped every table"
    );
    Ok(())
}

/// A table and a column the models say were renamed (`renamed_from`) are renamed by
/// the autogenerated migration, keeping their rows, not dropped and made anew.
#[case]
pub async fn renamed_from_renames_keeping_the_rows(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    exec(&db, "INSERT INTO article (id, title) VALUES (1, 'kept')").await?;
    // The database as it was before the renames.
    exec(&db, "ALTER TABLE article RENAME TO story").await?;
    exec(&db, "ALTER TABLE story RENAME COLUMN title TO headline").await?;
    let diff = flaskdb::migrate::compare(&db, None).await?;
    let steps: Vec<String> = diff.upgrade.iter().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        [
            "rename table story to article",
            "rename column article.headline to title"
        ]
    );
    assert!(diff.destructive.is_empty());
    let file = flaskdb::migrate::migration_text("a1", None, "renames", &[(None, &diff)]);
    let m = Migrations::from_sources(&[("a1_renames.toml", &file)])?;
    m.upgrade(&db).await?;
    assert_eq!(
        rows(&db, "SELECT id, title FROM article").await?,
        [vec![Value::I64(1), text("kept")]]
    );
    assert!(flaskdb::migrate::compare(&db, None).await?.is_empty());
    m.downgrade_bind(&db, None, Some("base")).await?;
    assert_eq!(
        rows(&db, "SELECT id, headline FROM story").await?,
        [vec![Value::I64(1), text("kept")]]
    );
    Ok(())
}

/// `stock_move`'s foreign key over two columns dropped, and `sku` widened: on SQLite
/// a rebuild, which must keep the table's CHECK and indexes.
const WIDEN: &str = r#"revision = "c1"
message = "widen sku"

[[upgrade]]
op = "drop_foreign_key"
table = "stock_move"
name = "fk_stock_move_shop_stock"

[[upgrade]]
op = "alter_column"
table = "stock"
from = { name = "sku", type = "text", length = 40 }
to = { name = "sku", type = "text", length = 60 }

[[downgrade]]
op = "alter_column"
table = "stock"
from = { name = "sku", type = "text", length = 60 }
to = { name = "sku", type = "text", length = 40 }

[[downgrade]]
op = "create_foreign_key"
table = "stock_move"
name = "fk_stock_move_shop_stock"
foreign_key = { columns = ["shop", "sku"], references = "stock", ref_columns = ["shop", "sku"], on_delete = "cascade" }
"#;

/// The CHECK and the unique pair of `stock` dropped by name, and made again on the
/// way down.
const LOOSEN: &str = r#"revision = "d2"
down_revision = "c1"
message = "loosen stock"

[[upgrade]]
op = "drop_check"
table = "stock"
name = "ck_stock_quantity_not_negative"

[[upgrade]]
op = "drop_index"
table = "stock"
name = "uq_stock_shop_sku"

[[downgrade]]
op = "create_index"
table = "stock"
name = "uq_stock_shop_sku"
columns = ["shop", "sku"]
unique = true

[[downgrade]]
op = "create_check"
table = "stock"
name = "ck_stock_quantity_not_negative"
sql = "quantity >= 0"
"#;

/// Whether `sql` is refused by the database.
async fn refused(db: &Db, sql: &str) -> bool {
    exec(db, sql).await.is_err()
}

/// A model's own constraints hold on every backend, and carry names by which a
/// migration drops them and makes them again; autogenerate sees them missing.
#[case]
pub async fn named_constraints_hold_and_drop_by_name(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    exec(
        &db,
        "INSERT INTO stock (id, shop, sku, quantity) VALUES (1, 1, 'a', 5)",
    )
    .await?;
    let negative = "INSERT INTO stock (id, shop, sku, quantity) VALUES (2, 1, 'b', -1)";
    let twin = "INSERT INTO stock (id, shop, sku, quantity) VALUES (3, 1, 'a', 1)";
    assert!(refused(&db, negative).await, "the CHECK holds");
    assert!(refused(&db, twin).await, "the unique pair holds");

    let m = Migrations::from_sources(&[("c1_widen.toml", WIDEN), ("d2_loosen.toml", LOOSEN)])?;
    m.upgrade_bind(&db, None, Some("c1")).await?;
    assert!(
        refused(&db, negative).await,
        "the CHECK outlives the rebuild"
    );
    assert!(
        refused(&db, twin).await,
        "the unique pair outlives the rebuild"
    );
    m.upgrade(&db).await?;
    let diff = flaskdb::migrate::compare(&db, None).await?;
    let steps: Vec<String> = diff.upgrade.iter().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        [
            "alter column stock.sku",
            "create index uq_stock_shop_sku on stock",
            "create check ck_stock_quantity_not_negative on stock",
            "create foreign key fk_stock_move_shop_stock on stock_move"
        ]
    );
    exec(&db, negative).await?;
    exec(&db, twin).await?;
    exec(&db, "DELETE FROM stock WHERE id IN (2, 3)").await?;

    m.downgrade_bind(&db, None, Some("base")).await?;
    assert!(refused(&db, negative).await, "the CHECK is back");
    assert!(refused(&db, twin).await, "the unique pair is back");
    assert_eq!(
        rows(&db, "SELECT id, shop, sku, quantity FROM stock").await?,
        [vec![Value::I64(1), Value::I64(1), text("a"), Value::I64(5)]]
    );
    let stray = "INSERT INTO stock_move (id, shop, sku, delta) VALUES (1, 1, 'zz', 1)";
    assert!(
        refused(&db, stray).await,
        "the two-column foreign key is back"
    );
    exec(
        &db,
        "INSERT INTO stock_move (id, shop, sku, delta) VALUES (1, 1, 'a', 1)",
    )
    .await?;
    exec(&db, "DELETE FROM stock WHERE id = 1").await?;
    assert!(
        rows(&db, "SELECT id FROM stock_move").await?.is_empty(),
        "its ON DELETE CASCADE is back"
    );
    let diff = flaskdb::migrate::compare(&db, None).await?;
    assert!(diff.is_empty(), "autogenerate found:\n{}", listed(&diff));
    Ok(())
}

/// The foreign key of `post` and the unique column of `user`, dropped by the names
/// `create_all` gave them.
const UNKEY: &str = r#"revision = "a1"
message = "unkey"

[[upgrade]]
op = "drop_foreign_key"
table = "post"
name = "fk_post_user_id_user"

[[upgrade]]
op = "drop_index"
table = "user"
name = "uq_user_email"

[[downgrade]]
op = "create_index"
table = "user"
name = "uq_user_email"
columns = ["email"]
unique = true

[[downgrade]]
op = "create_foreign_key"
table = "post"
name = "fk_post_user_id_user"
foreign_key = { columns = ["user_id"], references = "user", ref_columns = ["id"], on_delete = "cascade" }
"#;

/// A foreign key and a unique column drop by their conventional names on every
/// backend (MariaDB's index for the key goes with it); autogenerate sees both missing
/// and its migration makes them again, ON DELETE included.
#[case]
pub async fn foreign_keys_and_unique_columns_drop_and_come_back(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let quote = if t.backend == Backend::MySql {
        '`'
    } else {
        '"'
    };
    let user = |id: i64| {
        format!(
            "INSERT INTO {quote}user{quote} (id, username, email) VALUES ({id}, 'u{id}', 'a@x')"
        )
    };
    exec(&db, &user(1)).await?;
    exec(
        &db,
        "INSERT INTO post (id, user_id, title, score) VALUES (1, 1, 't', 0)",
    )
    .await?;
    let orphan = "INSERT INTO post (id, user_id, title, score) VALUES (2, 99, 'o', 0)";
    assert!(refused(&db, orphan).await, "the foreign key holds");
    assert!(refused(&db, &user(2)).await, "the unique column holds");

    let m = Migrations::from_sources(&[("a1_unkey.toml", UNKEY)])?;
    m.upgrade(&db).await?;
    exec(&db, orphan).await?;
    exec(&db, &user(2)).await?;
    exec(&db, "DELETE FROM post WHERE id = 2").await?;
    exec(&db, &format!("DELETE FROM {quote}user{quote} WHERE id = 2")).await?;

    let diff = flaskdb::migrate::compare(&db, None).await?;
    let steps: Vec<String> = diff.upgrade.iter().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        [
            "create foreign key fk_post_user_id_user on post",
            "create index uq_user_email on user"
        ]
    );
    let text = flaskdb::migrate::migration_text("b2", Some("a1"), "key", &[(None, &diff)]);
    let m = Migrations::from_sources(&[("a1_unkey.toml", UNKEY), ("b2_key.toml", &text)])?;
    m.upgrade(&db).await?;
    assert!(refused(&db, orphan).await, "the foreign key is back");
    assert!(refused(&db, &user(2)).await, "the unique column is back");
    let diff = flaskdb::migrate::compare(&db, None).await?;
    assert!(diff.is_empty(), "autogenerate found:\n{}", listed(&diff));
    exec(&db, &format!("DELETE FROM {quote}user{quote} WHERE id = 1")).await?;
    assert!(
        rows(&db, "SELECT id FROM post").await?.is_empty(),
        "ON DELETE CASCADE came back with the key"
    );

    // Down to a1 and to the start: the file's own steps make the keys again.
    m.downgrade_bind(&db, None, Some("base")).await?;
    assert!(refused(&db, orphan).await, "the foreign key is back");
    assert!(flaskdb::migrate::compare(&db, None).await?.is_empty());
    Ok(())
}
