use flaskdb::Model;

#[derive(Model)]
#[model(tablename = "users")]
struct User {
    id: i64,
}

fn main() {}
