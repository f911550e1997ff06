//! The "Simple Relationships" section of the Flask-SQLAlchemy quickstart in Rust:
//! categories and their posts. It adds a category with its posts in one go (the posts'
//! foreign keys are filled in), loads relationships explicitly and eagerly, and queries
//! a category's posts with `with_parent`. Posts also show a mixin of timestamps filled
//! in Rust (`default_fn`, `onupdate`) and an enum column. Its schema comes from its
//! migrations (`migrations/`), applied at startup.
//!
//! Run with
//!
//! ```not_rust
//! cargo run -p example-blog
//! ```
//!
//! The models are in this library, so that two binaries link them: the example
//! (`src/main.rs`) and `manage` (`src/bin/manage.rs`), which runs Flask-Migrate's
//! commands: `DATABASE_URL=sqlite://blog.db?mode=rwc cargo run -p example-blog --bin
//! manage -- db check -d examples/blog/migrations`.

use chrono::{DateTime, Utc};
use flaskdb::Columns;
use flaskdb::prelude::*;

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// When a row was created and last changed: a mixin several models can share.
#[derive(Columns, Debug, Clone, PartialEq)]
pub struct Timestamps {
    /// Set when the row is added.
    #[model(default_fn = now)]
    pub created_at: DateTime<Utc>,
    /// Set when the row is added, and again on every update.
    #[model(default_fn = now, onupdate = now)]
    pub updated_at: DateTime<Utc>,
}

/// Where a post is in its life, stored as text (`draft`, `published`).
#[derive(flaskdb::Enum, Debug, Clone, Copy, PartialEq)]
pub enum Status {
    /// Not shown yet.
    #[model(rename = "draft")]
    Draft,
    /// Shown.
    #[model(rename = "published")]
    Published,
}

/// A category of posts (`category` table).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Category {
    /// The key.
    pub id: i64,
    /// The name.
    #[model(max_length = 50)]
    pub name: String,
    /// Its posts: not a column; matched to `post.category_id`.
    #[model(has_many)]
    pub posts: HasMany<Post>,
}

/// A post (`post` table).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post {
    /// The key.
    pub id: i64,
    /// The title.
    #[model(max_length = 80)]
    pub title: String,
    /// The text.
    pub body: String,
    /// The category's key.
    #[model(foreign_key = "category.id")]
    pub category_id: Option<i64>,
    /// The category, through `category_id`.
    #[model(belongs_to)]
    pub category: BelongsTo<Category>,
    /// Draft or published; a new post is a draft.
    #[model(default = Status::Draft, index)]
    pub status: Status,
    /// `created_at` and `updated_at` columns.
    #[model(flatten)]
    pub times: Timestamps,
}
