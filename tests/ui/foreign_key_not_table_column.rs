use flaskdb::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[model(foreign_key = "user")]
    user_id: i64,
}

fn main() {}
