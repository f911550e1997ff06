//! One bad attribute is one error: the uses of the model elsewhere (its query, column
//! and relationship handles, builder, mixin handles, an enum field) still compile.
use flaskdb::{BelongsTo, Columns, HasMany, Model, Query};

#[derive(Columns, Clone)]
struct Stamps {
    created_at: i64,
}

#[derive(flaskdb::Enum, Clone, Copy, PartialEq)]
enum Role {
    Admin,
    #[model(rename)]
    Member,
}

#[derive(Columns, Clone)]
#[model(bind = 1)]
struct Audit {
    by: String,
}

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[model(max_length = "long")]
    name: String,
    role: Role,
    #[model(flatten)]
    stamps: Stamps,
    #[model(flatten)]
    audit: Audit,
    #[model(has_many)]
    posts: HasMany<Post>,
}

#[derive(Model, Clone)]
struct Post {
    id: i64,
    #[model(foreign_key = "user.id", on_delete = "sideways")]
    user_id: i64,
    #[model(belongs_to)]
    author: BelongsTo<User>,
}

fn main() {
    let _ = User::query().filter(User::name.eq("ada")).order_by(User::created_at.desc());
    let _ = |q: Query<User>| q.filter(User::by.eq("x")).filter(User::role.eq(Role::Admin));
    let _ = User::build().name("ada").posts([Post::build().user_id(1)]);
    let _ = Post::query().eager(Post::author);
    let _ = Post::user_id;
}
