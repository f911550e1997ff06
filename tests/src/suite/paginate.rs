//! Pagination against the database: Flask-SQLAlchemy's 250-row cases, and keyset pages.

use flaskdb::{Error, Model, PageRequest, Pagination};

use crate::models::*;
use crate::{TestDb, TestResult, case};

/// 250 users `u000`..`u249`, ids 1..250.
async fn users(t: &TestDb) -> anyhow::Result<flaskdb::Db> {
    let db = t.with_tables().await?;
    let mut s = db.session();
    for i in 0..250 {
        s.add(
            User::build()
                .username(format!("u{i:03}"))
                .email(format!("u{i}@x")),
        );
    }
    s.commit().await?;
    Ok(db)
}

fn ids(p: &Pagination<User>) -> Vec<i64> {
    p.items.iter().map(|u| u.id).collect()
}

#[case(needs(LastInsertId))]
async fn defaults_and_query_arguments(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::id);
    let p = q().paginate(PageRequest::default()).await?;
    assert_eq!(
        (p.page, p.per_page, p.items.len(), p.total, p.pages()),
        (1, 20, 20, Some(250), 13)
    );
    assert_eq!(ids(&p), (1..=20).collect::<Vec<_>>());
    let p = q().paginate(PageRequest::new(Some(2), Some(10))).await?;
    assert_eq!((p.page, p.per_page), (2, 10));
    assert_eq!(ids(&p), (11..=20).collect::<Vec<_>>());
    assert_eq!((p.first(), p.last()), (11, 20));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn per_page_is_capped(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::id);
    let p = q()
        .paginate(PageRequest::new(None, Some(100)).max_per_page(Some(50)))
        .await?;
    assert_eq!((p.per_page, p.items.len()), (50, 50));
    let p = q().paginate(PageRequest::new(None, Some(1000))).await?;
    assert_eq!(p.per_page, 100, "the default cap is 100");
    let p = q()
        .paginate(PageRequest::new(None, Some(1000)).max_per_page(None))
        .await?;
    assert_eq!((p.per_page, p.items.len(), p.pages()), (1000, 250, 1));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn next_and_prev_keep_the_total(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let request = PageRequest::new(None, Some(110)).max_per_page(Some(250));
    let p = db
        .query::<User>()
        .order_by(User::id)
        .paginate(request)
        .await?;
    assert_eq!((p.page, p.per_page), (1, 110));
    let p2 = p.next().await?;
    assert_eq!(
        (p2.page, p2.per_page, p2.total, p2.items.len()),
        (2, 110, Some(250), 110)
    );
    assert_eq!(p2.items[0].id, 111);
    let p3 = p2.next().await?;
    assert_eq!((p3.page, p3.items.len(), p3.has_next()), (3, 30, false));
    let past = p3.next().await?;
    assert!(
        past.items.is_empty(),
        "next() past the end is an empty page"
    );
    assert!(p3.next_or_404().await.unwrap_err().is_not_found());
    // prev() does not carry max_per_page over (Flask-SQLAlchemy's quirk): capped at 100.
    let back = p2.prev().await?;
    assert_eq!(
        (back.page, back.per_page, back.max_per_page),
        (1, 100, Some(100))
    );
    let still_first = back.prev().await?;
    assert_eq!(still_first.page, 1);
    Ok(())
}

#[case(needs(LastInsertId))]
async fn count_false_leaves_total_unknown(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let p = db
        .query::<User>()
        .order_by(User::id)
        .paginate(PageRequest::default().count(false))
        .await?;
    assert_eq!(
        (p.total, p.pages(), p.has_next(), p.items.len()),
        (None, 0, false, 20)
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn bad_arguments_are_not_found_or_corrected(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::id);
    for (page, per_page) in [(Some(0), None), (None, Some(-1)), (Some(-3), Some(5))] {
        let err = q()
            .paginate(PageRequest::new(page, per_page))
            .await
            .unwrap_err();
        assert!(
            err.is_not_found(),
            "page {page:?} per_page {per_page:?}: {err}"
        );
    }
    let p = q()
        .paginate(PageRequest::new(Some(0), Some(-1)).error_out(false))
        .await?;
    assert_eq!((p.page, p.per_page), (1, 20));
    Ok(())
}

#[case(needs(LastInsertId))]
async fn empty_pages(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let p = db.query::<User>().paginate(PageRequest::default()).await?;
    assert!(p.items.is_empty());
    assert_eq!((p.total, p.first(), p.last()), (Some(0), 0, 0));
    let err = db
        .query::<User>()
        .paginate(PageRequest::new(Some(2), None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    let lenient = db
        .query::<User>()
        .paginate(PageRequest::new(Some(2), None).error_out(false))
        .await?;
    assert!(lenient.items.is_empty());
    Ok(())
}

#[case(needs(LastInsertId))]
async fn filters_and_iteration(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let p = db
        .query::<User>()
        .filter(User::id.gt(200))
        .order_by(User::id.desc())
        .paginate(PageRequest::new(Some(2), Some(20)))
        .await?;
    assert_eq!((p.total, p.pages()), (Some(50), 3));
    let by_ref: Vec<i64> = (&p).into_iter().map(|u| u.id).collect();
    assert_eq!(by_ref, (211..=230).rev().collect::<Vec<_>>());
    let owned: Vec<User> = p.into_iter().collect();
    assert_eq!(owned.len(), 20);
    // Through the scope's session too.
    let p = db
        .scope(async {
            User::query()
                .order_by(User::id)
                .paginate(PageRequest::new(Some(13), None))
                .await
        })
        .await?;
    assert_eq!(
        (p.items.len(), p.has_next(), p.has_prev()),
        (10, false, true)
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn serializes_for_json(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    #[derive(serde::Serialize)]
    struct Name<'a> {
        username: &'a str,
    }
    let p = db
        .query::<User>()
        .order_by(User::id)
        .paginate(PageRequest::new(Some(3), Some(2)))
        .await?;
    let names = Pagination::from_parts(
        p.page,
        p.per_page,
        p.total,
        p.items
            .iter()
            .map(|u| Name {
                username: &u.username,
            })
            .collect(),
    );
    let json = serde_json::to_value(&names)?;
    assert_eq!(
        json,
        serde_json::json!({"items": [{"username": "u004"}, {"username": "u005"}], "page": 3,
            "per_page": 2, "total": 250, "pages": 125, "has_next": true, "has_prev": true,
            "next_num": 4, "prev_num": 2})
    );
    Ok(())
}

#[case(needs(LastInsertId))]
async fn keyset_walks_every_row_once(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::username.desc());
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = q().paginate_after(cursor.as_deref(), 64).await?;
        pages += 1;
        assert_eq!(page.prev_cursor.is_some(), pages > 1);
        seen.extend(page.items.iter().map(|u| u.username.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..250).rev().map(|i| format!("u{i:03}")).collect();
    assert_eq!((pages, seen), (4, expected));
    // And back again from the last page.
    let last = q().paginate_after(cursor.as_deref(), 64).await?;
    let back = q().paginate_after(last.prev_cursor.as_deref(), 64).await?;
    let names: Vec<&str> = back.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names.first(), Some(&"u121"));
    assert_eq!(names.last(), Some(&"u058"));
    assert!(back.next_cursor.is_some() && back.prev_cursor.is_some());
    Ok(())
}

#[case(needs(LastInsertId))]
async fn keyset_is_stable_under_inserts(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::username);
    let first = q().paginate_after(None, 100).await?;
    assert_eq!(
        first.items.last().map(|u| u.username.as_str()),
        Some("u099")
    );
    // Rows land before the cursor and after the end between two page loads.
    let mut s = db.session();
    s.add(User::build().username("a-new").email("a@new"));
    s.add(User::build().username("z-new").email("z@new"));
    s.commit().await?;
    let second = q()
        .paginate_after(first.next_cursor.as_deref(), 100)
        .await?;
    let names: Vec<&str> = second.items.iter().map(|u| u.username.as_str()).collect();
    let expected: Vec<String> = (100..200).map(|i| format!("u{i:03}")).collect();
    assert_eq!(names, expected, "no row repeated or skipped");
    let third = q()
        .paginate_after(second.next_cursor.as_deref(), 100)
        .await?;
    assert_eq!(third.items.len(), 51);
    assert_eq!(
        third.items.last().map(|u| u.username.as_str()),
        Some("z-new")
    );
    assert!(third.next_cursor.is_none());
    // OFFSET paging, by contrast, shows u099 again on page 2.
    let offset = q().paginate(PageRequest::new(Some(2), Some(100))).await?;
    assert_eq!(offset.items[0].username, "u099");
    // Going back from page 2 finds the row inserted before page 1.
    let back = q()
        .paginate_after(second.prev_cursor.as_deref(), 100)
        .await?;
    assert_eq!(back.items[0].username, "u000");
    assert!(back.prev_cursor.is_some(), "a-new lies before");
    Ok(())
}

#[case(needs(LastInsertId))]
async fn keyset_refuses_foreign_cursors(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let page = db
        .query::<User>()
        .order_by(User::username)
        .paginate_after(None, 10)
        .await?;
    let cursor = page.next_cursor.unwrap();
    let other = db
        .query::<User>()
        .order_by(User::email)
        .paginate_after(Some(&cursor), 10)
        .await;
    assert!(
        other.unwrap_err().is_not_found(),
        "a cursor of another ordering"
    );
    for bad in ["", "AAAA", "!!", &cursor[1..]] {
        let err = db
            .query::<User>()
            .order_by(User::username)
            .paginate_after(Some(bad), 10)
            .await;
        assert!(err.unwrap_err().is_not_found(), "{bad:?}");
    }
    Ok(())
}

#[case(needs(LastInsertId))]
async fn keyset_per_page_is_capped(t: TestDb) -> TestResult {
    let db = users(&t).await?;
    let q = || db.query::<User>().order_by(User::username);
    // Capped at 100 as paginate's per_page is: u64::MAX is neither a panic nor a
    // LIMIT that wraps around to 0.
    let first = q().paginate_after(None, u64::MAX).await?;
    assert_eq!((first.per_page, first.items.len()), (100, 100));
    let second = q()
        .paginate_after(first.next_cursor.as_deref(), 500)
        .await?;
    assert_eq!(second.items.len(), 100);
    assert_eq!(second.items[0].username, "u100");
    let wider = q().paginate_after_with_max(None, 500, Some(200)).await?;
    assert_eq!((wider.per_page, wider.items.len()), (200, 200));
    // Without a cap, u64::MAX reads every row.
    let all = q().paginate_after_with_max(None, u64::MAX, None).await?;
    assert_eq!((all.items.len(), all.next_cursor), (250, None));
    // A page of nothing is bad input, as in paginate; a cap of nothing is a bad query.
    let zero = q().paginate_after(None, 0).await.unwrap_err();
    assert!(
        zero.is_not_found() && zero.to_string().contains("per_page"),
        "{zero}"
    );
    let no_cap = q()
        .paginate_after_with_max(None, 10, Some(0))
        .await
        .unwrap_err();
    assert!(matches!(no_cap, Error::InvalidQuery(_)), "{no_cap}");
    Ok(())
}
