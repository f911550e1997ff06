//! The runtime of [flaskdb](https://docs.rs/flaskdb): configuration, one engine per bind,
//! table metadata and DDL, typed queries, and the scoped context.
//!
//! Applications depend on the `flaskdb` crate, which re-exports everything here together
//! with `#[derive(Model)]`. The modules:
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

mod column;
mod column_type;
mod config;
mod context;
mod db;
mod dialect;
mod dynamic;
mod engine;
mod error;
mod events;
mod executor;
mod expression;
mod joined;
mod keyset;
mod mixin;
mod model;
mod naming;
mod pagination;
mod query;
mod record;
mod relation;
mod schema;
mod select;
mod session;
mod sql;
mod sql_type;
mod target;
mod types;
mod value;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// axum integration: [`axum::DbLayer`], `IntoResponse` for [`Error`], [`axum::PageParams`].
#[cfg(feature = "axum")]
#[path = "web.rs"]
pub mod axum;

pub use column::{Column, TextColumn, escape_like};
pub use column_type::{ColumnType, CustomType, IntoField};
pub use config::{BindConfig, Config, EngineOptions, HIDDEN_PARAMETERS};
pub use context::{
    clear_global_default, in_current_scope, select, select_columns, session, set_global_default,
};
pub use db::Db;
pub use dynamic::{ColumnRef, RowQuery, TableHandle};
pub use engine::{Backend, Engine, redact_url};
pub use error::{Error, NOT_FOUND_TEXT, Result};
pub use events::{Change, ColumnChange, EventContext, Operation, SessionEvent};
pub use executor::Row;
pub use expression::{
    Comparable, Expression, MaybeNull, Numeric, Operand, count_all, exists, not_exists,
};
pub use keyset::KeysetPage;
pub use mixin::{Columns, Flattens};
pub use model::{FromRow, InsertRow, Insertable, KeyValues, Model, RowSource, Writable};
pub use naming::camel_to_snake_case;
pub use pagination::{IterPages, PageRequest, Pagination};
pub use query::Query;
pub use record::{
    QueryInfo, QuerySummary, get_recorded_queries, recorded_queries_dropped, recorded_query_summary,
};
pub use relation::{
    BelongsTo, ChildOf, Eager, HasMany, HasOne, Lazy, LoadFrom, ManyToMany, Nested, Relation,
    RelationKind,
};
pub use schema::{
    ColumnDef, ForeignKey, Index, Metadata, Mismatch, MismatchKind, OnDelete, Table, model_source,
};
pub use select::{
    Alias, AliasEntity, AliasOuter, Derived, Entity, Outer, Select, Selectable, Selection, alias,
    entity, outer,
};
pub use session::{Addable, Session, SessionTransaction};
pub use sql::expr::{Assignment, Assignments, Expr, Order};
pub use sql_type::{Ddl, SqlType};
#[cfg(feature = "json")]
pub use types::Json;
pub use value::Value;

/// The caller's statement that SQL built at run time is safe to run, for
/// [`Db::execute`] and [`Db::fetch_all`] (sqlx's own, re-exported so applications need
/// not depend on sqlx).
pub use sqlx::AssertSqlSafe;
