use flaskdb::{Db, Model};

#[derive(Model)]
struct User {
    id: i64,
    name: String,
}

async fn total(db: Db) -> flaskdb::Result<()> {
    db.select_columns(User::name.sum()).one().await?;
    Ok(())
}

fn main() {}
