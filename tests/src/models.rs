//! The models of the suite. Every model here is registered, so `create_all` in any case
//! creates all their tables.

use flaskdb::Model;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    #[model(unique, max_length = 80)]
    pub username: String,
    #[model(unique, max_length = 120)]
    pub email: String,
    pub bio: Option<String>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post {
    pub id: i64,
    #[model(foreign_key = "user.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    #[model(default = 0)]
    pub score: i32,
}

/// Every attribute of API.md's `Ham` and more.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "spam")]
pub struct Ham {
    pub id: i64,
    #[model(index, default = 0)]
    pub rank: i32,
    #[model(foreign_key = "user.id", on_delete = "set null")]
    pub owner_id: Option<i64>,
    #[model(server_default = "'fresh'", max_length = 20)]
    pub label: String,
    #[model(column = "display_name", unique, index)]
    pub name: Option<String>,
    #[model(skip)]
    pub note: String,
}

/// The text default of [`OddDefault`]: a quote, a backslash (before a quote too) and a
/// percent sign, which string modes read differently in a literal.
pub const ODD_DEFAULT: &str = r"it's 100% \ done\'";

/// Text defaults that DDL must write as literals reading the same in every string mode:
/// a bounded column (VARCHAR) and an unbounded one (TEXT on MySQL).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct OddDefault {
    pub id: i64,
    #[model(default = r"it's 100% \ done\'", max_length = 40)]
    pub short: String,
    #[model(default = r"it's 100% \ done\'")]
    pub long: String,
}

/// Reserved words as table and column names.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "order")]
pub struct Order {
    pub id: i64,
    #[model(max_length = 50)]
    pub select: String,
    pub from: Option<String>,
}

/// Named `group` by the generated rule.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Group {
    #[model(primary_key, autoincrement = false)]
    pub code: i32,
    pub label: String,
}

/// A composite primary key with a text part.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct PostTag {
    #[model(primary_key, foreign_key = "post.id", on_delete = "cascade")]
    pub post_id: i64,
    #[model(primary_key, max_length = 40)]
    pub tag: String,
}

/// Every supported column type.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AllTypes {
    pub id: i64,
    pub flag: bool,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub real: f32,
    pub double: f64,
    pub text: String,
    pub bytes: Vec<u8>,
    pub maybe_int: Option<i32>,
    pub maybe_text: Option<String>,
    pub maybe_bytes: Option<Vec<u8>>,
}

/// A view: queryable, never created.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(view)]
pub struct UserView {
    pub id: i64,
    pub username: String,
}

/// The generated name of an acronym.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct HTTPResponse {
    pub id: i64,
}

/// A foreign key without ON DELETE: deleting its post first would fail.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    #[model(foreign_key = "post.id")]
    pub post_id: i64,
    pub body: String,
}

/// Two foreign keys to one table: a join must be told which one.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Message {
    pub id: i64,
    #[model(foreign_key = "user.id")]
    pub sender_id: i64,
    #[model(foreign_key = "user.id")]
    pub recipient_id: i64,
}

/// A tree: each category may have a parent category.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Category {
    pub id: i64,
    #[model(max_length = 50)]
    pub name: String,
    #[model(foreign_key = "category.id")]
    pub parent_id: Option<i64>,
}

// Relationships: authors, their books, reviews and genres, and a tree of nodes.

use flaskdb::{BelongsTo, HasMany, HasOne, ManyToMany};

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Author {
    pub id: i64,
    #[model(max_length = 50)]
    pub name: String,
    #[model(has_many, back_populates = "author")]
    pub books: HasMany<Book>,
    #[model(has_one)]
    pub profile: HasOne<AuthorProfile>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct AuthorProfile {
    pub id: i64,
    #[model(foreign_key = "author.id", on_delete = "cascade")]
    pub author_id: i64,
    pub bio: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Book {
    pub id: i64,
    #[model(max_length = 100)]
    pub title: String,
    #[model(foreign_key = "author.id", on_delete = "set null")]
    pub author_id: Option<i64>,
    #[model(belongs_to, back_populates = "books")]
    pub author: BelongsTo<Author>,
    #[model(has_many)]
    pub reviews: HasMany<Review>,
    #[model(many_to_many, secondary = "book_genre")]
    pub genres: ManyToMany<Genre>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Review {
    pub id: i64,
    #[model(foreign_key = "book.id", on_delete = "cascade")]
    pub book_id: i64,
    pub stars: i32,
    /// Joined into every query of reviews.
    #[model(belongs_to, lazy = "joined")]
    pub book: BelongsTo<Book>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Genre {
    pub id: i64,
    #[model(max_length = 30)]
    pub name: String,
    /// Loaded with every query of genres.
    #[model(many_to_many, secondary = "book_genre", lazy = "selectin")]
    pub books: ManyToMany<Book>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct BookGenre {
    #[model(primary_key, foreign_key = "book.id", on_delete = "cascade")]
    pub book_id: i64,
    #[model(primary_key, foreign_key = "genre.id", on_delete = "cascade")]
    pub genre_id: i64,
}

/// A tree: each node may have a parent node.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Node {
    pub id: i64,
    #[model(max_length = 30)]
    pub name: String,
    #[model(foreign_key = "node.id")]
    pub parent_id: Option<i64>,
    /// Deleting a node through a session deletes its subtree (the foreign key itself
    /// has no `ON DELETE`).
    #[model(has_many, cascade = "delete")]
    pub children: HasMany<Node>,
    #[model(belongs_to)]
    pub parent: BelongsTo<Node>,
    /// The same children, but never loaded implicitly.
    #[model(has_many, lazy = "raise", foreign_key = "node.parent_id")]
    pub sealed: HasMany<Node>,
}

/// A many-to-many relationship through a table that does not exist (checked at first
/// use: an association table may be declared at runtime).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Loner {
    pub id: i64,
    #[model(many_to_many, secondary = "nowhere")]
    pub genres: ManyToMany<Genre>,
}

/// A many-to-many relationship through a table declared at runtime ([`enrollment`]).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Student {
    pub id: i64,
    #[model(max_length = 30)]
    pub name: String,
    #[model(many_to_many, secondary = "enrollment")]
    pub courses: ManyToMany<Course>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Course {
    pub id: i64,
    #[model(max_length = 30)]
    pub title: String,
}

/// The `enrollment` association table, declared at runtime without a struct (once
/// per process). Its foreign keys have no `ON DELETE`.
pub fn enrollment() -> &'static flaskdb::Table {
    use flaskdb::{ColumnDef, SqlType, Table};
    static TABLE: std::sync::OnceLock<&'static Table> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        Table::new("enrollment")
            .column(ColumnDef::new("student_id", SqlType::BigInt).primary_key())
            .column(ColumnDef::new("course_id", SqlType::BigInt).primary_key())
            .foreign_key("student_id", "student.id", None)
            .and_then(|t| t.foreign_key("course_id", "course.id", None))
            .and_then(Table::declare)
            .expect("enrollment is declared once")
    })
}

/// An audit row, written by session listeners.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AuditLog {
    pub id: i64,
    #[model(max_length = 40)]
    pub table_name: String,
    #[model(max_length = 10)]
    pub operation: String,
    pub detail: Option<String>,
}

/// A versioned model: each update or delete keeps the previous row in `page_history`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(versioned)]
pub struct Page {
    pub id: i64,
    #[model(unique, max_length = 40)]
    pub title: String,
    pub body: Option<String>,
}

/// A table and a column whose models name their former names, for autogenerate's
/// renames.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "article", renamed_from = "story")]
pub struct Article {
    pub id: i64,
    #[model(max_length = 80, renamed_from = "headline")]
    pub title: String,
}

/// Constraints of a model's own, named by convention: a unique pair
/// (`uq_stock_shop_sku`), an index over two columns (`ix_stock_shop_quantity`) and a
/// CHECK (`ck_stock_quantity_not_negative`).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(
    table = "stock",
    unique("shop", "sku"),
    index("shop", "quantity"),
    check(name = "quantity_not_negative", sql = "quantity >= 0")
)]
pub struct Stock {
    pub id: i64,
    pub shop: i64,
    #[model(max_length = 40)]
    pub sku: String,
    pub quantity: i64,
}

/// A foreign key over two columns, to `stock`'s unique pair.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(
    table = "stock_move",
    foreign_key(
        columns("shop", "sku"),
        references = "stock",
        to("shop", "sku"),
        on_delete = "cascade"
    )
)]
pub struct StockMove {
    pub id: i64,
    pub shop: i64,
    #[model(max_length = 40)]
    pub sku: String,
    pub delta: i64,
}
