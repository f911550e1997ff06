use flaskdb::{Model, Query};

#[derive(Model)]
struct User {
    id: i64,
}

fn main() {
    let _ = |q: Query<User>| q.filter(User::id.like("1%"));
}
