//! [`Select<S>`]: queries whose rows are several things, such as models joined together
//! (`(User, Option<Post>)`), columns and aggregates (`(String, i64)`), decoded into
//! typed tuples.
//!
//! `db.select::<(User, Option<Post>)>()` selects whole models by type (`Option<M>` for
//! the outer side of a LEFT JOIN: `None` when its key is NULL);
//! `db.select_columns((User::username, Post::id.count()))` selects columns and
//! expressions. Joins infer their ON from the one foreign key between the two tables
//! (an error names the candidates when there are several, or says there is none), or
//! take it from `join_on`. Every table of a select must live on one bind.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::LazyLock;

use futures_core::stream::BoxStream;
use futures_util::TryStreamExt;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::column::Column;
use crate::model::expression::Expression;
use crate::model::{FromRow, Model, RowSource};
use crate::query::pagination::{PageRequest, Pagination};
use crate::query::terminal::{self, Builder};
use crate::runtime::db::Db;
use crate::runtime::session::Session;
use crate::runtime::target::{Runner, Target};
use crate::schema::Table;
use crate::sql::expr::{Expr, Node, Order};
use crate::sql::{self, Clauses, Join, Projection, Rendered, SubSelect};
use crate::value::column_type::ColumnType;
use crate::value::relations::{Comparable, MaybeNull};

/// What a [`Select`] returns for each row: a model, `Option` of a model (outer side of
/// a join), a column, an expression, or a tuple of those.
pub trait Selection: Send + 'static {
    /// The Rust value of one row.
    type Output: Send + 'static;
    /// The select-list expressions.
    #[doc(hidden)]
    fn exprs(&self, out: &mut Vec<Expr>);
    /// The table the selection reads from first.
    #[doc(hidden)]
    fn table(&self) -> Option<&'static Table>;
    /// How many columns one row takes.
    #[doc(hidden)]
    fn width() -> usize;
    /// Decodes one row from `offset`.
    #[doc(hidden)]
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<Self::Output>;
}

/// Every column of model `M`, as a [`Selection`].
pub struct Entity<M>(PhantomData<fn() -> M>);

/// Every column of model `M` on the outer side of a LEFT JOIN: `None` when the joined
/// row is missing (its primary key is NULL).
pub struct Outer<M>(PhantomData<fn() -> M>);

/// Every column of `table`, qualified by `qualifier` (the table's name, or an alias).
fn columns_of(
    table: &'static Table,
    qualifier: impl Into<std::borrow::Cow<'static, str>>,
    out: &mut Vec<Expr>,
) {
    let qualifier = qualifier.into();
    out.extend(
        table
            .columns()
            .iter()
            .map(|c| Expr(Node::column(qualifier.clone(), c.name().to_owned()))),
    );
}

impl<M: Model> Selection for Entity<M> {
    type Output = M;
    fn exprs(&self, out: &mut Vec<Expr>) {
        columns_of(M::table(), M::table().name(), out);
    }
    fn table(&self) -> Option<&'static Table> {
        Some(M::table())
    }
    fn width() -> usize {
        M::width()
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<M> {
        M::from_row(row, offset)
    }
}

impl<M: Model> Selection for Outer<M> {
    type Output = Option<M>;
    fn exprs(&self, out: &mut Vec<Expr>) {
        columns_of(M::table(), M::table().name(), out);
    }
    fn table(&self) -> Option<&'static Table> {
        Some(M::table())
    }
    fn width() -> usize {
        M::width()
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<Option<M>> {
        let key = M::table()
            .columns()
            .iter()
            .position(|c| c.is_primary_key())
            .unwrap_or(0);
        if row.is_null(offset + key)? {
            Ok(None)
        } else {
            M::from_row(row, offset).map(Some)
        }
    }
}

impl<M: Model, T: ColumnType> Selection for Column<M, T> {
    type Output = T;
    fn exprs(&self, out: &mut Vec<Expr>) {
        out.push(Expr(self.node()));
    }
    fn table(&self) -> Option<&'static Table> {
        Some(M::table())
    }
    fn width() -> usize {
        1
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<T> {
        row.get(offset)
    }
}

impl<T: ColumnType> Selection for Expression<T> {
    type Output = T;
    fn exprs(&self, out: &mut Vec<Expr>) {
        out.push(Expr(self.node.clone()));
    }
    fn table(&self) -> Option<&'static Table> {
        self.table
    }
    fn width() -> usize {
        1
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<T> {
        row.get(offset)
    }
}

macro_rules! tuple_selection {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Selection),+> Selection for ($($name,)+) {
            type Output = ($($name::Output,)+);
            fn exprs(&self, out: &mut Vec<Expr>) {
                $(self.$idx.exprs(out);)+
            }
            fn table(&self) -> Option<&'static Table> {
                None$(.or_else(|| self.$idx.table()))+
            }
            fn width() -> usize {
                0 $(+ $name::width())+
            }
            #[allow(unused_assignments)]
            fn decode<R: RowSource>(row: &R, mut offset: usize) -> Result<Self::Output> {
                Ok(($({
                    let value = $name::decode(row, offset)?;
                    offset += $name::width();
                    value
                },)+))
            }
        }

        impl<$($name: Selectable),+> Selectable for ($($name,)+) {
            type Selection = ($($name::Selection,)+);
            fn selection() -> Self::Selection {
                ($($name::selection(),)+)
            }
        }
    };
}

tuple_selection!(A 0, B 1);
tuple_selection!(A 0, B 1, C 2);
tuple_selection!(A 0, B 1, C 2, D 3);
tuple_selection!(A 0, B 1, C 2, D 3, E 4);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Row types selectable by type alone: a model, `Option` of a model, and tuples of
/// those (`db.select::<(User, Option<Post>)>()`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected by type",
    label = "not a model, an `Option` of one, or a tuple of those",
    note = "columns and expressions are selected with `select_columns((User::name, Post::id.count()))`"
)]
pub trait Selectable: Sized {
    /// The selection that produces `Self`.
    type Selection: Selection<Output = Self>;
    /// That selection.
    fn selection() -> Self::Selection;
}

impl<M: Model> Selectable for M {
    type Selection = Entity<M>;
    fn selection() -> Entity<M> {
        entity()
    }
}

impl<M: Model> Selectable for Option<M> {
    type Selection = Outer<M>;
    fn selection() -> Outer<M> {
        outer()
    }
}

/// Every column of model `M`, to select a whole model beside columns and aggregates:
/// `db.select_columns((entity::<User>(), Post::id.count()))`.
///
/// ```
/// # fn demo<M: flaskdb_core::Model>() {
/// let users = flaskdb_core::entity::<M>();
/// # }
/// ```
pub fn entity<M: Model>() -> Entity<M> {
    Entity(PhantomData)
}

/// Model `M` on the outer side of a LEFT JOIN, beside columns and aggregates; `None`
/// when the joined row is missing.
///
/// ```
/// # fn demo<M: flaskdb_core::Model>() {
/// let posts = flaskdb_core::outer::<M>();
/// # }
/// ```
pub fn outer<M: Model>() -> Outer<M> {
    Outer(PhantomData)
}

/// A decoded row of a selection, as the executor reads it.
struct Decoded<S: Selection>(S::Output);

impl<S: Selection> FromRow for Decoded<S> {
    fn width() -> usize {
        S::width()
    }
    fn from_row<R: RowSource>(row: &R, offset: usize) -> Result<Self> {
        S::decode(row, offset).map(Decoded)
    }
}

/// The FROM of a selection of expressions only (`SELECT COUNT(*)` as a subquery).
static NO_TABLE: LazyLock<Table> = LazyLock::new(|| Table::new(""));

/// A query whose rows are [`Selection`]s: joins, tuples of models and columns,
/// aggregates with `group_by`/`having`.
///
/// ```
/// # use flaskdb_core::{Column, Model, Select};
/// fn posts_per_user<U: Model, P: Model>(
///     select: Select<(Column<U, String>, flaskdb_core::Expression<i64>)>,
///     username: Column<U, String>,
/// ) -> Select<(Column<U, String>, flaskdb_core::Expression<i64>)> {
///     select.left_join::<P>().group_by(username).order_by(username)
/// }
/// ```
pub struct Select<S> {
    runner: Runner,
    selection: PhantomData<fn() -> S>,
    from: &'static Table,
    exprs: Vec<Node>,
    clauses: Clauses,
    error: Option<String>,
}

impl<S: Selection> Select<S> {
    pub(crate) fn new(runner: Runner, selection: S) -> Self {
        let mut exprs = Vec::new();
        selection.exprs(&mut exprs);
        Select {
            runner,
            selection: PhantomData,
            from: selection.table().unwrap_or(&NO_TABLE),
            exprs: exprs.into_iter().map(|e| e.0).collect(),
            clauses: Clauses::default(),
            error: None,
        }
    }

    fn tables(&self) -> impl Iterator<Item = &'static Table> + '_ {
        std::iter::once(self.from).chain(self.clauses.joins.iter().map(|j| j.table))
    }

    fn add_join<M: Model>(self, left: bool, on: Option<Expr>) -> Self {
        self.join_table::<M>(left, None, on)
    }

    fn join_table<M: Model>(mut self, left: bool, alias: Option<String>, on: Option<Expr>) -> Self {
        let table = M::table();
        if table.bind_key() != self.from.bind_key() {
            self.error.get_or_insert(format!(
                "cannot join `{}` (bind {:?}) to `{}` (bind {:?}): a join runs on one database",
                table.name(),
                table.bind_key(),
                self.from.name(),
                self.from.bind_key()
            ));
        }
        let on = match on {
            Some(on) => on.0,
            None => match self.infer_on(table) {
                Ok(on) => on,
                Err(message) => {
                    self.error.get_or_insert(message);
                    return self;
                }
            },
        };
        self.clauses.joins.push(Join {
            left,
            table,
            alias,
            on,
        });
        self
    }

    /// The ON of a join to `table`: the one foreign key between it and a table already
    /// in the query.
    fn infer_on(&self, table: &'static Table) -> std::result::Result<Node, String> {
        let column = |t: &Table, c: &str| Node::column(t.name().to_owned(), c.to_owned());
        let mut candidates = Vec::new();
        for present in self.tables() {
            for (child, parent) in [(table, present), (present, table)] {
                for fk in child.foreign_keys() {
                    if fk.ref_table == parent.name() {
                        let terms = fk
                            .columns
                            .iter()
                            .zip(&fk.ref_columns)
                            .map(|(c, r)| Node::eq(column(child, c), column(parent, r)))
                            .collect();
                        let label = format!(
                            "{}.{} -> {}",
                            child.name(),
                            fk.columns.join(", "),
                            parent.name()
                        );
                        candidates.push((Node::And(terms), label));
                    }
                }
            }
        }
        match candidates.len() {
            1 => Ok(candidates.remove(0).0),
            0 => Err(format!(
                "no foreign key links `{}` to the query's tables: give the ON with join_on",
                table.name()
            )),
            _ => Err(format!(
                "several foreign keys could join `{}` ({}): give the ON with join_on",
                table.name(),
                candidates
                    .iter()
                    .map(|(_, l)| l.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }

    /// Reads from model `M`'s table: for a selection of expressions only, like
    /// `select_columns(count_all()).from::<Post>()`.
    pub fn from<M: Model>(mut self) -> Self {
        self.from = M::table();
        self
    }

    /// `JOIN` model `M`, on the one foreign key between it and the query's tables.
    pub fn join<M: Model>(self) -> Self {
        self.add_join::<M>(false, None)
    }

    /// `LEFT OUTER JOIN` model `M`, on the one foreign key between it and the query's
    /// tables; select it as `Option<M>`.
    pub fn left_join<M: Model>(self) -> Self {
        self.add_join::<M>(true, None)
    }

    /// `JOIN` model `M` `ON` the given condition.
    pub fn join_on<M: Model>(self, on: Expr) -> Self {
        self.add_join::<M>(false, Some(on))
    }

    /// `LEFT OUTER JOIN` model `M` `ON` the given condition.
    pub fn left_join_on<M: Model>(self, on: Expr) -> Self {
        self.add_join::<M>(true, Some(on))
    }

    /// `JOIN` model `M`'s table under `alias` (a self-join) `ON` the given condition.
    pub fn join_alias<M: Model>(self, alias: &Alias<M>, on: Expr) -> Self {
        self.join_table::<M>(false, Some(alias.name.clone()), Some(on))
    }

    /// `LEFT OUTER JOIN` model `M`'s table under `alias` `ON` the given condition.
    pub fn left_join_alias<M: Model>(self, alias: &Alias<M>, on: Expr) -> Self {
        self.join_table::<M>(true, Some(alias.name.clone()), Some(on))
    }

    /// Reads from a subquery (a derived table) instead of a table:
    /// `db.select_columns(totals.column::<i64>("n")).from_derived(totals)`.
    pub fn from_derived(mut self, derived: Derived) -> Self {
        self.from = derived.table;
        self.clauses.derived = Some(Box::new((derived.sub, derived.alias)));
        self
    }

    /// This select as a derived table named `alias`, to read from with
    /// [`Select::from_derived`]. Name its computed columns with
    /// [`Expression::named`].
    pub fn derived(self, alias: &str) -> Derived {
        Derived {
            table: self.from,
            alias: alias.to_owned(),
            sub: self.into_sub_select(),
        }
    }

    /// Keeps the rows matching `condition` (AND-ed with earlier filters).
    pub fn filter(mut self, condition: Expr) -> Self {
        self.clauses.and_filter(condition.0);
        self
    }

    /// Adds a `GROUP BY` term (a column or expression).
    pub fn group_by(mut self, term: impl Into<Expr>) -> Self {
        self.clauses.group_by.push(term.into().0);
        self
    }

    /// Keeps the groups matching `condition` (`HAVING`, AND-ed with earlier ones).
    pub fn having(mut self, condition: Expr) -> Self {
        self.clauses.having = Some(match self.clauses.having.take() {
            None => condition.0,
            Some(first) => Node::And(vec![first, condition.0]),
        });
        self
    }

    crate::sql::clause_methods!();

    pub(crate) fn into_sub_select(self) -> SubSelect {
        SubSelect {
            table: self.from,
            exprs: self.exprs,
            clauses: self.clauses,
        }
    }

    /// Every row.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for a join that could not be built (no or several
    /// foreign keys, another bind); [`Error::NoContext`]; database errors.
    #[track_caller]
    pub fn all(self) -> impl Future<Output = Result<Vec<S::Output>>> + Send {
        terminal::all(self)
    }

    /// The first row (`LIMIT 1`), or `None`.
    ///
    /// # Errors
    /// As [`Select::all`].
    #[track_caller]
    pub fn first(self) -> impl Future<Output = Result<Option<S::Output>>> + Send {
        terminal::first(self)
    }

    /// The one row.
    ///
    /// # Errors
    /// [`Error::NoResultFound`], [`Error::MultipleResultsFound`], and as [`Select::all`].
    #[track_caller]
    pub fn one(self) -> impl Future<Output = Result<S::Output>> + Send {
        terminal::one(self)
    }

    /// The number of rows (of groups, with `group_by`).
    ///
    /// # Errors
    /// As [`Select::all`].
    #[track_caller]
    pub fn count(self) -> impl Future<Output = Result<u64>> + Send {
        terminal::count(self)
    }

    /// One page of rows, with Flask-SQLAlchemy's rules (see [`PageRequest`]). The page
    /// has no query behind it for `next()`/`prev()`: ask for the next page by number.
    ///
    /// # Errors
    /// As [`Query::paginate`](crate::Query::paginate).
    #[track_caller]
    pub fn paginate(
        self,
        request: PageRequest,
    ) -> impl Future<Output = Result<Pagination<S::Output>>> + Send {
        terminal::paginate_detached(self, request)
    }

    /// The rows as a stream, decoded one at a time.
    pub fn stream(self) -> BoxStream<'static, Result<S::Output>> {
        let rows = terminal::stream::<_, Decoded<S>>(&self, Projection::Exprs);
        Box::pin(rows.map_ok(|Decoded(v)| v))
    }
}

impl<S: Selection> Builder for Select<S> {
    type Row = S::Output;

    fn clauses_mut(&mut self) -> &mut Clauses {
        &mut self.clauses
    }

    fn duplicate(&self) -> Self {
        Select {
            runner: self.runner.clone(),
            selection: PhantomData,
            from: self.from,
            exprs: self.exprs.clone(),
            clauses: self.clauses.clone(),
            error: self.error.clone(),
        }
    }

    fn target(&self) -> Result<Target> {
        if let Some(message) = &self.error {
            return Err(Error::InvalidQuery(message.clone().into()));
        }
        if self.from.name().is_empty() {
            return Err(Error::InvalidQuery(
                "a select needs a model or a column to read from".into(),
            ));
        }
        self.runner.resolve(self.from.bind_key())
    }

    fn render(&self, projection: Projection, backend: Backend) -> Result<Rendered<'static>> {
        let select = sql::SelectStmt {
            table: self.from,
            projection,
            clauses: &self.clauses,
            exprs: &self.exprs,
        };
        sql::select(&select, backend)
    }

    async fn rows(&self, max: Option<usize>) -> Result<Vec<S::Output>> {
        let (target, rendered) = self.statement(Projection::Exprs)?;
        let rows = target.fetch::<Decoded<S>>(rendered, max).await?;
        Ok(rows.into_iter().map(|Decoded(v)| v).collect())
    }
}

impl<S: Selection> Select<S>
where
    S::Output: MaybeNull,
{
    /// This one-value select as a scalar subquery, to compare with or to select beside
    /// other values; NULL when it finds no row.
    pub fn scalar(self) -> Expression<<S::Output as MaybeNull>::Nullable> {
        Expression::new(Node::Scalar(Box::new(self.into_sub_select())), None)
    }
}

/// Model `M`'s table under another name, for self-joins (a category and its parent).
///
/// ```
/// # use flaskdb_core::{Alias, Model};
/// fn parent_of<M: Model>() -> Alias<M> {
///     flaskdb_core::alias::<M>("parent")
/// }
/// ```
pub struct Alias<M> {
    name: String,
    _model: PhantomData<fn() -> M>,
}

/// Model `M`'s table under `name`, for self-joins.
pub fn alias<M: Model>(name: &str) -> Alias<M> {
    Alias {
        name: name.to_owned(),
        _model: PhantomData,
    }
}

impl<M: Model> Alias<M> {
    /// A column of the aliased table.
    pub fn col<T: ColumnType>(&self, column: Column<M, T>) -> Expression<T> {
        let node = Node::column(self.name.clone(), column.name());
        Expression::new(node, Some(M::table()))
    }

    /// Every column of the aliased table, selected as an `M`.
    pub fn entity(&self) -> AliasEntity<M> {
        AliasEntity(self.name.clone(), PhantomData)
    }

    /// Every column of the aliased table on the outer side of a LEFT JOIN.
    pub fn outer(&self) -> AliasOuter<M> {
        AliasOuter(self.name.clone(), PhantomData)
    }
}

/// An aliased table's columns, selected as its model.
pub struct AliasEntity<M>(String, PhantomData<fn() -> M>);

/// An aliased table's columns on the outer side of a LEFT JOIN.
pub struct AliasOuter<M>(String, PhantomData<fn() -> M>);

impl<M: Model> Selection for AliasEntity<M> {
    type Output = M;
    fn exprs(&self, out: &mut Vec<Expr>) {
        columns_of(M::table(), self.0.clone(), out);
    }
    fn table(&self) -> Option<&'static Table> {
        Some(M::table())
    }
    fn width() -> usize {
        M::width()
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<M> {
        Entity::<M>::decode(row, offset)
    }
}

impl<M: Model> Selection for AliasOuter<M> {
    type Output = Option<M>;
    fn exprs(&self, out: &mut Vec<Expr>) {
        columns_of(M::table(), self.0.clone(), out);
    }
    fn table(&self) -> Option<&'static Table> {
        Some(M::table())
    }
    fn width() -> usize {
        M::width()
    }
    fn decode<R: RowSource>(row: &R, offset: usize) -> Result<Option<M>> {
        Outer::<M>::decode(row, offset)
    }
}

/// A select used as a derived table (`FROM (SELECT ..) AS alias`); see
/// [`Select::derived`].
pub struct Derived {
    table: &'static Table,
    alias: String,
    sub: SubSelect,
}

impl Derived {
    /// Column `name` of the derived table, decoded as `T`.
    pub fn column<T: ColumnType>(&self, name: &str) -> Expression<T> {
        let node = Node::column(self.alias.clone(), name.to_owned());
        Expression::new(node, None)
    }
}

impl<T: ColumnType> Expression<T> {
    /// This expression under a column name (`expr AS "name"`), to refer to it from a
    /// derived table.
    pub fn named(self, name: &str) -> Expression<T> {
        let node = Node::Named {
            expr: Box::new(self.node),
            name: name.to_owned(),
        };
        Expression::new(node, self.table)
    }
}

impl<T: ColumnType> From<Expression<T>> for Order {
    fn from(e: Expression<T>) -> Order {
        e.asc()
    }
}

/// The rows of `target` joined to the association table `secondary` `on`, with the
/// association's `link_cols` after the target's columns, where `filter` holds: how a
/// many-to-many relationship loads.
pub(crate) async fn linked_rows<L: FromRow>(
    runner: &Runner,
    target: &'static Table,
    secondary: &'static Table,
    on: Node,
    link_cols: &[&str],
    filter: Node,
) -> Result<Vec<L>> {
    let qualified = |table: &'static Table, name: &str| Node::column(table.name(), name.to_owned());
    let exprs: Vec<Node> = target
        .columns()
        .iter()
        .map(|c| qualified(target, c.name()))
        .chain(link_cols.iter().map(|c| qualified(secondary, c)))
        .collect();
    let clauses = Clauses {
        joins: vec![Join {
            left: false,
            table: secondary,
            alias: None,
            on,
        }],
        filter: Some(filter),
        ..Clauses::default()
    };
    let resolved = runner.resolve(target.bind_key())?;
    let select = sql::SelectStmt {
        table: target,
        projection: Projection::Exprs,
        clauses: &clauses,
        exprs: &exprs,
    };
    let rendered = sql::select(&select, resolved.engine.backend())?;
    resolved.fetch::<L>(rendered, None).await
}

/// Selects on a [`Db`].
impl Db {
    /// A select of whole models by type, on this database: `db.select::<(User,
    /// Option<Post>)>().left_join::<Post>()`.
    pub fn select<T: Selectable>(&self) -> Select<T::Selection> {
        Select::new(Runner::Db(self.clone()), T::selection())
    }

    /// A select of columns and expressions on this database:
    /// `db.select_columns((User::username, Post::id.count()))`.
    pub fn select_columns<S: Selection>(&self, selection: S) -> Select<S> {
        Select::new(Runner::Db(self.clone()), selection)
    }
}

/// Selects through a [`Session`].
impl Session {
    /// A select of whole models by type through this session (see [`Db::select`]).
    pub fn select<T: Selectable>(&self) -> Select<T::Selection> {
        Select::new(Runner::Session(self.clone()), T::selection())
    }

    /// A select of columns and expressions through this session.
    pub fn select_columns<S: Selection>(&self, selection: S) -> Select<S> {
        Select::new(Runner::Session(self.clone()), selection)
    }
}

/// A select of whole models by type in the current context (the scope's session, or
/// the global default): also the way to write a subquery for `exists` or
/// `in_subquery`, which runs inside its outer query.
pub fn select<T: Selectable>() -> Select<T::Selection> {
    Select::new(Runner::Current, T::selection())
}

/// A select of columns and expressions in the current context.
pub fn select_columns<S: Selection>(selection: S) -> Select<S> {
    Select::new(Runner::Current, selection)
}

/// `IN (SELECT ..)` on columns and expressions: defined here, beside [`Select`], since
/// the right-hand side is one.
macro_rules! subquery_methods {
    () => {
        /// `self IN (SELECT ..)`: the subquery selects one comparable value.
        pub fn in_subquery<S>(self, sub: Select<S>) -> Expr
        where
            S: Selection,
            S::Output: Comparable<T>,
        {
            in_select(self.node(), sub, false)
        }

        /// `self NOT IN (SELECT ..)`.
        pub fn not_in_subquery<S>(self, sub: Select<S>) -> Expr
        where
            S: Selection,
            S::Output: Comparable<T>,
        {
            in_select(self.node(), sub, true)
        }
    };
}

/// `expr [NOT] IN (SELECT ..)`.
fn in_select<S: Selection>(expr: Node, sub: Select<S>, negated: bool) -> Expr {
    Expr(Node::InSelect {
        expr: Box::new(expr),
        sub: Box::new(sub.into_sub_select()),
        negated,
    })
}

impl<M: Model, T: ColumnType> Column<M, T> {
    subquery_methods!();
}

impl<T: ColumnType> Expression<T> {
    subquery_methods!();
}

/// `EXISTS (SELECT ..)`; the subquery may refer to the outer query's columns
/// (a correlated subquery).
pub fn exists<S: Selection>(sub: Select<S>) -> Expr {
    exists_of(sub, false)
}

/// `NOT EXISTS (SELECT ..)`.
pub fn not_exists<S: Selection>(sub: Select<S>) -> Expr {
    exists_of(sub, true)
}

/// `[NOT] EXISTS (SELECT ..)`.
fn exists_of<S: Selection>(sub: Select<S>, negated: bool) -> Expr {
    Expr(Node::Exists {
        sub: Box::new(sub.into_sub_select()),
        negated,
    })
}
