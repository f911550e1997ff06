use flaskdb::Model;

#[derive(Model)]
struct User {
    id: i64,
    #[model(uniq)]
    name: String,
}

fn main() {}
