use flaskdb::Model;

#[derive(Model)]
struct Post {
    id: i64,
    #[model(on_delete = "cascade")]
    user_id: i64,
}

fn main() {}
