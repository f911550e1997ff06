//! Keyset ("cursor") pagination: pages that follow the query's order from the last row
//! seen, with no OFFSET scan and no duplicates or gaps when rows are inserted between
//! page loads.
//!
//! The order is the query's `order_by` columns, completed with the primary-key columns
//! so that it is unique. A cursor is an opaque, URL-safe string holding the order values
//! of the row it points after (or before) and a fingerprint of the ordering, so a cursor
//! from another query is refused rather than misread. Order columns must be NOT NULL.
//! `per_page` is capped at `max_per_page` (100 unless set), as `paginate`'s is.

use std::future::Future;
use std::panic::Location;

use crate::driver::recording;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::Query;
use crate::query::pagination::DEFAULT_MAX_PER_PAGE;
use crate::sql::expr::{CompareOp, Node, Order};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// One page of a keyset pagination.
///
/// ```
/// # use flaskdb_core::{KeysetPage, Model, Query, Result};
/// async fn first_two_pages<M: Model>(query: Query<M>) -> Result<(KeysetPage<M>, KeysetPage<M>)> {
///     let first = query.clone().paginate_after(None, 20).await?;
///     let second = query.paginate_after(first.next_cursor.as_deref(), 20).await?;
///     Ok((first, second))
/// }
/// ```
#[derive(Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KeysetPage<T> {
    /// The items, in the query's order.
    pub items: Vec<T>,
    /// The most items a page holds: the `per_page` asked for, capped at `max_per_page`.
    pub per_page: u64,
    /// The cursor of the next page, when there are rows after this page.
    pub next_cursor: Option<String>,
    /// The cursor of the previous page, when this page did not start at the beginning.
    pub prev_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    After,
    Before,
}

/// A key column of the ordering: its name, its place among the model's columns, and
/// whether it is descending.
struct Key {
    name: String,
    index: usize,
    descending: bool,
}

fn keys<M: Model>(order: &[Order]) -> Result<Vec<Key>> {
    let table = M::table();
    let position = |name: &str| table.column_position(name);
    let mut keys = Vec::new();
    for o in order {
        let Node::Column { name, .. } = &o.expr else {
            return Err(Error::InvalidQuery(
                "keyset pagination orders by columns only".into(),
            ));
        };
        let index = position(name).ok_or_else(|| {
            Error::InvalidQuery(format!("`{name}` is not a column of `{}`", table.name()).into())
        })?;
        keys.push(Key {
            name: name.to_string(),
            index,
            descending: o.descending,
        });
    }
    for pk in table.primary_key() {
        if !keys.iter().any(|k| k.name == pk) {
            let index = position(pk).unwrap_or_default();
            keys.push(Key {
                name: pk.to_owned(),
                index,
                descending: false,
            });
        }
    }
    Ok(keys)
}

/// `(k1, k2, ..) > (v1, v2, ..)` in the ordering's sense, expanded so every backend
/// can use its indexes: `k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`.
fn beyond(table: &'static str, keys: &[Key], values: &[Value], direction: Direction) -> Node {
    let column = |k: &Key| Node::Column {
        table: table.into(),
        name: k.name.clone().into(),
    };
    let mut terms = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let mut all = Vec::with_capacity(i + 1);
        for j in 0..i {
            all.push(Node::Compare {
                op: CompareOp::Eq,
                left: Box::new(column(&keys[j])),
                right: Box::new(Node::Value(values[j].clone())),
            });
        }
        let forward = keys[i].descending == (direction == Direction::Before);
        all.push(Node::Compare {
            op: if forward {
                CompareOp::Gt
            } else {
                CompareOp::Lt
            },
            left: Box::new(column(&keys[i])),
            right: Box::new(Node::Value(values[i].clone())),
        });
        terms.push(Node::And(all));
    }
    Node::Or(terms)
}

fn fingerprint(table: &str, keys: &[Key]) -> u32 {
    // FNV-1a over the table, the key names and their directions.
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u32::from(*b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(table.as_bytes());
    for k in keys {
        feed(&[0]);
        feed(k.name.as_bytes());
        feed(&[u8::from(k.descending)]);
    }
    hash
}

fn encode(direction: Direction, print: u32, values: &[Value]) -> Result<String> {
    let mut out = vec![1, u8::from(direction == Direction::Before)];
    out.extend(print.to_be_bytes());
    for v in values {
        let tag = v.sql_type().tag();
        match v {
            Value::Null(_) => {
                return Err(Error::InvalidQuery(
                    "keyset pagination needs NOT NULL order columns".into(),
                ));
            }
            Value::Bool(b) => out.extend([tag, u8::from(*b)]),
            Value::I16(n) => out.extend([tag].into_iter().chain(n.to_be_bytes())),
            Value::I32(n) => out.extend([tag].into_iter().chain(n.to_be_bytes())),
            Value::I64(n) => out.extend([tag].into_iter().chain(n.to_be_bytes())),
            Value::F32(n) => out.extend([tag].into_iter().chain(n.to_be_bytes())),
            Value::F64(n) => out.extend([tag].into_iter().chain(n.to_be_bytes())),
            Value::Text(s) => bytes(&mut out, tag, s.as_bytes()),
            Value::Bytes(b) => bytes(&mut out, tag, b),
            other => match other.as_text() {
                Some(text) => bytes(&mut out, tag, text.as_bytes()),
                None => {
                    return Err(Error::InvalidQuery(
                        format!(
                            "keyset pagination cannot order by {:?} columns",
                            other.sql_type()
                        )
                        .into(),
                    ));
                }
            },
        }
    }
    Ok(URL_SAFE_NO_PAD.encode(out))
}

fn bytes(out: &mut Vec<u8>, tag: u8, data: &[u8]) {
    out.push(tag);
    out.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend(data);
}

/// Decodes a cursor; `None` for anything malformed or made for another ordering.
fn decode(cursor: &str, print: u32, n: usize) -> Option<(Direction, Vec<Value>)> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let mut rest = raw.as_slice();
    let mut take = |len: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(len)?;
        rest = tail;
        Some(head)
    };
    if take(1)? != [1] {
        return None;
    }
    let direction = match take(1)? {
        [0] => Direction::After,
        [1] => Direction::Before,
        _ => return None,
    };
    if u32::from_be_bytes(take(4)?.try_into().ok()?) != print {
        return None;
    }
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let sql_type = SqlType::from_tag(take(1)?[0])?;
        let value = match sql_type {
            SqlType::Bool => Value::Bool(take(1)?[0] != 0),
            SqlType::SmallInt => Value::I16(i16::from_be_bytes(take(2)?.try_into().ok()?)),
            SqlType::Integer => Value::I32(i32::from_be_bytes(take(4)?.try_into().ok()?)),
            SqlType::BigInt => Value::I64(i64::from_be_bytes(take(8)?.try_into().ok()?)),
            SqlType::Real => Value::F32(f32::from_be_bytes(take(4)?.try_into().ok()?)),
            SqlType::Double => Value::F64(f64::from_be_bytes(take(8)?.try_into().ok()?)),
            _ => {
                let len = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
                let data = take(len)?.to_vec();
                match sql_type {
                    SqlType::Text => Value::Text(String::from_utf8(data).ok()?),
                    SqlType::Blob => Value::Bytes(data),
                    _ => Value::from_text(sql_type, std::str::from_utf8(&data).ok()?)?,
                }
            }
        };
        values.push(value);
    }
    rest.is_empty().then_some((direction, values))
}

impl<M: Model> Query<M> {
    /// One page of keyset pagination: the `per_page` rows after `cursor` (from the
    /// start for `None`) in the query's order, completed with the primary key. Unlike
    /// [`Query::paginate`], a deep page costs the same as the first one, and rows
    /// inserted between page loads never shift a page.
    ///
    /// `per_page` is capped at 100, the default `max_per_page` of
    /// [`PageRequest`](crate::PageRequest), so a `per_page` taken from a request cannot
    /// ask for the whole table; [`Query::paginate_after_with_max`] sets another cap.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a cursor that is malformed or belongs to another ordering,
    /// or a `per_page` of 0 (bad user input, as a bad page number is);
    /// [`Error::InvalidQuery`] when the query orders by something other than columns;
    /// database errors.
    #[track_caller]
    pub fn paginate_after(
        self,
        cursor: Option<&str>,
        per_page: u64,
    ) -> impl Future<Output = Result<KeysetPage<M>>> + Send {
        self.paginate_after_with_max(cursor, per_page, Some(DEFAULT_MAX_PER_PAGE))
    }

    /// [`Query::paginate_after`] with `per_page` capped at `max_per_page` instead of
    /// 100 (`None`: no cap, so `u64::MAX` reads every row after the cursor).
    ///
    /// ```
    /// # use flaskdb_core::{KeysetPage, Model, Query, Result};
    /// async fn big_page<M: Model>(query: Query<M>) -> Result<KeysetPage<M>> {
    ///     let page = query.paginate_after_with_max(None, 5_000, Some(1_000)).await?;
    ///     assert_eq!(page.per_page, 1_000);
    ///     Ok(page)
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`Query::paginate_after`], and [`Error::InvalidQuery`] for a `max_per_page`
    /// of 0.
    #[track_caller]
    pub fn paginate_after_with_max(
        self,
        cursor: Option<&str>,
        per_page: u64,
        max_per_page: Option<u64>,
    ) -> impl Future<Output = Result<KeysetPage<M>>> + Send {
        recording::at(Location::caller(), async move {
            let table = M::table();
            if max_per_page == Some(0) {
                return Err(Error::InvalidQuery(
                    "max_per_page must be at least 1".into(),
                ));
            }
            let per_page = max_per_page.map_or(per_page, |max| per_page.min(max));
            if per_page == 0 {
                return Err(Error::not_found(Some("per_page must be at least 1")));
            }
            let keys = keys::<M>(&self.clauses().order_by)?;
            let print = fingerprint(table.name(), &keys);
            let bad = || Error::not_found(Some("invalid page cursor"));
            let (direction, from) = match cursor {
                None => (Direction::After, None),
                Some(c) => {
                    let (d, values) = decode(c, print, keys.len()).ok_or_else(bad)?;
                    (d, Some(values))
                }
            };
            let mut query = self;
            query.clauses_mut().order_by = keys
                .iter()
                .map(|k| Order {
                    expr: Node::Column {
                        table: table.name().into(),
                        name: k.name.clone().into(),
                    },
                    // Backwards, the page is read in reverse and turned around after.
                    descending: k.descending ^ (direction == Direction::Before),
                })
                .collect();
            if let Some(values) = &from {
                query
                    .clauses_mut()
                    .and_filter(beyond(table.name(), &keys, values, direction));
            }
            // One row more than the page tells whether another page follows.
            let mut items = query.limit(per_page.saturating_add(1)).all().await?;
            let more = items.len() as u64 > per_page;
            items.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
            if direction == Direction::Before {
                items.reverse();
            }
            let cursor_of = |item: Option<&M>, d: Direction| -> Result<Option<String>> {
                let Some(item) = item else { return Ok(None) };
                let values = item.values();
                let key_values: Vec<Value> = keys.iter().map(|k| values[k.index].clone()).collect();
                encode(d, print, &key_values).map(Some)
            };
            let (has_next, has_prev) = match direction {
                Direction::After => (more, from.is_some()),
                Direction::Before => (true, more),
            };
            Ok(KeysetPage {
                next_cursor: match has_next {
                    true => cursor_of(items.last(), Direction::After)?,
                    false => None,
                },
                prev_cursor: match has_prev {
                    true => cursor_of(items.first(), Direction::Before)?,
                    false => None,
                },
                items,
                per_page,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let values = vec![
            Value::Text("naïve 🦀".into()),
            Value::I64(-7),
            Value::Bool(true),
            Value::F64(1.5),
            Value::Bytes(vec![0, 255]),
            Value::I32(3),
            Value::I16(2),
            Value::F32(0.25),
        ];
        let c = encode(Direction::Before, 42, &values).unwrap();
        assert!(
            c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        );
        assert_eq!(
            decode(&c, 42, values.len()),
            Some((Direction::Before, values.clone()))
        );
        assert_eq!(decode(&c, 43, values.len()), None, "another ordering");
        assert_eq!(decode(&c, 42, values.len() + 1), None, "another key width");
        assert_eq!(
            decode(&c[..c.len() - 2], 42, values.len()),
            None,
            "truncated"
        );
        assert_eq!(decode("not base64!", 42, 1), None);
        assert_eq!(decode("", 42, 0), None);
        assert!(encode(Direction::After, 1, &[Value::Null(crate::SqlType::Text)]).is_err());
    }

    /// Cursors already handed out keep decoding: the bytes of a cursor (a version, the
    /// direction, the ordering's fingerprint, then each value as its type's tag and
    /// payload) are pinned.
    #[test]
    fn the_cursor_format_is_stable() {
        let values = [Value::I64(1), Value::Text("a".into()), Value::Bool(false)];
        let bytes = [
            [1, 0].as_slice(),
            &7u32.to_be_bytes(),
            &[4, 0, 0, 0, 0, 0, 0, 0, 1],
            &[7, 0, 0, 0, 1, b'a'],
            &[1, 0],
        ]
        .concat();
        assert_eq!(
            encode(Direction::After, 7, &values).unwrap(),
            URL_SAFE_NO_PAD.encode(bytes)
        );
    }

    /// Dates, UUIDs, JSON and decimals travel in their text form, tagged by type.
    #[test]
    #[cfg(all(
        feature = "chrono",
        feature = "uuid",
        feature = "json",
        feature = "decimal"
    ))]
    fn text_form_values_round_trip() {
        let values = vec![
            Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()),
            Value::DateTime(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                    .unwrap()
                    .and_hms_micro_opt(18, 1, 2, 345_678)
                    .unwrap(),
            ),
            Value::Timestamp(chrono::DateTime::from_timestamp(1_700_000_000, 5_000).unwrap()),
            Value::Uuid(uuid::Uuid::from_u128(0x1234_5678_9abc_def0)),
            Value::Json(serde_json::json!({"a": [1, "x"]})),
            Value::Decimal("-12.3400".parse().unwrap()),
        ];
        let c = encode(Direction::After, 9, &values).unwrap();
        assert_eq!(
            decode(&c, 9, values.len()),
            Some((Direction::After, values))
        );
    }
}
