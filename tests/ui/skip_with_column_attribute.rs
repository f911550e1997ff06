use flaskdb::Model;

#[derive(Model)]
struct User {
    id: i64,
    #[model(skip, unique)]
    cache: String,
}

fn main() {}
