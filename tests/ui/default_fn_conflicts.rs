use flaskdb::Model;

fn zero() -> i64 {
    0
}

#[derive(Model)]
struct Counter {
    id: i64,
    #[model(default = 1, default_fn = zero)]
    n: i64,
    #[model(onupdate = "zero")]
    m: i64,
    #[model(default_fn = zero)]
    label: String,
}

fn main() {}
