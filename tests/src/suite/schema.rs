//! Metadata from the derive, and create_all / drop_all checked from the catalogs.

use flaskdb::{Backend, Db, Model, OnDelete, SqlType, Value};

use crate::models::*;
use crate::{TestDb, TestResult, case, exec};

#[case]
pub async fn metadata_of_every_attribute(_t: TestDb) -> TestResult {
    let user = User::table();
    assert_eq!(user.name(), "user");
    assert_eq!(user.bind_key(), None);
    assert_eq!(user.primary_key(), ["id"]);
    assert_eq!(user.autoincrement_column().map(|c| c.name()), Some("id"));
    let username = user.column_named("username").unwrap();
    assert_eq!(username.sql_type(), SqlType::Text);
    assert_eq!(username.length(), Some(80));
    assert!(username.is_unique() && !username.is_nullable());
    assert!(user.column_named("bio").unwrap().is_nullable());

    let ham = Ham::table();
    assert_eq!(ham.name(), "spam");
    let names: Vec<&str> = ham.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "rank", "owner_id", "label", "display_name"]);
    let rank = ham.column_named("rank").unwrap();
    assert_eq!(rank.sql_type(), SqlType::Integer);
    assert_eq!(rank.default_value(), Some(&Value::I32(0)));
    assert!(rank.is_indexed());
    assert_eq!(
        ham.column_named("label").unwrap().server_default_sql(),
        Some("'fresh'")
    );
    let fk = &ham.foreign_keys()[0];
    assert_eq!(
        (
            fk.columns.as_slice(),
            fk.ref_table.as_str(),
            fk.ref_columns.as_slice()
        ),
        (
            &["owner_id".to_string()][..],
            "user",
            &["id".to_string()][..]
        )
    );
    assert_eq!(fk.on_delete, Some(OnDelete::SetNull));
    let indexes: Vec<(String, bool)> = ham
        .indexes()
        .into_iter()
        .map(|i| (i.name, i.unique))
        .collect();
    assert_eq!(
        indexes,
        [
            ("ix_spam_rank".to_string(), false),
            ("ix_spam_display_name".to_string(), true)
        ]
    );

    assert_eq!(
        Group::table().autoincrement_column().map(|c| c.name()),
        None
    );
    assert_eq!(PostTag::table().primary_key(), ["post_id", "tag"]);
    assert_eq!(
        PostTag::table().autoincrement_column().map(|c| c.name()),
        None
    );
    assert!(UserView::table().is_view());
    assert_eq!(
        AllTypes::table()
            .columns()
            .iter()
            .map(|c| (c.sql_type(), c.is_nullable()))
            .collect::<Vec<_>>(),
        [
            (SqlType::BigInt, false),
            (SqlType::Bool, false),
            (SqlType::SmallInt, false),
            (SqlType::Integer, false),
            (SqlType::BigInt, false),
            (SqlType::Real, false),
            (SqlType::Double, false),
            (SqlType::Text, false),
            (SqlType::Blob, false),
            (SqlType::Integer, true),
            (SqlType::Text, true),
            (SqlType::Blob, true),
        ]
    );
    Ok(())
}

#[case]
pub async fn generated_table_names(_t: TestDb) -> TestResult {
    assert_eq!(HTTPResponse::table().name(), "http_response");
    assert_eq!(PostTag::table().name(), "post_tag");
    assert_eq!(AllTypes::table().name(), "all_types");
    assert_eq!(Group::table().name(), "group");
    assert_eq!(Order::table().name(), "order");
    assert_eq!(UserView::table().name(), "user_view");
    assert_eq!(flaskdb::camel_to_snake_case("FOOBar"), "foo_bar");
    Ok(())
}

/// The names of the tables (not views) in the test's database.
pub async fn table_names(t: &TestDb) -> anyhow::Result<Vec<String>> {
    let sql = match t.backend {
        Backend::Sqlite => {
            "SELECT name AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        Backend::MySql => {
            "SELECT CAST(table_name AS CHAR) AS n FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
    };
    let mut names: Vec<String> =
        t.db.fetch_all(sql, vec![])
            .await?
            .iter()
            .map(|r| r.get::<String>("n"))
            .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

async fn index_names(t: &TestDb) -> anyhow::Result<Vec<String>> {
    let sql = match t.backend {
        Backend::Sqlite => {
            "SELECT name AS n FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(indexname AS TEXT) AS n FROM pg_indexes \
                 WHERE schemaname = current_schema() AND indexname LIKE 'ix_%'"
        }
        Backend::MySql => {
            "SELECT DISTINCT CAST(index_name AS CHAR) AS n FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND index_name LIKE 'ix_%'"
        }
    };
    let mut names: Vec<String> =
        t.db.fetch_all(sql, vec![])
            .await?
            .iter()
            .map(|r| r.get::<String>("n"))
            .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

/// The models' tables and the declared `enrollment`.
const ALL_TABLES: [&str; 36] = [
    "all_types",
    "article",
    "audit_log",
    "author",
    "author_profile",
    "book",
    "book_genre",
    "category",
    "comment",
    "counter",
    "course",
    "enrollment",
    "entry",
    "genre",
    "group",
    "http_response",
    "loner",
    "message",
    "node",
    "note",
    "odd_default",
    "order",
    "page",
    "page_history",
    "post",
    "post_tag",
    "review",
    "spam",
    "stamped",
    "stock",
    "stock_move",
    "student",
    "tally",
    "typed",
    "user",
    "we\"ird`ta'ble; --",
];

#[case]
pub async fn create_all_creates_tables_and_indexes(t: TestDb) -> TestResult {
    assert!(table_names(&t).await?.is_empty());
    t.db.create_all().await?;
    assert_eq!(table_names(&t).await?, ALL_TABLES);
    assert_eq!(
        index_names(&t).await?,
        [
            "ix_note_owner_id",
            "ix_spam_display_name",
            "ix_spam_rank",
            "ix_stock_shop_quantity",
            "ix_typed_status"
        ]
    );
    Ok(())
}

#[case]
pub async fn create_all_is_idempotent_and_drop_all_drops(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    exec(
        &t,
        r#"INSERT INTO "user" ("username", "email") VALUES (?, ?)"#,
        vec!["a".into(), "a@a".into()],
    )
    .await?;
    exec(
        &t,
        r#"INSERT INTO "post" ("user_id", "title") VALUES (?, ?)"#,
        vec![1i64.into(), "p".into()],
    )
    .await?;
    // A second create_all changes nothing and keeps the rows.
    t.db.create_all().await?;
    assert_eq!(t.db.query::<User>().count().await?, 1);
    // Children are dropped before parents, so foreign keys never get in the way.
    t.db.drop_all().await?;
    assert!(table_names(&t).await?.is_empty());
    t.db.drop_all().await?;
    Ok(())
}

#[case]
pub async fn defaults_apply_in_the_database(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    exec(
        &t,
        r#"INSERT INTO "spam" ("display_name") VALUES (?)"#,
        vec!["x".into()],
    )
    .await?;
    let ham = t.db.query::<Ham>().one().await?;
    assert_eq!(
        (ham.rank, ham.label.as_str(), ham.owner_id),
        (0, "fresh", None)
    );
    assert_eq!(ham.note, "", "a skipped field is Default::default()");
    Ok(())
}

#[case]
pub async fn constraints_are_enforced(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let insert_user = r#"INSERT INTO "user" ("username", "email") VALUES (?, ?)"#;
    exec(&t, insert_user, vec!["a".into(), "a@a".into()]).await?;
    let dup = exec(&t, insert_user, vec!["a".into(), "b@b".into()]).await;
    assert!(
        matches!(dup, Err(e) if e.to_string().to_lowercase().contains("unique")
            || e.to_string().contains("Duplicate"))
    );
    // NOT NULL
    let null = exec(
        &t,
        insert_user,
        vec!["b".into(), Value::Null(SqlType::Text)],
    )
    .await;
    assert!(null.is_err());
    // ON DELETE CASCADE and SET NULL
    exec(
        &t,
        r#"INSERT INTO "post" ("user_id", "title") VALUES (?, ?)"#,
        vec![1i64.into(), "p".into()],
    )
    .await?;
    exec(
        &t,
        r#"INSERT INTO "spam" ("owner_id") VALUES (?)"#,
        vec![1i64.into()],
    )
    .await?;
    exec(&t, r#"DELETE FROM "user""#, vec![]).await?;
    assert_eq!(t.db.query::<Post>().count().await?, 0);
    assert_eq!(t.db.query::<Ham>().one().await?.owner_id, None);
    // A foreign key to a missing row is refused.
    let orphan = exec(
        &t,
        r#"INSERT INTO "post" ("user_id", "title") VALUES (?, ?)"#,
        vec![99i64.into(), "p".into()],
    )
    .await;
    assert!(orphan.is_err());
    Ok(())
}

#[case]
pub async fn views_are_queryable_and_never_created(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    assert!(!table_names(&t).await?.contains(&"user_view".to_string()));
    exec(
        &t,
        r#"CREATE VIEW "user_view" AS SELECT "id", "username" FROM "user""#,
        vec![],
    )
    .await?;
    exec(
        &t,
        r#"INSERT INTO "user" ("username", "email") VALUES (?, ?)"#,
        vec!["v".into(), "v@v".into()],
    )
    .await?;
    let rows = t.db.query::<UserView>().all().await?;
    assert_eq!(
        rows,
        [UserView {
            id: 1,
            username: "v".into()
        }]
    );
    // drop_all leaves the view alone. (The view is made again over a table no model
    // declares: PostgreSQL refuses to drop a table a view reads. Its columns have the
    // same types, so a pooled connection's prepared statement for the view still fits.)
    exec(&t, r#"DROP VIEW "user_view""#, vec![]).await?;
    exec(
        &t,
        r#"CREATE TABLE "outside" ("id" BIGINT, "username" VARCHAR(80))"#,
        vec![],
    )
    .await?;
    exec(&t, r#"INSERT INTO "outside" VALUES (7, 'kept')"#, vec![]).await?;
    exec(
        &t,
        r#"CREATE VIEW "user_view" AS SELECT "id", "username" FROM "outside""#,
        vec![],
    )
    .await?;
    t.db.drop_all().await?;
    assert_eq!(
        table_names(&t).await?,
        ["outside"],
        "the models' tables are gone"
    );
    let rows = t.db.query::<UserView>().all().await?;
    assert_eq!(
        rows,
        [UserView {
            id: 7,
            username: "kept".into()
        }]
    );
    Ok(())
}

/// A text default holding a quote, a backslash and a percent sign creates its table and
/// fills a row with exactly that text, whatever the string mode of the connection the
/// CREATE TABLE goes through: PostgreSQL with standard_conforming_strings on and off,
/// MariaDB with its default sql_mode and with NO_BACKSLASH_ESCAPES.
#[case]
async fn text_defaults_read_the_same_in_every_string_mode(t: TestDb) -> TestResult {
    // Each mode, and a query that says whether the connection is in it.
    let modes: &[(&str, &str)] = match t.backend {
        Backend::Sqlite => &[("SELECT 1", "SELECT 1")],
        Backend::Postgres => &[
            (
                "SET standard_conforming_strings = on",
                "SELECT current_setting('standard_conforming_strings') = 'on'",
            ),
            (
                "SET standard_conforming_strings = off",
                "SELECT current_setting('standard_conforming_strings') = 'off'",
            ),
        ],
        Backend::MySql => &[
            (
                "SET SESSION sql_mode = DEFAULT",
                "SELECT @@sql_mode NOT LIKE '%NO_BACKSLASH_ESCAPES%'",
            ),
            (
                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
                "SELECT @@sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'",
            ),
        ],
    };
    for &(set, in_mode) in modes {
        // One connection, so the mode set on it is the one the DDL is read in.
        let options = t.options.clone().max_connections(1);
        let db = Db::connect(t.config().engine_options(options)).await?;
        db.execute(set, vec![]).await?;
        db.execute("DROP TABLE IF EXISTS odd_default", vec![])
            .await?;
        db.create_all().await?;
        let mode = db.fetch_all(in_mode, vec![]).await?;
        assert!(
            mode[0].get_at::<bool>(0)?,
            "the DDL ran in the mode of {set:?}"
        );
        let table = db.table("odd_default")?;
        table.insert(table.column("id").set(1_i64)).await?;
        let row = table.query().one().await?;
        assert_eq!(
            row.get::<String>("short")?,
            ODD_DEFAULT,
            "VARCHAR after {set:?}"
        );
        assert_eq!(
            row.get::<String>("long")?,
            ODD_DEFAULT,
            "TEXT after {set:?}"
        );
    }
    Ok(())
}
