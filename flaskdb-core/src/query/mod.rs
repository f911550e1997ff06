//! [`Query<M>`]: a SELECT over one model, built up and then run by a terminal method.

pub(crate) mod by_name;
pub(crate) mod joined;
pub(crate) mod keyset;
pub(crate) mod pagination;
pub(crate) mod relation;
pub(crate) mod select;
mod terminal;

use std::future::Future;
use std::panic::Location;

use crate::driver::recording;
use std::fmt;
use std::marker::PhantomData;

use futures_core::stream::BoxStream;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::column::Column;
use crate::model::{KeyValues, Model, Writable};
use crate::query::joined::Joined;
use crate::query::pagination::{PageRequest, Pagination};
use crate::query::relation::{ChildOf, Eager, Relation};
use crate::query::terminal::Builder;
use crate::runtime::db::Db;
use crate::runtime::session::Session;
use crate::runtime::target::{Runner, Target};
use crate::sql::expr::{Assignment, Assignments, Expr, Node};
use crate::sql::{self, Clauses, Projection, Rendered, SelectStmt};
use crate::value::Value;
use crate::value::column_type::{ColumnType, IntoField};
use std::sync::Arc;

/// A query over model `M`: filters, order, limit and offset, run by one of the terminal
/// methods (`all`, `first`, `one`, `get`, `count`, `exists`, `update`, `delete`,
/// `stream`, and the `*_or_404` helpers).
///
/// ```
/// # use flaskdb_core::{Column, Model, Query};
/// fn newest_admins<M: Model>(q: Query<M>, name: Column<M, String>, id: Column<M, i64>) -> Query<M> {
///     q.filter(name.like("admin%")).order_by(id.desc()).limit(10).offset(20)
/// }
/// ```
pub struct Query<M> {
    runner: Runner,
    clauses: Clauses,
    description: Option<String>,
    eager: Vec<Arc<dyn Eager<M>>>,
    joined: Option<Joined<M>>,
    /// Why the query cannot run (reported by its terminal method).
    error: Option<String>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Query<M> {
    fn clone(&self) -> Self {
        Query {
            runner: self.runner.clone(),
            clauses: self.clauses.clone(),
            description: self.description.clone(),
            eager: self.eager.clone(),
            joined: self.joined.clone(),
            error: self.error.clone(),
            _model: PhantomData,
        }
    }
}

impl<M: Model> fmt::Debug for Query<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("table", &M::table().name())
            .field("clauses", &self.clauses)
            .finish()
    }
}

impl<M: Model> Query<M> {
    pub(crate) fn from_runner(runner: Runner) -> Self {
        Query {
            runner,
            clauses: Clauses::default(),
            description: None,
            eager: M::default_eager(),
            joined: M::default_joined(),
            error: None,
            _model: PhantomData,
        }
    }

    /// A query on `source` without the model's default eager loading (what relationship
    /// loading runs, which would otherwise recurse).
    pub(crate) fn plain(runner: Runner) -> Self {
        let mut query = Query::from_runner(runner);
        query.eager.clear();
        query.joined = None;
        query
    }

    /// A query on the current context (what `M::query()` returns).
    pub(crate) fn current() -> Self {
        Query::from_runner(Runner::Current)
    }

    /// A query on an explicit database.
    pub(crate) fn on(db: Db) -> Self {
        Query::from_runner(Runner::Db(db))
    }

    /// A query through a session.
    pub(crate) fn in_session(session: Session) -> Self {
        Query::from_runner(Runner::Session(session))
    }

    /// Loads a relationship of the rows with the query: one extra `IN (...)` query per
    /// relationship, whatever the number of rows (`User::posts`, or
    /// `User::posts.then(Post::comments)` for two levels). `stream()` does not load it.
    pub fn eager(mut self, relation: impl Eager<M> + 'static) -> Self {
        self.eager.push(Arc::new(relation));
        self
    }

    /// Loads a relationship of the rows in the same statement, by a LEFT JOIN
    /// (`has_many`, `has_one` or `belongs_to`; a many-to-many loads with
    /// [`eager`](Query::eager)). A query joins one relationship: an earlier joined one
    /// (or the model's `lazy = "joined"` default) then loads by `eager`. A LIMIT or
    /// OFFSET limits the parents, not the joined rows. `stream()` does not load it.
    ///
    /// ```
    /// # use flaskdb_core::{Model, Query, Relation};
    /// fn with_posts<U: Model, P: Model + Clone>(q: Query<U>, posts: Relation<U, P>) -> Query<U> {
    ///     q.eager_joined(posts).limit(10)
    /// }
    /// ```
    pub fn eager_joined<C: Model + Clone>(mut self, relation: Relation<M, C>) -> Self {
        if let Some(Joined(earlier)) = self.joined.replace(Joined::new(relation)) {
            self.eager.push(earlier.as_eager());
        }
        self
    }

    /// Keeps the children of `parent` (the rows whose foreign key points at it), through
    /// the one relationship between the two models.
    pub fn with_parent<P, R>(self, parent: &P) -> Self
    where
        M: ChildOf<P, R>,
    {
        match M::child_filter(parent) {
            Ok(expr) => self.filter(expr),
            Err(e) => self.failing(e),
        }
    }

    /// Keeps the children of `parent` through the given relationship of the parent
    /// (`with_parent_via(&py, Category::posts)`), when the models have several.
    pub fn with_parent_via<P: Model>(self, parent: &P, relation: Relation<P, M>) -> Self
    where
        M: Clone,
    {
        match relation.children_of(parent) {
            Ok(expr) => self.filter(expr),
            Err(e) => self.failing(e),
        }
    }

    /// A query whose terminal method fails with `error`.
    fn failing(mut self, error: Error) -> Self {
        self.error.get_or_insert(error.to_string());
        self
    }

    /// Keeps the rows matching `condition` (AND-ed with earlier filters).
    pub fn filter(mut self, condition: Expr) -> Self {
        self.clauses.and_filter(condition.0);
        self
    }

    /// Keeps the rows whose `column` equals `value`: `.filter(column.eq(value))`.
    pub fn filter_by<T: ColumnType>(self, column: Column<M, T>, value: impl IntoField<T>) -> Self {
        self.filter(column.eq(value))
    }

    crate::sql::clause_methods!();

    /// Locks the selected rows until the transaction ends (`FOR UPDATE`). SQLite has no
    /// row locks (a writer locks the whole database), so there the clause is left out.
    pub fn for_update(mut self) -> Self {
        self.clauses.for_update = true;
        self
    }

    /// The description of the [`Error::NotFound`] that the `*_or_404` helpers return
    /// (Flask-SQLAlchemy's `description=`); without it, the standard 404 text is used.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    pub(crate) fn clauses(&self) -> &Clauses {
        &self.clauses
    }

    pub(crate) fn clauses_mut(&mut self) -> &mut Clauses {
        &mut self.clauses
    }

    /// Fetches models; through a session they enter its identity map. The eager
    /// relationships are loaded into them.
    async fn fetch_models(
        &self,
        target: &Target,
        r: Rendered<'_>,
        max: Option<usize>,
    ) -> Result<Vec<M>> {
        let mut rows = match &self.joined {
            Some(Joined(joined)) => {
                let mut rows = joined.fetch(&self.clauses, target).await?;
                rows.truncate(max.unwrap_or(usize::MAX));
                rows
            }
            None => target.fetch::<M>(r, max).await?,
        };
        if let Some(s) = &target.session {
            s.remember(&rows);
        }
        if !rows.is_empty() {
            for eager in &self.eager {
                eager.load(&mut rows, &self.runner).await?;
            }
        }
        Ok(rows)
    }

    fn is_plain(&self) -> bool {
        let c = &self.clauses;
        self.joined.is_none()
            && c.filter.is_none()
            && c.order_by.is_empty()
            && c.limit.is_none()
            && c.offset.is_none()
            && !c.distinct
            && !c.for_update
    }

    fn not_found(&self) -> Error {
        Error::not_found(self.description.as_deref())
    }

    /// Every matching row.
    ///
    /// # Errors
    /// [`Error::NoContext`] for `M::query()` outside any context; database errors.
    #[track_caller]
    pub fn all(self) -> impl Future<Output = Result<Vec<M>>> + Send {
        terminal::all(self)
    }

    /// The first matching row (the query with `LIMIT 1`), or `None`.
    ///
    /// # Errors
    /// As [`Query::all`].
    #[track_caller]
    pub fn first(self) -> impl Future<Output = Result<Option<M>>> + Send {
        terminal::first(self)
    }

    /// The one matching row.
    ///
    /// # Errors
    /// [`Error::NoResultFound`] when no row matches, [`Error::MultipleResultsFound`] when
    /// more than one does.
    #[track_caller]
    pub fn one(self) -> impl Future<Output = Result<M>> + Send {
        terminal::one(self)
    }

    /// The row with primary key `pk` (a tuple for a composite key), or `None`. Other
    /// filters of the query still apply.
    ///
    /// # Errors
    /// As [`Query::all`].
    #[track_caller]
    pub fn get(
        self,
        pk: impl Into<M::PrimaryKey>,
    ) -> impl Future<Output = Result<Option<M>>> + Send {
        let keys = pk.into().key_values();
        recording::at(Location::caller(), async move {
            let target = self.target()?;
            let backend = target.engine.backend();
            // A row the session already holds needs no statement.
            if let Some(session) = &target.session
                && self.is_plain()
                && let Some(found) = session.lookup::<M>(&keys)
            {
                return found.map(Some);
            }
            let table = M::table();
            let key_filter =
                |values: Vec<Value>| Node::key_eq(table.name(), table.primary_key(), values);
            if self.is_plain() {
                let sql = M::statement_cache().by_key(backend, || {
                    let mut q = self.clone();
                    q.clauses.and_filter(key_filter(keys.clone()));
                    Ok(q.render(Projection::AllColumns, backend)?.sql)
                })?;
                let rendered = Rendered::new(sql.to_owned(), keys);
                return Ok(self.fetch_models(&target, rendered, Some(1)).await?.pop());
            }
            let mut q = self;
            q.clauses.and_filter(key_filter(keys));
            let rendered = q.render(Projection::AllColumns, backend)?;
            Ok(q.fetch_models(&target, rendered, Some(1)).await?.pop())
        })
    }

    /// [`Query::get`], or [`Error::NotFound`] (HTTP 404) when there is no such row.
    ///
    /// # Errors
    /// [`Error::NotFound`] with the query's [`description`](Query::description).
    #[track_caller]
    pub fn get_or_404(
        self,
        pk: impl Into<M::PrimaryKey>,
    ) -> impl Future<Output = Result<M>> + Send {
        let not_found = self.not_found();
        let found = self.get(pk);
        async move { found.await?.ok_or(not_found) }
    }

    /// [`Query::first`], or [`Error::NotFound`] when no row matches.
    ///
    /// # Errors
    /// [`Error::NotFound`] with the query's [`description`](Query::description).
    #[track_caller]
    pub fn first_or_404(self) -> impl Future<Output = Result<M>> + Send {
        recording::at(Location::caller(), async move {
            let not_found = self.not_found();
            self.first().await?.ok_or(not_found)
        })
    }

    /// [`Query::one`], or [`Error::NotFound`] when no row or several rows match.
    ///
    /// # Errors
    /// [`Error::NotFound`] with the query's [`description`](Query::description).
    #[track_caller]
    pub fn one_or_404(self) -> impl Future<Output = Result<M>> + Send {
        recording::at(Location::caller(), async move {
            let not_found = self.not_found();
            match self.one().await {
                Err(Error::NoResultFound | Error::MultipleResultsFound) => Err(not_found),
                other => other,
            }
        })
    }

    /// The number of matching rows: a plain `COUNT(*)` (without ORDER BY), or a count
    /// over the query as a subquery when it has a limit, offset or DISTINCT.
    ///
    /// # Errors
    /// As [`Query::all`].
    #[track_caller]
    pub fn count(self) -> impl Future<Output = Result<u64>> + Send {
        terminal::count(self)
    }

    /// Whether any row matches.
    ///
    /// # Errors
    /// As [`Query::all`].
    #[track_caller]
    pub fn exists(mut self) -> impl Future<Output = Result<bool>> + Send {
        self.clauses.order_by.clear();
        terminal::exists(self)
    }

    /// One page of the matching rows, as Flask-SQLAlchemy's `paginate` (see
    /// [`PageRequest`] for the rules). Give the query an `order_by`, or pages may
    /// overlap.
    ///
    /// # Errors
    /// [`Error::NotFound`] with `error_out` for a page or per_page below 1 or an empty
    /// page past the first; database errors.
    #[track_caller]
    pub fn paginate(
        self,
        request: PageRequest,
    ) -> impl Future<Output = Result<Pagination<M>>> + Send {
        terminal::paginate(self, request)
    }

    /// The matching rows as a stream, decoded one at a time: memory stays constant
    /// whatever the number of rows. The stream holds one pool connection until it ends;
    /// it reads committed data (not a session's pending changes) and leaves the
    /// identity map alone.
    pub fn stream(self) -> BoxStream<'static, Result<M>> {
        terminal::stream(&self, Projection::AllColumns)
    }
}

impl<M: Model> Builder for Query<M> {
    type Row = M;

    fn clauses_mut(&mut self) -> &mut Clauses {
        &mut self.clauses
    }

    fn duplicate(&self) -> Self {
        self.clone()
    }

    fn target(&self) -> Result<Target> {
        if let Some(message) = &self.error {
            return Err(Error::InvalidQuery(message.clone().into()));
        }
        self.runner.resolve(M::table().bind_key())
    }

    fn render(&self, projection: Projection, backend: Backend) -> Result<Rendered<'static>> {
        sql::select(
            &SelectStmt {
                table: M::table(),
                projection,
                clauses: &self.clauses,
                exprs: &[],
            },
            backend,
        )
    }

    /// The models; a query without clauses takes its SQL from the model's statement
    /// cache.
    async fn rows(&self, max: Option<usize>) -> Result<Vec<M>> {
        let target = self.target()?;
        let backend = target.engine.backend();
        let rendered = if self.is_plain() {
            let sql = M::statement_cache().select_all(backend, || {
                Ok(self.render(Projection::AllColumns, backend)?.sql)
            })?;
            Rendered::new(sql.to_owned(), Vec::new())
        } else {
            self.render(Projection::AllColumns, backend)?
        };
        self.fetch_models(&target, rendered, max).await
    }
}

/// The bulk writes, for models that are not views.
impl<M: Writable> Query<M> {
    /// Updates every matching row in one UPDATE statement; returns the number of rows
    /// changed. Columns with an `onupdate` function that the assignments leave out are
    /// set from it. This bypasses the session: it is not a model change.
    ///
    /// A value its column cannot hold (see [`Error::InvalidValue`]) is an error before
    /// anything is sent.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] when the query has a limit, offset, order or DISTINCT;
    /// database errors.
    #[track_caller]
    pub fn update(self, assignments: impl Assignments) -> impl Future<Output = Result<u64>> + Send {
        let mut assignments = assignments.into_assignments();
        recording::at(Location::caller(), async move {
            self.clauses.check_bulk("update")?;
            if assignments.is_empty() {
                return Ok(0);
            }
            for column in M::table().columns() {
                if let Some(value) = column.update_value()
                    && !assignments.iter().any(|a| a.column == column.name())
                {
                    assignments.push(Assignment {
                        column: column.name().to_owned().into(),
                        value,
                    });
                }
            }
            let target = self.target()?;
            let backend = target.engine.backend();
            for a in &assignments {
                if let Some(column) = M::table().columns().iter().find(|c| c.name() == a.column) {
                    backend.check_value(M::table(), column, &a.value)?;
                }
            }
            terminal::update(
                &target,
                M::table(),
                assignments,
                self.clauses.filter.as_ref(),
            )
            .await
        })
    }

    /// Deletes every matching row in one DELETE statement; returns the number of rows
    /// deleted. This bypasses the session: it is not a model change.
    ///
    /// # Errors
    /// As [`Query::update`].
    #[track_caller]
    pub fn delete(self) -> impl Future<Output = Result<u64>> + Send {
        recording::at(Location::caller(), async move {
            self.clauses.check_bulk("delete")?;
            let target = self.target()?;
            terminal::delete(&target, M::table(), self.clauses.filter.as_ref()).await
        })
    }
}

/// Queries on a [`Db`].
impl Db {
    /// A query over model `M` bound to this database (on `M`'s bind).
    pub fn query<M: Model>(&self) -> Query<M> {
        Query::on(self.clone())
    }
}

/// Queries through a [`Session`].
impl Session {
    /// A query through this session: it sees the session's uncommitted changes
    /// (flushing them first when autoflush is on) and fills the identity map.
    pub fn query<M: Model>(&self) -> Query<M> {
        Query::in_session(self.clone())
    }
}
