//! The runtime of [flaskdb](https://docs.rs/flaskdb): configuration, one engine per bind,
//! table metadata and DDL, typed queries, and the scoped context.
//!
//! Applications depend on the `flaskdb` crate, which re-exports everything here together
//! with `#[derive(Model)]`.
//!
//! # The data path
//!
//! The source is in folders, one per layer, and each layer names only the layers below
//! it (ARCHITECTURE.md in the repository; `tests/layers.rs` checks it):
//!
//! ```text
//! query/     Query, Select, tables by name, relationship loading, pagination
//! runtime/   Db, the scoped context, sessions, reflection
//! driver/    engines and their pools, the executor, query recording
//! model/     Model, rows to insert, mixins, typed columns and expressions
//! sql/       the statement tree, its renderer, DDL, the dialects
//! schema/    Table, ColumnDef, the registry, naming, relationship metadata
//! value/     Value, SqlType, ColumnType, Json
//! config/    Config, EngineOptions, URLs
//! error.rs   Error
//! backend.rs Backend
//! ```
//!
//! The entry points:
//!
//! - [`Config`], [`BindConfig`], [`EngineOptions`]: Flask-SQLAlchemy's configuration keys.
//! - [`Db`]: engines per bind, `create_all` / `drop_all`, raw SQL, `scope`.
//! - [`Engine`], [`Backend`]: one sqlx pool (SQLite, PostgreSQL or MariaDB; MySQL 8 untested).
//! - [`Table`], [`ColumnDef`], [`Metadata`]: table metadata.
//! - [`Model`], [`Column`], [`Expr`], [`Query`]: typed queries.
//! - [`set_global_default`], [`in_current_scope`]: the context.
//!
//! `__private` holds what generated code names; it is not public API and not covered by
//! semver.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod config;
mod driver;
mod error;
pub mod migrate;
mod model;
mod query;
mod runtime;
mod schema;
mod sql;
mod value;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

pub use backend::Backend;
pub use config::{BindConfig, Config, EngineOptions, redact_url};
pub use driver::engine::Engine;
pub use driver::executor::Row;
pub use driver::recording::{
    QueryInfo, QuerySummary, get_recorded_queries, recorded_queries_dropped, recorded_query_summary,
};
pub use error::{Error, HIDDEN_PARAMETERS, Mismatch, MismatchKind, NOT_FOUND_TEXT, Result};
pub use model::column::{Column, TextColumn};
pub use model::expression::{Expression, Operand, count_all};
pub use model::mixin::{Columns, Flattens};
pub use model::{FromRow, InsertRow, Insertable, KeyValues, Model, RowSource, Writable};
pub use query::Query;
pub use query::by_name::{ColumnRef, RowQuery, TableHandle};
pub use query::keyset::KeysetPage;
pub use query::pagination::{IterPages, PageRequest, Pagination};
pub use query::relation::{
    BelongsTo, ChildOf, Eager, HasMany, HasOne, LoadFrom, ManyToMany, Nested, Relation,
};
pub use query::select::{
    Alias, AliasEntity, AliasOuter, Derived, Entity, Outer, Select, Selectable, Selection, alias,
    entity, exists, not_exists, outer, select, select_columns,
};
pub use runtime::context::{clear_global_default, in_current_scope, session, set_global_default};
pub use runtime::db::Db;
pub use runtime::events::{Change, ColumnChange, EventContext, Operation, SessionEvent};
pub use runtime::session::{Addable, Session, SessionTransaction};
pub use schema::naming::camel_to_snake_case;
pub use schema::relation::{Lazy, RelationKind};
pub use schema::{
    Check, ColumnDef, ForeignKey, Index, Metadata, NamingConvention, OnDelete, Table, model_source,
};
pub use sql::expr::{Assignment, Assignments, Expr, Order, escape_like};
pub use value::Value;
pub use value::column_type::{ColumnType, CustomType, IntoField};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use value::json::Json;
pub use value::relations::{Comparable, MaybeNull, Numeric};
pub use value::sql_type::{Ddl, SqlType};

/// The caller's statement that SQL built at run time is safe to run, for
/// [`Db::execute`] and [`Db::fetch_all`] (sqlx's own, re-exported so applications need
/// not depend on sqlx).
pub use sqlx::AssertSqlSafe;
