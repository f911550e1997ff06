//! The statement tree and its one renderer.
//!
//! Statements are plain data (no dialect knowledge); [`render`](self) functions walk them
//! and ask the dialect hooks of [`Backend`](crate::Backend) for every difference. Rendering
//! is pure: the unit tests below pin the exact SQL for all three dialects.

mod ddl;
pub(crate) mod dialect;
pub(crate) mod expr;
mod render;

pub(crate) use ddl::{
    ColumnKind, check_sql, column_sql, create_table, drop_table, foreign_key_sql, idents,
};
pub(crate) use render::{Rendered, copy_to_history, delete, insert, select, update};

use crate::schema::Table;
use expr::{Assignment, Node, Order};

/// The ORDER BY, LIMIT, OFFSET and DISTINCT builders of a query type whose clauses are
/// in a `clauses: Clauses` field.
macro_rules! clause_methods {
    () => {
        /// Adds an ORDER BY term (a column, an expression, or either's `.asc()` /
        /// `.desc()`; a bare column orders ascending).
        pub fn order_by(mut self, order: impl Into<$crate::sql::expr::Order>) -> Self {
            self.clauses.order_by.push(order.into());
            self
        }

        /// Returns at most `n` rows.
        pub fn limit(mut self, n: u64) -> Self {
            self.clauses.limit = Some(n);
            self
        }

        /// Skips the first `n` rows.
        pub fn offset(mut self, n: u64) -> Self {
            self.clauses.offset = Some(n);
            self
        }

        /// Returns each distinct row once (`SELECT DISTINCT`).
        pub fn distinct(mut self) -> Self {
            self.clauses.distinct = true;
            self
        }
    };
}
pub(crate) use clause_methods;

/// The clauses of a SELECT over one table, as a query builds them up.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Clauses {
    /// A subquery read instead of the table (`FROM (SELECT ..) AS alias`).
    pub(crate) derived: Option<Box<(SubSelect, String)>>,
    /// JOINs, in order.
    pub(crate) joins: Vec<Join>,
    pub(crate) filter: Option<Node>,
    pub(crate) group_by: Vec<Node>,
    pub(crate) having: Option<Node>,
    pub(crate) order_by: Vec<Order>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) distinct: bool,
    pub(crate) for_update: bool,
}

/// One JOIN of a SELECT.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Join {
    /// LEFT OUTER (true) or INNER (false).
    pub(crate) left: bool,
    pub(crate) table: &'static Table,
    /// `JOIN table AS alias` (a self-join).
    pub(crate) alias: Option<String>,
    pub(crate) on: Node,
}

/// A SELECT held by value, for subqueries inside expressions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubSelect {
    pub(crate) table: &'static Table,
    pub(crate) exprs: Vec<Node>,
    pub(crate) clauses: Clauses,
}

impl Clauses {
    /// Checks that a bulk `what` (update, delete) can run: it applies to every row the
    /// filters match, so a limit, offset, order or DISTINCT would be ignored.
    pub(crate) fn check_bulk(&self, what: &str) -> crate::Result<()> {
        if self.limit.is_some()
            || self.offset.is_some()
            || !self.order_by.is_empty()
            || self.distinct
        {
            return Err(crate::Error::InvalidQuery(
                format!(
                    "{what}() applies to every row the filters match: remove limit, offset, \
                     order_by and distinct from the query"
                )
                .into(),
            ));
        }
        Ok(())
    }

    /// Adds a condition, AND-ed with any earlier one.
    pub(crate) fn and_filter(&mut self, node: Node) {
        self.filter = Some(match self.filter.take() {
            None => node,
            Some(Node::And(mut items)) => {
                items.push(node);
                Node::And(items)
            }
            Some(first) => Node::And(vec![first, node]),
        });
    }
}

/// What a SELECT returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Projection {
    /// Every column of the table, in declaration order.
    AllColumns,
    /// `COUNT(*)` of the rows the clauses select.
    Count,
    /// `1`, for `exists()` (with LIMIT 1).
    One,
    /// The expressions of [`SelectStmt::exprs`].
    Exprs,
}

/// A SELECT statement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SelectStmt<'a> {
    pub(crate) table: &'a Table,
    pub(crate) projection: Projection,
    pub(crate) clauses: &'a Clauses,
    /// The select list, for [`Projection::Exprs`].
    pub(crate) exprs: &'a [Node],
}

/// An INSERT of one or more rows.
#[derive(Debug, Clone)]
pub(crate) struct InsertStmt<'a> {
    pub(crate) table: &'a Table,
    /// Each row holds one slot per column of the table, in table order; the columns
    /// inserted are those set (`Some`), which are the same in every row.
    pub(crate) rows: Vec<&'a [Option<crate::Value>]>,
    /// The columns to return from the inserted rows (`RETURNING`); none when empty.
    pub(crate) returning: Vec<&'a str>,
    /// The rows' generated keys must be drawn in the order of `rows`: where the
    /// backend guarantees that only for `INSERT .. SELECT .. ORDER BY` (see
    /// `Backend::orders_keys_by_select`), the rows are numbered and go through one.
    pub(crate) ordered: bool,
}

/// A bulk UPDATE.
#[derive(Debug, Clone)]
pub(crate) struct UpdateStmt<'a> {
    pub(crate) table: &'a Table,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) filter: Option<&'a Node>,
}

/// A bulk DELETE.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeleteStmt<'a> {
    pub(crate) table: &'a Table,
    pub(crate) filter: Option<&'a Node>,
}

#[cfg(test)]
mod tests;
