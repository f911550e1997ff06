use flaskdb::{Model, Query};

#[derive(Model)]
struct User {
    id: i64,
    name: String,
}

fn main() {
    let _ = |q: Query<User>| q.filter(User::id.eq("one"));
}
