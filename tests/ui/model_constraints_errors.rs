use flaskdb::Model;

#[derive(Model)]
#[model(index("shop", "sku"))]
pub struct UnknownColumn {
    pub id: i64,
    pub shop: i64,
}

#[derive(Model)]
#[model(check(name = "positive"))]
pub struct CheckWithoutSql {
    pub id: i64,
}

#[derive(Model)]
#[model(foreign_key(columns("a", "b"), references = "t", to("x")))]
pub struct ForeignKeyShort {
    pub id: i64,
    pub a: i64,
    pub b: i64,
}

#[derive(Model)]
#[model(unique("a", title = "x"))]
pub struct IndexBadKey {
    pub id: i64,
    pub a: i64,
}

fn main() {}
