//! The Flask-SQLAlchemy quickstart in Rust: the `User` model, `create_all`, two users
//! added to a session and committed, and queried back with `all` and
//! `filter_by(..).first()` inside a scope (Flask's application context).
//!
//! Run with
//!
//! ```not_rust
//! cargo run -p example-quickstart
//! ```
//!
//! It uses an in-memory SQLite database unless `DATABASE_URL` names another one.

use flaskdb::prelude::*;

/// A registered user; the table is named `user`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    /// The primary key, numbered by the database.
    pub id: i64,
    /// A unique login name.
    #[model(unique, max_length = 80)]
    pub username: String,
    /// A unique email address.
    #[model(unique, max_length = 120)]
    pub email: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let db = Db::connect(Config::new(url)).await?;
    println!("{db:?}");
    db.create_all().await?;

    // Flask-SQLAlchemy's `db.session.add(admin); db.session.commit()`.
    let mut session = db.session();
    session.add(User::build().username("admin").email("admin@example.com"));
    session.add(User::build().username("guest").email("guest@example.com"));
    session.commit().await?;

    db.scope(async {
        let users = User::query().order_by(User::id).all().await?;
        println!("User.query.all() -> {users:?}");
        let admin = User::query()
            .filter_by(User::username, "admin")
            .first()
            .await?;
        println!("User.query.filter_by(username='admin').first() -> {admin:?}");
        Ok::<_, flaskdb::Error>(())
    })
    .await?;
    db.drop_all().await?;
    Ok(())
}
