//! Matching the rows an INSERT returns to the rows it sent.

use std::collections::HashMap;

use super::flush::IndexedRow;
use crate::error::{Error, Result};
use crate::model::InsertRow;
use crate::schema::{ColumnDef, Table};
use crate::value::Value;

/// How the rows an INSERT returns are matched to the rows sent. Neither PostgreSQL nor
/// SQLite promises to return them in the order sent (SQLite says the order is
/// arbitrary: <https://www.sqlite.org/lang_returning.html>), so the order they come
/// back in is never relied on; SQLAlchemy 2.0's "insertmanyvalues" matches them the
/// same ways ("insert sentinels").
#[derive(Debug, Clone, Copy)]
pub(super) enum Sentinel {
    /// By the key the database generated, at this position of the returned columns:
    /// it draws the keys in ascending order as the rows are inserted, in the order sent
    /// (see `Backend::orders_keys_by_select`), so the n-th smallest key returned is
    /// the n-th row's.
    Generated(usize),
    /// By the primary key each row gives; every column is returned.
    Given,
    /// No key tells the returned rows apart (a table without a primary key), or
    /// nothing is returned: a statement that returns rows then holds one row.
    Alone,
}

impl Sentinel {
    /// How rows like `first`, returning `returning`, are matched.
    pub(super) fn of(table: &Table, first: &InsertRow, returning: &[&ColumnDef]) -> Sentinel {
        let generated = table.autoincrement_column().and_then(|key| {
            let unset = table
                .columns()
                .iter()
                .zip(first.slots())
                .any(|(c, v)| std::ptr::eq(c, key) && v.is_none());
            let at = returning.iter().position(|c| std::ptr::eq(*c, key));
            at.filter(|_| unset)
        });
        let keyed = table.columns().iter().any(ColumnDef::is_primary_key);
        match generated {
            Some(at) => Sentinel::Generated(at),
            None if keyed && returning.len() == table.columns().len() => Sentinel::Given,
            None => Sentinel::Alone,
        }
    }

    /// The `returned` rows of an INSERT of `chunk`, in the order of `chunk`.
    ///
    /// # Errors
    /// [`Error::InsertMismatch`] when the database returned fewer or more rows than
    /// were sent, or rows that match none sent (a key not generated, or not given).
    pub(super) fn in_sent_order(
        self,
        table: &Table,
        chunk: &[IndexedRow<'_>],
        mut returned: Vec<Vec<Value>>,
    ) -> Result<Vec<Vec<Value>>> {
        let mismatch = |matched: usize| Error::InsertMismatch {
            table: table.name().to_owned(),
            sent: chunk.len(),
            matched,
        };
        if returned.len() != chunk.len() {
            return Err(mismatch(returned.len()));
        }
        match self {
            Sentinel::Generated(at) => {
                let key = |row: &Vec<Value>| row.get(at).and_then(Value::as_i64);
                returned.sort_unstable_by_key(key);
                // Distinct integer keys (a missing one sorts first); a repeated or
                // missing key would give one row's key to another.
                let distinct = returned.first().and_then(key).is_some()
                    && returned.windows(2).all(|w| key(&w[0]) < key(&w[1]));
                if !distinct {
                    let mut keys: Vec<i64> = returned.iter().filter_map(key).collect();
                    keys.dedup();
                    return Err(mismatch(keys.len()));
                }
            }
            Sentinel::Given => {
                let key_columns: Vec<usize> = (table.columns().iter().enumerate())
                    .filter_map(|(i, c)| c.is_primary_key().then_some(i))
                    .collect();
                // For each row sent, the returned row with its key.
                let order: Vec<Option<usize>> = {
                    let mut by_key: HashMap<Vec<&Value>, usize> = returned
                        .iter()
                        .enumerate()
                        .map(|(n, row)| (key_columns.iter().map(|&c| &row[c]).collect(), n))
                        .collect();
                    chunk
                        .iter()
                        .map(|(_, row)| {
                            let sent: Option<Vec<&Value>> = key_columns
                                .iter()
                                .map(|&c| row.slots()[c].as_ref())
                                .collect();
                            sent.and_then(|k| by_key.remove(&k))
                        })
                        .collect()
                };
                let matched = order.iter().flatten().count();
                if matched != chunk.len() {
                    return Err(mismatch(matched));
                }
                let mut rows: Vec<Option<Vec<Value>>> = returned.into_iter().map(Some).collect();
                returned = order
                    .iter()
                    .flatten()
                    .filter_map(|&n| rows[n].take())
                    .collect();
            }
            Sentinel::Alone => {}
        }
        Ok(returned)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::value::sql_type::SqlType;

    /// `id` (generated, or given when `given`), `name`, and `label` left to a server
    /// default.
    fn table(given: bool) -> &'static Table {
        let id = ColumnDef::new("id", SqlType::BigInt).primary_key();
        let id = if given { id.autoincrement(false) } else { id };
        Box::leak(Box::new(
            Table::new("t")
                .column(id)
                .column(ColumnDef::new("name", SqlType::Text))
                .column(ColumnDef::new("label", SqlType::Text)),
        ))
    }

    fn sent(table: &'static Table, rows: &[(Option<i64>, &str)]) -> Vec<IndexedRow<'static>> {
        rows.iter()
            .enumerate()
            .map(|(op, (id, name))| {
                let mut row = InsertRow::new(table);
                row.column(id.map(Value::I64));
                row.column(Some(Value::Text((*name).into())));
                row.column(None);
                (op, Cow::Owned(row))
            })
            .collect()
    }

    fn stored(id: i64, name: &str) -> Vec<Value> {
        vec![
            Value::I64(id),
            Value::Text(name.into()),
            Value::Text("fresh".into()),
        ]
    }

    fn names(rows: &[Vec<Value>]) -> Vec<(i64, String)> {
        rows.iter()
            .map(|r| match (&r[0], &r[1]) {
                (Value::I64(id), Value::Text(name)) => (*id, name.clone()),
                other => panic!("unexpected row {other:?}"),
            })
            .collect()
    }

    #[test]
    fn generated_keys_match_rows_by_their_order_not_the_order_returned() {
        let table = table(false);
        let all: Vec<&ColumnDef> = table.columns().iter().collect();
        let chunk = sent(table, &[(None, "a"), (None, "b"), (None, "c")]);
        let sentinel = Sentinel::of(table, &chunk[0].1, &all);
        assert!(matches!(sentinel, Sentinel::Generated(0)), "{sentinel:?}");
        // Keys drawn 3 apart (auto_increment_increment = 3), returned out of order.
        let returned = vec![stored(8, "c"), stored(2, "a"), stored(5, "b")];
        let rows = sentinel.in_sent_order(table, &chunk, returned).unwrap();
        assert_eq!(
            names(&rows),
            [(2, "a".into()), (5, "b".into()), (8, "c".into())]
        );
    }

    #[test]
    fn given_keys_match_rows_by_key() {
        let table = table(true);
        let all: Vec<&ColumnDef> = table.columns().iter().collect();
        let chunk = sent(table, &[(Some(30), "a"), (Some(10), "b"), (Some(20), "c")]);
        let sentinel = Sentinel::of(table, &chunk[0].1, &all);
        assert!(matches!(sentinel, Sentinel::Given), "{sentinel:?}");
        let returned = vec![stored(10, "b"), stored(20, "c"), stored(30, "a")];
        let rows = sentinel.in_sent_order(table, &chunk, returned).unwrap();
        assert_eq!(
            names(&rows),
            [(30, "a".into()), (10, "b".into()), (20, "c".into())]
        );
    }

    #[test]
    fn rows_that_do_not_match_the_rows_sent_are_an_error() {
        let mismatch = |e: Error| match e {
            Error::InsertMismatch {
                table,
                sent,
                matched,
            } => (table, sent, matched),
            other => panic!("unexpected error {other}"),
        };
        let generated = table(false);
        let all: Vec<&ColumnDef> = generated.columns().iter().collect();
        let chunk = sent(generated, &[(None, "a"), (None, "b"), (None, "c")]);
        let sentinel = Sentinel::of(generated, &chunk[0].1, &all);
        // Fewer rows than sent, more, and a key returned twice.
        let fewer = vec![stored(1, "a"), stored(2, "b")];
        let e = sentinel
            .in_sent_order(generated, &chunk, fewer)
            .unwrap_err();
        assert_eq!(mismatch(e), ("t".into(), 3, 2));
        let more = vec![
            stored(1, "a"),
            stored(2, "b"),
            stored(3, "c"),
            stored(4, "d"),
        ];
        let e = sentinel.in_sent_order(generated, &chunk, more).unwrap_err();
        assert_eq!(mismatch(e), ("t".into(), 3, 4));
        let twice = vec![stored(1, "a"), stored(1, "b"), stored(3, "c")];
        let e = sentinel
            .in_sent_order(generated, &chunk, twice)
            .unwrap_err();
        assert_eq!(mismatch(e), ("t".into(), 3, 2));
        // A given key the database changed matches no row sent.
        let given = table(true);
        let all: Vec<&ColumnDef> = given.columns().iter().collect();
        let chunk = sent(given, &[(Some(1), "a"), (Some(2), "b")]);
        let sentinel = Sentinel::of(given, &chunk[0].1, &all);
        let changed = vec![stored(1, "a"), stored(7, "b")];
        let e = sentinel.in_sent_order(given, &chunk, changed).unwrap_err();
        assert_eq!(mismatch(e), ("t".into(), 2, 1));
    }

    #[test]
    fn rows_of_a_table_without_a_key_go_one_per_statement() {
        let table: &'static Table = Box::leak(Box::new(
            Table::new("log")
                .column(ColumnDef::new("line", SqlType::Text))
                .column(ColumnDef::new("at", SqlType::Text)),
        ));
        let all: Vec<&ColumnDef> = table.columns().iter().collect();
        let mut row = InsertRow::new(table);
        row.column(Some(Value::Text("x".into())));
        row.column(None);
        assert!(matches!(Sentinel::of(table, &row, &all), Sentinel::Alone));
    }
}
