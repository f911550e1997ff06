//! The one AST walker that writes DML: identifiers quoted, values bound in write order.

use std::borrow::Cow;

use super::expr::{Node, Order};
use super::{Clauses, DeleteStmt, InsertStmt, Projection, SelectStmt, UpdateStmt};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::sql::expr::LIKE_ESCAPE;
use crate::value::Value;

/// SQL text plus the values for its placeholders, in order. A value is owned, or
/// borrowed from where it waits to be written (a session's queued rows), which spares
/// copying every row of an INSERT.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rendered<'a> {
    pub(crate) sql: String,
    pub(crate) params: Vec<Cow<'a, Value>>,
    /// A `FOR UPDATE` query (even where the backend has no such clause: SQLite then
    /// takes its write lock when the transaction begins).
    pub(crate) locks: bool,
}

impl Rendered<'static> {
    /// A statement that takes no row locks.
    pub(crate) fn new(sql: String, params: Vec<Value>) -> Self {
        Rendered {
            sql,
            params: params.into_iter().map(Cow::Owned).collect(),
            locks: false,
        }
    }
}

impl Rendered<'_> {
    /// The statement with every value owned.
    pub(crate) fn into_owned(self) -> Rendered<'static> {
        Rendered {
            sql: self.sql,
            params: self
                .params
                .into_iter()
                .map(|p| Cow::Owned(p.into_owned()))
                .collect(),
            locks: self.locks,
        }
    }
}

/// Accumulates SQL text and parameters; numbers placeholders as it goes.
pub(crate) struct Writer<'a> {
    backend: Backend,
    sql: String,
    params: Vec<Cow<'a, Value>>,
    locks: bool,
    /// Write columns as `"table"."column"` (with joins and subqueries).
    qualify: bool,
    /// The first name that cannot be written as an identifier: [`Writer::finish`]
    /// returns it instead of the statement.
    error: Option<Error>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(backend: Backend) -> Self {
        Writer {
            backend,
            sql: String::with_capacity(128),
            params: Vec::new(),
            locks: false,
            qualify: false,
            error: None,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Writes `name` quoted; a name that cannot be an identifier is kept for
    /// [`Writer::finish`] to report (the walk goes on, its text is never sent).
    pub(crate) fn ident(&mut self, name: &str) {
        if let Err(e) = self.backend.quote_ident(name, &mut self.sql) {
            self.error.get_or_insert(e);
        }
    }

    pub(crate) fn param(&mut self, value: Value) {
        self.params.push(Cow::Owned(value));
        self.backend.placeholder(self.params.len(), &mut self.sql);
    }

    /// A value bound by reference (it outlives the statement).
    fn param_ref(&mut self, value: &'a Value) {
        self.params.push(Cow::Borrowed(value));
        self.backend.placeholder(self.params.len(), &mut self.sql);
    }

    fn idents<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) {
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(name);
        }
    }

    /// The statement, or the error of the first name that could not be written.
    pub(crate) fn finish(self) -> Result<Rendered<'a>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(Rendered {
                sql: self.sql,
                params: self.params,
                locks: self.locks,
            }),
        }
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Column { table, name } => {
                if self.qualify {
                    self.ident(table);
                    self.push(".");
                }
                self.ident(name);
            }
            Node::Aggregate {
                func,
                arg,
                distinct,
            } => {
                self.push(func.sql());
                self.push(if *distinct { "(DISTINCT " } else { "(" });
                match arg {
                    Some(arg) => self.node(arg),
                    None => self.push("*"),
                }
                self.push(")");
            }
            Node::Cast { expr, to } => match self.backend.cast_type(*to) {
                Some(ty) => {
                    self.push("CAST(");
                    self.node(expr);
                    self.push(" AS ");
                    self.push(ty);
                    self.push(")");
                }
                None => self.node(expr),
            },
            Node::Named { expr, name } => {
                self.node(expr);
                self.push(" AS ");
                self.ident(name);
            }
            Node::Scalar(sub) => {
                self.push("(");
                self.sub_select(sub);
                self.push(")");
            }
            Node::Exists { sub, negated } => {
                self.push(if *negated { "NOT EXISTS (" } else { "EXISTS (" });
                self.sub_select(sub);
                self.push(")");
            }
            Node::InSelect { expr, sub, negated } => {
                self.node(expr);
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                self.sub_select(sub);
                self.push(")");
            }
            Node::Value(v) => self.param(v.clone()),
            Node::Compare { op, left, right } => {
                self.node(left);
                self.push(op.sql());
                self.node(right);
            }
            Node::Like {
                expr,
                pattern,
                case_insensitive,
            } => {
                if *case_insensitive && !self.backend.native_ilike() {
                    self.push("LOWER(");
                    self.node(expr);
                    self.push(") LIKE LOWER(");
                    self.node(pattern);
                    self.push(")");
                } else {
                    self.node(expr);
                    self.push(if *case_insensitive {
                        " ILIKE "
                    } else {
                        " LIKE "
                    });
                    self.node(pattern);
                }
                // PostgreSQL and MySQL escape with a backslash by default, SQLite with
                // nothing: saying it makes `\%` a literal percent sign everywhere. It is
                // a parameter: a backslash literal reads differently under MariaDB's
                // NO_BACKSLASH_ESCAPES and PostgreSQL's standard_conforming_strings.
                self.push(" ESCAPE ");
                self.param(Value::Text(LIKE_ESCAPE.into()));
            }
            Node::In {
                expr,
                values,
                negated,
            } => {
                if values.is_empty() {
                    // `x IN ()` is not SQL; an empty list matches nothing (or everything).
                    self.push(if *negated { "1 = 1" } else { "1 = 0" });
                    return;
                }
                self.node(expr);
                if let Some(element) = self.backend.in_list_array(values) {
                    self.push(if *negated { " <> ALL(" } else { " = ANY(" });
                    self.param(Value::Array(element, values.clone()));
                    self.push(")");
                    return;
                }
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.param(v.clone());
                }
                self.push(")");
            }
            Node::Between { expr, low, high } => {
                self.node(expr);
                self.push(" BETWEEN ");
                self.node(low);
                self.push(" AND ");
                self.node(high);
            }
            Node::IsNull { expr, negated } => {
                self.node(expr);
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Node::And(items) => self.joined(items, " AND "),
            Node::Or(items) => self.joined(items, " OR "),
            Node::Not(inner) => {
                self.push("NOT (");
                self.node(inner);
                self.push(")");
            }
        }
    }

    fn joined(&mut self, items: &[Node], sep: &str) {
        self.push("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            self.node(item);
        }
        self.push(")");
    }

    fn filter(&mut self, filter: Option<&Node>) {
        if let Some(f) = filter {
            self.push(" WHERE ");
            self.node(f);
        }
    }

    fn order_by(&mut self, order: &[Order]) {
        for (i, o) in order.iter().enumerate() {
            self.push(if i == 0 { " ORDER BY " } else { ", " });
            self.node(&o.expr);
            self.push(if o.descending { " DESC" } else { " ASC" });
        }
    }

    fn limit_offset(&mut self, limit: Option<u64>, offset: Option<u64>) {
        let as_param = |n: u64| Value::I64(i64::try_from(n).unwrap_or(i64::MAX));
        match (limit, offset) {
            (None, None) => {}
            (Some(l), _) => {
                self.push(" LIMIT ");
                self.param(as_param(l));
            }
            (None, Some(_)) => {
                if let Some(no_limit) = self.backend.limit_for_offset_only() {
                    self.push(no_limit);
                }
            }
        }
        if let Some(o) = offset {
            self.push(" OFFSET ");
            self.param(as_param(o));
        }
    }

    /// A subquery: always with qualified columns, so it can refer to the outer query.
    fn sub_select(&mut self, sub: &super::SubSelect) {
        let outer = std::mem::replace(&mut self.qualify, true);
        let select = SelectStmt {
            table: sub.table,
            projection: Projection::Exprs,
            clauses: &sub.clauses,
            exprs: &sub.exprs,
        };
        self.select_body(&select, Projection::Exprs);
        self.qualify = outer;
    }

    fn select_body(&mut self, select: &SelectStmt<'_>, projection: Projection) {
        let SelectStmt {
            table,
            clauses,
            exprs,
            ..
        } = select;
        let Clauses {
            derived,
            joins,
            filter,
            group_by,
            having,
            order_by,
            limit,
            offset,
            distinct,
            for_update,
        } = clauses;
        self.push(if *distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        match projection {
            Projection::AllColumns => {
                for (i, c) in table.columns().iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    if self.qualify {
                        self.ident(table.name());
                        self.push(".");
                    }
                    self.ident(c.name());
                }
            }
            Projection::Count => self.push("COUNT(*)"),
            Projection::One => self.push("1"),
            Projection::Exprs => {
                for (i, e) in exprs.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.node(e);
                }
            }
        }
        if let Some(derived) = derived {
            let (sub, alias) = &**derived;
            self.push(" FROM (");
            self.sub_select(sub);
            self.push(") AS ");
            self.ident(alias);
        } else if !table.name().is_empty() {
            // A select of expressions only (a scalar `SELECT COUNT(*)`) has no FROM.
            self.push(" FROM ");
            self.ident(table.name());
        }
        for join in joins {
            self.push(if join.left {
                " LEFT OUTER JOIN "
            } else {
                " JOIN "
            });
            self.ident(join.table.name());
            if let Some(alias) = &join.alias {
                self.push(" AS ");
                self.ident(alias);
            }
            self.push(" ON ");
            self.node(&join.on);
        }
        self.filter(filter.as_ref());
        for (i, g) in group_by.iter().enumerate() {
            self.push(if i == 0 { " GROUP BY " } else { ", " });
            self.node(g);
        }
        if let Some(h) = having {
            self.push(" HAVING ");
            self.node(h);
        }
        if projection != Projection::Count {
            self.order_by(order_by);
        }
        self.limit_offset(*limit, *offset);
        if *for_update {
            self.locks = true;
            if self.backend.supports_for_update() {
                self.push(" FOR UPDATE");
            }
        }
    }
}

/// Renders a SELECT. A count over a query with a limit, offset or DISTINCT counts the rows
/// of that query as a subquery; otherwise it is a plain `COUNT(*)` without ORDER BY.
pub(crate) fn select(select: &SelectStmt<'_>, backend: Backend) -> Result<Rendered<'static>> {
    let mut w = Writer::new(backend);
    let c = select.clauses;
    w.qualify = !c.joins.is_empty()
        || c.derived.is_some()
        || select.exprs.iter().any(Node::has_subquery)
        || c.filter.as_ref().is_some_and(Node::has_subquery)
        || c.having.as_ref().is_some_and(Node::has_subquery);
    let limited = c.limit.is_some() || c.offset.is_some() || c.distinct;
    if select.projection == Projection::Count && (limited || !c.group_by.is_empty()) {
        // Count the rows of the query itself, with its own select list when it has one.
        let inner = match select.exprs.is_empty() {
            true => Projection::AllColumns,
            false => Projection::Exprs,
        };
        w.push("SELECT COUNT(*) FROM (");
        w.select_body(select, inner);
        w.push(") AS ");
        w.ident("anon_1");
    } else {
        w.select_body(select, select.projection);
    }
    w.finish()
}

/// Renders a multi-row INSERT (with `RETURNING` the asked columns), binding its values
/// by reference. An `ordered` insert of several rows on PostgreSQL numbers them and
/// takes them through `SELECT .. ORDER BY` that number:
/// `INSERT INTO t (a, b) SELECT "p0", "p1" FROM (VALUES ($1, $2, 0), ..) AS "v" ("p0",
/// "p1", "n") ORDER BY "n"` (the parameters carry their types, so the VALUES columns
/// are typed as in a plain INSERT).
pub(crate) fn insert<'a>(insert: InsertStmt<'a>, backend: Backend) -> Result<Rendered<'a>> {
    let mut w = Writer::new(backend);
    let first = insert.rows.first().copied().unwrap_or_default();
    let columns = insert
        .table
        .columns()
        .iter()
        .zip(first)
        .filter(|(_, v)| v.is_some())
        .map(|(c, _)| c.name());
    let width = columns.clone().count();
    let numbered = insert.ordered && insert.rows.len() > 1 && backend.orders_keys_by_select();
    w.params.reserve(width * insert.rows.len());
    // "(?, ?), " per row, or "($1234, $1235, 12345), ": grown once, not doubled from 128.
    w.sql.reserve(insert.rows.len() * (width * 7 + 12));
    w.push("INSERT INTO ");
    w.ident(insert.table.name());
    if width == 0 {
        w.push(backend.default_values());
    } else {
        w.push(" (");
        w.idents(columns);
        w.push(") ");
        if numbered {
            w.push("SELECT ");
            select_columns(&mut w, width);
            w.push(" FROM (");
        }
        w.push("VALUES ");
        // Where every placeholder is the same (`?`), each row's text is the first's.
        let mut same_text: Option<std::ops::Range<usize>> = None;
        for (r, row) in insert.rows.into_iter().enumerate() {
            if r > 0 {
                w.push(", ");
            }
            if let Some(text) = same_text.clone() {
                w.sql.extend_from_within(text);
                w.params.extend(row.iter().flatten().map(Cow::Borrowed));
                continue;
            }
            let start = w.sql.len();
            w.push("(");
            for (i, v) in row.iter().flatten().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.param_ref(v);
            }
            if numbered {
                w.push(", ");
                w.push(itoa::Buffer::new().format(r));
            }
            w.push(")");
            // A numbered row's text is its own.
            if !backend.numbers_placeholders() && !numbered {
                same_text = Some(start..w.sql.len());
            }
        }
        if numbered {
            w.push(") AS ");
            w.ident("v");
            w.push(" (");
            select_columns(&mut w, width);
            w.push(", ");
            w.ident("n");
            w.push(") ORDER BY ");
            w.ident("n");
        }
    }
    if !insert.returning.is_empty() {
        w.push(" RETURNING ");
        w.idents(insert.returning.iter().copied());
    }
    w.finish()
}

/// The names an ordered INSERT gives its `width` columns in its SELECT: `"p0", "p1", ..`
/// (names of its own, so no table column can clash with the row number `"n"`).
fn select_columns(w: &mut Writer<'_>, width: usize) {
    for i in 0..width {
        if i > 0 {
            w.push(", ");
        }
        w.ident(&format!("p{i}"));
    }
}

/// Renders a bulk UPDATE.
pub(crate) fn update(update: &UpdateStmt<'_>, backend: Backend) -> Result<Rendered<'static>> {
    let mut w = Writer::new(backend);
    w.push("UPDATE ");
    w.ident(update.table.name());
    for (i, a) in update.assignments.iter().enumerate() {
        w.push(if i == 0 { " SET " } else { ", " });
        w.ident(&a.column);
        w.push(" = ");
        w.param(a.value.clone());
    }
    w.filter(update.filter);
    w.finish()
}

/// Renders a bulk DELETE.
pub(crate) fn delete(delete: &DeleteStmt<'_>, backend: Backend) -> Result<Rendered<'static>> {
    let mut w = Writer::new(backend);
    w.push("DELETE FROM ");
    w.ident(delete.table.name());
    w.filter(delete.filter);
    w.finish()
}

/// Copies the row of `table` with primary key `key` into its `history` table, as the
/// next version of that row:
/// `INSERT INTO h (cols, version) SELECT cols, COALESCE((SELECT MAX(version) FROM h AS
/// v WHERE v.pk = ?), 0) + 1 FROM t WHERE t.pk = ?`.
pub(crate) fn copy_to_history(
    table: &crate::schema::Table,
    history: &crate::schema::Table,
    key: &[Value],
    backend: Backend,
) -> Result<Rendered<'static>> {
    let mut w = Writer::new(backend);
    let columns: Vec<&str> = table.columns().iter().map(|c| c.name()).collect();
    let pk = table.primary_key();
    let key_match = |w: &mut Writer<'_>, qualifier: &str| {
        for (i, (column, value)) in pk.iter().zip(key).enumerate() {
            w.push(if i == 0 { " WHERE " } else { " AND " });
            w.ident(qualifier);
            w.push(".");
            w.ident(column);
            w.push(" = ");
            w.param(value.clone());
        }
    };
    w.push("INSERT INTO ");
    w.ident(history.name());
    w.push(" (");
    w.idents(columns.iter().copied().chain(["version"]));
    w.push(") SELECT ");
    for column in &columns {
        w.ident(table.name());
        w.push(".");
        w.ident(column);
        w.push(", ");
    }
    w.push("COALESCE((SELECT MAX(");
    w.ident("v");
    w.push(".");
    w.ident("version");
    w.push(") FROM ");
    w.ident(history.name());
    w.push(" AS ");
    w.ident("v");
    key_match(&mut w, "v");
    w.push("), 0) + 1 FROM ");
    w.ident(table.name());
    key_match(&mut w, table.name());
    w.finish()
}
