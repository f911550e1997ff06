//! Query recording (Flask-SQLAlchemy's `get_recorded_queries`) and N+1 detection.
//!
//! With `Config::record_queries(true)`, every statement flaskdb runs inside a scope is
//! recorded in that scope: its SQL (with the driver's placeholders), its bound values,
//! when it started and ended, and the application code that ran it. The location is
//! captured with `#[track_caller]` on the synchronous method that builds each future
//! (`all`, `commit`, `create_all`, ...), so it names the caller's file and line. With
//! recording off, the cost is one branch per statement.
//!
//! Beyond Flask-SQLAlchemy: when one statement shape runs more often in a scope than
//! `Config::n_plus_one_threshold` (default 10), a `tracing` warning (target
//! `flaskdb::n_plus_one`) names the location and suggests loading the rows in one
//! query; [`recorded_query_summary`] groups a scope's statements by shape.

use std::collections::HashMap;
use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::Either;

use crate::value::Value;

/// One statement recorded in a scope.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryInfo {
    /// The SQL sent, with the driver's placeholders (`?` or `$1`).
    pub statement: String,
    /// The bound values, in placeholder order.
    pub parameters: Vec<Value>,
    /// When the statement was sent.
    pub start_time: Instant,
    /// When its result was read.
    pub end_time: Instant,
    /// `file:line` of the application code that ran it.
    pub location: String,
}

impl QueryInfo {
    /// `end_time - start_time`.
    pub fn duration(&self) -> Duration {
        self.end_time.saturating_duration_since(self.start_time)
    }
}

/// The statements of a scope that share one shape (the SQL with placeholder lists
/// collapsed), as [`recorded_query_summary`] groups them.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySummary {
    /// The shape: the SQL with `$n` written `?` and `?, ?, ..` lists collapsed to `?`.
    pub statement: String,
    /// How many times it ran.
    pub count: usize,
    /// Their total duration.
    pub total: Duration,
    /// The distinct locations that ran it, in first-seen order.
    pub locations: Vec<String>,
}

/// Where the statements of one scope are recorded: at most `limit`
/// (`Config::max_recorded_queries`) kept, the rest counted.
pub(crate) struct Recording {
    limit: usize,
    kept: Mutex<Kept>,
}

/// What a [`Recording`] holds.
#[derive(Default)]
struct Kept {
    queries: Vec<QueryInfo>,
    /// Statements run after `queries` was full.
    dropped: usize,
    /// How often each statement shape ran, for the N+1 warning (as many shapes as
    /// statements are kept).
    shapes: HashMap<String, usize>,
}

impl Recording {
    /// An empty recording that keeps at most `limit` statements.
    pub(crate) fn new(limit: usize) -> Arc<Recording> {
        Arc::new(Recording {
            limit,
            kept: Mutex::default(),
        })
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

tokio::task_local! {
    static CALLER: &'static Location<'static>;
    static CURRENT: Arc<Recording>;
}

/// Runs `fut` with `recording` as where its statements are recorded (the scope's).
pub(crate) fn within<F: Future>(
    recording: Arc<Recording>,
    fut: F,
) -> impl Future<Output = F::Output> {
    CURRENT.scope(recording, fut)
}

/// Records a statement where the current future records (nothing outside a scope), or
/// counts it once the recording holds its limit; warns once per shape when it has run
/// more than `threshold` times.
pub(crate) fn record(info: QueryInfo, threshold: usize) {
    let _ = CURRENT.try_with(|recording| {
        let limit = recording.limit;
        let mut kept = recording.kept();
        let shape = shape(&info.statement);
        let tracked = kept.shapes.len() < limit || kept.shapes.contains_key(&shape);
        let count = match tracked {
            true => {
                let count = kept.shapes.entry(shape).or_insert(0);
                *count += 1;
                *count
            }
            false => 0,
        };
        if count == threshold + 1 {
            tracing::warn!(
                target: "flaskdb::n_plus_one",
                location = %info.location,
                statement = %info.statement,
                "the same query ran more than {threshold} times in this scope (an N+1 \
                 pattern?): load the rows in one query, with eager loading or `in_`"
            );
        }
        if kept.queries.len() < limit {
            kept.queries.push(info);
            return;
        }
        if kept.dropped == 0 {
            tracing::warn!(
                target: "flaskdb::record",
                limit,
                "this scope has recorded {limit} statements (Config::max_recorded_queries): \
                 later ones are counted, not kept"
            );
        }
        kept.dropped += 1;
    });
}

/// Runs `fut` with `caller` as the location of the statements it runs, unless an outer
/// call already set one (the application's call site wins over flaskdb's own).
pub(crate) fn at<F: Future>(
    caller: &'static Location<'static>,
    fut: F,
) -> impl Future<Output = F::Output> {
    match CALLER.try_with(|_| ()) {
        Ok(()) => Either::Left(fut),
        Err(_) => Either::Right(CALLER.scope(caller, fut)),
    }
}

/// The location of the statement being run.
pub(crate) fn location() -> String {
    CALLER
        .try_with(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_else(|_| "<unknown>".to_owned())
}

/// The shape of a statement: placeholders written `?`, lists of them collapsed.
pub(crate) fn shape(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    while out.contains("?, ?") {
        out = out.replace("?, ?", "?");
    }
    while out.contains("(?), (?)") {
        out = out.replace("(?), (?)", "(?)");
    }
    out
}

/// The statements recorded in the current scope, in the order they ran (the first
/// `Config::max_recorded_queries` of them; see [`recorded_queries_dropped`]); empty
/// outside a scope or with recording off.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:").record_queries(true)).await?;
/// db.scope(async {
///     db.execute("SELECT 1", vec![]).await?;
///     let queries = flaskdb_core::get_recorded_queries();
///     assert_eq!(queries[0].statement, "SELECT 1");
///     assert!(queries[0].location.ends_with(&format!(":{}", line!() - 3)));
///     Ok::<_, flaskdb_core::Error>(())
/// }).await?;
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub fn get_recorded_queries() -> Vec<QueryInfo> {
    CURRENT
        .try_with(|recording| recording.kept().queries.clone())
        .unwrap_or_default()
}

/// How many statements the current scope ran that its recording did not keep: those
/// past `Config::max_recorded_queries` (default 10,000), which bounds what a long
/// scope holds. 0 outside a scope or with recording off.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let config = Config::new("sqlite::memory:").record_queries(true).max_recorded_queries(2);
/// let db = Db::connect(config).await?;
/// db.scope(async {
///     for _ in 0..5 {
///         db.execute("SELECT 1", vec![]).await?;
///     }
///     assert_eq!(flaskdb_core::get_recorded_queries().len(), 2);
///     assert_eq!(flaskdb_core::recorded_queries_dropped(), 3);
///     Ok::<_, flaskdb_core::Error>(())
/// }).await?;
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
pub fn recorded_queries_dropped() -> usize {
    CURRENT
        .try_with(|recording| recording.kept().dropped)
        .unwrap_or_default()
}

/// The current scope's recorded statements grouped by shape, most frequent first.
///
/// ```
/// let summary = flaskdb_core::recorded_query_summary();
/// assert!(summary.is_empty()); // outside a scope
/// ```
pub fn recorded_query_summary() -> Vec<QuerySummary> {
    summarize(&get_recorded_queries())
}

pub(crate) fn summarize(queries: &[QueryInfo]) -> Vec<QuerySummary> {
    let mut out: Vec<QuerySummary> = Vec::new();
    for q in queries {
        let statement = shape(&q.statement);
        match out.iter_mut().find(|s| s.statement == statement) {
            Some(s) => {
                s.count += 1;
                s.total += q.duration();
                if !s.locations.contains(&q.location) {
                    s.locations.push(q.location.clone());
                }
            }
            None => out.push(QuerySummary {
                statement,
                count: 1,
                total: q.duration(),
                locations: vec![q.location.clone()],
            }),
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.count));
    out
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shapes_collapse_placeholder_lists() {
        assert_eq!(
            shape("SELECT a FROM t WHERE id IN ($1, $2, $3)"),
            "SELECT a FROM t WHERE id IN (?)"
        );
        assert_eq!(
            shape("INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"),
            "INSERT INTO t (a, b) VALUES (?)"
        );
        assert_eq!(
            shape("SELECT '$x' FROM t WHERE a = $10"),
            "SELECT '$x' FROM t WHERE a = ?"
        );
    }
}
