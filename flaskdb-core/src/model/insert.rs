//! New rows: the values a builder produces, and the trait of builders.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::schema::relation::RelationDef;
use crate::schema::{ColumnDef, Table};
use crate::value::Value;

/// The values of one new row, as a builder produces them: the columns that were set or
/// have a literal default. Columns that the database fills (an autoincrement key, a
/// `server_default`) are left out when unset. A required column left unset is kept as
/// a placeholder and reported by [`InsertRow::finish`], unless a relationship fills it
/// (a child added through its parent's builder gets its foreign key at flush).
///
/// The row holds one slot per column of its table, in table order (`None` for a column
/// left to the database): one vector per row, reused from rows dropped before (see
/// `spare_slots`), and rows with the same columns share a multi-row INSERT by comparing
/// which slots are set. What few rows have (missing columns, linked rows, an error) is
/// boxed apart, so a queued row stays small to move.
#[derive(Debug, Clone)]
pub struct InsertRow {
    table: &'static Table,
    slots: Vec<Option<Value>>,
    rare: Option<Box<RowExtras>>,
}

/// Empty slot vectors of dropped rows, kept per thread for the next rows to fill.
///
/// A session keeps every queued row until its commit (so that a failed commit loses
/// nothing), and then drops them together. With one allocation per row for its slots,
/// those frees came in bursts of thousands, more than glibc's per-thread cache holds,
/// and both the frees and the next batch's allocations took the allocator's slow
/// paths: callgrind, 20 x 1,000 inserts, 147M instructions on SQLite, 70.0M on
/// PostgreSQL, 72.7M on MariaDB; reusing the vectors: 140.4M, 65.4M, 66.9M (with
/// builders pushing columns in order, below). A kept vector holds no value (it is
/// cleared when its row is dropped), and the pool is bounded: at most 1,024 vectors of
/// up to 32 slots per thread.
mod spare_slots {
    use std::cell::RefCell;

    use crate::value::Value;

    /// At most this many vectors are kept per thread...
    const MAX_KEPT: usize = 1024;
    /// ...each with room for at most this many columns.
    const MAX_COLUMNS: usize = 32;

    thread_local! {
        static SPARE: RefCell<Vec<Vec<Option<Value>>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty vector to reuse, if one is kept.
    pub(super) fn take() -> Option<Vec<Option<Value>>> {
        SPARE
            .try_with(|s| s.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten()
    }

    /// Keeps `slots` (emptied) for reuse, unless the pool is full or it is too large.
    pub(super) fn keep(mut slots: Vec<Option<Value>>) {
        slots.clear();
        if slots.capacity() == 0 || slots.capacity() > MAX_COLUMNS {
            return;
        }
        // During thread teardown the pool may be gone: the vector is then just freed.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut()
                && s.len() < MAX_KEPT
            {
                s.push(slots);
            }
        });
    }
}

impl Drop for InsertRow {
    fn drop(&mut self) {
        spare_slots::keep(std::mem::take(&mut self.slots));
    }
}

/// The parts of an [`InsertRow`] that most rows do not have.
#[derive(Debug, Clone, Default)]
struct RowExtras {
    missing: Vec<&'static str>,
    children: Vec<(&'static RelationDef, InsertRow)>,
    invalid: Option<String>,
}

impl InsertRow {
    /// An empty row of `table`; the builder then gives each column in table order
    /// ([`InsertRow::column`]).
    #[doc(hidden)]
    pub fn new(table: &'static Table) -> Self {
        let n = table.columns().len();
        let mut slots = spare_slots::take().unwrap_or_default();
        slots.reserve_exact(n);
        InsertRow {
            table,
            slots,
            rare: None,
        }
    }

    fn rare(&mut self) -> &mut RowExtras {
        self.rare.get_or_insert_default()
    }

    /// Marks the row as impossible to write, with the reason (a relationship that
    /// could not be resolved).
    #[doc(hidden)]
    pub fn invalidate(&mut self, reason: String) {
        self.rare().invalid.get_or_insert(reason);
    }

    /// Why the row cannot be written, if it cannot.
    pub(crate) fn invalid(&self) -> Option<&str> {
        self.rare.as_ref()?.invalid.as_deref()
    }

    /// Adds the table's next column (builders give every column, in table order): its
    /// value when set, else its default, else NULL for a nullable column; an unset
    /// database-filled column is left out, and an unset required one is recorded as
    /// missing. Past the table's last column, nothing is added.
    #[doc(hidden)]
    #[inline]
    pub fn column(&mut self, value: Option<Value>) {
        match value {
            // A set value goes straight into its slot (the builder's hot path).
            Some(v) => {
                if self.slots.len() < self.table.columns().len() {
                    self.slots.push(Some(v));
                }
            }
            None => self.unset(),
        }
    }

    /// The next column left unset by the builder: its default, NULL, or nothing.
    fn unset(&mut self) {
        let table = self.table;
        let Some(def) = table.columns().get(self.slots.len()) else {
            return;
        };
        let value = if let Some(d) = def.default_value() {
            Some(d.clone())
        } else if let Some(d) = def.computed_default() {
            Some(d)
        } else if def.server_default_sql().is_some()
            || table
                .autoincrement_column()
                .is_some_and(|a| std::ptr::eq(a, def))
        {
            None
        } else {
            if !def.is_nullable() {
                self.rare().missing.push(def.name());
            }
            Some(Value::Null(def.sql_type()))
        };
        self.slots.push(value);
    }

    /// Adds rows to insert after this one, each linked to it by its relationship (its
    /// foreign key is filled from this row's key at flush).
    #[doc(hidden)]
    pub fn children(&mut self, children: Vec<(&'static RelationDef, InsertRow)>) {
        if !children.is_empty() {
            self.rare().children.extend(children);
        }
    }

    /// Sets column `index` of the table to `value`, adding it when the row left it to
    /// the database.
    pub(crate) fn set(&mut self, index: usize, value: Value) {
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Some(value);
            let column = self.table.columns()[index].name();
            if let Some(rare) = &mut self.rare {
                rare.missing.retain(|c| *c != column);
            }
        }
    }

    /// Sets `column` (a placeholder or a value) to `value`.
    pub(crate) fn fill(&mut self, column: &str, value: Value) {
        if let Some(index) = self.table.column_position(column) {
            self.set(index, value);
        }
    }

    /// The row, checked: every required column has a value.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] naming the first required column left unset.
    pub fn finish(self) -> Result<InsertRow> {
        if let Some(reason) = self.invalid() {
            return Err(Error::InvalidQuery(reason.to_owned().into()));
        }
        match self.missing().first() {
            Some(column) => Err(Error::MissingColumn {
                table: self.table.name().to_owned(),
                column: (*column).to_owned(),
            }),
            None => Ok(self),
        }
    }

    /// The required columns still without a value.
    pub(crate) fn missing(&self) -> &[&'static str] {
        self.rare.as_ref().map_or(&[], |r| &r.missing)
    }

    /// Takes the linked child rows out.
    pub(crate) fn take_children(&mut self) -> Vec<(&'static RelationDef, InsertRow)> {
        self.rare
            .as_mut()
            .map(|r| std::mem::take(&mut r.children))
            .unwrap_or_default()
    }

    /// The table.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// One slot per column of the table, in table order: `None` for a column the row
    /// leaves to the database.
    pub(crate) fn slots(&self) -> &[Option<Value>] {
        &self.slots
    }

    /// Whether the row sets `column` (rather than leaving it to the database).
    pub(crate) fn sets(&self, column: &str) -> bool {
        self.values().any(|(c, _)| c.name() == column)
    }

    /// Whether `other` sets the same columns (and so can share a multi-row INSERT).
    pub(crate) fn same_columns(&self, other: &InsertRow) -> bool {
        self.slots.len() == other.slots.len()
            && self
                .slots
                .iter()
                .zip(&other.slots)
                .all(|(a, b)| a.is_some() == b.is_some())
    }

    /// The columns this row sets, with their values, in table order.
    pub fn values(&self) -> impl Iterator<Item = (&'static ColumnDef, &Value)> + '_ {
        self.table
            .columns()
            .iter()
            .zip(&self.slots)
            .filter_map(|(c, v)| Some((c, v.as_ref()?)))
    }
}

/// A new row to insert: the builder `#[derive(Model)]` generates (`User::build()`).
pub trait Insertable: Send + 'static {
    /// The model the row belongs to.
    type Model: Model;

    /// The row's values, without checking required columns (a child's foreign key is
    /// filled later).
    #[doc(hidden)]
    fn into_partial_row(self) -> InsertRow;

    /// The row's values.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] naming the first required column that was not set.
    fn into_row(self) -> Result<InsertRow>
    where
        Self: Sized,
    {
        self.into_partial_row().finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::InsertRow;
    use crate::schema::{ColumnDef, Table};
    use crate::value::Value;
    use crate::value::sql_type::SqlType;

    static USER: LazyLock<Table> = LazyLock::new(|| {
        Table::new("user")
            .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
            .column(ColumnDef::new("name", SqlType::Text))
            .column(ColumnDef::new("bio", SqlType::Text).nullable(true))
    });

    fn row(name: Option<&str>, bio: Option<&str>) -> InsertRow {
        let mut row = InsertRow::new(&USER);
        row.column(None);
        row.column(name.map(Value::from));
        row.column(bio.map(Value::from));
        row
    }

    #[test]
    fn a_row_made_after_others_were_dropped_holds_only_its_own_values() {
        // Dropped rows leave their emptied slot vectors for the next rows of the thread.
        drop(
            (0..8)
                .map(|_| row(Some("ada"), Some("x")))
                .collect::<Vec<_>>(),
        );
        let fresh = row(None, None);
        assert_eq!(
            fresh.slots(),
            [
                None,
                Some(Value::Null(SqlType::Text)),
                Some(Value::Null(SqlType::Text))
            ]
        );
        assert_eq!(fresh.missing(), ["name"]);
        let full = row(Some("bob"), None);
        assert_eq!(full.slots()[1], Some(Value::from("bob")));
        assert_eq!(full.slots()[2], Some(Value::Null(SqlType::Text)));
    }
}
