//! # flaskdb
//!
//! Flask-SQLAlchemy's way of working, in Rust: declare a model with `#[derive(Model)]`,
//! call `db.create_all()`, and query it back with typed expressions — on SQLite by
//! default, PostgreSQL and MariaDB (MySQL 8: untested) with the `postgres` and `mysql`
//! features, and several databases ("binds") at once.
//!
//! The [guide] follows Flask-SQLAlchemy's documentation chapter by chapter:
//! [Coming from Flask-SQLAlchemy](guide::coming_from_flask_sqlalchemy),
//! [Configuration](guide::configuration), [Models and Tables](guide::models_and_tables),
//! [Modifying and Querying Data](guide::modifying_and_querying_data),
//! [Paging Query Results](guide::paging_query_results), [Contexts](guide::contexts),
//! [Multiple Databases with Binds](guide::multiple_databases_with_binds),
//! [Recording Query Information](guide::recording_query_information),
//! [Tracking Modifications](guide::tracking_modifications) and
//! [Advanced Customization](guide::advanced_customization). The quick start and the model
//! attributes are below.
//!
//! ## Quick start
//!
//! ```
//! use flaskdb::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! pub struct User {
//!     pub id: i64,                      // `id` is the primary key; it autoincrements
//!     #[model(unique, max_length = 80)]
//!     pub username: String,
//!     #[model(unique, max_length = 120)]
//!     pub email: String,
//!     pub bio: Option<String>,          // Option<T> is a nullable column
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Db::connect(Config::new("sqlite::memory:")).await?;
//! db.create_all().await?;
//!
//! let mut session = db.session();
//! session.add(User::build().username("admin").email("admin@example.com"));
//! session.add(User::build().username("guest").email("guest@example.com"));
//! session.commit().await?;
//!
//! let users = db.query::<User>().order_by(User::id.asc()).all().await?;
//! assert_eq!(users.len(), 2);
//! let admin = db.query::<User>().filter_by(User::username, "admin").first().await?;
//! assert_eq!(admin.map(|u| u.email).as_deref(), Some("admin@example.com"));
//!
//! // Inside a scope (one per web request), `User::query()` and `flaskdb::session()`
//! // find the database themselves; what the scope does not commit is rolled back.
//! db.scope(async {
//!     let mut guest = User::query().filter(User::id.gt(1)).one().await?;
//!     guest.bio = Some("just visiting".into());
//!     flaskdb::session().add(guest);          // an UPDATE of `bio` only
//!     flaskdb::session().commit().await
//! }).await?;
//! assert_eq!(db.query::<User>().get(2).await?.unwrap().bio.as_deref(), Some("just visiting"));
//! # Ok::<(), flaskdb::Error>(()) }).unwrap();
//! ```
//!
//! ## Models
//!
//! | attribute | meaning |
//! |---|---|
//! | `#[model(primary_key)]` | part of the primary key (a field named `id` is the key when none is marked) |
//! | `#[model(autoincrement = false)]` | a single integer key is numbered by the database unless this says otherwise |
//! | `#[model(unique)]`, `#[model(index)]` | UNIQUE constraint; index `ix_<table>_<column>` (unique when both) |
//! | `#[model(max_length = N)]` | `VARCHAR(N)` |
//! | `#[model(default = <literal>)]` | filled in by the builder and emitted in DDL; a constant such as an enum variant (`default = Status::Draft`) too |
//! | `#[model(default_fn = path)]` | a function called for each new row whose builder leaves the column unset (`created_at`) |
//! | `#[model(onupdate = path)]` | a function called for each session update that does not set the column, and bulk updates that do not assign it (`updated_at`) |
//! | `#[model(server_default = "<sql>")]` | emitted in DDL only |
//! | `#[model(flatten)] ts: Timestamps` | takes in the columns of a [`Columns`](derive@Columns) mixin at this place |
//! | `#[model(foreign_key = "table.column", on_delete = "cascade")]` | a foreign key (`cascade`, `set null`, `restrict`) |
//! | `#[model(column = "db_name")]` | the column's name in the database |
//! | `#[model(renamed_from = "old")]` | the column's former name: `db migrate` renames it, keeping its values, where the database still has `old` (on the struct: the table's former name) |
//! | `#[model(skip)]` | not a column (filled with `Default::default()` when loaded) |
//! | `#[model(has_many)] posts: HasMany<Post>` | the rows whose foreign key points here; also `has_one` (`HasOne<T>`) |
//! | `#[model(belongs_to)] category: BelongsTo<Category>` | the row this row's foreign key points at |
//! | `#[model(many_to_many, secondary = "post_tag")] tags: ManyToMany<Tag>` | rows linked through an association table |
//! | `#[model(has_many, foreign_key = "post.category_id")]` | which foreign key, when several point here (none, or several unnamed, is a compile error at the field) |
//! | `#[model(has_many, lazy = "selectin")]` | loads with every query (`"select"`: on `load` only, the default; `"joined"`; `"raise"`: never implicitly) |
//! | `#[model(has_many, back_populates = "category")]` | the other side (`Post::category`, a `BelongsTo<Self>`): each row the relationship loads gets its parent set, with no statement (models are values: the parent is a copy, as it was when loaded) |
//! | `#[model(has_many, cascade = "delete")]` | deleting the row through a session deletes these rows first, depth first (a many-to-many's links always go with the row; anything else follows the database's `on_delete`) |
//! | `#[model(table = "name")]` (struct) | the table name; otherwise `camel_to_snake_case(struct name)` |
//! | `#[model(bind = "key")]` (struct) | the bind the table lives on |
//! | `#[model(view)]` (struct) | maps a view: queryable, never created or dropped; writing to it (builder, `add`, `delete`, bulk update or delete) does not compile |
//! | `#[model(versioned)]` (struct) | every update or delete through a session first copies the row into `<table>_history` (created by `create_all`) as its next `version`, in the same transaction |
//!
//! Column types: `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>`; with
//! features, `chrono::{NaiveDate, NaiveDateTime, DateTime<Utc>}` (`chrono`), `uuid::Uuid`
//! (`uuid`), `serde_json::Value` and [`Json<T>`] (`json`), `rust_decimal::Decimal`
//! (`decimal`); enums with `#[derive(flaskdb::Enum)]`; any type implementing
//! [`CustomType`]; and `Option<T>` of each. A wrong attribute, a model without a primary
//! key or an unsupported field type is a compile error pointing at the offending code.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use flaskdb_core::{
    Addable, Alias, AliasEntity, AliasOuter, AssertSqlSafe, Assignment, Assignments, Backend,
    BelongsTo, BindConfig, Change, Check, ChildOf, Column, ColumnChange, ColumnDef, ColumnRef,
    ColumnType, Columns, Comparable, Config, CustomType, Db, Ddl, Derived, Eager, Engine,
    EngineOptions, Entity, Error, EventContext, Expr, Expression, Flattens, ForeignKey, FromRow,
    HIDDEN_PARAMETERS, HasMany, HasOne, Index, InsertRow, Insertable, IntoField, IterPages,
    KeyValues, KeysetPage, Lazy, LoadFrom, ManyToMany, MaybeNull, Metadata, Mismatch, MismatchKind,
    Model, NOT_FOUND_TEXT, NamingConvention, Nested, Numeric, OnDelete, Operand, Operation, Order,
    Outer, PageRequest, Pagination, Query, QueryInfo, QuerySummary, Relation, RelationKind, Result,
    Row, RowQuery, RowSource, Select, Selectable, Selection, Session, SessionEvent,
    SessionTransaction, SqlType, Table, TableHandle, TextColumn, Value, alias, camel_to_snake_case,
    clear_global_default, count_all, entity, escape_like, exists, get_recorded_queries,
    in_current_scope, model_source, not_exists, outer, recorded_queries_dropped,
    recorded_query_summary, redact_url, select, select_columns, session, set_global_default,
};

/// Derives [`Model`] for a struct with named fields; see the [crate docs](crate#models)
/// for the attributes.
pub use flaskdb_derive::Model;

/// Derives [`Columns`] for a mixin: a struct of columns that models take in with a
/// `#[model(flatten)]` field, as Flask-SQLAlchemy models inherit columns from a mixin
/// class. The fields take the column attributes of `#[derive(Model)]`;
/// `#[model(bind = "..")]` on the mixin is the bind of models that name none. The derive
/// also generates the trait `<Mixin>Columns`: with it in scope, `Post::created_at` is
/// the handle of the mixin's column on each model that flattens it.
///
/// ```
/// use flaskdb::{Columns, Model};
///
/// fn now() -> i64 {
///     1_700_000_000
/// }
///
/// #[derive(Columns, Debug, Clone, PartialEq)]
/// pub struct Audit {
///     #[model(default_fn = now)]
///     pub created_at: i64,
///     #[model(default_fn = now, onupdate = now)]
///     pub updated_at: i64,
/// }
///
/// #[derive(Model, Debug, Clone, PartialEq)]
/// pub struct Invoice {
///     pub id: i64,
///     pub total: i64,
///     #[model(flatten)]
///     pub audit: Audit,
/// }
///
/// let names: Vec<&str> = Invoice::table().columns().iter().map(|c| c.name()).collect();
/// assert_eq!(names, ["id", "total", "created_at", "updated_at"]);
/// use AuditColumns as _; // the mixin's column handles
/// assert_eq!(Invoice::created_at.name(), "created_at");
/// ```
pub use flaskdb_derive::Columns;

/// Derives [`CustomType`] for a fieldless enum, so it can be a column: stored as the
/// variant's name (`#[model(rename = "..")]` to change it), or with `#[model(integer)]`
/// on the enum as its discriminant (`variant as i32`).
///
/// ```
/// #[derive(flaskdb::Enum, Debug, Clone, Copy, PartialEq)]
/// enum Status {
///     Draft,
///     #[model(rename = "live")]
///     Published,
/// }
/// use flaskdb::CustomType;
/// assert_eq!(Status::Published.to_stored(), "live");
/// assert_eq!(Status::from_stored("Draft".into()), Ok(Status::Draft));
/// assert!(Status::from_stored("gone".into()).unwrap_err().contains("Draft, live"));
/// ```
pub use flaskdb_derive::Enum;

#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use flaskdb_core::Json;

#[doc(hidden)]
pub use flaskdb_core::__private;

#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;

/// Migrations, as Flask-Migrate runs them: see the guide's chapter "Migrations".
pub use flaskdb_core::migrate;

/// The migration files (`*.toml`) of a directory, relative to the crate's `Cargo.toml`,
/// compiled into the program: `embed_migrations!("migrations")` is a
/// `Result<Migrations>`, as [`Migrations::from_dir`](migrate::Migrations::from_dir)
/// would read at run time. A changed file rebuilds the crate; a file added to the
/// directory does not by itself (touch a source file, as with sqlx's `migrate!`).
///
/// ```
/// let migrations = flaskdb::embed_migrations!("../examples/blog/migrations")?;
/// assert!(migrations.head().is_some());
/// # Ok::<(), flaskdb::Error>(())
/// ```
pub use flaskdb_derive::embed_migrations;

/// axum integration (feature `axum`): `DbLayer`, `PageParams`, errors as responses.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use flaskdb_core::axum;

/// The names an application needs: `use flaskdb::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BelongsTo, BindConfig, Column, Config, Db, EngineOptions, Error, Expr, HasMany, HasOne,
        Insertable, ManyToMany, Model, PageRequest, Pagination, Query, Result, Session, Value,
    };
}

/// The guide: Flask-SQLAlchemy's chapters, in Rust. Every example is compiled and run
/// as a doc test.
pub mod guide {
    #[doc = include_str!("../guide/quick-start.md")]
    pub mod quick_start {}

    #[doc = include_str!("../guide/coming-from-flask-sqlalchemy.md")]
    pub mod coming_from_flask_sqlalchemy {}

    #[doc = include_str!("../guide/configuration.md")]
    pub mod configuration {}

    #[doc = include_str!("../guide/models-and-tables.md")]
    pub mod models_and_tables {}

    #[doc = include_str!("../guide/modifying-and-querying-data.md")]
    pub mod modifying_and_querying_data {}

    #[doc = include_str!("../guide/paging-query-results.md")]
    pub mod paging_query_results {}

    #[doc = include_str!("../guide/contexts.md")]
    pub mod contexts {}

    #[doc = include_str!("../guide/multiple-databases-with-binds.md")]
    pub mod multiple_databases_with_binds {}

    #[doc = include_str!("../guide/recording-query-information.md")]
    pub mod recording_query_information {}

    #[doc = include_str!("../guide/tracking-modifications.md")]
    pub mod tracking_modifications {}

    #[doc = include_str!("../guide/advanced-customization.md")]
    pub mod advanced_customization {}

    #[doc = include_str!("../guide/migrations.md")]
    pub mod migrations {}
}
