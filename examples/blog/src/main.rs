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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = Db::connect(Config::new("sqlite::memory:").record_queries(true)).await?;
    // The schema comes from the migrations in `migrations/`, compiled in: every bind is
    // brought to the last revision (`db.create_all()` would make the same tables, but
    // could never change them later).
    flaskdb::embed_migrations!("migrations")?
        .upgrade(&db)
        .await?;

    // `py = Category(name='Python'); Post(title='Hello Python!', body='..', category=py)`
    let mut session = db.session();
    session.add(
        Category::build().name("Python").posts([
            Post::build()
                .title("Hello Python!")
                .body("Python is pretty cool"),
            Post::build().title("Snakes").body("Ssssssss"),
        ]),
    );
    session.add(
        Category::build()
            .name("Rust")
            .posts([Post::build().title("Ownership").body("Mine.")]),
    );
    session.commit().await?;

    db.scope(async {
        // Explicit (lazy) loading: one query for the relationship.
        let py = Category::query()
            .filter_by(Category::name, "Python")
            .one()
            .await?;
        let posts = py.posts.load(&db).await?;
        println!(
            "py.posts -> {:?}",
            posts.iter().map(|p| &p.title).collect::<Vec<_>>()
        );
        let snakes = &posts[1];
        let category = snakes.category.load(&db).await?;
        println!("snakes.category -> {:?}", category.map(|c| c.name));

        // Eager loading: every category with its posts in two queries, however many
        // categories there are.
        let before = flaskdb::get_recorded_queries().len();
        let categories = Category::query()
            .eager(Category::posts)
            .order_by(Category::name)
            .all()
            .await?;
        for c in &categories {
            let titles: Vec<&str> = c.posts.get()?.iter().map(|p| p.title.as_str()).collect();
            println!("{}: {titles:?}", c.name);
        }
        println!(
            "eager loading ran {} queries",
            flaskdb::get_recorded_queries().len() - before
        );

        // A category's posts, filtered further.
        let rest = Post::query()
            .with_parent(&py)
            .filter(Post::title.ne("Snakes"))
            .all()
            .await?;
        println!(
            "with_parent(py), not Snakes -> {:?}",
            rest.iter().map(|p| &p.title).collect::<Vec<_>>()
        );

        // Publish one post: the enum column is written as text, and `updated_at` is
        // refreshed by its `onupdate` function.
        let mut hello = rest[0].clone();
        hello.status = Status::Published;
        flaskdb::session().add(hello.clone());
        flaskdb::session().commit().await?;
        use TimestampsColumns as _; // `Post::created_at`, a column of the mixin
        let published = Post::query()
            .filter_by(Post::status, Status::Published)
            .order_by(Post::created_at.desc())
            .all()
            .await?;
        for p in &published {
            println!(
                "published: {} (created {}, updated {})",
                p.title,
                p.times.created_at.format("%H:%M:%S%.3f"),
                p.times.updated_at.format("%H:%M:%S%.3f")
            );
        }
        Ok::<_, flaskdb::Error>(())
    })
    .await?;
    Ok(())
}
