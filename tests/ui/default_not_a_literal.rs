use flaskdb::Model;

#[derive(Model)]
struct User {
    id: i64,
    #[model(default = compute())]
    rank: i32,
}

fn main() {}
