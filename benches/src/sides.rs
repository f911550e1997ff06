//! Each workload written twice: idiomatic flaskdb, and hand-written sqlx as its users
//! write it. The sqlx side takes anything sqlx can acquire a connection from, so the same
//! code runs on a plain connection (`&mut PgConnection`) and on a default pool (`&PgPool`).

use flaskdb::Db;

use crate::models::{Comment, Post, User};

/// The flaskdb side.
pub mod flask {
    use super::*;

    /// Trivial query: every user.
    pub async fn trivial(db: &Db) -> anyhow::Result<Vec<User>> {
        Ok(db.query::<User>().all().await?)
    }

    /// Medium complex query: users with black hair, LEFT JOIN their posts.
    pub async fn medium(db: &Db) -> anyhow::Result<Vec<(User, Option<Post>)>> {
        Ok(db
            .select::<(User, Option<Post>)>()
            .left_join::<Post>()
            .filter(User::hair_color.eq("black"))
            .all()
            .await?)
    }

    /// Insert `n` users in one transaction through the session.
    pub async fn insert(db: &Db, n: usize) -> anyhow::Result<()> {
        let mut s = db.session();
        for i in 0..n {
            s.add(User::build().name(format!("User {i}")).hair_color("black"));
        }
        s.commit().await?;
        Ok(())
    }

    /// Loading associations: users with their posts and the posts' comments, by
    /// nested eager loading (three queries).
    pub async fn associations(db: &Db) -> anyhow::Result<Vec<User>> {
        Ok(db
            .query::<User>()
            .eager(User::posts.then(Post::comments))
            .all()
            .await?)
    }

    /// One user by primary key.
    pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<User>> {
        Ok(db.query::<User>().get(id).await?)
    }
}

/// ` IN (..)` with one parameter per key (`in_list`), or ` = ANY(..)` with the keys in
/// one array parameter (`array`, PostgreSQL), appended to `$q`.
macro_rules! keys_filter {
    (in_list, $q:ident, $keys:expr) => {{
        $q.push(" IN (");
        let mut list = $q.separated(", ");
        for key in $keys {
            list.push_bind(key);
        }
        $q.push(")");
    }};
    (array, $q:ident, $keys:expr) => {{
        $q.push(" = ANY(");
        $q.push_bind($keys.collect::<Vec<i64>>());
        $q.push(")");
    }};
}

/// The raw sqlx side for one backend: `$db` is the sqlx database, `$p1`/`$p2` the first
/// two placeholders in that backend's style, `$ddl` the backend's `CREATE TABLE`s,
/// `$keys` how a statement lists many keys (see `keys_filter!`).
macro_rules! raw_side {
    ($module:ident, $db:ty, $p1:literal, $p2:literal, $keys:ident, $ddl:expr) => {
        /// Hand-written sqlx.
        pub mod $module {
            use sqlx::{Acquire, QueryBuilder, Row};

            use super::*;
            use crate::models::{Filled, UserTree, assemble};

            /// The connection a workload runs on.
            type Conn = <$db as sqlx::Database>::Connection;

            /// Drops and creates the three tables: diesel_bench's schema, with no index
            /// on the foreign keys.
            pub async fn create(conn: &mut Conn) -> anyhow::Result<()> {
                for table in ["comments", "posts", "users"] {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
                        .execute(&mut *conn)
                        .await?;
                }
                for ddl in $ddl {
                    sqlx::raw_sql(ddl).execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Indexes `posts.user_id` and `comments.post_id` (the indexed variant).
            pub async fn index_foreign_keys(conn: &mut Conn) -> anyhow::Result<()> {
                sqlx::raw_sql("CREATE INDEX posts_user_id ON posts (user_id)")
                    .execute(&mut *conn)
                    .await?;
                sqlx::raw_sql("CREATE INDEX comments_post_id ON comments (post_id)")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Fresh tables holding `fill`'s rows, written in chunks in one transaction.
            pub async fn fill(conn: &mut Conn, fill: Filled) -> anyhow::Result<()> {
                create(conn).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let users: Vec<usize> = (0..fill.users).collect();
                for chunk in users.chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new("INSERT INTO users (name, hair_color) ");
                    q.push_values(chunk, |mut b, &i| {
                        b.push_bind(format!("User {i}")).push_bind(Filled::hair(i));
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let posts: Vec<(i64, usize)> = fill.posts_of_users().collect();
                for chunk in posts.chunks(1000) {
                    let mut q =
                        QueryBuilder::<$db>::new("INSERT INTO posts (user_id, title, body) ");
                    q.push_values(chunk, |mut b, &(user, p)| {
                        b.push_bind(user)
                            .push_bind(format!("Post {p}"))
                            .push_bind("text");
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let comments: Vec<(i64, usize)> = fill.comments_of_posts().collect();
                for chunk in comments.chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new("INSERT INTO comments (post_id, text) ");
                    q.push_values(chunk, |mut b, &(post, c)| {
                        b.push_bind(post).push_bind(format!("Comment {c}"));
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Every user's name and hair colour in key order: what an insert wrote.
            pub async fn names(conn: &mut Conn) -> anyhow::Result<Vec<(String, Option<String>)>> {
                Ok(
                    sqlx::query_as("SELECT name, hair_color FROM users ORDER BY id")
                        .fetch_all(&mut *conn)
                        .await?,
                )
            }

            /// Empties `users` (between the insert check's sides).
            pub async fn clear_users(conn: &mut Conn) -> anyhow::Result<()> {
                sqlx::raw_sql("DELETE FROM users")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Trivial query.
            pub async fn trivial<'a>(
                a: impl Acquire<'a, Database = $db>,
            ) -> anyhow::Result<Vec<User>> {
                let mut conn = a.acquire().await?;
                Ok(
                    sqlx::query_as::<_, User>("SELECT id, name, hair_color FROM users")
                        .fetch_all(&mut *conn)
                        .await?,
                )
            }

            /// Medium complex query.
            pub async fn medium<'a>(
                a: impl Acquire<'a, Database = $db>,
            ) -> anyhow::Result<Vec<(User, Option<Post>)>> {
                let mut conn = a.acquire().await?;
                let rows = sqlx::query(concat!(
                    "SELECT users.id, users.name, users.hair_color, posts.id, posts.user_id, ",
                    "posts.title, posts.body FROM users LEFT JOIN posts ",
                    "ON posts.user_id = users.id WHERE users.hair_color = ",
                    $p1
                ))
                .bind("black")
                .fetch_all(&mut *conn)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let user = User {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                        hair_color: row.try_get(2)?,
                        posts: Default::default(),
                    };
                    let post = match row.try_get::<Option<i64>, _>(3)? {
                        None => None,
                        Some(id) => Some(Post {
                            id,
                            user_id: row.try_get(4)?,
                            title: row.try_get(5)?,
                            body: row.try_get(6)?,
                            comments: Default::default(),
                        }),
                    };
                    out.push((user, post));
                }
                Ok(out)
            }

            /// Insert `n` users in one multi-row statement, in a transaction.
            pub async fn insert<'a>(
                a: impl Acquire<'a, Database = $db>,
                n: usize,
            ) -> anyhow::Result<()> {
                let mut tx = a.begin().await?;
                let mut q = QueryBuilder::<$db>::new("INSERT INTO users (name, hair_color) ");
                q.push_values(0..n, |mut b, i| {
                    b.push_bind(format!("User {i}")).push_bind("black");
                });
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Insert `n` users one statement each, in a transaction: the baseline a
            /// session's batching is measured against, not what sqlx users write for
            /// many rows.
            pub async fn insert_loop<'a>(
                a: impl Acquire<'a, Database = $db>,
                n: usize,
            ) -> anyhow::Result<()> {
                let mut tx = a.begin().await?;
                for i in 0..n {
                    sqlx::query(concat!(
                        "INSERT INTO users (name, hair_color) VALUES (",
                        $p1,
                        ", ",
                        $p2,
                        ")"
                    ))
                    .bind(format!("User {i}"))
                    .bind("black")
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Loading associations with one statement per level, on one connection:
            /// `IN` lists, or on PostgreSQL one array (`= ANY($1)`), as its users write it.
            pub async fn associations<'a>(
                a: impl Acquire<'a, Database = $db>,
            ) -> anyhow::Result<Vec<UserTree>> {
                let mut conn = a.acquire().await?;
                let users = trivial(&mut *conn).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, user_id, title, body FROM posts WHERE user_id",
                );
                keys_filter!($keys, q, users.iter().map(|u| u.id));
                let posts: Vec<Post> = q.build_query_as().fetch_all(&mut *conn).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, post_id, text FROM comments WHERE post_id",
                );
                keys_filter!($keys, q, posts.iter().map(|p| p.id));
                let comments: Vec<Comment> = q.build_query_as().fetch_all(&mut *conn).await?;
                Ok(assemble(users, posts, comments))
            }

            /// What a workload of many statements runs each on: the same plain
            /// connection again, or a connection the pool hands out for that statement.
            pub trait Reuse {
                /// The connection source for one more statement.
                fn again(&mut self) -> impl Acquire<'_, Database = $db>;
            }

            impl Reuse for &mut Conn {
                fn again(&mut self) -> impl Acquire<'_, Database = $db> {
                    &mut **self
                }
            }

            impl Reuse for &sqlx::Pool<$db> {
                fn again(&mut self) -> impl Acquire<'_, Database = $db> {
                    *self
                }
            }

            /// Users 1 to 100 by primary key, one statement each.
            pub async fn get_100(mut on: impl Reuse) -> anyhow::Result<()> {
                for id in 1..=100 {
                    get(on.again(), id).await?;
                }
                Ok(())
            }

            /// One user by primary key.
            pub async fn get<'a>(
                a: impl Acquire<'a, Database = $db>,
                id: i64,
            ) -> anyhow::Result<Option<User>> {
                let mut conn = a.acquire().await?;
                Ok(sqlx::query_as::<_, User>(concat!(
                    "SELECT id, name, hair_color FROM users WHERE id = ",
                    $p1
                ))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?)
            }
        }
    };
}

raw_side!(
    sqlite,
    sqlx::Sqlite,
    "?",
    "?",
    in_list,
    [
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, \
         hair_color VARCHAR(50))",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, \
         title VARCHAR(100) NOT NULL, body TEXT)",
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, \
         text VARCHAR(100) NOT NULL)",
    ]
);
raw_side!(
    postgres,
    sqlx::Postgres,
    "$1",
    "$2",
    array,
    [
        "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL, \
         hair_color VARCHAR(50))",
        "CREATE TABLE posts (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, \
         title VARCHAR(100) NOT NULL, body TEXT)",
        "CREATE TABLE comments (id BIGSERIAL PRIMARY KEY, post_id BIGINT NOT NULL, \
         text VARCHAR(100) NOT NULL)",
    ]
);
raw_side!(
    mysql,
    sqlx::MySql,
    "?",
    "?",
    in_list,
    [
        "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         name VARCHAR(50) NOT NULL, hair_color VARCHAR(50))",
        "CREATE TABLE posts (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, \
         title VARCHAR(100) NOT NULL, body TEXT)",
        "CREATE TABLE comments (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         post_id BIGINT NOT NULL, text VARCHAR(100) NOT NULL)",
    ]
);
