use flaskdb::Model;

#[derive(Model, Clone)]
#[model(view, versioned)]
struct Report {
    id: i64,
}

fn main() {}
