//! Joins, rows of several things, column selects, aggregates and subqueries.

use flaskdb::{Error, Model, PageRequest, alias, count_all, entity, exists, not_exists};
use futures_util::TryStreamExt;

use crate::models::*;
use crate::{TestDb, TestResult, case};

/// Users `ada` (posts "one" score 3, "two" score 5) and `bob` (no post).
async fn fixture(t: &TestDb) -> anyhow::Result<flaskdb::Db> {
    let db = t.with_tables().await?;
    let mut s = db.session();
    let ada = s
        .insert(User::build().username("ada").email("ada@x"))
        .await?;
    s.insert(User::build().username("bob").email("bob@x"))
        .await?;
    s.add(Post::build().user_id(ada.id).title("one").score(3));
    s.add(Post::build().user_id(ada.id).title("two").score(5));
    s.commit().await?;
    Ok(db)
}

#[case]
async fn left_join_rows_of_two_models(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let rows: Vec<(User, Option<Post>)> = db
        .select::<(User, Option<Post>)>()
        .left_join::<Post>()
        .order_by(User::id)
        .order_by(Post::id)
        .all()
        .await?;
    let shape: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(u, p)| (u.username.as_str(), p.as_ref().map(|p| p.title.as_str())))
        .collect();
    assert_eq!(
        shape,
        [("ada", Some("one")), ("ada", Some("two")), ("bob", None)]
    );
    assert_eq!(rows[0].1.as_ref().unwrap().user_id, rows[0].0.id);
    Ok(())
}

#[case]
async fn inner_join_and_filters_on_joined_columns(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let rows: Vec<(User, Post)> = db
        .select::<(User, Post)>()
        .join::<Post>()
        .filter(Post::title.like("t%"))
        .all()
        .await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.username.as_str(), rows[0].1.title.as_str()),
        ("ada", "two")
    );
    // The join can start from either side.
    let posts: Vec<(Post, User)> = db
        .select::<(Post, User)>()
        .join::<User>()
        .order_by(Post::id.desc())
        .all()
        .await?;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].1.username, "ada");
    Ok(())
}

#[case]
async fn join_on_explicit_conditions(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let mut s = db.session();
    let users = s.query::<User>().order_by(User::id).all().await?;
    s.add(
        Message::build()
            .sender_id(users[0].id)
            .recipient_id(users[1].id),
    );
    s.commit().await?;
    let sent: Vec<(User, Message)> = db
        .select::<(User, Message)>()
        .join_on::<Message>(Message::sender_id.eq_col(User::id))
        .all()
        .await?;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.username, "ada");
    let received: Vec<(User, Option<Message>)> = db
        .select::<(User, Option<Message>)>()
        .left_join_on::<Message>(Message::recipient_id.eq_col(User::id))
        .order_by(User::id)
        .all()
        .await?;
    let got: Vec<bool> = received.iter().map(|(_, m)| m.is_some()).collect();
    assert_eq!(got, [false, true], "bob received the message");
    Ok(())
}

#[case]
async fn ambiguous_or_missing_foreign_keys_are_errors(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let err = db
        .select::<(User, Message)>()
        .join::<Message>()
        .all()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidQuery(_)));
    assert!(
        text.contains("sender_id") && text.contains("recipient_id"),
        "{text}"
    );
    let err = db
        .select::<(User, Group)>()
        .join::<Group>()
        .all()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no foreign key"), "{err}");
    Ok(())
}

#[case]
async fn aggregates_group_by_having(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let per_user: Vec<(String, i64)> = db
        .select_columns((User::username, Post::id.count()))
        .left_join::<Post>()
        .group_by(User::username)
        .order_by(User::username)
        .all()
        .await?;
    assert_eq!(per_user, [("ada".to_string(), 2), ("bob".to_string(), 0)]);
    let busy: Vec<(String, i64)> = db
        .select_columns((User::username, Post::id.count()))
        .left_join::<Post>()
        .group_by(User::username)
        .having(Post::id.count().gt(1))
        .all()
        .await?;
    assert_eq!(busy, [("ada".to_string(), 2)]);
    let by_count: Vec<(String, i64)> = db
        .select_columns((User::username, count_all()))
        .join::<Post>()
        .group_by(User::username)
        .order_by(count_all().desc())
        .all()
        .await?;
    assert_eq!(by_count, [("ada".to_string(), 2)]);
    let groups = db
        .select_columns((User::username, Post::id.count()))
        .left_join::<Post>()
        .group_by(User::username)
        .count()
        .await?;
    assert_eq!(groups, 2, "count() of a grouped select counts groups");
    Ok(())
}

#[case]
async fn aggregate_result_types(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let (sum, avg, min, max, distinct): (Option<i64>, Option<f64>, Option<i32>, Option<i32>, i64) =
        db.select_columns((
            Post::score.sum(),
            Post::score.avg(),
            Post::score.min(),
            Post::score.max(),
            Post::user_id.count_distinct(),
        ))
        .one()
        .await?;
    assert_eq!(
        (sum, avg, min, max, distinct),
        (Some(8), Some(4.0), Some(3), Some(5), 1)
    );
    let empty: (Option<i64>, Option<f64>, Option<String>) = db
        .select_columns((Post::score.sum(), Post::score.avg(), Post::title.max()))
        .filter(Post::score.gt(100))
        .one()
        .await?;
    assert_eq!(empty, (None, None, None), "aggregates of no row are NULL");
    let mut s = db.session();
    s.add(
        AllTypes::build()
            .flag(true)
            .small(1)
            .int(2)
            .big(3)
            .real(0.5)
            .double(1.25)
            .text("t")
            .bytes(vec![1u8]),
    );
    s.add(
        AllTypes::build()
            .flag(false)
            .small(2)
            .int(4)
            .big(9)
            .real(1.5)
            .double(2.5)
            .text("u")
            .bytes(vec![2u8]),
    );
    s.commit().await?;
    let floats: (Option<f64>, Option<f64>, Option<i64>, Option<i64>) = db
        .select_columns((
            AllTypes::double.sum(),
            AllTypes::real.sum(),
            AllTypes::small.sum(),
            AllTypes::big.sum(),
        ))
        .one()
        .await?;
    assert_eq!(floats, (Some(3.75), Some(2.0), Some(3), Some(12)));
    Ok(())
}

#[case]
async fn models_beside_aggregates(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let rows: Vec<(User, i64)> = db
        .select_columns((entity::<User>(), Post::id.count()))
        .left_join::<Post>()
        .group_by(User::id)
        .group_by(User::username)
        .group_by(User::email)
        .group_by(User::bio)
        .order_by(User::id)
        .all()
        .await?;
    let counts: Vec<(&str, i64)> = rows
        .iter()
        .map(|(u, n)| (u.username.as_str(), *n))
        .collect();
    assert_eq!(counts, [("ada", 2), ("bob", 0)]);
    Ok(())
}

#[case]
async fn subqueries(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let with_posts = db
        .query::<User>()
        .filter(User::id.in_subquery(flaskdb::select_columns(Post::user_id)))
        .all()
        .await?;
    assert_eq!(
        with_posts
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["ada"]
    );
    let without = db
        .query::<User>()
        .filter(User::id.not_in_subquery(flaskdb::select_columns(Post::user_id)))
        .all()
        .await?;
    assert_eq!(without[0].username, "bob");
    // Correlated EXISTS / NOT EXISTS.
    let posted = flaskdb::select::<Post>().filter(Post::user_id.eq_col(User::id));
    let ada = db.query::<User>().filter(exists(posted)).one().await?;
    assert_eq!(ada.username, "ada");
    let quiet = flaskdb::select::<Post>().filter(Post::user_id.eq_col(User::id));
    let bob = db.query::<User>().filter(not_exists(quiet)).one().await?;
    assert_eq!(bob.username, "bob");
    // A scalar subquery in the select list.
    let per_user: Vec<(String, Option<i64>)> = db
        .select_columns((
            User::username,
            flaskdb::select_columns(count_all())
                .from::<Post>()
                .filter(Post::user_id.eq_col(User::id))
                .scalar(),
        ))
        .order_by(User::username)
        .all()
        .await?;
    assert_eq!(
        per_user,
        [("ada".to_string(), Some(2)), ("bob".to_string(), Some(0))]
    );
    // ... and compared against.
    let top = db
        .select_columns(Post::title)
        .filter(Post::score.eq_col(flaskdb::select_columns(Post::score.max()).scalar()))
        .one()
        .await?;
    assert_eq!(top, "two");
    Ok(())
}

#[case]
async fn terminals_on_selects(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let q = || {
        db.select::<(User, Option<Post>)>()
            .left_join::<Post>()
            .order_by(User::id)
            .order_by(Post::id)
    };
    assert_eq!(q().count().await?, 3);
    let first = q().first().await?.unwrap();
    assert_eq!(first.1.unwrap().title, "one");
    let streamed: Vec<(User, Option<Post>)> = q().stream().try_collect().await?;
    assert_eq!(streamed.len(), 3);
    let page = q().paginate(PageRequest::new(Some(2), Some(2))).await?;
    assert_eq!(
        (page.items.len(), page.total, page.pages()),
        (1, Some(3), 2)
    );
    assert!(page.items[0].1.is_none());
    assert!(matches!(q().one().await, Err(Error::MultipleResultsFound)));
    // Inside a scope, through its session.
    let titles: Vec<String> = db
        .scope(async {
            flaskdb::select_columns(Post::title)
                .order_by(Post::title.desc())
                .all()
                .await
        })
        .await?;
    assert_eq!(titles, ["two", "one"]);
    let _ = User::table();
    Ok(())
}

#[case]
async fn self_joins_through_aliases(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    let root = s.insert(Category::build().name("root")).await?;
    let child = s
        .insert(Category::build().name("child").parent_id(root.id))
        .await?;
    s.insert(Category::build().name("grandchild").parent_id(child.id))
        .await?;
    s.commit().await?;
    let parent = alias::<Category>("parent");
    let pairs: Vec<(String, String)> = db
        .select_columns((Category::name, parent.col(Category::name)))
        .join_alias(
            &parent,
            parent.col(Category::id).eq_col(Category::parent_id),
        )
        .order_by(Category::id)
        .all()
        .await?;
    let expected = [("child", "root"), ("grandchild", "child")];
    assert_eq!(pairs, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    let with_parents: Vec<(Category, Option<Category>)> = db
        .select_columns((entity::<Category>(), parent.outer()))
        .left_join_alias(
            &parent,
            Category::parent_id.eq_col(parent.col(Category::id)),
        )
        .order_by(Category::id)
        .all()
        .await?;
    let names: Vec<Option<String>> = with_parents
        .into_iter()
        .map(|(_, p)| p.map(|p| p.name))
        .collect();
    assert_eq!(
        names,
        [None, Some("root".to_string()), Some("child".to_string())]
    );
    Ok(())
}

#[case]
async fn derived_tables(t: TestDb) -> TestResult {
    let db = fixture(&t).await?;
    let totals = db
        .select_columns((Post::user_id, count_all().named("n")))
        .group_by(Post::user_id)
        .derived("totals");
    let (user_id, n) = (totals.column::<i64>("user_id"), totals.column::<i64>("n"));
    let busy: Vec<(i64, i64)> = db
        .select_columns((user_id, n.clone()))
        .from_derived(totals)
        .filter(n.gt(1))
        .all()
        .await?;
    let ada = db
        .query::<User>()
        .filter_by(User::username, "ada")
        .one()
        .await?;
    assert_eq!(busy, [(ada.id, 2)]);
    Ok(())
}

/// An alias, a derived table or a column label holding a NUL is refused with
/// `Error::InvalidIdentifier` naming it, and no statement is sent (the servers would cut
/// the name off at the NUL or refuse the statement without saying why).
#[case]
async fn names_with_nul_are_refused_before_sending(t: TestDb) -> TestResult {
    let db = super::record::recording(&t).await?;
    db.scope(async {
        let refused = |result: Result<_, Error>, bad: &str| match result {
            Err(Error::InvalidIdentifier { name }) => assert_eq!(name, bad),
            other => panic!("{bad:?} was not refused: {other:?}"),
        };
        let before = flaskdb::get_recorded_queries().len();
        let parent = alias::<Category>("par\0ent");
        let pairs = db
            .select_columns((Category::name, parent.col(Category::name)))
            .join_alias(
                &parent,
                parent.col(Category::id).eq_col(Category::parent_id),
            )
            .all()
            .await;
        refused(pairs.map(drop), "par\0ent");
        let labelled = db
            .select_columns(count_all().named("n\0"))
            .from::<Post>()
            .all()
            .await;
        refused(labelled.map(drop), "n\0");
        let totals = db
            .select_columns((Post::user_id, count_all()))
            .group_by(Post::user_id)
            .derived("tot\0als");
        let derived = db
            .select_columns(totals.column::<i64>("user_id"))
            .from_derived(totals)
            .all()
            .await;
        refused(derived.map(drop), "tot\0als");
        let streamed: Result<Vec<_>, Error> = db
            .select_columns(parent.col(Category::name))
            .from::<Category>()
            .join_alias(
                &parent,
                parent.col(Category::id).eq_col(Category::parent_id),
            )
            .stream()
            .try_collect()
            .await;
        refused(streamed.map(drop), "par\0ent");
        assert_eq!(
            flaskdb::get_recorded_queries().len(),
            before,
            "nothing sent"
        );
        anyhow::Ok(())
    })
    .await?;
    Ok(())
}
