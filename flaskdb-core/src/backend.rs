//! The name of a database system, below everything else: errors name it, URLs choose
//! it, and the dialect facts of `sql/dialect/` are methods on it.

/// The database system behind an engine.
///
/// ```
/// use flaskdb_core::Backend;
/// assert_eq!(Backend::from_url("postgresql://localhost/app").unwrap(), Backend::Postgres);
/// assert_eq!(Backend::from_url("mariadb://localhost/app").unwrap(), Backend::MySql);
/// assert!(Backend::from_url("oracle://x").is_err());
/// assert!(Backend::from_url("sqlite").is_err()); // no `scheme:`
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (feature `sqlite`, on by default).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
    /// MariaDB, or MySQL (untested: only MariaDB 10.11 is tested) (feature `mysql`).
    MySql,
}

impl Backend {
    /// The cargo feature that enables this backend.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}
