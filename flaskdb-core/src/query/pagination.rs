//! Pagination exactly as Flask-SQLAlchemy 3.1 does it, and keyset pagination beside it.
//!
//! [`PageRequest`] resolves the page arguments (defaults page 1 and 20 per page,
//! `per_page` capped at `max_per_page` before anything else, and with `error_out` a page
//! or per_page below 1, or an empty page other than page 1, is [`Error::NotFound`];
//! without it page falls back to 1 and per_page to 20). [`Pagination`] holds one page
//! and does the arithmetic (`pages`, `has_next`, `iter_pages`, ...) as Flask-SQLAlchemy's
//! `Pagination` class does, quirks included:
//!
//! - `has_prev` is true for any page above 1, even one past the last page;
//! - `count(false)` leaves `total` as `None`, so `pages()` is 0 and `has_next()` false;
//! - `next()` keeps `max_per_page`, but `prev()` does not: like Flask-SQLAlchemy's, it
//!   falls back to a cap of 100;
//! - `iter_pages` with a zero edge can start or end with a gap, and on a page past the
//!   last one yields `[1, 2, None]`.
//!
//! The one deliberate difference: the default `max_per_page` is the documented 100,
//! where Flask-SQLAlchemy's `paginate` passes no cap at all.

use std::future::Future;
use std::panic::Location;

use crate::driver::recording;
use std::fmt;

use std::sync::Arc;

use futures_core::future::BoxFuture;

use crate::error::{Error, Result};

/// The cap on `per_page` unless one is set: [`PageRequest`]'s default `max_per_page`,
/// also the cap of keyset pages.
pub(crate) const DEFAULT_MAX_PER_PAGE: u64 = 100;

/// The arguments of a page: which page, how many items, and the rules that apply.
///
/// ```
/// use flaskdb_core::PageRequest;
/// let r = PageRequest::new(Some(2), Some(500));        // page 2, 500 asked for
/// assert_eq!(r.resolve().unwrap(), (2, 100));          // capped at max_per_page 100
/// let r = PageRequest::new(Some(0), None).error_out(false);
/// assert_eq!(r.resolve().unwrap(), (1, 20));           // without error_out, page 0 is 1
/// assert!(PageRequest::new(Some(0), None).resolve().unwrap_err().is_not_found());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: Option<i64>,
    per_page: Option<i64>,
    max_per_page: Option<u64>,
    error_out: bool,
    count: bool,
}

impl Default for PageRequest {
    /// Page 1, 20 per page, at most 100 per page, `error_out` and `count` on.
    fn default() -> Self {
        PageRequest {
            page: None,
            per_page: None,
            max_per_page: Some(DEFAULT_MAX_PER_PAGE),
            error_out: true,
            count: true,
        }
    }
}

impl PageRequest {
    /// A request for `page` with `per_page` items (`None`: page 1, 20 per page). Signed,
    /// because user input can be 0 or negative, which has defined meaning.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        PageRequest {
            page,
            per_page,
            ..PageRequest::default()
        }
    }

    /// The cap on `per_page` (`None`: no cap).
    pub fn max_per_page(mut self, max: Option<u64>) -> Self {
        self.max_per_page = max;
        self
    }

    /// Whether bad page arguments and empty pages past the first are
    /// [`Error::NotFound`] (default) or corrected.
    pub fn error_out(mut self, on: bool) -> Self {
        self.error_out = on;
        self
    }

    /// Whether the total is counted (default); without it `total` is `None`.
    pub fn count(mut self, on: bool) -> Self {
        self.count = on;
        self
    }

    /// With `error_out`, an empty page other than the first is [`Error::NotFound`].
    pub(crate) fn check_page(&self, page: u64, empty: bool) -> Result<()> {
        match empty && page != 1 && self.error_out {
            true => Err(Error::not_found(None)),
            false => Ok(()),
        }
    }

    /// The page and per_page after Flask-SQLAlchemy's rules.
    ///
    /// # Errors
    /// [`Error::NotFound`] with `error_out` when the page or per_page is below 1.
    pub fn resolve(&self) -> Result<(u64, u64)> {
        let mut page = self.page.unwrap_or(1);
        let mut per_page = self.per_page.unwrap_or(20);
        if let Some(max) = self.max_per_page {
            per_page = per_page.min(i64::try_from(max).unwrap_or(i64::MAX));
        }
        if page < 1 {
            if self.error_out {
                return Err(Error::not_found(None));
            }
            page = 1;
        }
        if per_page < 1 {
            if self.error_out {
                return Err(Error::not_found(None));
            }
            per_page = 20;
        }
        Ok((page.unsigned_abs(), per_page.unsigned_abs()))
    }
}

/// The four widths of [`Pagination::iter_pages_with`]: how many page numbers to show at
/// each edge and around the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IterPages {
    /// Pages shown from the first (default 2).
    pub left_edge: u64,
    /// Pages shown before the current one (default 2).
    pub left_current: u64,
    /// Pages shown after the current one, the current page included (default 4).
    pub right_current: u64,
    /// Pages shown up to the last (default 2).
    pub right_edge: u64,
}

impl Default for IterPages {
    fn default() -> Self {
        IterPages {
            left_edge: 2,
            left_current: 2,
            right_current: 4,
            right_edge: 2,
        }
    }
}

/// One page of results, with Flask-SQLAlchemy's page arithmetic.
///
/// ```
/// use flaskdb_core::Pagination;
/// let p = Pagination::from_parts(7, 10, Some(200), (61..=70).collect::<Vec<u32>>());
/// assert_eq!((p.pages(), p.first(), p.last()), (20, 61, 70));
/// assert_eq!((p.prev_num(), p.next_num()), (Some(6), Some(8)));
/// let widget: Vec<Option<u64>> = p.iter_pages().collect();
/// assert_eq!(widget, [Some(1), Some(2), None, Some(5), Some(6), Some(7), Some(8), Some(9),
///                     Some(10), Some(11), None, Some(19), Some(20)]);
/// ```
pub struct Pagination<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: u64,
    /// The items per page.
    pub per_page: u64,
    /// The cap on `per_page` this page was made with.
    pub max_per_page: Option<u64>,
    /// The number of items on every page, or `None` when not counted.
    pub total: Option<u64>,
    query: Option<Arc<dyn PageSource<T>>>,
}

/// What pages are cut from: a query that fetches a window of its rows and counts them
/// ([`Query`](crate::Query) of a model, or of a table by name).
pub(crate) trait PageSource<T>: Send + Sync {
    /// The rows from `offset`, at most `limit` of them.
    fn window(&self, limit: u64, offset: u64) -> BoxFuture<'_, Result<Vec<T>>>;
    /// The number of rows on every page.
    fn count(&self) -> BoxFuture<'_, Result<u64>>;
}

impl<T: fmt::Debug> fmt::Debug for Pagination<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pagination")
            .field("page", &self.page)
            .field("per_page", &self.per_page)
            .field("total", &self.total)
            .field("items", &self.items)
            .finish()
    }
}

impl<T> Pagination<T> {
    /// A page made by hand (no query behind it: `next()` and `prev()` return
    /// [`Error::InvalidQuery`]).
    pub fn from_parts(page: u64, per_page: u64, total: Option<u64>, items: Vec<T>) -> Self {
        Pagination {
            items,
            page,
            per_page,
            max_per_page: None,
            total,
            query: None,
        }
    }

    /// The number of pages: 0 when `total` is 0 or unknown.
    pub fn pages(&self) -> u64 {
        match self.total {
            None | Some(0) => 0,
            Some(total) => total.div_ceil(self.per_page.max(1)),
        }
    }

    /// Whether there is a page before this one (`page > 1`).
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    /// Whether there is a page after this one (`page < pages()`).
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// The previous page number, if any.
    pub fn prev_num(&self) -> Option<u64> {
        self.has_prev().then(|| self.page - 1)
    }

    /// The next page number, if any.
    pub fn next_num(&self) -> Option<u64> {
        self.has_next().then(|| self.page + 1)
    }

    /// The 1-based number of this page's first item overall; 0 when the page is empty.
    pub fn first(&self) -> u64 {
        if self.items.is_empty() {
            0
        } else {
            // Saturating: the fields are public, and a page made by hand may be 0 or
            // past any real row count.
            self.page
                .saturating_sub(1)
                .saturating_mul(self.per_page)
                .saturating_add(1)
        }
    }

    /// The 1-based number of this page's last item overall; 0 when the page is empty.
    pub fn last(&self) -> u64 {
        let first = self.first();
        first.max(
            first
                .saturating_add(self.items.len() as u64)
                .saturating_sub(1),
        )
    }

    /// The page numbers for a page widget, `None` marking a gap, with the default widths
    /// (2 at each edge, 2 before the current page, 4 after).
    pub fn iter_pages(&self) -> impl Iterator<Item = Option<u64>> + use<T> {
        self.iter_pages_with(IterPages::default())
    }

    /// [`Pagination::iter_pages`] with other widths.
    pub fn iter_pages_with(&self, widths: IterPages) -> impl Iterator<Item = Option<u64>> + use<T> {
        page_numbers(self.page, self.pages(), widths).into_iter()
    }

    /// Iterates the items by reference.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
}

/// Flask-SQLAlchemy's `iter_pages`, step by step. The arithmetic saturates: no page,
/// page count or width makes it overflow.
fn page_numbers(page: u64, pages: u64, w: IterPages) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    if pages == 0 {
        return out;
    }
    let end = pages.saturating_add(1);
    let left_end = w.left_edge.saturating_add(1).min(end);
    out.extend((1..left_end).map(Some));
    if left_end == end {
        return out;
    }
    let mid_start = left_end.max(page.saturating_sub(w.left_current));
    let mid_end = page
        .saturating_add(w.right_current)
        .saturating_add(1)
        .min(end);
    if mid_start > left_end {
        out.push(None);
    }
    out.extend((mid_start..mid_end).map(Some));
    if mid_end == end {
        return out;
    }
    let right_start = mid_end.max(end.saturating_sub(w.right_edge));
    if right_start > mid_end {
        out.push(None);
    }
    out.extend((right_start..end).map(Some));
    out
}

impl<T> IntoIterator for Pagination<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Pagination<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: Send + 'static> Pagination<T> {
    /// Runs `query` for the page `request` asks for: the items with LIMIT and OFFSET,
    /// the 404 for an empty page past the first (decided before any count), then the
    /// total with a `COUNT(*)` without ORDER BY. The page keeps no query behind it.
    pub(crate) async fn cut<Q>(query: &Q, request: PageRequest) -> Result<Self>
    where
        Q: PageSource<T> + ?Sized,
    {
        let (page, per_page) = request.resolve()?;
        let items = query
            .window(per_page, (page - 1).saturating_mul(per_page))
            .await?;
        request.check_page(page, items.is_empty())?;
        let total = match request.count {
            true => Some(query.count().await?),
            false => None,
        };
        Ok(Pagination {
            items,
            page,
            per_page,
            max_per_page: request.max_per_page,
            total,
            query: None,
        })
    }
}

impl<T: Send + Sync + 'static> Pagination<T> {
    /// [`Pagination::cut`], keeping `query` behind the page for `next()` and `prev()`.
    pub(crate) async fn fetch(query: Arc<dyn PageSource<T>>, request: PageRequest) -> Result<Self> {
        let mut page = Pagination::cut(&*query, request).await?;
        page.query = Some(query);
        Ok(page)
    }

    async fn sibling(&self, page: i64, max_per_page: Option<u64>, error_out: bool) -> Result<Self> {
        let query = self.query.clone().ok_or(Error::InvalidQuery(
            "this page was made with from_parts: it has no query to fetch another page".into(),
        ))?;
        let per_page = i64::try_from(self.per_page).unwrap_or(i64::MAX);
        let request = PageRequest::new(Some(page), Some(per_page))
            .max_per_page(max_per_page)
            .error_out(error_out)
            .count(false);
        let mut next = Pagination::fetch(query, request).await?;
        next.total = self.total;
        Ok(next)
    }

    /// The next page, fetched with the same query and per_page (and `max_per_page`),
    /// keeping this page's `total` without counting again. Past the last page it is
    /// an empty page.
    ///
    /// # Errors
    /// Database errors; [`Error::InvalidQuery`] for a page made with `from_parts`.
    #[track_caller]
    pub fn next(&self) -> impl Future<Output = Result<Self>> + Send {
        recording::at(Location::caller(), async move {
            self.sibling(self.next_page(), self.max_per_page, false)
                .await
        })
    }

    /// [`Pagination::next`] with `error_out`: past the last page is [`Error::NotFound`].
    ///
    /// # Errors
    /// As [`Pagination::next`], and [`Error::NotFound`].
    #[track_caller]
    pub fn next_or_404(&self) -> impl Future<Output = Result<Self>> + Send {
        recording::at(Location::caller(), async move {
            self.sibling(self.next_page(), self.max_per_page, true)
                .await
        })
    }

    /// The number of the page after this one, as a request gives it.
    fn next_page(&self) -> i64 {
        i64::try_from(self.page)
            .unwrap_or(i64::MAX)
            .saturating_add(1)
    }

    /// The previous page (page 1 from page 1), keeping `total`. As in Flask-SQLAlchemy,
    /// it does not carry `max_per_page` over: the cap is the default 100.
    ///
    /// # Errors
    /// As [`Pagination::next`].
    #[track_caller]
    pub fn prev(&self) -> impl Future<Output = Result<Self>> + Send {
        recording::at(Location::caller(), async move {
            let page = i64::try_from(self.page).unwrap_or(i64::MAX) - 1;
            self.sibling(page, PageRequest::default().max_per_page, false)
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flask-SQLAlchemy's `RangePagination(total=150, page=1, per_page=10)`: the page of
    /// `range(total)` with per_page + 1 items, as its `_query_items` returns.
    fn range(total: Option<u64>, page: u64, per_page: u64) -> Pagination<u64> {
        let all = total.unwrap_or(150);
        let start = (page - 1) * per_page;
        let items = (start..(start + per_page + 1).min(all)).collect();
        Pagination::from_parts(page, per_page, total, items)
    }

    fn widget(p: &Pagination<u64>) -> Vec<Option<u64>> {
        p.iter_pages().collect()
    }

    #[test]
    fn first_page() {
        let p = range(Some(150), 1, 10);
        assert_eq!(
            (p.page, p.per_page, p.total, p.pages()),
            (1, 10, Some(150), 15)
        );
        assert!(!p.has_prev() && p.prev_num().is_none());
        assert!(p.has_next() && p.next_num() == Some(2));
    }

    #[test]
    fn last_page() {
        let p = range(Some(150), 15, 10);
        assert!(p.has_prev() && p.prev_num() == Some(14));
        assert!(!p.has_next() && p.next_num().is_none());
    }

    #[test]
    fn item_numbers() {
        let mut p = range(Some(150), 1, 10);
        p.items = (0..10).collect();
        assert_eq!((p.first(), p.last()), (1, 10));
        let mut p = range(Some(150), 15, 10);
        p.items = (0..5).collect();
        assert_eq!((p.first(), p.last()), (141, 145));
        let p = range(Some(0), 1, 10);
        assert_eq!((p.first(), p.last()), (0, 0));
    }

    #[test]
    fn zero_pages() {
        for total in [Some(0), None] {
            let p = range(total, 1, 10);
            assert_eq!(p.pages(), 0);
            assert!(!p.has_prev() && !p.has_next());
        }
        assert!(widget(&range(Some(0), 1, 10)).is_empty());
    }

    #[test]
    fn iter_pages_short() {
        for page in 1..=4 {
            let p = range(Some(40), page, 10);
            assert_eq!(widget(&p), [Some(1), Some(2), Some(3), Some(4)]);
        }
    }

    #[test]
    fn iter_pages_of_fifteen() {
        let n = None;
        let s = Some;
        let expected: [(u64, Vec<Option<u64>>); 15] = [
            (1, vec![s(1), s(2), s(3), s(4), s(5), n, s(14), s(15)]),
            (2, vec![s(1), s(2), s(3), s(4), s(5), s(6), n, s(14), s(15)]),
            (
                3,
                vec![s(1), s(2), s(3), s(4), s(5), s(6), s(7), n, s(14), s(15)],
            ),
            (
                4,
                vec![
                    s(1),
                    s(2),
                    s(3),
                    s(4),
                    s(5),
                    s(6),
                    s(7),
                    s(8),
                    n,
                    s(14),
                    s(15),
                ],
            ),
            (
                5,
                vec![
                    s(1),
                    s(2),
                    s(3),
                    s(4),
                    s(5),
                    s(6),
                    s(7),
                    s(8),
                    s(9),
                    n,
                    s(14),
                    s(15),
                ],
            ),
            (
                6,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(4),
                    s(5),
                    s(6),
                    s(7),
                    s(8),
                    s(9),
                    s(10),
                    n,
                    s(14),
                    s(15),
                ],
            ),
            (
                7,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(5),
                    s(6),
                    s(7),
                    s(8),
                    s(9),
                    s(10),
                    s(11),
                    n,
                    s(14),
                    s(15),
                ],
            ),
            (
                8,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(6),
                    s(7),
                    s(8),
                    s(9),
                    s(10),
                    s(11),
                    s(12),
                    n,
                    s(14),
                    s(15),
                ],
            ),
            (
                9,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(7),
                    s(8),
                    s(9),
                    s(10),
                    s(11),
                    s(12),
                    s(13),
                    s(14),
                    s(15),
                ],
            ),
            (
                10,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(8),
                    s(9),
                    s(10),
                    s(11),
                    s(12),
                    s(13),
                    s(14),
                    s(15),
                ],
            ),
            (
                11,
                vec![
                    s(1),
                    s(2),
                    n,
                    s(9),
                    s(10),
                    s(11),
                    s(12),
                    s(13),
                    s(14),
                    s(15),
                ],
            ),
            (
                12,
                vec![s(1), s(2), n, s(10), s(11), s(12), s(13), s(14), s(15)],
            ),
            (13, vec![s(1), s(2), n, s(11), s(12), s(13), s(14), s(15)]),
            (14, vec![s(1), s(2), n, s(12), s(13), s(14), s(15)]),
            (15, vec![s(1), s(2), n, s(13), s(14), s(15)]),
        ];
        for (page, pages) in expected {
            assert_eq!(widget(&range(Some(150), page, 10)), pages, "page {page}");
        }
    }

    #[test]
    fn iter_pages_quirks() {
        // Past the last page.
        assert_eq!(widget(&range(Some(150), 20, 10)), [Some(1), Some(2), None]);
        // Zero edges give a leading and a trailing gap.
        let p = range(Some(150), 7, 10);
        let none = IterPages {
            left_edge: 0,
            left_current: 1,
            right_current: 2,
            right_edge: 0,
        };
        let pages: Vec<_> = p.iter_pages_with(none).collect();
        assert_eq!(pages, [None, Some(6), Some(7), Some(8), Some(9), None]);
    }

    #[test]
    fn extreme_pages_saturate_instead_of_overflowing() {
        // A page 0 made by hand, and pages, sizes and totals at the edge of u64.
        let zero = Pagination::from_parts(0, 10, Some(5), vec!['a']);
        assert_eq!((zero.first(), zero.last()), (1, 1));
        let max = Pagination::from_parts(u64::MAX, u64::MAX, Some(u64::MAX), vec!['a', 'b']);
        assert_eq!((max.first(), max.last()), (u64::MAX, u64::MAX));
        assert_eq!(max.iter_pages().next(), Some(Some(1)));
        let every = Pagination::from_parts(u64::MAX - 1, 1, Some(u64::MAX), vec!['a']);
        let widget: Vec<_> = every.iter_pages().collect();
        assert_eq!(widget[..3], [Some(1), Some(2), None]);
        let wide = IterPages {
            left_edge: u64::MAX,
            left_current: u64::MAX,
            right_current: u64::MAX,
            right_edge: u64::MAX,
        };
        assert_eq!(range(Some(150), 3, 10).iter_pages_with(wide).count(), 15);
    }

    #[test]
    fn page_request_rules() {
        let r = |page, per_page| PageRequest::new(page, per_page);
        assert_eq!(r(None, None).resolve().unwrap(), (1, 20));
        assert_eq!(r(Some(3), Some(7)).resolve().unwrap(), (3, 7));
        assert_eq!(
            r(None, Some(100)).max_per_page(Some(50)).resolve().unwrap(),
            (1, 50)
        );
        assert_eq!(
            r(None, Some(1000)).max_per_page(None).resolve().unwrap(),
            (1, 1000)
        );
        for (page, per_page) in [(Some(0), None), (None, Some(-1)), (Some(-5), Some(0))] {
            assert!(r(page, per_page).resolve().unwrap_err().is_not_found());
        }
        let lenient = |page, per_page| r(page, per_page).error_out(false).resolve().unwrap();
        assert_eq!(lenient(Some(0), Some(-1)), (1, 20));
        // The cap applies first, so a cap of 0 ends in the fallback of 20.
        assert_eq!(
            r(None, Some(5))
                .max_per_page(Some(0))
                .error_out(false)
                .resolve()
                .unwrap(),
            (1, 20)
        );
    }
}

/// With feature `serde`: `items`, `page`, `per_page`, `total`, `pages`, `has_next`,
/// `has_prev`, `next_num` and `prev_num`.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for Pagination<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Pagination", 9)?;
        s.serialize_field("items", &self.items)?;
        s.serialize_field("page", &self.page)?;
        s.serialize_field("per_page", &self.per_page)?;
        s.serialize_field("total", &self.total)?;
        s.serialize_field("pages", &self.pages())?;
        s.serialize_field("has_next", &self.has_next())?;
        s.serialize_field("has_prev", &self.has_prev())?;
        s.serialize_field("next_num", &self.next_num())?;
        s.serialize_field("prev_num", &self.prev_num())?;
        s.end()
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use super::Pagination;

    #[test]
    fn serializes_with_the_derived_fields() {
        let p = Pagination::from_parts(2, 2, Some(5), vec!["c", "d"]);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({
                "items": ["c", "d"], "page": 2, "per_page": 2, "total": 5, "pages": 3,
                "has_next": true, "has_prev": true, "next_num": 3, "prev_num": 1
            })
        );
    }
}
