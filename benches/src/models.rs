//! The schema of Diesel's benchmark suite, as flaskdb models and as sqlx rows.

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
    #[model(foreign_key = "users.id", index)]
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
    #[model(foreign_key = "posts.id", index)]
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
