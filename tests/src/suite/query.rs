//! Column expressions, `Query<M>` and every terminal method.

use flaskdb::{Backend, Error, Expr, Model, Value, alias, escape_like};
use futures_util::TryStreamExt;

use crate::models::*;
use crate::{TestDb, TestResult, case, exec};

/// Five users `u1`..`u5` with ids 1..5; `bio` is set on odd ids only.
async fn users(t: &TestDb) -> anyhow::Result<()> {
    t.db.create_all().await?;
    for i in 1..=5i64 {
        let bio = if i % 2 == 1 {
            Value::from(format!("Bio {i}"))
        } else {
            Value::from(None::<String>)
        };
        exec(
            t,
            r#"INSERT INTO "user" ("username", "email", "bio") VALUES (?, ?, ?)"#,
            vec![
                format!("u{i}").into(),
                format!("u{i}@example.com").into(),
                bio,
            ],
        )
        .await?;
    }
    Ok(())
}

fn ids(users: &[User]) -> Vec<i64> {
    users.iter().map(|u| u.id).collect()
}

#[case]
pub async fn comparisons(t: TestDb) -> TestResult {
    users(&t).await?;
    let q = || t.db.query::<User>().order_by(User::id);
    assert_eq!(ids(&q().filter(User::id.eq(3)).all().await?), [3]);
    assert_eq!(ids(&q().filter(User::id.ne(3)).all().await?), [1, 2, 4, 5]);
    assert_eq!(ids(&q().filter(User::id.lt(3)).all().await?), [1, 2]);
    assert_eq!(ids(&q().filter(User::id.le(3)).all().await?), [1, 2, 3]);
    assert_eq!(ids(&q().filter(User::id.gt(3)).all().await?), [4, 5]);
    assert_eq!(ids(&q().filter(User::id.ge(3)).all().await?), [3, 4, 5]);
    assert_eq!(ids(&q().filter_by(User::username, "u2").all().await?), [2]);
    assert_eq!(ids(&q().filter_by(User::bio, "Bio 5").all().await?), [5]);
    // Comparing with None is IS NULL / IS NOT NULL, as SQLAlchemy does.
    assert_eq!(ids(&q().filter(User::bio.eq(None)).all().await?), [2, 4]);
    assert_eq!(ids(&q().filter(User::bio.ne(None)).all().await?), [1, 3, 5]);
    Ok(())
}

/// The case's database with users whose names tell LIKE's wildcards and backslash from
/// their literal text.
async fn with_like_names(t: &TestDb) -> anyhow::Result<flaskdb::Db> {
    let db = t.with_tables().await?;
    let mut s = db.session();
    let names = [
        "50% off",
        "50 % off",
        "a_b",
        "axb",
        r"back\slash",
        "backslash",
    ];
    for (i, name) in names.iter().enumerate() {
        s.add(User::build().username(*name).email(format!("{i}@x")));
    }
    s.commit().await?;
    Ok(db)
}

/// `contains` / `startswith` / `endswith` match `%`, `_` and backslashes literally
/// through every kind of text column: a model's column, an aliased table's column, a
/// derived table's column and a column named at run time (`db.table(..).column(..)`).
#[case]
async fn text_matches_literally_through_every_column_kind(t: TestDb) -> TestResult {
    let db = with_like_names(&t).await?;
    // The three methods on one column kind, each with text only one name holds.
    macro_rules! matches_of {
        ($column:expr) => {
            [
                $column.contains("0%"),
                $column.startswith("a_"),
                $column.endswith(r"k\slash"),
                $column.contains(r"k\s"),
            ]
        };
    }
    let expected = [["50% off"], ["a_b"], [r"back\slash"], [r"back\slash"]];

    for (filter, expected) in matches_of!(User::username).into_iter().zip(expected) {
        let users = db.query::<User>().filter(filter).all().await?;
        let found: Vec<String> = users.into_iter().map(|u| u.username).collect();
        assert_eq!(found, expected, "a model's column");
    }

    let other = alias::<User>("other");
    for (filter, expected) in matches_of!(other.col(User::username))
        .into_iter()
        .zip(expected)
    {
        let found: Vec<String> = db
            .select_columns(other.col(User::username))
            .from::<User>()
            .join_alias(&other, other.col(User::id).eq_col(User::id))
            .filter(filter)
            .all()
            .await?;
        assert_eq!(found, expected, "an aliased table's column");
    }

    let derived = || db.select_columns(User::username).derived("d");
    let filters = matches_of!(derived().column::<String>("username"));
    for (filter, expected) in filters.into_iter().zip(expected) {
        let d = derived();
        let found: Vec<String> = db
            .select_columns(d.column::<String>("username"))
            .from_derived(d)
            .filter(filter)
            .all()
            .await?;
        assert_eq!(found, expected, "a derived table's column");
    }

    let users = db.table("user")?;
    for (filter, expected) in matches_of!(users.column("username"))
        .into_iter()
        .zip(expected)
    {
        let rows = users.query().filter(filter).all().await?;
        let found = rows
            .iter()
            .map(|row| row.get::<String>("username"))
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(found, expected, "a column named at run time");
    }
    Ok(())
}

/// `contains` / `startswith` / `endswith` match their text literally (`%`, `_` and
/// backslashes in it included), and LIKE's backslash escape works whatever the session's
/// string mode: MariaDB's NO_BACKSLASH_ESCAPES and PostgreSQL's
/// standard_conforming_strings = off, set on the session's own connection.
#[case]
async fn like_matches_literally_in_every_string_mode(t: TestDb) -> TestResult {
    let db = with_like_names(&t).await?;
    // The mode and what restores it, on the session's connection.
    let odd_mode = match t.backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some((
            "SET standard_conforming_strings = off",
            "RESET standard_conforming_strings",
        )),
        Backend::MySql => Some((
            "SET @flaskdb_mode = @@sql_mode, \
             SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
            "SET SESSION sql_mode = @flaskdb_mode",
        )),
    };
    // The odd mode first: connections cache their prepared statements, so a statement
    // first prepared in the default mode would keep reading as it did then.
    for mode in odd_mode.map(Some).into_iter().chain([None]) {
        let mut s = db.session();
        let run = |sql: &'static str| {
            let s = &s;
            async move {
                let mut tx = s.transaction(None).await?;
                match tx.as_postgres() {
                    Some(conn) => {
                        sqlx::raw_sql(sql).execute(conn).await?;
                    }
                    None => {
                        sqlx::raw_sql(sql).execute(tx.as_mysql().unwrap()).await?;
                    }
                }
                anyhow::Ok(())
            }
        };
        if let Some((set, _)) = mode {
            run(set).await?;
        }
        let found = |filter: Expr| {
            let q = s.query::<User>().filter(filter).order_by(User::id);
            async move {
                let users = q.all().await?;
                anyhow::Ok(users.into_iter().map(|u| u.username).collect::<Vec<_>>())
            }
        };
        let name = mode.map_or("the default mode", |(set, _)| set);
        assert_eq!(
            found(User::username.contains("0%")).await?,
            ["50% off"],
            "{name}"
        );
        assert_eq!(
            found(User::username.startswith("a_")).await?,
            ["a_b"],
            "{name}"
        );
        assert_eq!(
            found(User::username.endswith(r"k\slash")).await?,
            [r"back\slash"],
            "{name}"
        );
        assert_eq!(
            found(User::username.like(r"a\_b")).await?,
            ["a_b"],
            "{name}"
        );
        assert_eq!(
            found(User::username.like(format!("{}%", escape_like(r"back\")))).await?,
            [r"back\slash"],
            "{name}"
        );
        if let Some((_, reset)) = mode {
            run(reset).await?;
        }
        s.rollback().await?;
    }
    Ok(())
}

#[case]
pub async fn like_in_between_null(t: TestDb) -> TestResult {
    users(&t).await?;
    let q = || t.db.query::<User>().order_by(User::id);
    assert_eq!(
        ids(&q().filter(User::username.like("u%")).all().await?).len(),
        5
    );
    assert_eq!(ids(&q().filter(User::bio.like("%5")).all().await?), [5]);
    assert_eq!(
        ids(&q().filter(User::username.ilike("U3")).all().await?),
        [3]
    );
    assert_eq!(ids(&q().filter(User::bio.ilike("bio 1")).all().await?), [1]);
    assert_eq!(
        ids(&q().filter(User::id.in_([2, 4, 9])).all().await?),
        [2, 4]
    );
    assert_eq!(
        ids(&q().filter(User::id.not_in([2, 4])).all().await?),
        [1, 3, 5]
    );
    assert!(
        q().filter(User::id.in_(Vec::<i64>::new()))
            .all()
            .await?
            .is_empty()
    );
    assert_eq!(
        q().filter(User::id.not_in(Vec::<i64>::new()))
            .count()
            .await?,
        5
    );
    assert_eq!(
        ids(&q().filter(User::id.between(2, 4)).all().await?),
        [2, 3, 4]
    );
    assert_eq!(ids(&q().filter(User::bio.is_null()).all().await?), [2, 4]);
    assert_eq!(
        ids(&q().filter(User::bio.is_not_null()).all().await?),
        [1, 3, 5]
    );
    Ok(())
}

#[case]
pub async fn and_or_not(t: TestDb) -> TestResult {
    users(&t).await?;
    let q = || t.db.query::<User>().order_by(User::id);
    let and = User::id.gt(1).and(User::bio.is_null());
    assert_eq!(ids(&q().filter(and).all().await?), [2, 4]);
    let or = User::id
        .eq(1)
        .or(User::id.eq(5))
        .or(User::username.eq("u3"));
    assert_eq!(ids(&q().filter(or).all().await?), [1, 3, 5]);
    assert_eq!(
        ids(&q().filter(User::id.le(2).not()).all().await?),
        [3, 4, 5]
    );
    let ops = (User::id.eq(1) | User::id.eq(2)) & !User::bio.is_null();
    assert_eq!(ids(&q().filter(ops).all().await?), [1]);
    // Successive filters are AND-ed.
    let chained = q()
        .filter(User::id.gt(1))
        .filter(User::id.lt(4))
        .filter_by(User::bio, None);
    assert_eq!(ids(&chained.all().await?), [2]);
    Ok(())
}

#[case]
pub async fn order_limit_offset_distinct(t: TestDb) -> TestResult {
    users(&t).await?;
    let desc = t.db.query::<User>().order_by(User::id.desc()).all().await?;
    assert_eq!(ids(&desc), [5, 4, 3, 2, 1]);
    let page =
        t.db.query::<User>()
            .order_by(User::id.asc())
            .limit(2)
            .offset(1)
            .all()
            .await?;
    assert_eq!(ids(&page), [2, 3]);
    let tail =
        t.db.query::<User>()
            .order_by(User::id)
            .offset(3)
            .all()
            .await?;
    assert_eq!(ids(&tail), [4, 5]);
    // Two sort keys: bio NULLs grouped, then id descending.
    let two =
        t.db.query::<User>()
            .filter(User::bio.is_null())
            .order_by(User::bio.asc())
            .order_by(User::id.desc())
            .all()
            .await?;
    assert_eq!(ids(&two), [4, 2]);
    let distinct =
        t.db.query::<User>()
            .distinct()
            .order_by(User::id)
            .all()
            .await?;
    assert_eq!(distinct.len(), 5);
    Ok(())
}

#[case]
pub async fn first_one_get(t: TestDb) -> TestResult {
    users(&t).await?;
    let first =
        t.db.query::<User>()
            .order_by(User::id.desc())
            .first()
            .await?
            .unwrap();
    assert_eq!(first.username, "u5");
    assert!(
        t.db.query::<User>()
            .filter(User::id.gt(9))
            .first()
            .await?
            .is_none()
    );
    let one =
        t.db.query::<User>()
            .filter_by(User::email, "u2@example.com")
            .one()
            .await?;
    assert_eq!(
        one,
        User {
            id: 2,
            username: "u2".into(),
            email: "u2@example.com".into(),
            bio: None
        }
    );
    assert!(matches!(
        t.db.query::<User>().filter(User::id.gt(9)).one().await,
        Err(Error::NoResultFound)
    ));
    assert!(matches!(
        t.db.query::<User>().filter(User::id.gt(1)).one().await,
        Err(Error::MultipleResultsFound)
    ));
    assert_eq!(t.db.query::<User>().get(3).await?.unwrap().username, "u3");
    assert!(t.db.query::<User>().get(42).await?.is_none());
    // get() on a filtered query keeps the filters.
    assert!(
        t.db.query::<User>()
            .filter(User::bio.is_null())
            .get(3)
            .await?
            .is_none()
    );
    assert_eq!(
        t.db.query::<User>()
            .filter(User::bio.is_null())
            .get(4)
            .await?
            .unwrap()
            .id,
        4
    );
    Ok(())
}

#[case]
pub async fn not_found_helpers(t: TestDb) -> TestResult {
    users(&t).await?;
    let q = || t.db.query::<User>();
    assert_eq!(q().get_or_404(1).await?.username, "u1");
    let e = q().get_or_404(99).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { description: None }));
    assert_eq!(e.status_code(), 404);
    let e = q()
        .description("No user 99.")
        .get_or_404(99)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { description: Some(d) } if d == "No user 99."));
    assert_eq!(
        q().filter_by(User::username, "u2").first_or_404().await?.id,
        2
    );
    assert!(
        q().filter_by(User::username, "zz")
            .first_or_404()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        q().filter_by(User::username, "u4").one_or_404().await?.id,
        4
    );
    // No row and several rows are both a 404.
    assert!(
        q().filter_by(User::username, "zz")
            .one_or_404()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        q().filter(User::id.gt(1))
            .one_or_404()
            .await
            .unwrap_err()
            .is_not_found()
    );
    Ok(())
}

#[case]
pub async fn count_and_exists(t: TestDb) -> TestResult {
    users(&t).await?;
    let q = || t.db.query::<User>();
    assert_eq!(q().count().await?, 5);
    assert_eq!(q().filter(User::bio.is_null()).count().await?, 2);
    assert_eq!(q().order_by(User::id.desc()).count().await?, 5);
    // With a limit or offset the count is of the limited rows.
    assert_eq!(q().order_by(User::id).limit(3).count().await?, 3);
    assert_eq!(q().order_by(User::id).offset(4).count().await?, 1);
    assert_eq!(q().distinct().count().await?, 5);
    assert!(q().exists().await?);
    assert!(q().filter(User::id.eq(5)).exists().await?);
    assert!(!q().filter(User::id.eq(6)).exists().await?);
    Ok(())
}

#[case]
pub async fn bulk_update_and_delete(t: TestDb) -> TestResult {
    users(&t).await?;
    let changed =
        t.db.query::<User>()
            .filter(User::bio.is_null())
            .update(User::bio.set("filled"))
            .await?;
    assert_eq!(changed, 2);
    assert_eq!(
        t.db.query::<User>()
            .filter_by(User::bio, "filled")
            .count()
            .await?,
        2
    );
    let both = (User::bio.set(None), User::email.set("x@x"));
    assert_eq!(
        t.db.query::<User>()
            .filter(User::id.eq(1))
            .update(both)
            .await?,
        1
    );
    let one = t.db.query::<User>().get(1).await?.unwrap();
    assert_eq!((one.bio, one.email.as_str()), (None, "x@x"));
    assert_eq!(
        t.db.query::<User>().filter(User::id.gt(3)).delete().await?,
        2
    );
    assert_eq!(t.db.query::<User>().count().await?, 3);
    let limited = t.db.query::<User>().limit(1).delete().await;
    assert!(matches!(limited, Err(Error::InvalidQuery(_))));
    assert_eq!(
        t.db.query::<User>().count().await?,
        3,
        "nothing deleted by the refused query"
    );
    assert_eq!(t.db.query::<User>().delete().await?, 3);
    Ok(())
}

#[case]
pub async fn stream_reads_every_row(t: TestDb) -> TestResult {
    users(&t).await?;
    let streamed: Vec<User> =
        t.db.query::<User>()
            .order_by(User::id)
            .stream()
            .try_collect()
            .await?;
    assert_eq!(ids(&streamed), [1, 2, 3, 4, 5]);
    let mut stream = t.db.query::<User>().filter(User::id.gt(3)).stream();
    let mut n = 0;
    while let Some(user) = stream.try_next().await? {
        assert!(user.id > 3);
        n += 1;
    }
    assert_eq!(n, 2);
    Ok(())
}

#[case]
pub async fn composite_primary_key(t: TestDb) -> TestResult {
    users(&t).await?;
    exec(
        &t,
        r#"INSERT INTO "post" ("user_id", "title") VALUES (?, ?)"#,
        vec![1i64.into(), "p".into()],
    )
    .await?;
    for tag in ["rust", "sql"] {
        exec(
            &t,
            r#"INSERT INTO "post_tag" ("post_id", "tag") VALUES (?, ?)"#,
            vec![1i64.into(), tag.into()],
        )
        .await?;
    }
    let found =
        t.db.query::<PostTag>()
            .get((1i64, "sql".to_string()))
            .await?;
    assert_eq!(
        found,
        Some(PostTag {
            post_id: 1,
            tag: "sql".into()
        })
    );
    assert!(
        t.db.query::<PostTag>()
            .get((1i64, "go".to_string()))
            .await?
            .is_none()
    );
    assert_eq!(found.unwrap().primary_key(), (1, "sql".to_string()));
    Ok(())
}

#[case]
pub async fn reserved_names(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    exec(
        &t,
        r#"INSERT INTO "order" ("select", "from") VALUES (?, ?)"#,
        vec!["a".into(), "b".into()],
    )
    .await?;
    exec(
        &t,
        r#"INSERT INTO "group" ("code", "label") VALUES (?, ?)"#,
        vec![7i32.into(), "seven".into()],
    )
    .await?;
    let order =
        t.db.query::<Order>()
            .filter_by(Order::select, "a")
            .one()
            .await?;
    assert_eq!(order.from.as_deref(), Some("b"));
    assert_eq!(
        t.db.query::<Order>()
            .filter(Order::from.like("b"))
            .count()
            .await?,
        1
    );
    t.db.query::<Order>().update(Order::from.set("c")).await?;
    assert_eq!(t.db.query::<Group>().get(7).await?.unwrap().label, "seven");
    t.db.query::<Group>()
        .filter_by(Group::code, 7)
        .delete()
        .await?;
    assert_eq!(t.db.query::<Group>().count().await?, 0);
    Ok(())
}

#[case]
pub async fn values_round_trip_unchanged(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let nul = "nul\0byte".to_string();
    if t.backend == flaskdb::Backend::Postgres {
        // PostgreSQL text cannot hold NUL: the insert fails and stores nothing.
        let refused = exec(
            &t,
            r#"INSERT INTO "user" ("username", "email", "bio") VALUES (?, ?, ?)"#,
            vec!["nul".into(), "nul@x".into(), nul.clone().into()],
        )
        .await;
        assert!(refused.unwrap_err().to_string().contains("0x00"));
        assert_eq!(t.db.query::<User>().count().await?, 0);
    }
    let mut values = vec![
        "it's \"quoted\"".to_string(),
        "'; DROP TABLE \"user\"; --".to_string(),
        "emoji 🦀 and ünïcödé".to_string(),
        "back\\slash %_".to_string(),
        "x".repeat(1 << 20),
    ];
    if t.backend != flaskdb::Backend::Postgres {
        values.push(nul);
    }
    for (i, v) in values.iter().enumerate() {
        exec(
            &t,
            r#"INSERT INTO "user" ("username", "email", "bio") VALUES (?, ?, ?)"#,
            vec![
                format!("v{i}").into(),
                format!("v{i}@x").into(),
                v.clone().into(),
            ],
        )
        .await?;
    }
    for (i, v) in values.iter().enumerate() {
        let user =
            t.db.query::<User>()
                .filter_by(User::bio, v.as_str())
                .one()
                .await?;
        assert_eq!(user.username, format!("v{i}"));
        assert_eq!(user.bio.as_deref(), Some(v.as_str()));
    }
    assert_eq!(t.db.query::<User>().count().await?, values.len() as u64);
    Ok(())
}

#[case]
pub async fn every_column_type_round_trips(t: TestDb) -> TestResult {
    t.db.create_all().await?;
    let insert = r#"INSERT INTO "all_types" ("flag", "small", "int", "big", "real", "double",
            "text", "bytes", "maybe_int", "maybe_text", "maybe_bytes") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"#;
    let rows = [
        AllTypes {
            id: 1,
            flag: true,
            small: i16::MIN,
            int: i32::MAX,
            big: i64::MAX,
            real: 1.5,
            double: -2.25e300,
            text: String::new(),
            bytes: vec![0, 1, 255],
            maybe_int: Some(-7),
            maybe_text: Some("t".into()),
            maybe_bytes: Some(vec![]),
        },
        AllTypes {
            id: 2,
            flag: false,
            small: i16::MAX,
            int: i32::MIN,
            big: i64::MIN,
            real: -0.5,
            double: 0.1,
            text: "text".into(),
            bytes: vec![],
            maybe_int: None,
            maybe_text: None,
            maybe_bytes: None,
        },
    ];
    for row in &rows {
        let mut values = row.values();
        values.remove(0);
        exec(&t, insert, values).await?;
    }
    let back =
        t.db.query::<AllTypes>()
            .order_by(AllTypes::id)
            .all()
            .await?;
    assert_eq!(back, rows);
    let found =
        t.db.query::<AllTypes>()
            .filter(AllTypes::bytes.eq(vec![0u8, 1, 255]))
            .one()
            .await?;
    assert_eq!(found.id, 1);
    let flagged =
        t.db.query::<AllTypes>()
            .filter_by(AllTypes::flag, false)
            .one()
            .await?;
    assert_eq!(flagged.id, 2);
    Ok(())
}

#[case]
pub async fn for_update_runs(t: TestDb) -> TestResult {
    users(&t).await?;
    let locked =
        t.db.query::<User>()
            .filter(User::id.eq(2))
            .for_update()
            .all()
            .await?;
    assert_eq!(ids(&locked), [2]);
    Ok(())
}
