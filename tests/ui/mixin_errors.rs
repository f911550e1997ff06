use flaskdb::{Columns, Model};

#[derive(Columns)]
struct Keyed {
    #[model(primary_key)]
    id: i64,
}

#[derive(Columns)]
#[model(table = "x")]
struct Empty {
    #[model(skip)]
    cache: u8,
}

#[derive(Columns)]
struct Stamps {
    at: i64,
}

#[derive(Model)]
struct Post {
    id: i64,
    #[model(flatten, index)]
    stamps: Stamps,
}

fn main() {}
