//! Each workload written twice: idiomatic flaskdb, and hand-written sqlx on the same pool.

use flaskdb::Db;

use crate::models::{Comment, Post, User, UserTree, assemble};

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

/// The raw sqlx side for one backend: `$pool` is the pool type, `$p1`/`$p2` the first
/// two placeholders in that backend's style.
macro_rules! raw_side {
    ($module:ident, $pool:ty, $db:ty, $p1:literal, $p2:literal) => {
        /// Hand-written sqlx.
        pub mod $module {
            use sqlx::{QueryBuilder, Row};

            use super::*;

            /// Trivial query.
            pub async fn trivial(pool: &$pool) -> anyhow::Result<Vec<User>> {
                Ok(
                    sqlx::query_as::<_, User>("SELECT id, name, hair_color FROM users")
                        .fetch_all(pool)
                        .await?,
                )
            }

            /// Medium complex query.
            pub async fn medium(pool: &$pool) -> anyhow::Result<Vec<(User, Option<Post>)>> {
                let rows = sqlx::query(concat!(
                    "SELECT users.id, users.name, users.hair_color, posts.id, posts.user_id, ",
                    "posts.title, posts.body FROM users LEFT JOIN posts ",
                    "ON posts.user_id = users.id WHERE users.hair_color = ",
                    $p1
                ))
                .bind("black")
                .fetch_all(pool)
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
            pub async fn insert(pool: &$pool, n: usize) -> anyhow::Result<()> {
                let mut tx = pool.begin().await?;
                let mut q = QueryBuilder::<$db>::new("INSERT INTO users (name, hair_color) ");
                q.push_values(0..n, |mut b, i| {
                    b.push_bind(format!("User {i}")).push_bind("black");
                });
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Insert `n` users one statement each, in a transaction.
            pub async fn insert_loop(pool: &$pool, n: usize) -> anyhow::Result<()> {
                let mut tx = pool.begin().await?;
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

            /// Loading associations with IN lists.
            pub async fn associations(pool: &$pool) -> anyhow::Result<Vec<UserTree>> {
                let users = trivial(pool).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, user_id, title, body FROM posts WHERE user_id IN (",
                );
                let mut list = q.separated(", ");
                for u in &users {
                    list.push_bind(u.id);
                }
                q.push(")");
                let posts: Vec<Post> = q.build_query_as().fetch_all(pool).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, post_id, text FROM comments WHERE post_id IN (",
                );
                let mut list = q.separated(", ");
                for p in &posts {
                    list.push_bind(p.id);
                }
                q.push(")");
                let comments: Vec<Comment> = q.build_query_as().fetch_all(pool).await?;
                Ok(assemble(users, posts, comments))
            }

            /// One user by primary key.
            pub async fn get(pool: &$pool, id: i64) -> anyhow::Result<Option<User>> {
                Ok(sqlx::query_as::<_, User>(concat!(
                    "SELECT id, name, hair_color FROM users WHERE id = ",
                    $p1
                ))
                .bind(id)
                .fetch_optional(pool)
                .await?)
            }
        }
    };
}

raw_side!(sqlite, sqlx::SqlitePool, sqlx::Sqlite, "?", "?");
raw_side!(postgres, sqlx::PgPool, sqlx::Postgres, "$1", "$2");
raw_side!(mysql, sqlx::MySqlPool, sqlx::MySql, "?", "?");
