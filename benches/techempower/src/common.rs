//! What both servers share: the request parameters, the random numbers, the rows'
//! JSON shape and the fortunes page, so that the two sides differ only in how they
//! reach the database.

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};

use serde::Serialize;

/// The number of rows of `te_world`.
pub(crate) const WORLD_ROWS: i32 = 10_000;

/// The fortune every `/fortunes` response adds in memory.
pub(crate) const EXTRA_FORTUNE: &str = "Additional fortune added at request time.";

/// One row of `te_world` as both servers answer it: `{"id":..,"randomNumber":..}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub(crate) struct WorldRow {
    /// The key, 1..=10,000.
    pub(crate) id: i32,
    /// The value, 1..=10,000.
    #[serde(rename = "randomNumber")]
    pub(crate) randomnumber: i32,
}

/// One row of `te_fortune`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct FortuneRow {
    /// The key.
    pub(crate) id: i32,
    /// The text, shown escaped.
    pub(crate) message: String,
}

thread_local! {
    /// A xorshift state per thread, seeded from the process's hash keys.
    static RNG: Cell<u64> = Cell::new(RandomState::new().hash_one(0u64) | 1);
}

/// A random number in 1..=10,000 (an id, or a new `randomNumber`).
pub(crate) fn random_id() -> i32 {
    RNG.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        // Below 10,000: the cast cannot truncate.
        (x % WORLD_ROWS as u64) as i32 + 1
    })
}

/// `?queries=` as TechEmpower reads it: missing or not an integer is 1, and the count
/// is clamped to 1..=500.
pub(crate) fn query_count(query: Option<&str>) -> usize {
    let value = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("queries="))
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1);
    // Clamped to 1..=500: the cast cannot truncate.
    value.clamp(1, 500) as usize
}

/// The fortunes page: TechEmpower's template, rendered by minijinja (autoescaped,
/// the template's name ends in `.html`).
const FORTUNES_TEMPLATE: &str = "<!DOCTYPE html><html><head><title>Fortunes</title></head>\
<body><table><tr><th>id</th><th>message</th></tr>\
{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endfor %}\
</table></body></html>";

/// The template environment both servers render fortunes with.
pub(crate) fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_template("fortunes.html", FORTUNES_TEMPLATE)
        .expect("the fortunes template parses");
    env
}

/// Adds the request-time fortune, sorts by message and renders the page.
pub(crate) fn render_fortunes(
    env: &minijinja::Environment<'static>,
    mut fortunes: Vec<(i32, String)>,
) -> Result<String, minijinja::Error> {
    fortunes.push((0, EXTRA_FORTUNE.to_owned()));
    fortunes.sort_by(|a, b| a.1.cmp(&b.1));
    env.get_template("fortunes.html")?
        .render(minijinja::context! { fortunes => fortunes })
}

/// Counts a server's failed requests and logs the first ones (and every 1,000th after)
/// on standard error, which the driver keeps in a log file.
pub(crate) fn log_failure(side: &str, error: &dyn std::fmt::Display) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FAILURES: AtomicU64 = AtomicU64::new(0);
    let n = FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
    if n <= 20 || n.is_multiple_of(1000) {
        eprintln!("{side}: request failed ({n} so far): {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_clamped() {
        assert_eq!(query_count(None), 1);
        assert_eq!(query_count(Some("queries=")), 1);
        assert_eq!(query_count(Some("queries=foo")), 1);
        assert_eq!(query_count(Some("queries=0")), 1);
        assert_eq!(query_count(Some("queries=20")), 20);
        assert_eq!(query_count(Some("x=1&queries=501")), 500);
    }

    #[test]
    fn ids_are_in_range() {
        for _ in 0..100_000 {
            assert!((1..=WORLD_ROWS).contains(&random_id()));
        }
    }

    #[test]
    fn fortunes_are_escaped_and_sorted() {
        let env = templates();
        let page =
            render_fortunes(&env, vec![(1, "<b>&\"'".into()), (2, "A".into())]).expect("renders");
        assert!(page.contains("<tr><td>2</td><td>A</td></tr><tr><td>0</td><td>Additional"));
        assert!(page.contains("&lt;b&gt;&amp;&quot;&#x27;"), "{page}");
    }
}
