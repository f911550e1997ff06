//! What deleting a row through a session takes with it: the rows of its
//! `cascade = "delete"` relationships (and theirs, depth first) and its many-to-many
//! links, as SQLAlchemy's unit of work does. Everything else is left to the
//! database's `ON DELETE`.

use std::collections::HashSet;

use futures_core::future::BoxFuture;

use crate::backend::Backend;
use crate::driver::executor::{self, Conn};
use crate::error::{Error, Result};
use crate::runtime::db::Db;
use crate::schema::{ColumnDef, Table};
use crate::sql::expr::{Node, key_in};
use crate::sql::{self, Clauses, DeleteStmt, Projection, Rendered, SelectStmt};
use crate::value::Value;

use super::flush::{RowEffect, keep_history};
use super::identity::Identity;
use super::transactions::Connections;

/// The rows a deletion walks through, so a cycle in the data ends.
pub(super) type Visited = HashSet<Identity>;

/// Deletes the dependents of the rows of `table` with primary keys `keys`, recording
/// each deleted row in `written`.
pub(super) fn delete_dependents<'a>(
    db: &'a Db,
    txs: &'a mut Connections,
    table: &'static Table,
    keys: Vec<Vec<Value>>,
    written: &'a mut Vec<RowEffect>,
    visited: &'a mut Visited,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        for def in table.relations() {
            if !def.deletes_with_parent() {
                continue;
            }
            let resolved = def.resolve()?;
            let parent_columns: Vec<&str> = resolved.pairs.iter().map(|p| p.1.as_str()).collect();
            let child_columns: Vec<&str> = resolved.pairs.iter().map(|p| p.0.as_str()).collect();
            let parent_keys = referenced_values(db, txs, table, &keys, &parent_columns).await?;
            if parent_keys.is_empty() {
                continue;
            }
            let child = match &resolved.secondary {
                Some((secondary, _)) => *secondary,
                None => def.target(),
            };
            let filter = key_in(child, &child_columns, &parent_keys);
            let engine = db.engine_for(child.bind_key())?;
            let t = txs.begin(child.bind_key(), &engine, false).await?;
            if resolved.secondary.is_none() {
                // The children's own dependents go first.
                let pk = child.primary_key();
                let rendered = select_columns(child, &pk, filter.clone(), engine.backend())?;
                let defs = column_defs(child, &pk)?;
                let found =
                    executor::fetch_values(Conn::Tx(&mut txs.open[t].1), rendered, &defs).await?;
                let fresh: Vec<Vec<Value>> = found
                    .into_iter()
                    .filter(|k| visited.insert(Identity(child.name(), k.clone())))
                    .collect();
                delete_dependents(db, txs, child, fresh.clone(), written, visited).await?;
                for key in fresh {
                    keep_history(db, txs, child, &key).await?;
                    written.push(RowEffect::Deleted {
                        decode: Some(def.target_decoder),
                        table: child,
                        key,
                    });
                }
            }
            let t = txs.begin(child.bind_key(), &engine, false).await?;
            let rendered = sql::delete(
                &DeleteStmt {
                    table: child,
                    filter: Some(&filter),
                },
                engine.backend(),
            )?;
            executor::execute(Conn::Tx(&mut txs.open[t].1), rendered).await?;
        }
        Ok(())
    })
}

/// The values of `columns` in the rows of `table` with primary keys `keys`: the keys
/// themselves when the columns are the primary key, else read from the database.
async fn referenced_values(
    db: &Db,
    txs: &mut Connections,
    table: &'static Table,
    keys: &[Vec<Value>],
    columns: &[&str],
) -> Result<Vec<Vec<Value>>> {
    let pk = table.primary_key();
    if keys.is_empty() || pk == columns {
        return Ok(keys.to_vec());
    }
    let engine = db.engine_for(table.bind_key())?;
    let rendered = select_columns(table, columns, key_in(table, &pk, keys), engine.backend())?;
    let t = txs.begin(table.bind_key(), &engine, false).await?;
    executor::fetch_values(
        Conn::Tx(&mut txs.open[t].1),
        rendered,
        &column_defs(table, columns)?,
    )
    .await
}

/// The definitions of `table`'s `columns`.
fn column_defs<'t>(table: &'t Table, columns: &[&str]) -> Result<Vec<&'t ColumnDef>> {
    columns
        .iter()
        .map(|name| {
            table.column_named(name).ok_or_else(|| {
                Error::InvalidQuery(
                    format!("table `{}` has no column `{name}`", table.name()).into(),
                )
            })
        })
        .collect()
}

/// `SELECT columns FROM table WHERE filter`.
fn select_columns(
    table: &'static Table,
    columns: &[&str],
    filter: Node,
    backend: Backend,
) -> Result<Rendered<'static>> {
    let mut clauses = Clauses::default();
    clauses.and_filter(filter);
    let exprs: Vec<Node> = columns
        .iter()
        .map(|c| Node::column(table.name(), (*c).to_owned()))
        .collect();
    sql::select(
        &SelectStmt {
            table,
            projection: Projection::Exprs,
            clauses: &clauses,
            exprs: &exprs,
        },
        backend,
    )
}
