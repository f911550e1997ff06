//! Related rows of many parents read with `IN (...)` lists, and handed to each parent.

use std::collections::HashMap;

use super::Relation;
use super::key::{Key, key_at, normalized};
use crate::error::Result;
use crate::model::Model;
use crate::query::Query;
use crate::runtime::target::Runner;
use crate::schema::relation::{RelationDef, RelationKind};
use crate::sql::expr::{Node, key_in};
use crate::value::Value;

/// A target row with the association-table key it was found through.
struct Linked<T>(Key, T);

impl<T: Model> crate::model::FromRow for Linked<T> {
    fn width() -> usize {
        T::width()
    }
    fn from_row<R: crate::model::RowSource>(row: &R, offset: usize) -> Result<Self> {
        let model = T::from_row(row, offset)?;
        let mut key = Vec::new();
        for i in offset + T::width()..row.len() {
            key.push(normalized(any_key(row, i)?));
        }
        Ok(Linked(key.into(), model))
    }
}

/// A key column of an association table, as whichever key type it holds.
fn any_key<R: crate::model::RowSource>(row: &R, index: usize) -> Result<Value> {
    row.get::<i64>(index)
        .map(Value::I64)
        .or_else(|_| row.get::<i32>(index).map(Value::I32))
        .or_else(|_| row.get::<i16>(index).map(Value::I16))
        .or_else(|_| row.get::<String>(index).map(Value::Text))
        .or_else(|_| row.get::<Vec<u8>>(index).map(Value::Bytes))
}

/// The related rows of many parents' `keys`, each with the parent key it belongs to:
/// one query per chunk of keys, each within the backend's parameter limit, whatever the
/// number of parents (on PostgreSQL, one query: a one-column key list is one array).
pub(super) async fn fetch<T: Model>(
    def: &'static RelationDef,
    keys: Vec<Key>,
    runner: &Runner,
) -> Result<Vec<(Key, T)>> {
    let resolved = def.resolve()?.clone();
    let target = def.target();
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    let unique: Vec<Key> = keys
        .into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect();
    let backend = runner.resolve(target.bind_key())?.engine.backend();
    let chunk = backend.keys_per_statement(resolved.pairs.len());
    let mut out = Vec::new();
    for part in unique.chunks(chunk) {
        match &resolved.secondary {
            Some((secondary, to_target)) => {
                let link_cols: Vec<&str> = resolved.pairs.iter().map(|p| p.0.as_str()).collect();
                let on = Node::And(
                    to_target
                        .iter()
                        .map(|(sec, tgt)| {
                            Node::eq(
                                Node::column(secondary.name(), sec.clone()),
                                Node::column(target.name(), tgt.clone()),
                            )
                        })
                        .collect(),
                );
                let rows = crate::query::select::linked_rows::<Linked<T>>(
                    runner,
                    target,
                    secondary,
                    on,
                    &link_cols,
                    key_in(secondary, &link_cols, part),
                )
                .await?;
                out.extend(rows.into_iter().map(|Linked(key, row)| (key, row)));
            }
            None => {
                let target_cols: Vec<&str> = match def.kind {
                    RelationKind::BelongsTo => {
                        resolved.pairs.iter().map(|p| p.1.as_str()).collect()
                    }
                    _ => resolved.pairs.iter().map(|p| p.0.as_str()).collect(),
                };
                // Plain: the target's own default eager loading would recurse.
                let mut query = Query::<T>::plain(runner.clone());
                query
                    .clauses_mut()
                    .and_filter(key_in(target, &target_cols, part));
                // A column the target does not have relates no row.
                let target_key: Option<Vec<usize>> = target_cols
                    .iter()
                    .map(|c| target.column_position(c))
                    .collect();
                for row in query.all().await? {
                    if let Some(key) = target_key.as_deref().and_then(|k| key_at(&row, k)) {
                        out.push((key, row));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Sets the loaded rows of each parent's relationship from `rows` (keyed by parent key).
/// Rows move to their parent; they are cloned only when several parents share a key
/// (a `belongs_to` target, a many-to-many row).
pub(super) fn distribute<P, C: Clone>(
    parents: &mut [P],
    relation: &Relation<P, C>,
    rows: Vec<(Key, C)>,
) {
    let field = relation.field;
    let mut groups: HashMap<Key, Vec<C>> = HashMap::new();
    for (key, row) in rows {
        groups.entry(key).or_default().push(row);
    }
    let mut uses: HashMap<Key, usize> = HashMap::new();
    for parent in parents.iter_mut() {
        if let Some(key) = &field(parent).key {
            *uses.entry(key.clone()).or_default() += 1;
        }
    }
    for parent in parents {
        let found = match &field(parent).key {
            None => Vec::new(),
            Some(key) => match uses.get_mut(key) {
                Some(left) if *left > 1 => {
                    *left -= 1;
                    groups.get(key).cloned().unwrap_or_default()
                }
                _ => groups.remove(key).unwrap_or_default(),
            },
        };
        relation.set_loaded(parent, found);
    }
}
