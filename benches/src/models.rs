//! The schema of Diesel's benchmark suite, as flaskdb models and as sqlx rows, and the
//! rows the workloads are run on.
//!
//! The tables are created by hand-written DDL (`sides`), as diesel_bench has them: no
//! index on `posts.user_id` or `comments.post_id` unless a workload adds one.

use flaskdb::Model;

/// A user (Diesel's `users`).
#[derive(Model, Debug, Clone, PartialEq, sqlx::FromRow)]
#[model(table = "users")]
pub struct User {
    /// The key.
    pub id: i64,
    /// The name.
    #[model(max_length = 50)]
    pub name: String,
    /// A nullable text column.
    #[model(max_length = 50)]
    pub hair_color: Option<String>,
    /// The user's posts.
    #[model(has_many)]
    #[sqlx(skip)]
    pub posts: flaskdb::HasMany<Post>,
}

/// A post (Diesel's `posts`).
#[derive(Model, Debug, Clone, PartialEq, sqlx::FromRow)]
#[model(table = "posts")]
pub struct Post {
    /// The key.
    pub id: i64,
    /// The author.
    #[model(foreign_key = "users.id")]
    pub user_id: i64,
    /// The title.
    #[model(max_length = 100)]
    pub title: String,
    /// The body.
    pub body: Option<String>,
    /// The post's comments.
    #[model(has_many)]
    #[sqlx(skip)]
    pub comments: flaskdb::HasMany<Comment>,
}

/// A comment (Diesel's `comments`).
#[derive(Model, Debug, Clone, PartialEq, sqlx::FromRow)]
#[model(table = "comments")]
pub struct Comment {
    /// The key.
    pub id: i64,
    /// The post.
    #[model(foreign_key = "posts.id")]
    pub post_id: i64,
    /// The text.
    #[model(max_length = 100)]
    pub text: String,
}

/// A user with their posts, each with its comments: the loading-associations result.
pub type UserTree = (User, Vec<(Post, Vec<Comment>)>);

/// Groups loaded posts and comments under their users (the raw side's assembly).
pub fn assemble(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> Vec<UserTree> {
    use std::collections::HashMap;
    let mut by_post: HashMap<i64, Vec<Comment>> = HashMap::new();
    for c in comments {
        by_post.entry(c.post_id).or_default().push(c);
    }
    let mut by_user: HashMap<i64, Vec<(Post, Vec<Comment>)>> = HashMap::new();
    for p in posts {
        let comments = by_post.remove(&p.id).unwrap_or_default();
        by_user.entry(p.user_id).or_default().push((p, comments));
    }
    users
        .into_iter()
        .map(|u| {
            let posts = by_user.remove(&u.id).unwrap_or_default();
            (u, posts)
        })
        .collect()
}

/// The rows a workload runs on: `users` users (even ones with black hair), each with
/// `posts` posts, each with `comments` comments; keys are given in insertion order from 1.
#[derive(Clone, Copy, Debug)]
pub struct Filled {
    /// Users.
    pub users: usize,
    /// Posts per user.
    pub posts: usize,
    /// Comments per post.
    pub comments: usize,
}

impl Filled {
    /// User `i`'s hair colour.
    pub fn hair(i: usize) -> &'static str {
        if i.is_multiple_of(2) {
            "black"
        } else {
            "brown"
        }
    }

    /// `(user key, post number)` of every post, in insertion order.
    pub fn posts_of_users(self) -> impl Iterator<Item = (i64, usize)> {
        (1..=self.users as i64).flat_map(move |u| (0..self.posts).map(move |p| (u, p)))
    }

    /// `(post key, comment number)` of every comment, in insertion order.
    pub fn comments_of_posts(self) -> impl Iterator<Item = (i64, usize)> {
        let posts = (self.users * self.posts) as i64;
        (1..=posts).flat_map(move |p| (0..self.comments).map(move |c| (p, c)))
    }
}

/// A user's columns, without relations: what two sides' results are compared by.
pub type UserRow = (i64, String, Option<String>);
/// A post's columns.
pub type PostRow = (i64, i64, String, Option<String>);
/// A comment's columns.
pub type CommentRow = (i64, i64, String);

/// A user's columns.
pub fn user_row(u: &User) -> UserRow {
    (u.id, u.name.clone(), u.hair_color.clone())
}

/// A post's columns.
pub fn post_row(p: &Post) -> PostRow {
    (p.id, p.user_id, p.title.clone(), p.body.clone())
}

/// A comment's columns.
pub fn comment_row(c: &Comment) -> CommentRow {
    (c.id, c.post_id, c.text.clone())
}

/// Users in key order (a query without ORDER BY may return them in any order).
pub fn users(mut users: Vec<UserRow>) -> Vec<UserRow> {
    users.sort();
    users
}

/// Join rows in key order.
pub fn joined(rows: &[(User, Option<Post>)]) -> Vec<(UserRow, Option<PostRow>)> {
    let mut out: Vec<_> = rows
        .iter()
        .map(|(u, p)| (user_row(u), p.as_ref().map(post_row)))
        .collect();
    out.sort();
    out
}

/// A loaded tree in key order at every level.
pub type TreeRows = Vec<(UserRow, Vec<(PostRow, Vec<CommentRow>)>)>;

/// The raw side's tree in key order.
pub fn tree(trees: &[UserTree]) -> TreeRows {
    let mut out: TreeRows = trees
        .iter()
        .map(|(u, posts)| {
            let mut posts: Vec<_> = posts
                .iter()
                .map(|(p, cs)| {
                    let mut cs: Vec<_> = cs.iter().map(comment_row).collect();
                    cs.sort();
                    (post_row(p), cs)
                })
                .collect();
            posts.sort();
            (user_row(u), posts)
        })
        .collect();
    out.sort();
    out
}

/// flaskdb's eagerly loaded users as the raw side's tree (an unloaded relation is an
/// error: eager loading must have filled it).
pub fn loaded_tree(users: &[User]) -> anyhow::Result<TreeRows> {
    let trees = users
        .iter()
        .map(|u| {
            let posts = u
                .posts
                .loaded()
                .ok_or_else(|| anyhow::anyhow!("posts not loaded"))?;
            let posts = posts
                .iter()
                .map(|p| {
                    let comments = p
                        .comments
                        .loaded()
                        .ok_or_else(|| anyhow::anyhow!("comments not loaded"))?;
                    Ok((p.clone(), comments.to_vec()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok((u.clone(), posts))
        })
        .collect::<anyhow::Result<Vec<UserTree>>>()?;
    Ok(tree(&trees))
}
