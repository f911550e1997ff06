//! The example: categories and posts added, loaded lazily and eagerly, filtered, and a
//! post published (see the library's documentation).

use example_blog::{Category, Post, Status, TimestampsColumns};
use flaskdb::prelude::*;

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
