//! Column types beyond the built-in ones: dates and times, UUIDs, JSON, decimals, enums
//! and a custom newtype, each round-tripped, filtered on and ordered by; and values
//! computed in Rust (`default_fn`, `onupdate`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use flaskdb::{Backend, CustomType, Ddl, Error, Json, Model, Value};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{TestDb, TestResult, case, exec, fetch};

#[derive(flaskdb::Enum, Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Draft,
    #[model(rename = "live")]
    Published,
    Archived,
}

#[derive(flaskdb::Enum, Debug, Clone, Copy, PartialEq)]
#[model(integer)]
pub enum Priority {
    Low = 1,
    High = 10,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Prefs {
    pub theme: String,
    pub tags: Vec<String>,
}

/// An address checked when read back, declared `VARCHAR(254)` everywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Email(pub String);

impl CustomType for Email {
    type Stored = String;
    const DDL: Option<Ddl> = Some(Ddl {
        sqlite: "VARCHAR(254)",
        postgres: "VARCHAR(254)",
        mysql: "VARCHAR(254)",
    });
    fn to_stored(&self) -> String {
        self.0.clone()
    }
    fn from_stored(stored: String) -> Result<Self, String> {
        if stored.contains('@') {
            Ok(Email(stored))
        } else {
            Err(format!("`{stored}` is not an e-mail address"))
        }
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Typed {
    pub id: i64,
    pub day: NaiveDate,
    pub at: NaiveDateTime,
    pub stamp: DateTime<Utc>,
    pub maybe_day: Option<NaiveDate>,
    #[model(unique)]
    pub uid: Uuid,
    pub doc: serde_json::Value,
    pub prefs: Json<Prefs>,
    pub price: Decimal,
    #[model(index)]
    pub status: Status,
    pub priority: Priority,
    pub email: Email,
    pub maybe_status: Option<Status>,
    pub maybe_price: Option<Decimal>,
}

fn stamp(secs: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, micros * 1000).unwrap()
}

/// Row `n`: every value differs by `n`, with microsecond precision (what PostgreSQL
/// and MySQL's DATETIME(6) keep).
fn typed(n: i64) -> Typed {
    let at = stamp(1_700_000_000 + n * 3600, 123_456);
    Typed {
        id: 0,
        day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap() + chrono::Days::new(n as u64),
        at: at.naive_utc(),
        stamp: at,
        maybe_day: (n % 2 == 0).then(|| NaiveDate::from_ymd_opt(1999, 12, 31).unwrap()),
        uid: Uuid::from_u128(0x1234_5678_9abc_def0_0fed_cba9_8765_4321 + n as u128),
        doc: serde_json::json!({"n": n, "nested": {"list": [1, 2.5, null, "ünïcødé 🦀"]}}),
        prefs: Json(Prefs {
            theme: format!("theme-{n}"),
            tags: vec!["a".into(), "b'\"c".into()],
        }),
        price: Decimal::new(1_234_567 + n, 4),
        status: [Status::Draft, Status::Published, Status::Archived][(n % 3) as usize],
        priority: if n % 2 == 0 {
            Priority::High
        } else {
            Priority::Low
        },
        email: Email(format!("user{n}@example.com")),
        maybe_status: (n % 2 == 1).then_some(Status::Published),
        maybe_price: None,
    }
}

/// A builder setting every column but the key from `r`.
fn builder(r: Typed) -> TypedBuilder {
    Typed::build()
        .day(r.day)
        .at(r.at)
        .stamp(r.stamp)
        .maybe_day(r.maybe_day)
        .uid(r.uid)
        .doc(r.doc)
        .prefs(r.prefs)
        .price(r.price)
        .status(r.status)
        .priority(r.priority)
        .email(r.email)
        .maybe_status(r.maybe_status)
        .maybe_price(r.maybe_price)
}

/// Inserts rows `1..=n` through builders; returns them with their keys.
async fn seed(db: &flaskdb::Db, n: i64) -> anyhow::Result<Vec<Typed>> {
    let mut s = db.session();
    for i in 1..=n {
        s.add(builder(typed(i)));
    }
    s.commit().await?;
    Ok(db.query::<Typed>().order_by(Typed::id.asc()).all().await?)
}

#[case]
async fn every_type_round_trips(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let rows = seed(&db, 4).await?;
    assert_eq!(rows.len(), 4);
    for (i, row) in rows.iter().enumerate() {
        let expected = Typed {
            id: row.id,
            ..typed(i as i64 + 1)
        };
        assert_eq!(row, &expected);
    }
    // A model added whole (not through its builder) round-trips too, with every
    // nullable column set: a session that never loaded its row writes every column
    // to the row with its key.
    let mut s = db.session();
    s.add(builder(typed(9)).id(100));
    s.commit().await?;
    let full = Typed {
        id: 100,
        maybe_day: Some(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
        maybe_status: Some(Status::Archived),
        maybe_price: Some(Decimal::new(-5, 3)),
        ..typed(9)
    };
    let mut s = db.session();
    s.add(full.clone());
    s.commit().await?;
    assert_eq!(db.query::<Typed>().get(100).await?, Some(full));
    Ok(())
}

#[case]
async fn typed_filters_and_ordering(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let rows = seed(&db, 6).await?;
    let live = db
        .query::<Typed>()
        .filter_by(Typed::status, Status::Published)
        .order_by(Typed::id.asc())
        .all()
        .await?;
    assert_eq!(
        live.iter().map(|r| r.id).collect::<Vec<_>>(),
        [rows[0].id, rows[3].id]
    );
    let high = db
        .query::<Typed>()
        .filter(Typed::priority.eq(Priority::High))
        .count()
        .await?;
    assert_eq!(high, 3);
    let by_uid = db
        .query::<Typed>()
        .filter_by(Typed::uid, rows[4].uid)
        .one()
        .await?;
    assert_eq!(by_uid.id, rows[4].id);
    let later = db
        .query::<Typed>()
        .filter(
            Typed::day
                .gt(rows[2].day)
                .and(Typed::stamp.le(rows[4].stamp)),
        )
        .order_by(Typed::at.desc())
        .all()
        .await?;
    assert_eq!(
        later.iter().map(|r| r.id).collect::<Vec<_>>(),
        [rows[4].id, rows[3].id]
    );
    let unset = db
        .query::<Typed>()
        .filter(Typed::maybe_status.eq(None::<Status>))
        .count()
        .await?;
    assert_eq!(unset, 3);
    let priced = db
        .query::<Typed>()
        .filter_by(Typed::price, rows[1].price)
        .one()
        .await?;
    assert_eq!(priced.id, rows[1].id);
    Ok(())
}

#[case]
async fn keyset_pages_by_a_timestamp(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let rows = seed(&db, 5).await?;
    let query = || {
        db.query::<Typed>()
            .order_by(Typed::stamp.desc())
            .order_by(Typed::id.asc())
    };
    let first = query().paginate_after(None, 2).await?;
    let ids: Vec<i64> = first.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, [rows[4].id, rows[3].id]);
    let cursor = first.next_cursor.clone().unwrap();
    let second = query().paginate_after(Some(&cursor), 2).await?;
    let ids: Vec<i64> = second.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, [rows[2].id, rows[1].id]);
    Ok(())
}

#[case]
async fn updates_write_the_new_values(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut row = seed(&db, 1).await?.remove(0);
    row.status = Status::Archived;
    row.price = Decimal::new(99_999_999, 2);
    row.prefs.tags.push("new".into());
    row.maybe_day = None;
    row.stamp = stamp(2_000_000_000, 1);
    row.uid = Uuid::nil();
    let mut s = db.session();
    s.add(row.clone());
    s.commit().await?;
    assert_eq!(db.query::<Typed>().get(row.id).await?, Some(row.clone()));
    let n = db
        .query::<Typed>()
        .filter_by(Typed::id, row.id)
        .update(Typed::status.set(Status::Draft))
        .await?;
    assert_eq!(n, 1);
    let reread = db.query::<Typed>().get(row.id).await?.unwrap();
    assert_eq!(reread.status, Status::Draft);
    Ok(())
}

#[case]
async fn a_bad_stored_value_is_a_decode_error_naming_the_column(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let row = seed(&db, 1).await?.remove(0);
    exec(&t, r#"UPDATE "typed" SET status = 'gone'"#, Vec::new()).await?;
    match db.query::<Typed>().get(row.id).await {
        Err(Error::Decode { column, message }) => {
            assert_eq!(column, "status");
            assert!(
                message.contains("`gone` is not a variant of Status"),
                "{message}"
            );
            assert!(message.contains("Draft, live, Archived"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    exec(
        &t,
        r#"UPDATE "typed" SET status = 'Draft', email = 'nobody'"#,
        Vec::new(),
    )
    .await?;
    match db.query::<Typed>().get(row.id).await {
        Err(Error::Decode { column, message }) => {
            assert_eq!(column, "email");
            assert!(message.contains("not an e-mail address"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // The rows are still there, readable as raw values.
    let rows = fetch(&t, r#"SELECT email FROM "typed""#, Vec::new()).await?;
    assert_eq!(rows[0].get::<String>("email")?, "nobody");
    Ok(())
}

#[case]
async fn columns_get_each_dialects_type(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let sql = match t.backend {
        Backend::Sqlite => "SELECT name AS c, type AS t FROM pragma_table_info('typed')",
        Backend::Postgres => {
            "SELECT column_name::text AS c, data_type::text AS t FROM information_schema.columns \
             WHERE table_name = 'typed' AND table_schema = current_schema()"
        }
        Backend::MySql => {
            "SELECT CAST(column_name AS CHAR) AS c, CAST(column_type AS CHAR) AS t \
             FROM information_schema.columns \
             WHERE table_name = 'typed' AND table_schema = DATABASE()"
        }
    };
    let rows = db.fetch_all(sql, Vec::<Value>::new()).await?;
    let type_of = |name: &str| -> String {
        rows.iter()
            .find(|r| r.get::<String>("c").unwrap() == name)
            .map(|r| r.get::<String>("t").unwrap().to_lowercase())
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let expected: &[(&str, &str)] = match t.backend {
        Backend::Sqlite => &[
            ("day", "date"),
            ("at", "datetime"),
            ("stamp", "datetime"),
            ("uid", "blob"),
            ("doc", "text"),
            ("price", "text"),
            ("status", "varchar(8)"),
            ("priority", "integer"),
            ("email", "varchar(254)"),
        ],
        Backend::Postgres => &[
            ("day", "date"),
            ("at", "timestamp without time zone"),
            ("stamp", "timestamp with time zone"),
            ("uid", "uuid"),
            ("doc", "jsonb"),
            ("prefs", "jsonb"),
            ("price", "numeric"),
            ("status", "character varying"),
            ("priority", "integer"),
            ("email", "character varying"),
        ],
        Backend::MySql => &[
            ("day", "date"),
            ("at", "datetime(6)"),
            ("stamp", "datetime(6)"),
            ("uid", "binary(16)"),
            ("price", "decimal(38,10)"),
            ("status", "varchar(8)"),
            ("priority", "int(11)"),
            ("email", "varchar(254)"),
        ],
    };
    for (column, ty) in expected {
        assert_eq!(&type_of(column), ty, "column {column}");
    }
    if t.backend == Backend::MySql {
        // MariaDB's JSON is LONGTEXT with a JSON_VALID check; MySQL's is JSON.
        assert!(["json", "longtext"].contains(&type_of("doc").as_str()));
    }
    Ok(())
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn one() -> i32 {
    1
}

/// Flask-SQLAlchemy's `created_at = Column(default=datetime.utcnow)` and
/// `updated_at = Column(onupdate=datetime.utcnow)`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Stamped {
    pub id: i64,
    pub title: String,
    #[model(default_fn = now)]
    pub created_at: DateTime<Utc>,
    #[model(default_fn = now, onupdate = now)]
    pub updated_at: DateTime<Utc>,
    #[model(onupdate = one)]
    pub edits: Option<i32>,
    /// A constant default of a custom type: applied by builders and written in the DDL.
    #[model(default = Status::Archived)]
    pub stage: Status,
}

#[case]
async fn default_fn_fills_unset_columns_and_onupdate_refreshes(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let at = stamp(1_200_000_000, 0);
    let before = Utc::now() - chrono::Duration::seconds(1);
    let mut s = db.session();
    s.add(Stamped::build().title("a"));
    s.add(
        Stamped::build()
            .title("b")
            .created_at(stamp(1_000_000_000, 0)),
    );
    s.commit().await?;
    let rows = db
        .query::<Stamped>()
        .order_by(Stamped::id.asc())
        .all()
        .await?;
    assert!(rows[0].created_at >= before, "{rows:?}");
    assert_eq!(rows[1].created_at, stamp(1_000_000_000, 0), "{rows:?}");
    assert_eq!(rows[0].edits, None);
    assert_eq!(rows[0].stage, Status::Archived);
    let created = rows[0].updated_at;

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut changed = rows[0].clone();
    changed.title = "a2".into();
    s.add(changed.clone());
    s.commit().await?;
    let reread = db.query::<Stamped>().get(changed.id).await?.unwrap();
    assert_eq!(reread.title, "a2");
    assert!(reread.updated_at > created, "{reread:?}");
    assert_eq!(reread.created_at, rows[0].created_at);
    assert_eq!(reread.edits, Some(1));

    // An update that sets the column itself keeps its value (the session compares
    // with its copy of the row; a row it did not load always gets the new value).
    let mut explicit = s.query::<Stamped>().get(changed.id).await?.unwrap();
    explicit.updated_at = stamp(1_500_000_000, 0);
    s.add(explicit.clone());
    s.commit().await?;
    assert_eq!(
        db.query::<Stamped>()
            .get(changed.id)
            .await?
            .unwrap()
            .updated_at,
        stamp(1_500_000_000, 0)
    );

    // A bulk update refreshes the column too, unless it assigns it.
    let n = db
        .query::<Stamped>()
        .filter_by(Stamped::id, rows[1].id)
        .update(Stamped::title.set("b2"))
        .await?;
    assert_eq!(n, 1);
    let b = db.query::<Stamped>().get(rows[1].id).await?.unwrap();
    assert!(b.updated_at > created && b.edits == Some(1), "{b:?}");

    // The DDL carries the constant default: a row written without the column gets it.
    exec(
        &t,
        r#"INSERT INTO "stamped" ("title", "created_at", "updated_at") VALUES (?, ?, ?)"#,
        vec!["raw".into(), Value::Timestamp(at), Value::Timestamp(at)],
    )
    .await?;
    let raw = db
        .query::<Stamped>()
        .filter_by(Stamped::title, "raw")
        .one()
        .await?;
    assert_eq!(raw.stage, Status::Archived);
    Ok(())
}
