//! The terminal methods the three SELECT builders share — [`Query`](crate::Query),
//! [`Select`](crate::Select) and the by-name [`RowQuery`](crate::RowQuery) — each
//! written once here over what a builder supplies ([`Builder`]): where its statement
//! runs, how it renders, and how its rows are read.
//!
//! The builders' public methods stay inherent (rustdoc shows each on its builder, and
//! no trait has to be imported) and delegate here; they are `#[track_caller]`, as are
//! these functions, so a recorded statement names the application's call site.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;

use crate::backend::Backend;
use crate::driver::{executor, recording};
use crate::error::{Error, Result};
use crate::model::{FromRow, Scalar};
use crate::query::pagination::{PageRequest, PageSource, Pagination};
use crate::runtime::target::Target;
use crate::schema::Table;
use crate::sql::expr::{Assignment, Node};
use crate::sql::{self, Clauses, DeleteStmt, Projection, Rendered, UpdateStmt};

/// What a SELECT builder supplies to the shared terminal methods.
pub(crate) trait Builder: Sized + Send + Sync + 'static {
    /// What one row is read as.
    type Row: Send + 'static;

    /// The builder's clauses (`first` and `exists` set the limit, pages the window).
    fn clauses_mut(&mut self) -> &mut Clauses;

    /// A copy of the builder, for the windows and counts of pages.
    fn duplicate(&self) -> Self;

    /// Where the statement runs, or why the builder cannot run.
    fn target(&self) -> Result<Target>;

    /// The SELECT with `projection`, for `backend`.
    fn render(&self, projection: Projection, backend: Backend) -> Result<Rendered<'static>>;

    /// Runs the SELECT of the rows and reads up to `max` of them (all for `None`).
    fn rows(&self, max: Option<usize>) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;

    /// The target and the SELECT with `projection` for its backend.
    fn statement(&self, projection: Projection) -> Result<(Target, Rendered<'static>)> {
        let target = self.target()?;
        let rendered = self.render(projection, target.engine.backend())?;
        Ok((target, rendered))
    }
}

/// Every row.
#[track_caller]
pub(crate) fn all<B: Builder>(builder: B) -> impl Future<Output = Result<Vec<B::Row>>> + Send {
    recording::at(Location::caller(), async move { builder.rows(None).await })
}

/// The first row (the statement with `LIMIT 1`), or `None`.
#[track_caller]
pub(crate) fn first<B: Builder>(
    mut builder: B,
) -> impl Future<Output = Result<Option<B::Row>>> + Send {
    builder.clauses_mut().limit = Some(1);
    recording::at(Location::caller(), async move {
        Ok(builder.rows(Some(1)).await?.pop())
    })
}

/// The one row: [`Error::NoResultFound`] for none, [`Error::MultipleResultsFound`] for
/// more (two rows are read at the most).
#[track_caller]
pub(crate) fn one<B: Builder>(builder: B) -> impl Future<Output = Result<B::Row>> + Send {
    recording::at(Location::caller(), async move {
        let mut rows = builder.rows(Some(2)).await?;
        match (rows.pop(), rows.is_empty()) {
            (Some(row), true) => Ok(row),
            (Some(_), false) => Err(Error::MultipleResultsFound),
            (None, _) => Err(Error::NoResultFound),
        }
    })
}

/// The number of rows: the statement as `SELECT COUNT(*)` (see [`Projection::Count`]).
#[track_caller]
pub(crate) fn count<B: Builder>(builder: B) -> impl Future<Output = Result<u64>> + Send {
    recording::at(Location::caller(), async move {
        let (target, rendered) = builder.statement(Projection::Count)?;
        let rows = target.fetch::<Scalar<i64>>(rendered, Some(1)).await?;
        Ok(rows.first().map_or(0, |s| u64::try_from(s.0).unwrap_or(0)))
    })
}

/// Whether any row matches: `SELECT 1 .. LIMIT 1`.
#[track_caller]
pub(crate) fn exists<B: Builder>(mut builder: B) -> impl Future<Output = Result<bool>> + Send {
    builder.clauses_mut().limit = Some(1);
    recording::at(Location::caller(), async move {
        let (target, rendered) = builder.statement(Projection::One)?;
        let rows = target.fetch::<Scalar<i32>>(rendered, Some(1)).await?;
        Ok(!rows.is_empty())
    })
}

/// One page of the rows, keeping the builder behind it for `next()` and `prev()`.
#[track_caller]
pub(crate) fn paginate<B: Builder>(
    builder: B,
    request: PageRequest,
) -> impl Future<Output = Result<Pagination<B::Row>>> + Send
where
    B::Row: Sync,
{
    recording::at(Location::caller(), async move {
        Pagination::fetch(Arc::new(builder), request).await
    })
}

/// One page of the rows, with no builder behind it (`next()` and `prev()` report that).
#[track_caller]
pub(crate) fn paginate_detached<B: Builder>(
    builder: B,
    request: PageRequest,
) -> impl Future<Output = Result<Pagination<B::Row>>> + Send {
    recording::at(Location::caller(), async move {
        Pagination::cut(&builder, request).await
    })
}

/// The rows as a stream, read one at a time as `T` from the SELECT with `projection`.
pub(crate) fn stream<B: Builder, T: FromRow + Send + 'static>(
    builder: &B,
    projection: Projection,
) -> BoxStream<'static, Result<T>> {
    match builder.statement(projection) {
        Ok((target, rendered)) => executor::stream(target.engine, rendered),
        Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
    }
}

/// Every builder cuts pages: a window is a copy with a limit and offset.
impl<B: Builder> PageSource<B::Row> for B {
    fn window(&self, limit: u64, offset: u64) -> BoxFuture<'_, Result<Vec<B::Row>>> {
        let mut window = self.duplicate();
        let clauses = window.clauses_mut();
        clauses.limit = Some(limit);
        clauses.offset = Some(offset);
        Box::pin(async move { window.rows(None).await })
    }

    fn count(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(count(self.duplicate()))
    }
}

/// Runs the bulk UPDATE of `table`'s rows matching `filter`; the rows changed.
pub(crate) async fn update(
    target: &Target,
    table: &Table,
    assignments: Vec<Assignment>,
    filter: Option<&Node>,
) -> Result<u64> {
    let rendered = sql::update(
        &UpdateStmt {
            table,
            assignments,
            filter,
        },
        target.engine.backend(),
    )?;
    target.execute(rendered).await
}

/// Runs the bulk DELETE of `table`'s rows matching `filter`; the rows deleted.
pub(crate) async fn delete(target: &Target, table: &Table, filter: Option<&Node>) -> Result<u64> {
    let rendered = sql::delete(&DeleteStmt { table, filter }, target.engine.backend())?;
    target.execute(rendered).await
}
