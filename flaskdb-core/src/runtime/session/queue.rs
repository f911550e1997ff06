//! The queue of a session: what `add`, `delete` and `insert` put in it, and the checks it
//! passes before a flush writes it.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::{InsertRow, KeyValues, Model, decode_any};
use crate::runtime::db::Db;
use crate::runtime::events::{Change, Operation};
use crate::schema::relation::{Decoder, RelationDef};
use crate::schema::{ColumnDef, Table};
use crate::value::Value;

use super::changes::column_changes;
use super::identity::{Identity, IdentityMap, key_of};
use super::{Session, State};

/// A value `Session::add` accepts: a builder (a new row) or a model (a row to update).
/// `#[derive(Model)]` implements it for both.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be added to a session",
    label = "not a model, a model reference or a builder of a table",
    note = "`#[model(view)]` models are read-only"
)]
pub trait Addable {
    #[doc(hidden)]
    fn into_pending(self) -> Pending;
}

/// A change to queue, as [`Addable`] produces it: a new row (with the rows its builder
/// added through relationships), or a model's current values.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Pending(pub(super) Queued);

#[derive(Debug, Clone)]
pub(super) enum Queued {
    /// A new row of a model, decoded by the decoder.
    Insert(InsertRow, Decoder),
    /// An existing row.
    Change(RowWrite),
}

/// Numbers insert ops, so a child can name the parent whose key it takes.
pub(super) static NEXT_INSERT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Pending {
    /// A new row of model `M` from its builder, with any rows linked to it.
    pub fn insert<M: Model>(row: InsertRow) -> Pending {
        Pending(Queued::Insert(row, decode_any::<M>))
    }

    /// An existing row with its current values.
    pub fn model<M: Model>(model: &M) -> Pending {
        Pending(Queued::Change(RowWrite::Update {
            table: M::table(),
            key: model.primary_key().key_values(),
            values: model.values(),
            changed: None,
            decode: decode_any::<M>,
        }))
    }

    /// Appends the ops to `ops`: a new row and its linked rows, or an update unless it
    /// changes nothing the session knows of.
    pub(super) fn queue(self, identity: &IdentityMap, ops: &mut Vec<RowWrite>) {
        match self.0 {
            Queued::Insert(row, decode) => flatten(row, decode, None, ops),
            Queued::Change(op) => ops.extend(compared(identity, op)),
        }
    }
}

/// Queues `row` (checking its required columns, except those its link fills) and then
/// the rows linked to it.
pub(super) fn flatten(
    mut row: InsertRow,
    decode: Decoder,
    link: Option<(u64, &'static RelationDef)>,
    ops: &mut Vec<RowWrite>,
) {
    let filled: Vec<String> = match link {
        None => Vec::new(),
        Some((_, def)) => match def.resolve() {
            Ok(r) => r.pairs.iter().map(|p| p.0.clone()).collect(),
            Err(e) => {
                ops.push(RowWrite::Invalid(e.to_string()));
                return;
            }
        },
    };
    if let Some(reason) = row.invalid() {
        ops.push(RowWrite::Invalid(reason.to_owned()));
        return;
    }
    if let Some(column) = row
        .missing()
        .iter()
        .find(|c| !filled.iter().any(|f| f == *c))
    {
        ops.push(RowWrite::Missing {
            table: row.table().name().to_owned(),
            column: (*column).to_owned(),
        });
        return;
    }
    let id = NEXT_INSERT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let children = row.take_children();
    ops.push(RowWrite::Insert {
        row,
        decode,
        id,
        link,
    });
    for (def, child) in children {
        flatten(child, def.target_decoder, Some((id, def)), ops);
    }
}

/// One write of a flush: a row to insert, the changed columns of a row to update, or a
/// row to delete.
#[derive(Debug, Clone)]
pub(super) enum RowWrite {
    /// A new row; `link` names the parent insert whose key fills its foreign key.
    Insert {
        row: InsertRow,
        decode: Decoder,
        id: u64,
        link: Option<(u64, &'static RelationDef)>,
    },
    /// `changed: None` = every non-key column, and a row must match.
    Update {
        table: &'static Table,
        key: Vec<Value>,
        values: Vec<Value>,
        changed: Option<Vec<usize>>,
        decode: Decoder,
    },
    Delete {
        table: &'static Table,
        key: Vec<Value>,
        decode: Decoder,
    },
    /// A builder that could not produce a row: a required column is unset.
    Missing { table: String, column: String },
    /// A builder whose relationship could not be resolved.
    Invalid(String),
}

impl RowWrite {
    pub(super) fn decoder(&self) -> Option<Decoder> {
        match self {
            RowWrite::Insert { decode, .. }
            | RowWrite::Update { decode, .. }
            | RowWrite::Delete { decode, .. } => Some(*decode),
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => None,
        }
    }

    pub(super) fn table(&self) -> Option<&'static Table> {
        match self {
            RowWrite::Insert { row, .. } => Some(row.table()),
            RowWrite::Update { table, .. } | RowWrite::Delete { table, .. } => Some(table),
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => None,
        }
    }

    /// The bind whose transaction the op is written in (`None` = default).
    pub(super) fn bind(&self) -> Option<&'static str> {
        self.table().and_then(Table::bind_key)
    }
}

/// `op` against the session's copy of its row: an update of a loaded row keeps only
/// the columns that differ, and is dropped when none does.
pub(super) fn compared(identity: &IdentityMap, mut op: RowWrite) -> Option<RowWrite> {
    if let RowWrite::Update {
        table,
        key,
        values,
        changed,
        ..
    } = &mut op
        && let Some(snapshot) = identity.get(&Identity(table.name(), key.clone()))
    {
        let diff: Vec<usize> = (0..values.len())
            .filter(|&i| !table.columns()[i].is_primary_key() && values[i] != snapshot[i])
            .collect();
        if diff.is_empty() {
            return None;
        }
        *changed = Some(diff);
    }
    Some(op)
}

/// Removes the first row holding a value its column cannot store (see
/// `Backend::check_value`) and returns the error naming the column; the rest stays.
pub(super) fn take_unstorable(db: &Db, ops: &mut Vec<RowWrite>) -> Option<Error> {
    // Only text columns with a length and float columns can hold such a value; the
    // backend of each table is looked up once.
    let mut backends: Vec<(&'static Table, Option<Backend>)> = Vec::new();
    let (i, error) = ops.iter().enumerate().find_map(|(i, op)| {
        let table = op.table()?;
        let backend = match backends.iter().find(|(t, _)| std::ptr::eq(*t, table)) {
            Some((_, b)) => (*b)?,
            None => {
                let b = table
                    .columns()
                    .iter()
                    .any(Backend::may_reject)
                    .then(|| db.engine_for(table.bind_key()).ok().map(|e| e.backend()))
                    .flatten();
                backends.push((table, b));
                b?
            }
        };
        let unstorable = |c: &ColumnDef, v: &Value| {
            Backend::may_reject(c)
                .then(|| backend.check_value(table, c, v).err())
                .flatten()
        };
        let found = match op {
            RowWrite::Insert { row, .. } => row.values().find_map(|(c, v)| unstorable(c, v)),
            RowWrite::Update { values, .. } => table
                .columns()
                .iter()
                .zip(values)
                .find_map(|(c, v)| unstorable(c, v)),
            _ => None,
        };
        found.map(|e| (i, e))
    })?;
    ops.remove(i);
    Some(error)
}

/// Sets the `onupdate` columns of each update that does not set them itself.
pub(super) fn refresh_onupdate(ops: &mut [RowWrite]) {
    for op in ops {
        let RowWrite::Update {
            table,
            values,
            changed,
            ..
        } = op
        else {
            continue;
        };
        for (i, column) in table.columns().iter().enumerate() {
            let Some(value) = column.update_value() else {
                continue;
            };
            match changed {
                Some(changed) if changed.contains(&i) => {}
                Some(changed) => {
                    values[i] = value;
                    changed.push(i);
                    changed.sort_unstable();
                }
                None => values[i] = value,
            }
        }
    }
}

/// Removes the first builder that can never be written (a required column unset, a
/// relationship that could not be resolved) and returns its error; the rest stays.
pub(super) fn take_broken(ops: &mut Vec<RowWrite>) -> Option<Error> {
    let i = ops
        .iter()
        .position(|op| matches!(op, RowWrite::Missing { .. } | RowWrite::Invalid(_)))?;
    Some(match ops.remove(i) {
        RowWrite::Missing { table, column } => Error::MissingColumn { table, column },
        RowWrite::Invalid(message) => Error::InvalidQuery(message.into()),
        _ => Error::NoResultFound,
    })
}

/// The work a flush is about to write, as a `BeforeFlush` listener may change it.
pub(crate) struct PendingWork {
    pub(super) ops: Vec<RowWrite>,
    pub(super) session: Session,
}

impl PendingWork {
    /// The pending changes, one per queued row, in queue order.
    pub(super) fn changes(&self) -> Vec<Change> {
        let state = self.session.state();
        self.ops
            .iter()
            .filter_map(|op| {
                let (table, operation, key, columns, model) = match op {
                    RowWrite::Insert { row, .. } => {
                        let table = row.table();
                        let values: Vec<Value> = table
                            .columns()
                            .iter()
                            .zip(row.slots())
                            .map(|(c, v)| v.clone().unwrap_or(Value::Null(c.sql_type())))
                            .collect();
                        let key = key_of(table, &values);
                        let key = if key.iter().any(|v| matches!(v, Value::Null(_))) {
                            Vec::new()
                        } else {
                            key
                        };
                        let columns = column_changes(table, None, Some(&values), None)
                            .into_iter()
                            .filter(|c| row.sets(c.column))
                            .collect();
                        (table, Operation::Insert, key, columns, None)
                    }
                    RowWrite::Update {
                        table,
                        key,
                        values,
                        changed,
                        decode,
                    } => {
                        let old = state.identity.get(&Identity(table.name(), key.clone()));
                        let columns = column_changes(
                            table,
                            old.map(Vec::as_slice),
                            Some(values),
                            changed.as_deref(),
                        );
                        (
                            *table,
                            Operation::Update,
                            key.clone(),
                            columns,
                            decode(values),
                        )
                    }
                    RowWrite::Delete { table, key, decode } => {
                        let old = state.identity.get(&Identity(table.name(), key.clone()));
                        let columns = column_changes(table, old.map(Vec::as_slice), None, None);
                        let model = old.and_then(|row| decode(row));
                        (*table, Operation::Delete, key.clone(), columns, model)
                    }
                    RowWrite::Missing { .. } | RowWrite::Invalid(_) => return None,
                };
                Some(Change::new(table.name(), operation, key, columns, model))
            })
            .collect()
    }

    /// Queues `item` in this flush, as [`Session::add`] would.
    pub(crate) fn add(&mut self, item: impl Addable) {
        let state = self.session.state();
        item.into_pending().queue(&state.identity, &mut self.ops);
    }

    /// Sets `column` of the `index`th queued row.
    pub(crate) fn set(
        &mut self,
        index: usize,
        table: &'static Table,
        column: &'static str,
        value: Value,
    ) -> Result<()> {
        let wrong =
            |why: &str| Error::InvalidQuery(format!("pending change {index}: {why}").into());
        let op = self
            .ops
            .get_mut(index)
            .ok_or_else(|| wrong("no such change"))?;
        if op.table().is_none_or(|t| !std::ptr::eq(t, table)) {
            return Err(wrong(&format!("not a row of `{}`", table.name())));
        }
        let position = table
            .column_position(column)
            .ok_or_else(|| wrong(&format!("no column `{column}`")))?;
        match op {
            RowWrite::Insert { row, .. } => row.set(position, value),
            RowWrite::Update {
                values, changed, ..
            } => {
                values[position] = value;
                if let Some(changed) = changed
                    && !changed.contains(&position)
                {
                    changed.push(position);
                    changed.sort_unstable();
                }
            }
            _ => return Err(wrong("a delete has no values to set")),
        }
        Ok(())
    }
}

pub(super) fn requeue(state: &mut State, mut ops: Vec<RowWrite>) {
    ops.append(&mut state.pending);
    state.pending = ops;
}

/// The open transactions are being rolled back: if they held work the session cannot
/// queue again, nothing may go on as if it were there.
pub(super) fn lose_unreplayable(state: &mut State) {
    if std::mem::take(&mut state.unreplayable) {
        state.pending_rollback = true;
    }
}

/// Queues again what the open transactions wrote (`journal`) and then `ops`, ahead of
/// anything queued since, and forgets the rows the session had seen in them.
pub(super) fn requeue_journal(state: &mut State, mut journal: Vec<RowWrite>, ops: Vec<RowWrite>) {
    journal.extend(ops);
    requeue(state, journal);
    state.identity.clear();
}
