//! The flush: the queued writes sent in foreign-key order, inserts grouped into
//! multi-row statements, updates and deletes in key order, generated keys filled back.

use std::collections::HashMap;

use crate::driver::executor::{self, Conn, Done, Tx};
use crate::error::{Error, Result};
use crate::model::InsertRow;
use crate::runtime::db::Db;
use crate::runtime::events::{Change, Operation, SessionEvent};
use crate::schema::relation::{Decoder, RelationDef};
use crate::schema::{ColumnDef, Table, parents_first};
use crate::sql::expr::Node;
use crate::sql::{self, Clauses, DeleteStmt, InsertStmt, Projection, Rendered, UpdateStmt};
use crate::value::{Value, total_cmp_all};

use super::Session;
use super::cascade;
use super::changes::{column_changes, record_change};
use super::identity::{Identity, key_of};
use super::queue::{
    PendingWork, RowWrite, refresh_onupdate, requeue, take_broken, take_unstorable,
};
use super::sentinel::Sentinel;
use super::transactions::{Connections, FlushGuard};

impl Session {
    /// Flushes; returns the inserted rows. With `keep: false` (a commit that will
    /// expire the identity map, with no change signals) the written rows are not
    /// needed, and are neither read back nor kept.
    pub(super) async fn flush_inner(&self, keep: bool) -> Result<Vec<(u64, Vec<Value>)>> {
        self.usable()?;
        if self.state().pending.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db()?.clone();
        // The transactions are held from before the work leaves the queue until it is
        // written, so a flush cut off while it waits for them has taken nothing, and
        // one cut off while it writes drops them before another task can use them.
        let mut guard = FlushGuard::new(self, self.inner.txs.lock().await);
        let mut ops = std::mem::take(&mut self.state().pending);
        refresh_onupdate(&mut ops);
        if let Some(error) = take_broken(&mut ops) {
            guard.disarm();
            requeue(&mut self.state(), ops);
            return Err(error);
        }
        if ops.is_empty() {
            guard.disarm();
            return Ok(Vec::new());
        }
        let record = self.records_changes(&db);
        // No await until the work is in the guard.
        let mut ops = if record {
            let mut work = PendingWork {
                ops,
                session: self.clone(),
            };
            let queued = work.ops.len();
            let changes = work.changes();
            if let Err(e) = self.emit(&db, SessionEvent::BeforeFlush, changes, Some(&mut work)) {
                // Rows the listeners added are theirs to add again.
                work.ops.truncate(queued);
                guard.disarm();
                return Err(self.undo(&db, &mut guard.txs, work.ops, e).await);
            }
            work.ops
        } else {
            ops
        };
        // Rows the listeners added are checked as the queue was (without listeners,
        // the queue was checked above).
        let broken = if record { take_broken(&mut ops) } else { None };
        if let Some(error) = broken.or_else(|| take_unstorable(&db, &mut ops)) {
            guard.disarm();
            requeue(&mut self.state(), ops);
            return Err(error);
        }
        guard.ops = ops;
        let written = match write(&db, &mut guard.txs, &guard.ops, keep).await {
            Ok(written) => written,
            Err(e) => {
                let ops = guard.disarm();
                return Err(self.undo(&db, &mut guard.txs, ops, e).await);
            }
        };
        let ops = guard.disarm();
        let mut flushed = Vec::new();
        let mut inserted = Vec::new();
        {
            let mut state = self.state();
            for w in written {
                match w {
                    RowEffect::Row {
                        op,
                        table,
                        values,
                        inserted: is_insert,
                    } => {
                        if let RowWrite::Insert { id, .. } = &ops[op] {
                            inserted.push((*id, values.clone()));
                        }
                        let key = key_of(table, &values);
                        let id = Identity(table.name(), key.clone());
                        if record && let Some(decode) = ops[op].decoder() {
                            let (operation, columns) = match (is_insert, &ops[op]) {
                                (false, RowWrite::Update { changed, .. }) => (
                                    Operation::Update,
                                    column_changes(
                                        table,
                                        state.identity.get(&id).map(Vec::as_slice),
                                        Some(&values),
                                        changed.as_deref(),
                                    ),
                                ),
                                _ => (
                                    Operation::Insert,
                                    column_changes(table, None, Some(&values), None),
                                ),
                            };
                            let model = decode(&values);
                            let change = Change::new(table.name(), operation, key, columns, model);
                            flushed.push(change);
                        }
                        state.identity.insert(id, values);
                    }
                    RowEffect::Deleted { decode, table, key } => {
                        let id = Identity(table.name(), key.clone());
                        let last_seen = state.identity.remove(&id);
                        if let Some(decode) = decode.filter(|_| record) {
                            let model = last_seen.as_deref().and_then(decode);
                            let columns = column_changes(table, last_seen.as_deref(), None, None);
                            let change =
                                Change::new(table.name(), Operation::Delete, key, columns, model);
                            flushed.push(change);
                        }
                    }
                }
            }
            if state.journal.is_empty() {
                state.journal = ops;
            } else {
                state.journal.extend(ops);
            }
        }
        if record {
            match self.emit(&db, SessionEvent::AfterFlush, flushed, None) {
                Ok(flushed) => {
                    let mut state = self.state();
                    for change in flushed {
                        record_change(&mut state.changes, change);
                    }
                }
                Err(e) => return Err(self.undo(&db, &mut guard.txs, Vec::new(), e).await),
            }
        }
        Ok(inserted)
    }
}

/// What a write did to one row, for the identity map.
pub(super) enum RowEffect {
    /// The row's values after an insert or update.
    Row {
        op: usize,
        table: &'static Table,
        values: Vec<Value>,
        inserted: bool,
    },
    /// The row with this key is gone (`decode` makes its model for the signals).
    Deleted {
        decode: Option<Decoder>,
        table: &'static Table,
        key: Vec<Value>,
    },
}

/// Writes `ops`: inserts parents first, then updates, then deletes children first.
pub(super) async fn write(
    db: &Db,
    txs: &mut Connections,
    ops: &[RowWrite],
    keep: bool,
) -> Result<Vec<RowEffect>> {
    // One pass over the work finds its tables and which kinds of change it holds; the
    // passes below skip what is not there.
    let mut tables: Vec<&'static Table> = Vec::new();
    let (mut linked, mut updates, mut deletes) = (false, false, false);
    for op in ops {
        match op {
            RowWrite::Insert { link, .. } => linked |= link.is_some(),
            RowWrite::Update { .. } => updates = true,
            RowWrite::Delete { .. } => deletes = true,
            RowWrite::Missing { .. } | RowWrite::Invalid(_) => {}
        }
        if let Some(table) = op.table()
            && !tables.iter().any(|t| std::ptr::eq(*t, table))
        {
            tables.push(table);
        }
    }
    let order = parents_first(&tables)?;
    let mut written = Vec::new();
    // Inserts go level by level (a row linked to a parent row after it), each level in
    // foreign-key order; a linked row takes its foreign key from its parent's stored row.
    // Without linked rows every insert is on level 0, and no map is needed.
    let mut level: HashMap<u64, usize> = HashMap::new();
    if linked {
        for op in ops {
            if let RowWrite::Insert { id, link, .. } = op {
                let depth = link
                    .and_then(|(parent, _)| level.get(&parent))
                    .map_or(0, |d| d + 1);
                level.insert(*id, depth);
            }
        }
    }
    let depth_of = |id: &u64| level.get(id).copied().unwrap_or(0);
    let keep = keep || linked;
    let mut stored: HashMap<u64, (&'static Table, Vec<Value>)> = HashMap::new();
    // One buffer for the rows of each table in turn.
    let mut rows: Vec<IndexedRow<'_>> = Vec::with_capacity(ops.len());
    for depth in 0..=level.values().copied().max().unwrap_or(0) {
        for table in &order {
            rows.clear();
            // A row is copied only to fill its foreign key from its parent.
            for (i, op) in ops.iter().enumerate() {
                let RowWrite::Insert { row, id, link, .. } = op else {
                    continue;
                };
                if !std::ptr::eq(row.table(), *table) || (linked && depth_of(id) != depth) {
                    continue;
                }
                let mut row = std::borrow::Cow::Borrowed(row);
                if let Some((parent, def)) = link {
                    fill_from_parent(row.to_mut(), def, stored.get(parent))?;
                }
                rows.push((i, row));
            }
            if rows.is_empty() {
                continue;
            }
            let done = insert_rows(db, txs, table, &rows, keep).await?;
            if linked {
                for w in &done {
                    if let RowEffect::Row { op, values, .. } = w
                        && let RowWrite::Insert { id, .. } = &ops[*op]
                    {
                        stored.insert(*id, (table, values.clone()));
                    }
                }
            }
            written.extend(done);
        }
    }
    if updates {
        for i in in_lock_order(ops, &order, |op| matches!(op, RowWrite::Update { .. })) {
            if let RowWrite::Update {
                table,
                key,
                values,
                changed,
                ..
            } = &ops[i]
            {
                update_row(db, txs, table, key, values, changed.as_deref()).await?;
                written.push(RowEffect::Row {
                    op: i,
                    table,
                    values: values.clone(),
                    inserted: false,
                });
            }
        }
    }
    if !deletes {
        return Ok(written);
    }
    let mut visited = cascade::Visited::new();
    for table in order.iter().rev() {
        let of_table = |op: &RowWrite| matches!(op, RowWrite::Delete { table: t, .. } if std::ptr::eq(*t, *table));
        for i in in_lock_order(ops, &order, of_table) {
            if let RowWrite::Delete {
                table: t,
                key,
                decode,
            } = &ops[i]
                && std::ptr::eq(*t, *table)
            {
                visited.insert(Identity(table.name(), key.clone()));
                cascade::delete_dependents(
                    db,
                    txs,
                    table,
                    vec![key.clone()],
                    &mut written,
                    &mut visited,
                )
                .await?;
                keep_history(db, txs, table, key).await?;
                let engine = db.engine_for(table.bind_key())?;
                let filter = key_filter(table, key.clone());
                let r = sql::delete(
                    &DeleteStmt {
                        table,
                        filter: Some(&filter),
                    },
                    engine.backend(),
                )?;
                let t = txs.begin(table.bind_key(), &engine, false).await?;
                executor::execute(Conn::Tx(&mut txs.open[t].1), r).await?;
                written.push(RowEffect::Deleted {
                    decode: Some(*decode),
                    table,
                    key: key.clone(),
                });
            }
        }
    }
    Ok(written)
}

/// The indexes of the updates or deletes among `ops` that `wanted` picks, in one order
/// whatever order they were queued in: table by table (`order`), each by primary key,
/// as SQLAlchemy's unit of work writes them. Two sessions changing the same rows then
/// lock them in the same order, and neither waits for a lock the other holds while
/// holding one it wants (a deadlock, which the server ends by failing one of them).
pub(super) fn in_lock_order(
    ops: &[RowWrite],
    order: &[&'static Table],
    wanted: impl Fn(&RowWrite) -> bool,
) -> Vec<usize> {
    let mut picked: Vec<(usize, &[Value], usize)> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| wanted(op))
        .filter_map(|(i, op)| match op {
            RowWrite::Update { table, key, .. } | RowWrite::Delete { table, key, .. } => {
                let at = order.iter().position(|t| std::ptr::eq(*t, *table))?;
                Some((at, key.as_slice(), i))
            }
            _ => None,
        })
        .collect();
    // Stable: two changes of one row keep the order they were queued in.
    picked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| total_cmp_all(a.1, b.1)));
    picked.into_iter().map(|(_, _, i)| i).collect()
}

pub(super) fn key_filter(table: &'static Table, key: Vec<Value>) -> Node {
    Node::key_eq(table.name(), table.primary_key(), key)
}

/// A row to insert with the index of its op; borrowed unless its foreign key had to
/// be filled from its parent.
pub(super) type IndexedRow<'a> = (usize, std::borrow::Cow<'a, InsertRow>);

/// Inserts rows of one table: consecutive rows with the same columns share a
/// multi-row statement, as many as the backend's parameter limit allows. The stored
/// rows come back as values: from the values given plus the generated key (read with
/// `RETURNING` the key, or from the last-insert id), or, when a server default filled
/// another column, from the database. Returned rows are matched to the rows sent by
/// key (see `Sentinel`), never by the order they come back in.
pub(super) async fn insert_rows(
    db: &Db,
    txs: &mut Connections,
    table: &'static Table,
    rows: &[IndexedRow<'_>],
    keep: bool,
) -> Result<Vec<RowEffect>> {
    let engine = db.engine_for(table.bind_key())?;
    let backend = engine.backend();
    let i = txs.begin(table.bind_key(), &engine, false).await?;
    let key_column = table.autoincrement_column();
    let mut written = Vec::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let first = &*rows[start].1;
        let missing: Vec<&ColumnDef> = table
            .columns()
            .iter()
            .zip(first.slots())
            .filter_map(|(c, v)| v.is_none().then_some(c))
            .collect();
        let only_key_missing = missing
            .iter()
            .all(|c| Some(c.name()) == key_column.map(ColumnDef::name));
        let returning: Vec<&ColumnDef> = match (engine.supports_returning(), only_key_missing) {
            _ if missing.is_empty() || !keep => Vec::new(),
            (false, _) => Vec::new(),
            (true, true) if backend.keys_from_last_insert_id() => Vec::new(),
            (true, true) => missing,
            (true, false) => table.columns().iter().collect(),
        };
        let sentinel = Sentinel::of(table, first, &returning);
        // `DEFAULT VALUES` inserts a single row, and so does a statement whose returned
        // rows could not be matched to the rows sent.
        let per_statement = match first.values().count() {
            _ if !returning.is_empty() && matches!(sentinel, Sentinel::Alone) => 1,
            0 => 1,
            n => (backend.max_params() / n).max(1),
        };
        let mut end = start + 1;
        while end < rows.len() && end - start < per_statement && rows[end].1.same_columns(first) {
            end += 1;
        }
        let chunk = &rows[start..end];
        let insert = InsertStmt {
            table,
            rows: chunk.iter().map(|(_, r)| r.slots()).collect(),
            returning: returning.iter().map(|c| c.name()).collect(),
            ordered: matches!(sentinel, Sentinel::Generated(_)),
        };
        let r = sql::insert(insert, backend)?;
        if !keep {
            executor::execute(Conn::Tx(&mut txs.open[i].1), r).await?;
            start = end;
            continue;
        }
        let stored = if returning.is_empty() {
            let done = executor::execute(Conn::Tx(&mut txs.open[i].1), r).await?;
            inserted_without_returning(&mut txs.open[i].1, table, chunk, done).await?
        } else {
            let returned =
                executor::fetch_values(Conn::Tx(&mut txs.open[i].1), r, &returning).await?;
            let returned = sentinel.in_sent_order(table, chunk, returned)?;
            if returning.len() == table.columns().len() {
                returned
            } else {
                let keys = returned.into_iter().map(|mut k| k.pop());
                chunk
                    .iter()
                    .zip(keys)
                    .map(|((_, row), key)| complete(table, row, key).0)
                    .collect()
            }
        };
        let ops = chunk.iter().map(|(op, _)| *op);
        written.extend(ops.zip(stored).map(|(op, values)| RowEffect::Row {
            op,
            table,
            values,
            inserted: true,
        }));
        start = end;
    }
    Ok(written)
}

/// A stored row in table order, from the values an insert gave and the generated
/// `key`; `false` when another column was left to a server default (and so is not
/// known here).
pub(super) fn complete(table: &Table, row: &InsertRow, key: Option<Value>) -> (Vec<Value>, bool) {
    let mut key = key;
    let mut known = true;
    let generated = table.autoincrement_column();
    let values = table
        .columns()
        .iter()
        .zip(row.slots())
        .map(|(column, slot)| match slot {
            Some(v) => v.clone(),
            None => match key.take() {
                Some(k) if generated.is_some_and(|g| std::ptr::eq(g, column)) => k,
                other => {
                    key = other;
                    known = false;
                    Value::Null(column.sql_type())
                }
            },
        })
        .collect();
    (values, known)
}

/// The rows an insert stored, without RETURNING (SQLite's keys, MySQL, or
/// `returning(false)`):
/// generated keys come from the last-insert id, numbered by the connection's step
/// (`Backend::key_step_sql`); rows with a column filled by a server default are read
/// back by key.
///
/// # Errors
/// [`Error::InsertMismatch`] when the database inserted fewer or more rows than were
/// sent (a trigger skipped some): the keys would be guessed.
pub(super) async fn inserted_without_returning(
    tx: &mut Tx,
    table: &'static Table,
    chunk: &[IndexedRow<'_>],
    done: Done,
) -> Result<Vec<Vec<Value>>> {
    let backend = tx.engine.backend();
    if usize::try_from(done.rows_affected).ok() != Some(chunk.len()) {
        return Err(Error::InsertMismatch {
            table: table.name().to_owned(),
            sent: chunk.len(),
            matched: usize::try_from(done.rows_affected).unwrap_or(usize::MAX),
        });
    }
    let key_column = table
        .autoincrement_column()
        .filter(|c| chunk.first().is_some_and(|(_, row)| !row.sets(c.name())));
    // The step between keys, read on the statement's own connection when several rows
    // take generated keys.
    let step = match (key_column, backend.key_step_sql()) {
        (Some(_), Some(sql)) if chunk.len() > 1 => {
            let r = Rendered::new(sql.to_owned(), Vec::new());
            let rows = executor::fetch_rows(Conn::Tx(tx), r).await?;
            let step = rows.first().map(|row| row.get_at::<i64>(0)).transpose()?;
            step.filter(|s| *s > 0).ok_or_else(|| {
                Error::Schema(format!("`{sql}` gave no step between generated keys"))
            })?
        }
        _ => 1,
    };
    let no_key = || {
        Error::Schema(format!(
            "the database returned no key for `{}`",
            table.name()
        ))
    };
    let mut out = Vec::with_capacity(chunk.len());
    for (n, (_, row)) in chunk.iter().enumerate() {
        let generated = match key_column {
            Some(column) => {
                let last = done.last_insert_id.ok_or_else(no_key)?;
                let key = backend
                    .generated_key(last, n, chunk.len(), step)
                    .ok_or_else(no_key)?;
                Some(Value::integer_of(key, column.sql_type()).unwrap_or(Value::I64(key)))
            }
            None => None,
        };
        let (values, known) = complete(table, row, generated);
        if known {
            out.push(values);
            continue;
        }
        let clauses = Clauses {
            filter: Some(key_filter(table, key_of(table, &values))),
            ..Clauses::default()
        };
        let select = sql::SelectStmt {
            table,
            projection: Projection::AllColumns,
            clauses: &clauses,
            exprs: &[],
        };
        let r = sql::select(&select, backend)?;
        let all: Vec<&ColumnDef> = table.columns().iter().collect();
        let mut rows = executor::fetch_values(Conn::Tx(tx), r, &all).await?;
        out.push(rows.pop().ok_or(Error::NoResultFound)?);
    }
    Ok(out)
}

/// Updates one row by key: the changed columns, or every non-key column (then a row
/// must match).
pub(super) async fn update_row(
    db: &Db,
    txs: &mut Connections,
    table: &'static Table,
    key: &[Value],
    values: &[Value],
    changed: Option<&[usize]>,
) -> Result<()> {
    let engine = db.engine_for(table.bind_key())?;
    let columns: Vec<usize> = match changed {
        Some(c) => c.to_vec(),
        None => (0..values.len())
            .filter(|&i| !table.columns()[i].is_primary_key())
            .collect(),
    };
    if !columns.is_empty() {
        keep_history(db, txs, table, key).await?;
        let filter = key_filter(table, key.to_vec());
        let update = UpdateStmt {
            table,
            assignments: columns
                .iter()
                .map(|&i| crate::Assignment {
                    column: table.columns()[i].name().to_owned().into(),
                    value: values[i].clone(),
                })
                .collect(),
            filter: Some(&filter),
        };
        let r = sql::update(&update, engine.backend())?;
        let i = txs.begin(table.bind_key(), &engine, false).await?;
        let done = executor::execute(Conn::Tx(&mut txs.open[i].1), r).await?;
        if changed.is_none() && done.rows_affected == 0 {
            return Err(Error::StaleData {
                table: table.name().to_owned(),
                key: format!("{key:?}"),
            });
        }
    }
    Ok(())
}

/// For a versioned table, copies the row with primary key `key` into the history table
/// (before it is updated or deleted).
pub(crate) async fn keep_history(
    db: &Db,
    txs: &mut Connections,
    table: &'static Table,
    key: &[Value],
) -> Result<()> {
    let Some(history) = table.history_table() else {
        return Ok(());
    };
    let engine = db.engine_for(table.bind_key())?;
    let r = sql::copy_to_history(table, history, key, engine.backend())?;
    let i = txs.begin(table.bind_key(), &engine, false).await?;
    executor::execute(Conn::Tx(&mut txs.open[i].1), r).await?;
    Ok(())
}

/// Sets a linked row's foreign key from its parent's stored row.
pub(super) fn fill_from_parent(
    row: &mut InsertRow,
    def: &RelationDef,
    parent: Option<&(&'static Table, Vec<Value>)>,
) -> Result<()> {
    let (parent_table, values) = parent.ok_or_else(|| {
        Error::InvalidQuery("a row linked to a parent was written before its parent".into())
    })?;
    for (child_column, parent_column) in &def.resolve()?.pairs {
        let index = parent_table
            .column_position(parent_column)
            .ok_or_else(|| Error::Schema(format!("no column `{parent_column}`")))?;
        row.fill(child_column, values[index].clone());
    }
    Ok(())
}
