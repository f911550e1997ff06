use flaskdb::Model;

#[derive(Model)]
struct User {
    id: i64,
    #[model(max_length = 0)]
    name: String,
}

fn main() {}
