//! An unsupported type is reported once per field, in a mixin as in a model, and a
//! model flattening the mixin adds nothing.
use flaskdb::{Columns, Model};

#[derive(Columns)]
struct Tagged {
    tags: std::collections::HashSet<String>,
}

#[derive(Model)]
struct Post {
    id: i64,
    #[model(flatten)]
    tagged: Tagged,
    scores: Option<std::collections::HashMap<String, i64>>,
}

fn main() {}
