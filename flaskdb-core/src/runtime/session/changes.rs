//! Change capture: the changes a flush makes, for the session's listeners and signals.

use crate::error::Result;
use crate::runtime::db::Db;
use crate::runtime::events::{Change, ColumnChange, EventContext, SessionEvent};
use crate::schema::Table;
use crate::value::Value;

use super::Session;
use super::queue::PendingWork;

impl Session {
    /// Whether flushes record their changes: for the signals or any listener.
    pub(super) fn records_changes(&self, db: &Db) -> bool {
        db.tracks_modifications() || db.listeners().any() || self.inner.listeners.any()
    }

    /// Runs the listeners of `event` (the `Db`'s, then the session's); returns the
    /// changes as they left them.
    pub(super) fn emit(
        &self,
        db: &Db,
        event: SessionEvent,
        changes: Vec<Change>,
        pending: Option<&mut PendingWork>,
    ) -> Result<Vec<Change>> {
        let mut ctx = EventContext {
            event,
            changes,
            pending,
            tracking: db.tracks_modifications(),
        };
        db.listeners().run(&mut ctx)?;
        self.inner.listeners.run(&mut ctx)?;
        Ok(ctx.changes)
    }
}

/// Adds a change to the list a commit signals: a later change of the same row and
/// operation replaces the earlier one in its place (an insert then an update of one
/// row stay two changes, as in Flask-SQLAlchemy).
pub(super) fn record_change(changes: &mut Vec<Change>, change: Change) {
    let same = changes.iter_mut().find(|c| {
        c.table == change.table
            && c.operation == change.operation
            && c.primary_key == change.primary_key
    });
    match same {
        Some(slot) => *slot = change,
        None => changes.push(change),
    }
}

/// The columns of a change: `new` values (an insert or update; only `changed` ones
/// when given) against the `old` row (a loaded row's snapshot; for a delete, alone).
pub(super) fn column_changes(
    table: &'static Table,
    old: Option<&[Value]>,
    new: Option<&[Value]>,
    changed: Option<&[usize]>,
) -> Vec<ColumnChange> {
    table
        .columns()
        .iter()
        .enumerate()
        .filter(|(i, c)| match (new, changed) {
            (Some(_), Some(changed)) => changed.contains(i),
            (Some(_), None) => old.is_none() || !c.is_primary_key(),
            (None, _) => old.is_some(),
        })
        .map(|(i, c)| ColumnChange {
            column: c.name(),
            old: old.and_then(|row| row.get(i)).cloned(),
            new: new.and_then(|row| row.get(i)).cloned(),
        })
        .filter(|c| new.is_none() || c.old.is_none() || c.old != c.new)
        .collect()
}
