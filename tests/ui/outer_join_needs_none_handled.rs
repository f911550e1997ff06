use flaskdb::{Db, Model};

#[derive(Model)]
struct User {
    id: i64,
}

#[derive(Model)]
struct Post {
    id: i64,
    #[model(foreign_key = "user.id")]
    user_id: i64,
    title: String,
}

async fn titles(db: Db) -> flaskdb::Result<Vec<String>> {
    let rows = db.select::<(User, Option<Post>)>().left_join::<Post>().all().await?;
    Ok(rows.into_iter().map(|(_, post)| post.title).collect())
}

fn main() {}
