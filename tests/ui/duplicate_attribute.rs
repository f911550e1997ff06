use flaskdb::Model;

#[derive(Model)]
struct User {
    id: i64,
    #[model(unique, unique)]
    name: String,
}

fn main() {}
