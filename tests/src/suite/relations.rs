//! Relationships: cascade inserts, lazy and eager loading (with the number of
//! statements), many-to-many, `raise`, self-reference and `with_parent`.

use std::sync::{Arc, Mutex};

use flaskdb::{Backend, Config, Db, Error, HasMany, HasOne, Operation};

use super::record::recording;
use crate::logs::capture;
use crate::models::*;
use crate::{TestDb, TestResult, case, exec};

/// `n` authors with two books each, each book with `reviews` reviews.
async fn library(db: &Db, n: usize, reviews: usize) -> anyhow::Result<()> {
    let mut s = db.session();
    for a in 0..n {
        let books = (0..2).map(|b| Book::build().title(format!("Book {a}.{b}")));
        s.add(Author::build().name(format!("Author {a}")).books(books));
    }
    s.commit().await?;
    for book in db.query::<Book>().all().await? {
        for r in 0..reviews {
            s.add(Review::build().book_id(book.id).stars(r as i32));
        }
    }
    s.commit().await?;
    Ok(())
}

#[case]
async fn cascade_insert_fills_foreign_keys(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    // The seed's example: adding the parent adds its children.
    s.add(
        Author::build()
            .name("Python")
            .books([
                Book::build().title("Hello Python!"),
                Book::build().title("Snakes"),
            ])
            .profile(AuthorProfile::build().bio("scaly")),
    );
    s.commit().await?;
    let author = db.query::<Author>().one().await?;
    let books = db.query::<Book>().order_by(Book::id).all().await?;
    assert_eq!(books.len(), 2);
    assert!(books.iter().all(|b| b.author_id == Some(author.id)));
    assert_eq!(
        db.query::<AuthorProfile>().one().await?.author_id,
        author.id
    );
    // belongs_to: point a new row at an existing model.
    let third = s
        .insert(Book::build().title("Third").author(&author))
        .await?;
    assert_eq!(third.author_id, Some(author.id));
    // insert() returns the parent even when children come with it.
    let other = s
        .insert(
            Author::build()
                .name("Other")
                .books([Book::build().title("Alone")]),
        )
        .await?;
    assert_eq!(other.name, "Other");
    s.commit().await?;
    assert_eq!(
        db.query::<Book>()
            .filter_by(Book::author_id, other.id)
            .count()
            .await?,
        1
    );
    // A child whose foreign key the relationship fills may leave it unset; a parent
    // missing its own required column is refused, with its children.
    s.add(Author::build().books([Book::build().title("Orphan")]));
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err, Error::MissingColumn { column, .. } if column == "name"));
    assert_eq!(db.query::<Book>().count().await?, 4);
    Ok(())
}

#[case]
async fn explicit_loading(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    library(&db, 1, 0).await?;
    let author = db.query::<Author>().one().await?;
    assert!(
        author.books.loaded().is_none(),
        "never pretends to be empty"
    );
    let books = author.books.load(&db).await?;
    assert_eq!(books.len(), 2);
    let book = &books[0];
    let owner = book.author.load(&db).await?.unwrap();
    assert_eq!(owner.id, author.id);
    assert!(author.profile.load(&db).await?.is_none());
    // Through a session: the rows enter its identity map.
    let mut s = db.session();
    let again = author.books.load(&mut s).await?;
    assert_eq!(again.len(), 2);
    // A NULL foreign key: nothing to load.
    let lone = s.insert(Book::build().title("No author")).await?;
    s.commit().await?;
    let lone = db.query::<Book>().get(lone.id).await?.unwrap();
    assert!(lone.author.load(&db).await?.is_none());
    Ok(())
}

#[case]
async fn eager_loading_is_one_query_per_relationship(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    for n in [3, 10] {
        db.query::<Book>().delete().await?;
        db.query::<Author>().delete().await?;
        library(&db, n, 0).await?;
        let (authors, statements) = db
            .scope(async {
                let authors = db
                    .query::<Author>()
                    .eager(Author::books)
                    .eager(Author::profile)
                    .all()
                    .await?;
                Ok::<_, Error>((authors, flaskdb::get_recorded_queries().len()))
            })
            .await?;
        assert_eq!(authors.len(), n);
        assert_eq!(
            statements, 3,
            "{n} authors: one query, plus one per relationship"
        );
        for a in &authors {
            let books = a.books.loaded().unwrap();
            assert_eq!(books.len(), 2);
            assert!(books.iter().all(|b| b.author_id == Some(a.id)));
            // back_populates: the books' `author` is the loaded parent, copied as it
            // was read (before its relationships were loaded).
            let read = Author {
                books: HasMany::default(),
                profile: HasOne::default(),
                ..a.clone()
            };
            assert!(books.iter().all(|b| b.author.loaded() == Some(Some(&read))));
            assert_eq!(a.profile.loaded(), Some(None));
        }
        // belongs_to eagerly: many books share an author.
        let books = db.query::<Book>().eager(Book::author).all().await?;
        assert!(
            books
                .iter()
                .all(|b| b.author.loaded().unwrap().unwrap().id == b.author_id.unwrap())
        );
    }
    Ok(())
}

/// Runs `f` in a scope of `db`; returns its output and the statements it ran.
async fn counted<T, F>(db: &Db, f: F) -> anyhow::Result<(T, Vec<String>)>
where
    F: std::future::Future<Output = Result<T, Error>>,
{
    let out = db
        .scope(async {
            let out = f.await?;
            let statements = flaskdb::get_recorded_queries()
                .into_iter()
                .map(|q| q.statement)
                .collect::<Vec<_>>();
            Ok::<_, Error>((out, statements))
        })
        .await?;
    Ok(out)
}

#[case]
async fn joined_eager_loading_is_one_statement(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    library(&db, 3, 2).await?;
    let mut s = db.session();
    s.add(Author::build().name("No books"));
    s.commit().await?;
    let (authors, statements) = counted(
        &db,
        db.query::<Author>()
            .eager_joined(Author::books)
            .order_by(Author::id)
            .all(),
    )
    .await?;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert!(
        statements[0].contains("LEFT OUTER JOIN"),
        "{}",
        statements[0]
    );
    let books: Vec<usize> = authors
        .iter()
        .map(|a| a.books.get().unwrap().len())
        .collect();
    assert_eq!(books, [2, 2, 2, 0]);
    for a in &authors {
        for b in a.books.get()? {
            assert_eq!(b.author_id, Some(a.id));
            // back_populates: each book knows its author without a statement.
            assert_eq!(b.author.get()?.map(|x| &x.name), Some(&a.name));
        }
    }
    // belongs_to, with a filter; and joined with eager loading beside it.
    let (books, statements) = counted(
        &db,
        db.query::<Book>()
            .filter(Book::title.like("Book 1.%"))
            .eager_joined(Book::author)
            .eager(Book::reviews)
            .all(),
    )
    .await?;
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(books.len(), 2);
    for b in &books {
        assert_eq!(b.author.get()?.unwrap().name, "Author 1");
        assert_eq!(b.reviews.get()?.len(), 2);
    }
    // lazy = "joined": every query of reviews joins its book.
    let (reviews, statements) = counted(&db, db.query::<Review>().all()).await?;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(reviews.len(), 12);
    assert!(
        reviews
            .iter()
            .all(|r| r.book.get().unwrap().unwrap().id == r.book_id)
    );
    // A self-referential relationship joins its table under an alias.
    let mut s = db.session();
    s.add(
        Node::build()
            .name("root")
            .children([Node::build().name("a"), Node::build().name("b")]),
    );
    s.commit().await?;
    let root = db
        .query::<Node>()
        .eager_joined(Node::children)
        .filter_by(Node::name, "root")
        .one()
        .await?;
    let mut names: Vec<&str> = root
        .children
        .get()?
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    // A many-to-many loads with eager(), not by a join.
    let err = db
        .query::<Book>()
        .eager_joined(Book::genres)
        .all()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("many-to-many"), "{err}");
    Ok(())
}

#[case]
async fn joined_eager_loading_limits_parents(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    library(&db, 5, 0).await?;
    let query = || {
        db.query::<Author>()
            .eager_joined(Author::books)
            .order_by(Author::id.desc())
    };
    let (authors, statements) = counted(&db, query().limit(2).offset(1).all()).await?;
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let names: Vec<&str> = authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Author 3", "Author 2"]);
    assert!(authors.iter().all(|a| a.books.get().unwrap().len() == 2));
    let first = query().first().await?.unwrap();
    assert_eq!(
        (first.name.as_str(), first.books.get()?.len()),
        ("Author 4", 2)
    );
    let page = query()
        .paginate(flaskdb::PageRequest::new(Some(2), Some(2)))
        .await?;
    let names: Vec<&str> = page.items.iter().map(|a| a.name.as_str()).collect();
    assert_eq!((names, page.total), (vec!["Author 2", "Author 1"], Some(5)));
    assert!(page.items.iter().all(|a| a.books.get().unwrap().len() == 2));
    // Locking the parents (FOR UPDATE) in a session's transaction.
    let mut s = db.session();
    let locked = s
        .query::<Author>()
        .eager_joined(Author::books)
        .for_update()
        .order_by(Author::id)
        .all()
        .await?;
    assert_eq!(locked.len(), 5);
    assert!(locked.iter().all(|a| a.books.get().unwrap().len() == 2));
    s.rollback().await?;
    // one() sees every joined row of one parent as one row.
    let one = query().filter(Author::name.eq("Author 0")).one().await?;
    assert_eq!(one.books.get()?.len(), 2);
    assert!(matches!(
        query().one().await,
        Err(Error::MultipleResultsFound)
    ));
    Ok(())
}

#[case]
async fn nested_eager_loading(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    library(&db, 4, 3).await?;
    let (authors, statements) = db
        .scope(async {
            let authors = db
                .query::<Author>()
                .eager(Author::books.then(Book::reviews))
                .order_by(Author::id)
                .all()
                .await?;
            Ok::<_, Error>((authors, flaskdb::get_recorded_queries().len()))
        })
        .await?;
    assert_eq!(statements, 3, "authors, books, reviews");
    let shape: Vec<Vec<usize>> = authors
        .iter()
        .map(|a| {
            a.books
                .get()
                .unwrap()
                .iter()
                .map(|b| b.reviews.get().unwrap().len())
                .collect()
        })
        .collect();
    assert_eq!(shape, vec![vec![3, 3]; 4]);
    Ok(())
}

#[case]
async fn many_to_many_through_a_declared_table(t: TestDb) -> TestResult {
    assert_eq!(enrollment().name(), "enrollment");
    let db = t.with_tables().await?;
    let mut s = db.session();
    let ann = s.insert(Student::build().name("Ann")).await?;
    let bob = s.insert(Student::build().name("Bob")).await?;
    let maths = s.insert(Course::build().title("Maths")).await?;
    let art = s.insert(Course::build().title("Art")).await?;
    s.commit().await?;
    for (student, course) in [(&ann, &maths), (&ann, &art), (&bob, &art)] {
        exec(
            &t,
            "INSERT INTO enrollment (student_id, course_id) VALUES (?, ?)",
            vec![student.id.into(), course.id.into()],
        )
        .await?;
    }
    let students = db
        .query::<Student>()
        .eager(Student::courses)
        .order_by(Student::name)
        .all()
        .await?;
    let titles: Vec<Vec<String>> = students
        .iter()
        .map(|st| {
            let mut t: Vec<String> = st
                .courses
                .get()
                .unwrap()
                .iter()
                .map(|c| c.title.clone())
                .collect();
            t.sort();
            t
        })
        .collect();
    assert_eq!(titles, [vec!["Art", "Maths"], vec!["Art"]]);
    // Deleting a student through a session deletes its links first (the foreign keys
    // have no ON DELETE, so the database alone would refuse).
    let mut s = db.session();
    s.delete(&students[0]);
    s.commit().await?;
    let bob = db.query::<Student>().one().await?;
    assert_eq!(bob.courses.load(&db).await?.len(), 1);
    assert_eq!(db.query::<Course>().count().await?, 2);
    Ok(())
}

#[case]
async fn many_to_many(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    library(&db, 1, 0).await?;
    let mut s = db.session();
    let fiction = s.insert(Genre::build().name("fiction")).await?;
    let poetry = s.insert(Genre::build().name("poetry")).await?;
    let books = s.query::<Book>().order_by(Book::id).all().await?;
    s.add(BookGenre::build().book_id(books[0].id).genre_id(fiction.id));
    s.add(BookGenre::build().book_id(books[0].id).genre_id(poetry.id));
    s.add(BookGenre::build().book_id(books[1].id).genre_id(poetry.id));
    s.commit().await?;
    let mut names: Vec<String> = books[0]
        .genres
        .load(&db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    names.sort();
    assert_eq!(names, ["fiction", "poetry"]);
    let eager = db
        .query::<Book>()
        .eager(Book::genres)
        .order_by(Book::id)
        .all()
        .await?;
    let counts: Vec<usize> = eager
        .iter()
        .map(|b| b.genres.get().unwrap().len())
        .collect();
    assert_eq!(counts, [2, 1]);
    // Genre::books is lazy = "selectin": every query of genres loads it.
    let genres = db.query::<Genre>().order_by(Genre::name).all().await?;
    let per_genre: Vec<usize> = genres
        .iter()
        .map(|g| g.books.get().unwrap().len())
        .collect();
    assert_eq!(per_genre, [1, 2]);
    // Removing a link removes the book from the genre.
    db.query::<BookGenre>()
        .filter_by(BookGenre::genre_id, poetry.id)
        .filter_by(BookGenre::book_id, books[0].id)
        .delete()
        .await?;
    assert_eq!(books[0].genres.load(&db).await?.len(), 1);
    Ok(())
}

#[case]
async fn raise_and_unloaded_access(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add(
        Node::build()
            .name("root")
            .children([Node::build().name("leaf")]),
    );
    s.commit().await?;
    let root = db
        .query::<Node>()
        .filter(Node::parent_id.is_null())
        .one()
        .await?;
    let err = root.sealed.load(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotLoaded { relationship } if relationship == "node.sealed"),
        "{err}"
    );
    let err = root.children.get().unwrap_err();
    assert!(err.to_string().contains("node.children"), "{err}");
    // Eager loading still works for a raise relationship.
    let eager = db
        .query::<Node>()
        .eager(Node::sealed)
        .filter(Node::parent_id.is_null())
        .one()
        .await?;
    assert_eq!(eager.sealed.get()?.len(), 1);
    Ok(())
}

#[case]
async fn self_reference(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    // A tree inserted in one add: grandchildren after children after the root.
    s.add(
        Node::build().name("root").children([
            Node::build()
                .name("a")
                .children([Node::build().name("a1"), Node::build().name("a2")]),
            Node::build().name("b"),
        ]),
    );
    s.commit().await?;
    let root = db
        .query::<Node>()
        .filter(Node::parent_id.is_null())
        .one()
        .await?;
    let tree = db
        .query::<Node>()
        .filter(Node::id.eq(root.id))
        .eager(Node::children.then(Node::children))
        .one()
        .await?;
    let mut names: Vec<(String, usize)> = tree
        .children
        .get()?
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.children.get().map(<[Node]>::len).unwrap_or(99),
            )
        })
        .collect();
    names.sort();
    assert_eq!(names, [("a".to_string(), 2), ("b".to_string(), 0)]);
    let a1 = db.query::<Node>().filter_by(Node::name, "a1").one().await?;
    let a = a1.parent.load(&db).await?.unwrap();
    let top = a.parent.load(&db).await?.unwrap();
    assert_eq!((a.name.as_str(), top.name.as_str()), ("a", "root"));
    Ok(())
}

#[case]
async fn cascade_delete_follows_the_relationship(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().track_modifications(true)).await?;
    db.create_all().await?;
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let seen = deleted.clone();
    db.on_models_committed(move |changes| {
        seen.lock().unwrap().extend(
            changes
                .iter()
                .filter(|c| c.operation == Operation::Delete)
                .map(|c| c.table),
        )
    });
    let mut s = db.session();
    let tree = |name: &str| {
        Node::build().name(name).children([
            Node::build()
                .name(format!("{name}.a"))
                .children([Node::build().name(format!("{name}.a.1"))]),
            Node::build().name(format!("{name}.b")),
        ])
    };
    s.add_all([tree("x"), tree("y")]);
    s.commit().await?;
    let x = db.query::<Node>().filter_by(Node::name, "x").one().await?;
    // The session knows one of the children: it is forgotten with the rest.
    let xa = s.query::<Node>().filter_by(Node::name, "x.a").one().await?;
    s.delete(&x);
    s.commit().await?;
    let mut left: Vec<String> = db
        .query::<Node>()
        .all()
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect();
    left.sort();
    assert_eq!(left, ["y", "y.a", "y.a.1", "y.b"]);
    assert_eq!(*deleted.lock().unwrap(), ["node"; 4]);
    assert!(s.query::<Node>().get(xa.id).await?.is_none());
    Ok(())
}

#[case]
async fn deleting_a_parent_follows_on_delete(t: TestDb) -> TestResult {
    let db = recording(&t).await?;
    library(&db, 2, 1).await?;
    let books = db.query::<Book>().order_by(Book::id).all().await?;
    let mut s = db.session();
    let genre = s.insert(Genre::build().name("Poetry")).await?;
    s.add(BookGenre::build().book_id(books[0].id).genre_id(genre.id));
    s.commit().await?;
    let author = books[0].author.load(&db).await?.unwrap();
    db.scope(async {
        let mut s = flaskdb::session();
        s.delete(&books[0]);
        s.delete(&author);
        s.commit().await?;
        // The many-to-many links go with the book (as SQLAlchemy deletes them).
        let statements: Vec<String> = flaskdb::get_recorded_queries()
            .into_iter()
            .map(|q| q.statement)
            .collect();
        assert!(
            statements
                .iter()
                .any(|q| q.starts_with("DELETE FROM") && q.contains("book_genre")),
            "{statements:#?}"
        );
        Ok::<_, Error>(())
    })
    .await?;
    assert_eq!(db.query::<BookGenre>().count().await?, 0);
    // `books` has no cascade: the database's ON DELETE SET NULL keeps the other book.
    let other = db.query::<Book>().get(books[1].id).await?.unwrap();
    assert_eq!(other.author_id, None);
    // Reviews follow the database's ON DELETE CASCADE of their foreign key.
    assert_eq!(
        db.query::<Review>().with_parent(&books[0]).count().await?,
        0
    );
    assert_eq!(db.query::<Review>().count().await?, 3);
    Ok(())
}

#[case]
async fn with_parent(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    library(&db, 2, 2).await?;
    let books = db.query::<Book>().order_by(Book::id).all().await?;
    let reviews = db.query::<Review>().with_parent(&books[0]).all().await?;
    assert_eq!(reviews.len(), 2);
    assert!(reviews.iter().all(|r| r.book_id == books[0].id));
    let author = db
        .query::<Author>()
        .order_by(Author::id)
        .first()
        .await?
        .unwrap();
    let theirs = db
        .query::<Book>()
        .with_parent_via(&author, Author::books)
        .filter(Book::title.ne("Book 0.1"))
        .all()
        .await?;
    assert_eq!(
        theirs.iter().map(|b| b.title.as_str()).collect::<Vec<_>>(),
        ["Book 0.0"]
    );
    // Through a self-referential relationship, from a node a session inserted and has
    // not committed: its own children, neither its parent nor its sibling's children.
    let mut s = db.session();
    let top = s.insert(Node::build().name("top")).await?;
    let root = s
        .insert(
            Node::build()
                .name("r")
                .parent_id(top.id)
                .children([Node::build().name("r.1"), Node::build().name("r.2")]),
        )
        .await?;
    s.add(
        Node::build()
            .name("s")
            .parent_id(top.id)
            .children([Node::build().name("s.1")]),
    );
    let children = s
        .query::<Node>()
        .with_parent_via(&root, Node::children)
        .order_by(Node::id)
        .all()
        .await?;
    assert_eq!(
        children.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["r.1", "r.2"]
    );
    Ok(())
}

#[case]
async fn n_plus_one_is_seen_and_eager_loading_avoids_it(t: TestDb) -> TestResult {
    let db = Db::connect(t.config().record_queries(true).n_plus_one_threshold(5)).await?;
    db.create_all().await?;
    library(&db, 8, 0).await?;
    let (loaded, logs) = capture(
        tracing::Level::WARN,
        db.scope(async {
            let mut n = 0;
            for author in db.query::<Author>().all().await? {
                n += author.books.load(&db).await?.len();
            }
            Ok::<_, Error>(n)
        }),
    )
    .await;
    assert_eq!(loaded?, 16);
    assert!(logs.contains("N+1"), "a loop of lazy loads warns: {logs}");
    let (eager, logs) = capture(
        tracing::Level::WARN,
        db.scope(async { db.query::<Author>().eager(Author::books).all().await }),
    )
    .await;
    assert_eq!(eager?.len(), 8);
    assert!(!logs.contains("N+1"), "{logs}");
    Ok(())
}

#[case]
async fn a_many_to_many_without_its_table_is_an_error(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.insert(Loner::build()).await?;
    s.commit().await?;
    let loner = db.query::<Loner>().one().await?;
    let err = loner.genres.load(&db).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("relationship loner.genres: no association table `nowhere`"),
        "{err}"
    );
    let err = db
        .query::<Loner>()
        .eager(Loner::genres)
        .all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)));
    let _ = Config::new("sqlite::memory:");
    Ok(())
}

#[case]
async fn models_compare_their_loaded_relationships(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    library(&db, 1, 0).await?;
    let eager = || db.query::<Author>().eager(Author::books).one();
    let (plain, loaded) = (db.query::<Author>().one().await?, eager().await?);
    assert_eq!(plain, db.query::<Author>().one().await?, "neither loaded");
    assert_eq!(loaded, eager().await?, "the same rows loaded");
    assert_ne!(plain, loaded, "loaded and not loaded");
    // The same author, with a book that has changed since `loaded` was read.
    db.query::<Book>()
        .filter_by(Book::title, "Book 0.0")
        .update(Book::title.set("Book 0.0, revised"))
        .await?;
    assert_ne!(eager().await?, loaded, "other rows loaded");
    // An author without books: loading found nothing, which is not "not loaded".
    db.query::<Book>().delete().await?;
    assert_eq!(eager().await?.books.loaded().map(<[_]>::len), Some(0));
    assert_ne!(eager().await?, db.query::<Author>().one().await?);
    Ok(())
}

/// 70,000 parents are more keys than any backend takes as parameters of one statement:
/// eager loading splits them into statements within the backend's limit (or binds one
/// array on PostgreSQL), and every parent gets exactly its own children.
#[case]
async fn eager_loading_of_70_000_parents(t: TestDb) -> TestResult {
    const PARENTS: usize = 70_000;
    let db = recording(&t).await?;
    let mut s = db.session();
    s.add_all((0..PARENTS).map(|a| Author::build().name(format!("a{a}"))));
    s.commit().await?;
    let ids: Vec<i64> = db
        .query::<Author>()
        .order_by(Author::id)
        .all()
        .await?
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids.len(), PARENTS);
    // Every 7th author has two books.
    s.add_all(ids.iter().step_by(7).flat_map(|id| {
        (0..2).map(move |b| Book::build().title(format!("{id}.{b}")).author_id(*id))
    }));
    s.commit().await?;
    let (authors, statements) = db
        .scope(async {
            let authors = db
                .query::<Author>()
                .order_by(Author::id)
                .eager(Author::books)
                .all()
                .await?;
            Ok::<_, Error>((authors, flaskdb::get_recorded_queries()))
        })
        .await?;
    let limit = match t.backend {
        Backend::Sqlite => 32_766,
        _ => 65_535,
    };
    assert!(
        statements.iter().all(|q| q.parameters.len() <= limit),
        "every statement within {limit} parameters: {:?}",
        statements
            .iter()
            .map(|q| q.parameters.len())
            .collect::<Vec<_>>()
    );
    let expected = match t.backend {
        // The parents, and their books by one array of keys.
        Backend::Postgres => 2,
        // The parents, and their books in statements of at most `limit` keys.
        _ => 1 + PARENTS.div_ceil(limit),
    };
    assert_eq!(statements.len(), expected);
    assert_eq!(authors.len(), PARENTS);
    for (i, a) in authors.iter().enumerate() {
        assert_eq!(a.id, ids[i], "the parents keep their order");
        let books = a.books.loaded().expect("loaded");
        let mut titles: Vec<&str> = books.iter().map(|b| b.title.as_str()).collect();
        titles.sort_unstable();
        match i % 7 {
            0 => assert_eq!(titles, [format!("{}.0", a.id), format!("{}.1", a.id)]),
            _ => assert!(titles.is_empty(), "{}: {titles:?}", a.id),
        }
        assert!(books.iter().all(|b| b.author_id == Some(a.id)));
    }
    Ok(())
}

/// An `in_` list longer than a statement's parameter limit: on PostgreSQL it is one
/// array parameter and works; on SQLite and MySQL it is a clear error naming the count
/// and the limit, sent to no database.
#[case]
async fn oversized_in_filters(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let mut s = db.session();
    s.add_all((0..3).map(|a| Author::build().name(format!("a{a}"))));
    s.commit().await?;
    let first = db
        .query::<Author>()
        .order_by(Author::id)
        .first()
        .await?
        .unwrap();
    // The first author's key, and 69,999 that match nothing.
    let wanted: Vec<i64> = std::iter::once(first.id)
        .chain((1..70_000).map(|n| -n))
        .collect();
    let found = db
        .query::<Author>()
        .filter(Author::id.in_(wanted.clone()))
        .all()
        .await;
    let outside = db
        .query::<Author>()
        .filter(Author::id.not_in(wanted.clone()))
        .count()
        .await;
    match t.backend {
        Backend::Postgres => {
            assert_eq!(found?.iter().map(|a| a.id).collect::<Vec<_>>(), [first.id]);
            assert_eq!(outside?, 2);
        }
        backend => {
            let limit = match backend {
                Backend::Sqlite => 32_766,
                _ => 65_535,
            };
            for err in [
                found.map(|_| ()).unwrap_err(),
                outside.map(|_| ()).unwrap_err(),
            ] {
                assert!(
                    matches!(err, Error::TooManyParameters { count: 70_000, limit: l, backend: b } if l == limit && b == backend),
                    "{err}"
                );
                assert!(
                    err.to_string()
                        .contains(&format!("binds 70000 values, more than the {limit}")),
                    "{err}"
                );
            }
        }
    }
    // On every backend, a list within the limit works.
    let near = db
        .query::<Author>()
        .filter(Author::id.in_(wanted[..30_000].to_vec()))
        .count()
        .await?;
    assert_eq!(near, 1);
    Ok(())
}
