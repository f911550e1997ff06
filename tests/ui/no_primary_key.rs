use flaskdb::Model;

#[derive(Model)]
struct Note {
    key: i64,
    text: String,
}

fn main() {}
