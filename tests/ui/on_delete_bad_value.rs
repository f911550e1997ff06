use flaskdb::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[model(foreign_key = "user.id", on_delete = "explode")]
    user_id: i64,
}

fn main() {}
