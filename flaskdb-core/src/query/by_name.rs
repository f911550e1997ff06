//! Tables queried by name, without a model: [`Db::table`] gives a [`TableHandle`] over
//! any table of the metadata (declared or reflected), whose queries return [`Row`]s
//! read by column name.
//!
//! Column names are checked against the table when the query runs, and every value is
//! converted to its column's type first (an `i64` for an `INTEGER` column is sent as an
//! `i32`, a text for a `DATE` column is parsed as a date), so that PostgreSQL, which
//! types parameters strictly, takes the same values as SQLite and MySQL.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::backend::Backend;
use crate::driver::engine::Engine;
use crate::driver::executor::{self, Conn, Row};
use crate::driver::recording;
use crate::error::{Error, Result};
use crate::query::pagination::{PageRequest, Pagination};
use crate::query::terminal::{self, Builder};
use crate::runtime::db::Db;
use crate::runtime::target::{Runner, Target};
use crate::schema::{ColumnDef, Table};
use crate::sql::expr::{self, Assignment, Assignments, CompareOp, Expr, Node, Order};
use crate::sql::{self, Clauses, InsertStmt, Projection, Rendered, SelectStmt};
use crate::value::Value;
use crate::value::sql_type::SqlType;

/// A table of the metadata, queried by column name: what [`Db::table`] returns.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// db.execute("CREATE TABLE legacy_note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", vec![])
///     .await?;
/// db.reflect().await?;
/// let notes = db.table("legacy_note")?;
/// let id = notes.insert(notes.column("body").set("hello")).await?;
/// let row = notes.query().filter(notes.column("id").eq(id)).one().await?;
/// assert_eq!(row.get::<String>("body")?, "hello");
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct TableHandle {
    db: Db,
    table: Arc<Table>,
}

impl std::fmt::Debug for TableHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TableHandle")
            .field(&self.table.name())
            .finish()
    }
}

impl TableHandle {
    pub(crate) fn new(db: Db, table: Arc<Table>) -> Self {
        TableHandle { db, table }
    }

    /// The table's metadata.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The column `name`, for filters, ordering and assignments. An unknown name is
    /// reported by the statement that uses it.
    pub fn column(&self, name: &str) -> ColumnRef {
        ColumnRef {
            table: self.table.name().to_owned(),
            name: name.to_owned(),
        }
    }

    /// A query over every row of the table.
    pub fn query(&self) -> RowQuery {
        RowQuery {
            handle: self.clone(),
            clauses: Clauses::default(),
        }
    }

    fn engine(&self) -> Result<Engine> {
        self.db.engine_for(self.table.bind_key())
    }

    fn writable(&self) -> Result<()> {
        match self.table.is_view() {
            true => Err(Error::InvalidQuery(
                format!("`{}` is a view: it cannot be written", self.table.name()).into(),
            )),
            false => Ok(()),
        }
    }

    /// The column `name` of this table, or an error naming both.
    fn column_def(&self, name: &str) -> Result<&ColumnDef> {
        let index = self.column_index(name)?;
        Ok(&self.table.columns()[index])
    }

    /// The position of column `name` in the table.
    fn column_index(&self, name: &str) -> Result<usize> {
        self.table.column_position(name).ok_or_else(|| {
            Error::InvalidQuery(
                format!("table `{}` has no column `{name}`", self.table.name()).into(),
            )
        })
    }

    /// `value` as a value of column `name`.
    fn coerce(&self, name: &str, value: Value) -> Result<Value> {
        let column = self.column_def(name)?;
        let given = value.sql_type();
        convert(value, column.sql_type()).ok_or_else(|| Error::InvalidValue {
            table: self.table.name().to_owned(),
            column: name.to_owned(),
            reason: format!(
                "a {given:?} value does not fit a {:?} column",
                column.sql_type()
            ),
        })
    }

    /// Checks the column names of an expression and converts its values to the types
    /// of the columns they are compared with.
    fn prepare(&self, node: Node) -> Result<Node> {
        Ok(match node {
            Node::Column { table, name } => {
                self.column_def(&name)?;
                Node::Column { table, name }
            }
            Node::Compare { op, left, right } => {
                let (left, right) = match (*left, *right) {
                    (Node::Column { table, name }, Node::Value(v)) => {
                        let v = self.coerce(&name, v)?;
                        (Node::Column { table, name }, Node::Value(v))
                    }
                    (l, r) => (self.prepare(l)?, self.prepare(r)?),
                };
                Node::Compare {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                }
            }
            Node::In {
                expr,
                values,
                negated,
            } => {
                let values = match &*expr {
                    Node::Column { name, .. } => values
                        .into_iter()
                        .map(|v| self.coerce(name, v))
                        .collect::<Result<_>>()?,
                    _ => values,
                };
                Node::In {
                    expr: Box::new(self.prepare(*expr)?),
                    values,
                    negated,
                }
            }
            Node::Between { expr, low, high } => {
                let typed = |bound: Node| match (&*expr, bound) {
                    (Node::Column { name, .. }, Node::Value(v)) => {
                        Ok(Node::Value(self.coerce(name, v)?))
                    }
                    (_, other) => self.prepare(other),
                };
                let (low, high) = (typed(*low)?, typed(*high)?);
                Node::Between {
                    expr: Box::new(self.prepare(*expr)?),
                    low: Box::new(low),
                    high: Box::new(high),
                }
            }
            Node::Like {
                expr,
                pattern,
                case_insensitive,
            } => Node::Like {
                expr: Box::new(self.prepare(*expr)?),
                pattern,
                case_insensitive,
            },
            Node::IsNull { expr, negated } => Node::IsNull {
                expr: Box::new(self.prepare(*expr)?),
                negated,
            },
            Node::Not(inner) => Node::Not(Box::new(self.prepare(*inner)?)),
            Node::And(items) => Node::And(self.prepare_all(items)?),
            Node::Or(items) => Node::Or(self.prepare_all(items)?),
            other => other,
        })
    }

    fn prepare_all(&self, items: Vec<Node>) -> Result<Vec<Node>> {
        items.into_iter().map(|n| self.prepare(n)).collect()
    }

    /// The assignments with their columns checked and their values converted.
    fn assignments(&self, assignments: impl Assignments) -> Result<Vec<Assignment>> {
        let backend_check = self.engine()?.backend();
        assignments
            .into_assignments()
            .into_iter()
            .map(|a| {
                let value = self.coerce(&a.column, a.value)?;
                backend_check.check_value(&self.table, self.column_def(&a.column)?, &value)?;
                Ok(Assignment {
                    column: a.column,
                    value,
                })
            })
            .collect()
    }

    /// Inserts one row with the given column values (the others take their defaults)
    /// and returns the key the database generated for it, when the table numbers its
    /// rows and the values leave the key out.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for an unknown column or a view, [`Error::InvalidValue`]
    /// for a value its column cannot hold; database errors (a missing required column
    /// is the database's NOT NULL error).
    #[track_caller]
    pub fn insert(
        &self,
        values: impl Assignments,
    ) -> impl Future<Output = Result<Option<i64>>> + Send + '_ {
        let values = self.assignments(values);
        recording::at(Location::caller(), async move {
            self.writable()?;
            let columns = self.table.columns();
            let mut row: Vec<Option<Value>> = vec![None; columns.len()];
            for a in values? {
                let index = self.column_index(&a.column)?;
                if row[index].replace(a.value).is_some() {
                    return Err(Error::InvalidQuery(
                        format!("column `{}` is given twice", a.column).into(),
                    ));
                }
            }
            let engine = self.engine()?;
            let generated = self
                .table
                .autoincrement_column()
                .filter(|c| self.column_index(c.name()).is_ok_and(|i| row[i].is_none()));
            let returning = match generated {
                Some(c)
                    if engine.supports_returning()
                        && !engine.backend().keys_from_last_insert_id() =>
                {
                    vec![c.name()]
                }
                _ => Vec::new(),
            };
            let by_returning = !returning.is_empty();
            let rendered = sql::insert(
                InsertStmt {
                    table: &self.table,
                    rows: vec![&row],
                    returning,
                    ordered: false,
                },
                engine.backend(),
            )?;
            let Some(column) = generated else {
                executor::execute(Conn::Pool(&engine), rendered).await?;
                return Ok(None);
            };
            if !by_returning {
                let done = executor::execute(Conn::Pool(&engine), rendered).await?;
                return Ok(done.last_insert_id);
            }
            let rows = executor::fetch_values(Conn::Pool(&engine), rendered, &[column]).await?;
            Ok(rows
                .first()
                .and_then(|row| row.first())
                .and_then(Value::as_i64))
        })
    }
}

/// `value` as a value of `sql_type`, when it holds one: integers of another width in
/// range, floats, and text in the form [`Value`] gives dates, UUIDs, JSON and decimals.
fn convert(value: Value, sql_type: SqlType) -> Option<Value> {
    if value.sql_type() == sql_type {
        return Some(value);
    }
    match (sql_type, &value) {
        (_, Value::Null(_)) => Some(Value::Null(sql_type)),
        (t, v) if t.is_integer() => v.as_i64().and_then(|n| Value::integer_of(n, t)),
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        (SqlType::Double, v) => match v {
            Value::F32(f) => Some(Value::F64(f64::from(*f))),
            v => v.as_i64().map(|n| Value::F64(n as f64)),
        },
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        (SqlType::Real, v) => match v {
            Value::F64(f) => Some(Value::F32(*f as f32)),
            v => v.as_i64().map(|n| Value::F32(n as f32)),
        },
        (_, Value::Text(text)) => Value::from_text(sql_type, text),
        _ => None,
    }
}

/// A column of a [`TableHandle`], named at run time: `customers.column("full_name")`.
///
/// ```
/// # use flaskdb_core::TableHandle;
/// # fn demo(customers: &TableHandle) {
/// let name = customers.column("full_name");
/// let adults = name.clone().like("A%").and(customers.column("age").ge(18));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ColumnRef {
    table: String,
    name: String,
}

impl ColumnRef {
    fn node(&self) -> Node {
        Node::column(self.table.clone(), self.name.clone())
    }

    /// `column = value` (`IS NULL` for a null value).
    pub fn eq(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Eq, value.into())
    }
    /// `column <> value` (`IS NOT NULL` for a null value).
    pub fn ne(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Ne, value.into())
    }
    /// `column < value`.
    pub fn lt(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Lt, value.into())
    }
    /// `column <= value`.
    pub fn le(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Le, value.into())
    }
    /// `column > value`.
    pub fn gt(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Gt, value.into())
    }
    /// `column >= value`.
    pub fn ge(&self, value: impl Into<Value>) -> Expr {
        expr::compare(self.node(), CompareOp::Ge, value.into())
    }
    crate::model::column::text_methods!((&self) self.node());
    /// `column IN (values)`.
    pub fn in_<V: Into<Value>>(&self, values: impl IntoIterator<Item = V>) -> Expr {
        expr::in_list(self.node(), values.into_iter().map(Into::into), false)
    }
    /// `column NOT IN (values)`.
    pub fn not_in<V: Into<Value>>(&self, values: impl IntoIterator<Item = V>) -> Expr {
        expr::in_list(self.node(), values.into_iter().map(Into::into), true)
    }
    /// `column BETWEEN low AND high`.
    pub fn between(&self, low: impl Into<Value>, high: impl Into<Value>) -> Expr {
        expr::between(self.node(), low.into(), high.into())
    }
    /// `column IS NULL`.
    pub fn is_null(&self) -> Expr {
        expr::is_null(self.node(), false)
    }
    /// `column IS NOT NULL`.
    pub fn is_not_null(&self) -> Expr {
        expr::is_null(self.node(), true)
    }
    /// Ascending order.
    pub fn asc(&self) -> Order {
        expr::order(self.node(), false)
    }
    /// Descending order.
    pub fn desc(&self) -> Order {
        expr::order(self.node(), true)
    }
    /// `column = value` in an insert or update.
    pub fn set(&self, value: impl Into<Value>) -> Assignment {
        Assignment {
            column: self.name.clone().into(),
            value: value.into(),
        }
    }
}

/// A query over a [`TableHandle`]'s rows: filters, order, limit and offset, then a
/// terminal method. Rows are [`Row`]s, read by column name.
///
/// ```
/// # use flaskdb_core::{RowQuery, TableHandle};
/// # fn demo(customers: &TableHandle) -> RowQuery {
/// customers.query()
///     .filter(customers.column("age").ge(18))
///     .order_by(customers.column("full_name").asc())
///     .limit(10)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RowQuery {
    handle: TableHandle,
    clauses: Clauses,
}

impl RowQuery {
    /// Adds a condition (AND-ed with the others).
    pub fn filter(mut self, condition: Expr) -> Self {
        self.clauses.and_filter(condition.0);
        self
    }

    /// `filter(column = value)`.
    pub fn filter_by(self, column: &str, value: impl Into<Value>) -> Self {
        let condition = self.handle.column(column).eq(value);
        self.filter(condition)
    }

    crate::sql::clause_methods!();

    /// The clauses with their columns checked and values converted.
    fn checked(&self) -> Result<Clauses> {
        let mut clauses = self.clauses.clone();
        clauses.filter = clauses.filter.map(|f| self.handle.prepare(f)).transpose()?;
        for order in &mut clauses.order_by {
            order.expr = self.handle.prepare(order.expr.clone())?;
        }
        Ok(clauses)
    }

    /// The SELECT with `projection`, its columns checked and values converted; `limit`
    /// replaces the query's.
    fn select(
        &self,
        projection: Projection,
        limit: Option<u64>,
        backend: Backend,
    ) -> Result<Rendered<'static>> {
        let mut clauses = self.checked()?;
        if limit.is_some() {
            clauses.limit = limit;
        }
        sql::select(
            &SelectStmt {
                table: &self.handle.table,
                projection,
                clauses: &clauses,
                exprs: &[],
            },
            backend,
        )
    }

    /// Every matching row.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] naming an unknown column; [`Error::InvalidValue`] for a
    /// value its column cannot hold; database errors.
    #[track_caller]
    pub fn all(self) -> impl Future<Output = Result<Vec<Row>>> + Send {
        terminal::all(self)
    }

    /// The first matching row, or `None`.
    ///
    /// # Errors
    /// As [`RowQuery::all`].
    #[track_caller]
    pub fn first(self) -> impl Future<Output = Result<Option<Row>>> + Send {
        terminal::first(self)
    }

    /// The one matching row.
    ///
    /// # Errors
    /// [`Error::NoResultFound`], [`Error::MultipleResultsFound`]; as [`RowQuery::all`].
    #[track_caller]
    pub fn one(self) -> impl Future<Output = Result<Row>> + Send {
        terminal::one(self)
    }

    /// The row whose (single-column) primary key is `key`, or `None`.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] when the table's primary key is not one column; as
    /// [`RowQuery::all`].
    #[track_caller]
    pub fn get(self, key: impl Into<Value>) -> impl Future<Output = Result<Option<Row>>> + Send {
        let key = key.into();
        recording::at(Location::caller(), async move {
            let pk = self.handle.table.primary_key();
            let [column] = pk.as_slice() else {
                return Err(Error::InvalidQuery(
                    format!(
                        "get() needs a one-column primary key; `{}` has {}: filter by its \
                         columns instead",
                        self.handle.table.name(),
                        pk.len()
                    )
                    .into(),
                ));
            };
            let condition = self.handle.column(column).eq(key);
            self.filter(condition).first().await
        })
    }

    /// The number of matching rows.
    ///
    /// # Errors
    /// As [`RowQuery::all`].
    #[track_caller]
    pub fn count(self) -> impl Future<Output = Result<u64>> + Send {
        terminal::count(self)
    }

    /// Whether any row matches.
    ///
    /// # Errors
    /// As [`RowQuery::all`].
    #[track_caller]
    pub fn exists(self) -> impl Future<Output = Result<bool>> + Send {
        terminal::exists(self)
    }

    /// One page of the matching rows, as [`Query::paginate`](crate::Query::paginate).
    ///
    /// # Errors
    /// As [`Query::paginate`](crate::Query::paginate).
    #[track_caller]
    pub fn paginate(
        self,
        request: PageRequest,
    ) -> impl Future<Output = Result<Pagination<Row>>> + Send {
        terminal::paginate(self, request)
    }

    fn bulk(&self, what: &str) -> Result<Option<Node>> {
        self.handle.writable()?;
        self.clauses.check_bulk(what)?;
        Ok(self.checked()?.filter)
    }

    /// Updates every matching row; returns the number of rows changed.
    ///
    /// # Errors
    /// As [`RowQuery::all`], and [`Error::InvalidQuery`] on a view or a query with a
    /// limit, offset, order or DISTINCT.
    #[track_caller]
    pub fn update(self, assignments: impl Assignments) -> impl Future<Output = Result<u64>> + Send {
        let assignments = self.handle.assignments(assignments);
        recording::at(Location::caller(), async move {
            let filter = self.bulk("update")?;
            let assignments = assignments?;
            if assignments.is_empty() {
                return Ok(0);
            }
            let target = self.target()?;
            terminal::update(&target, &self.handle.table, assignments, filter.as_ref()).await
        })
    }

    /// Deletes every matching row; returns the number of rows deleted.
    ///
    /// # Errors
    /// As [`RowQuery::update`].
    #[track_caller]
    pub fn delete(self) -> impl Future<Output = Result<u64>> + Send {
        recording::at(Location::caller(), async move {
            let filter = self.bulk("delete")?;
            let target = self.target()?;
            terminal::delete(&target, &self.handle.table, filter.as_ref()).await
        })
    }
}

impl Builder for RowQuery {
    type Row = Row;

    fn clauses_mut(&mut self) -> &mut Clauses {
        &mut self.clauses
    }

    fn duplicate(&self) -> Self {
        self.clone()
    }

    fn target(&self) -> Result<Target> {
        Runner::Db(self.handle.db.clone()).resolve(self.handle.table.bind_key())
    }

    fn render(&self, projection: Projection, backend: Backend) -> Result<Rendered<'static>> {
        self.select(projection, None, backend)
    }

    /// The rows, read whole: `max` becomes the statement's LIMIT.
    async fn rows(&self, max: Option<usize>) -> Result<Vec<Row>> {
        let target = self.target()?;
        let limit = max.and_then(|n| u64::try_from(n).ok());
        let rendered = self.select(Projection::AllColumns, limit, target.engine.backend())?;
        executor::fetch_rows(Conn::Pool(&target.engine), rendered).await
    }
}

/// Tables by name, from a [`Db`]'s metadata.
impl Db {
    /// The table `name` of any bind's metadata (declared or reflected), to query by
    /// column name; see [`TableHandle`] for an example.
    ///
    /// # Errors
    /// [`Error::Schema`] when no bind has such a table (reflect first), or when several
    /// do (then name the bind with [`Db::table_for`]).
    pub fn table(&self, name: &str) -> Result<TableHandle> {
        let mut found = Vec::new();
        for key in self.all_binds()? {
            if let Some(table) = self
                .metadata(key.as_deref())
                .tables()
                .iter()
                .find(|t| t.name() == name)
            {
                found.push(Arc::clone(table));
            }
        }
        match found.len() {
            1 => Ok(TableHandle::new(self.clone(), found.remove(0))),
            0 => Err(Error::Schema(format!(
                "no table `{name}` in the metadata: declare it, or call `db.reflect()` first"
            ))),
            _ => Err(Error::Schema(format!(
                "table `{name}` is on several binds: name one with `db.table_for(bind, \"{name}\")`"
            ))),
        }
    }

    /// The table `name` of bind `key`'s metadata, as [`Db::table`].
    ///
    /// # Errors
    /// [`Error::Schema`] when the bind has no such table.
    pub fn table_for(&self, key: Option<&str>, name: &str) -> Result<TableHandle> {
        self.metadata(key)
            .tables()
            .iter()
            .find(|t| t.name() == name)
            .map(|t| TableHandle::new(self.clone(), Arc::clone(t)))
            .ok_or_else(|| {
                Error::Schema(format!(
                    "no table `{name}` on {}: declare it, or reflect the bind first",
                    key.map_or_else(|| "the default bind".to_owned(), |k| format!("bind `{k}`"))
                ))
            })
    }
}
