//! Reflection: the tables of an existing database read from its catalog.
//!
//! Each backend module only runs its catalog queries and returns a [`Catalog`]: flat
//! rows of relations, columns and keys, in the database's own words. Turning that into
//! [`Table`]s (types, defaults, autoincrement, which index is a column's own) happens
//! once, here, for every backend.

mod compare;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use crate::backend::Backend;
use crate::driver::engine::{COMMIT_TOKEN_TABLE, Engine, MIGRATION_TABLE};
use crate::driver::executor::{self, Conn, Row};
use crate::error::Result;
use crate::schema::convention;
use crate::schema::{Check, ColumnDef, ForeignKey, Index, OnDelete, Table};
use crate::sql::Rendered;
use crate::sql::dialect::catalog::{Default, parse_default, parse_type};

pub(crate) use compare::mismatches;

/// What a backend's catalog says, before interpretation.
#[derive(Default)]
struct Catalog {
    /// Tables and views (`true` for a view), by name.
    relations: Vec<(String, bool)>,
    /// Columns, in each table's order.
    columns: Vec<RawColumn>,
    /// Keys and indexes, one row per column, in key order.
    keys: Vec<KeyPart>,
    /// CHECK constraints: table, name and condition.
    checks: Vec<(String, String, String)>,
}

/// One column as the catalog gives it.
struct RawColumn {
    table: String,
    name: String,
    /// The declared type (`varchar(80)`, `character varying(80)`).
    declared: String,
    nullable: bool,
    /// The DEFAULT clause's text, as the catalog prints it.
    default: Option<String>,
    /// Whether the database numbers this column itself.
    generated: bool,
}

/// What a key or index is.
#[derive(Clone, PartialEq)]
enum KeyKind {
    Primary,
    /// A UNIQUE constraint.
    Unique,
    /// An index that is not a constraint's.
    Index {
        unique: bool,
    },
    Foreign {
        ref_table: String,
        on_delete: Option<OnDelete>,
    },
}

/// One column of a key, index or foreign key.
struct KeyPart {
    table: String,
    /// The constraint or index name (what tells keys of one table apart).
    name: String,
    kind: KeyKind,
    column: String,
    /// The referenced column of a foreign key (`None`: the referenced primary key).
    ref_column: Option<String>,
}

/// Reads every table and view of the engine's database, sorted by name.
pub(crate) async fn tables(engine: &Engine, bind: Option<&str>) -> Result<Vec<Table>> {
    tables_on(Conn::Pool(engine), bind).await
}

/// Reads every table and view that `conn` sees, sorted by name: on a connection inside
/// a transaction, the tables as that transaction has changed them.
pub(crate) async fn tables_on(mut conn: Conn<'_>, bind: Option<&str>) -> Result<Vec<Table>> {
    let backend = conn.engine().backend();
    let mut catalog = match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => sqlite::catalog(&mut conn).await?,
        #[cfg(feature = "postgres")]
        Backend::Postgres => postgres::catalog(&mut conn).await?,
        #[cfg(feature = "mysql")]
        Backend::MySql => mysql::catalog(&mut conn).await?,
        #[allow(unreachable_patterns)]
        _ => Catalog::default(),
    };
    // flaskdb's own bookkeeping is not the application's schema.
    catalog
        .relations
        .retain(|(name, _)| name != COMMIT_TOKEN_TABLE && name != MIGRATION_TABLE);
    Ok(assemble(catalog, backend, bind))
}

/// Runs one catalog query.
async fn fetch(conn: &mut Conn<'_>, sql: &str) -> Result<Vec<Row>> {
    executor::fetch_rows(conn.reborrow(), Rendered::new(sql.to_owned(), Vec::new())).await
}

/// A foreign key's ON DELETE from its SQL words; `NO ACTION` (the default) is `None`.
fn on_delete(rule: &str) -> Option<OnDelete> {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" => Some(OnDelete::Cascade),
        "SET NULL" => Some(OnDelete::SetNull),
        "SET DEFAULT" => Some(OnDelete::SetDefault),
        "RESTRICT" => Some(OnDelete::Restrict),
        _ => None,
    }
}

/// The keys of one table grouped by name: each key's columns in order.
fn grouped<'a>(keys: &'a [KeyPart], table: &str) -> Vec<(&'a KeyPart, Vec<&'a KeyPart>)> {
    let mut groups: Vec<(&KeyPart, Vec<&KeyPart>)> = Vec::new();
    for part in keys.iter().filter(|k| k.table == table) {
        match groups
            .iter_mut()
            .find(|(first, _)| first.name == part.name && first.kind == part.kind)
        {
            Some((_, parts)) => parts.push(part),
            None => groups.push((part, vec![part])),
        }
    }
    groups
}

fn assemble(catalog: Catalog, backend: Backend, bind: Option<&str>) -> Vec<Table> {
    let mut relations = catalog.relations;
    relations.sort();
    let mut tables: Vec<Table> = relations
        .iter()
        .map(|(name, view)| {
            let table = table(&catalog.columns, &catalog.keys, name, *view, backend, bind);
            let checks = catalog.checks.iter().filter(|(t, ..)| t == name);
            checks.fold(table, |table, (_, name, sql)| {
                table.check_constraint(Check {
                    name: name.clone(),
                    sql: sql.clone(),
                })
            })
        })
        .collect();
    // A foreign key that names no columns references the primary key.
    let keys: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|t| {
            let pk = t.primary_key().into_iter().map(str::to_owned).collect();
            (t.name().to_owned(), pk)
        })
        .collect();
    for table in &mut tables {
        table.fill_referenced_keys(|name| {
            keys.iter()
                .find(|(t, _)| t == name)
                .map(|(_, pk)| pk.clone())
                .unwrap_or_default()
        });
    }
    tables
}

fn table(
    columns: &[RawColumn],
    keys: &[KeyPart],
    name: &str,
    view: bool,
    backend: Backend,
    bind: Option<&str>,
) -> Table {
    let groups = grouped(keys, name);
    let primary: Vec<&str> = groups
        .iter()
        .filter(|(first, _)| first.kind == KeyKind::Primary)
        .flat_map(|(_, parts)| parts.iter().map(|p| p.column.as_str()))
        .collect();
    let single = |kind: &dyn Fn(&KeyKind) -> bool, column: &str| {
        groups.iter().any(|(first, parts)| {
            kind(&first.kind) && parts.len() == 1 && parts[0].column == column
        })
    };
    // A column's own index, as `Table::column_index` names it: `ix_<table>_<column>`,
    // or the unique `uq_<table>_<column>`.
    let own_index = |column: &str| {
        groups.iter().find(|(first, parts)| {
            parts.len() == 1
                && parts[0].column == column
                && match first.kind {
                    KeyKind::Index { unique } => {
                        first.name == convention::index_name(name, &[column])
                            || (unique && first.name == convention::unique_name(name, &[column]))
                    }
                    _ => false,
                }
        })
    };
    let raw: Vec<&RawColumn> = columns.iter().filter(|c| c.table == name).collect();
    let integer_key = primary.len() == 1
        && raw
            .iter()
            .any(|c| c.name == primary[0] && parse_type(backend, &c.declared).0.is_integer());
    let mut table = Table::new(name).bind(bind).view(view);
    for c in &raw {
        let (sql_type, length) = parse_type(backend, &c.declared);
        let mut def = ColumnDef::new(c.name.clone(), sql_type)
            .nullable(c.nullable)
            .declared_as(c.declared.clone());
        if let Some(n) = length {
            def = def.max_length(n);
        }
        let in_key = primary.contains(&c.name.as_str());
        if in_key {
            def = def.primary_key();
        }
        // Autoincrement is recorded only where it differs from the rule (a single
        // integer primary key autoincrements).
        let by_rule = in_key && integer_key;
        if c.generated != by_rule {
            def = def.autoincrement(c.generated);
        }
        if !c.generated {
            match c
                .default
                .as_deref()
                .map(|d| parse_default(backend, d, sql_type))
            {
                Some(Default::Value(v)) => def = def.default(v),
                Some(Default::Sql(sql)) => def = def.server_default(sql),
                Some(Default::Null) | None => {}
            }
        }
        let unique_key = |k: &KeyKind| *k == KeyKind::Unique;
        if single(&unique_key, &c.name) {
            def = def.unique();
        }
        if let Some((first, _)) = own_index(&c.name) {
            if first.name == convention::index_name(name, &[&c.name]) {
                def = def.index();
            }
            if first.kind == (KeyKind::Index { unique: true }) {
                def = def.unique();
            }
        }
        table = table.column(def);
    }
    for (first, parts) in &groups {
        let columns: Vec<String> = parts.iter().map(|p| p.column.clone()).collect();
        match &first.kind {
            KeyKind::Primary => {}
            KeyKind::Unique if parts.len() == 1 => {}
            KeyKind::Index { .. }
                if own_index(&first.column).is_some_and(|(f, _)| f.name == first.name) => {}
            KeyKind::Unique | KeyKind::Index { .. } => {
                table = table.index(Index {
                    name: index_name(name, &first.name, &columns),
                    columns,
                    unique: matches!(
                        first.kind,
                        KeyKind::Unique | KeyKind::Index { unique: true }
                    ),
                });
            }
            KeyKind::Foreign {
                ref_table,
                on_delete,
            } => {
                // SQLite keeps no names of foreign keys; elsewhere a name that is not
                // the convention's is kept.
                let ref_columns: Vec<String> =
                    parts.iter().filter_map(|p| p.ref_column.clone()).collect();
                let conventional =
                    convention::foreign_key_name(name, &columns, ref_table, &ref_columns)
                        == first.name;
                let own = backend != Backend::Sqlite && !conventional;
                table = table.composite_foreign_key(ForeignKey {
                    columns,
                    ref_table: ref_table.clone(),
                    ref_columns,
                    on_delete: *on_delete,
                    name: own.then(|| first.name.clone()),
                });
            }
        }
    }
    table
}

/// The name a reflected index keeps; SQLite's own names for constraint indexes
/// (`sqlite_autoindex_..`) cannot be created again, so those get `uq_<table>_<columns>`.
fn index_name(table: &str, name: &str, columns: &[String]) -> String {
    if name.starts_with("sqlite_") {
        convention::unique_name(table, columns)
    } else {
        name.to_owned()
    }
}
