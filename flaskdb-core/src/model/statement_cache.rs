//! The SQL text every model needs, rendered once per backend.

use std::sync::OnceLock;

use crate::backend::Backend;
use crate::error::Result;

/// SQL text a model always needs, rendered once per backend and kept for the life of
/// the process (sqlx then reuses the prepared statement on each connection).
#[doc(hidden)]
#[derive(Debug)]
pub struct StatementCache {
    select_all: [OnceLock<String>; 3],
    by_key: [OnceLock<String>; 3],
}

impl StatementCache {
    /// An empty cache (the derive puts one in a `static` per model).
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        StatementCache {
            select_all: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
            by_key: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
        }
    }

    fn slot(backend: Backend) -> usize {
        match backend {
            Backend::Sqlite => 0,
            Backend::Postgres => 1,
            Backend::MySql => 2,
        }
    }

    /// `SELECT <every column> FROM <table>`.
    pub(crate) fn select_all(
        &self,
        backend: Backend,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<&str> {
        Self::kept(&self.select_all[Self::slot(backend)], render)
    }

    /// `SELECT <every column> FROM <table> WHERE <pk> = ? ...`.
    pub(crate) fn by_key(
        &self,
        backend: Backend,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<&str> {
        Self::kept(&self.by_key[Self::slot(backend)], render)
    }

    /// The text in `slot`, rendered into it first if it is empty. A rendering that
    /// fails is not kept: the next call renders again and reports its error again.
    fn kept(slot: &OnceLock<String>, render: impl FnOnce() -> Result<String>) -> Result<&str> {
        if let Some(sql) = slot.get() {
            return Ok(sql);
        }
        let sql = render()?;
        Ok(slot.get_or_init(|| sql))
    }
}

#[cfg(test)]
mod tests {
    use super::StatementCache;
    use crate::backend::Backend;
    use crate::error::Error;

    /// A rendering that fails is reported and not kept; the next one is.
    #[test]
    fn keeps_only_successful_renderings() {
        let cache = StatementCache::new();
        let refused = || {
            Err(Error::InvalidIdentifier {
                name: "a\0b".into(),
            })
        };
        assert!(matches!(
            cache.select_all(Backend::Sqlite, refused),
            Err(Error::InvalidIdentifier { .. })
        ));
        assert!(cache.by_key(Backend::Sqlite, refused).is_err());
        let sql = cache.select_all(Backend::Sqlite, || Ok("SELECT 1".into()));
        assert_eq!(sql.unwrap(), "SELECT 1");
        let again = cache.select_all(Backend::Sqlite, || panic!("rendered twice"));
        assert_eq!(again.unwrap(), "SELECT 1");
    }
}
