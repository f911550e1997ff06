//! Table metadata, the registry of derived models, and the per-bind [`Metadata`].

mod codegen;
pub(crate) mod convention;
pub(crate) mod naming;
pub(crate) mod order;
pub(crate) mod relation;
pub(crate) mod table;

use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{Error, Result};

pub use codegen::model_source;
pub use convention::NamingConvention;
pub(crate) use order::parents_first;
pub use table::{Check, ColumnDef, ForeignKey, Index, OnDelete, Table};

/// One registered table; `#[derive(Model)]` submits one per model, so `create_all`
/// needs no list of models.
#[doc(hidden)]
pub struct ModelEntry {
    /// The model's table.
    pub table: fn() -> &'static Table,
}

inventory::collect!(ModelEntry);

/// The tables declared at runtime with [`Table::declare`].
static DECLARED: RwLock<Vec<&'static Table>> = RwLock::new(Vec::new());

/// Adds a table declared at runtime to the registry (once, for the life of the
/// process, as a model's table is).
pub(crate) fn declare(table: Table) -> Result<&'static Table> {
    let mut declared = DECLARED.write().unwrap_or_else(PoisonError::into_inner);
    let taken = inventory::iter::<ModelEntry>
        .into_iter()
        .map(|e| (e.table)())
        .chain(declared.iter().copied())
        .any(|t| t.name() == table.name() && t.bind_key() == table.bind_key());
    if taken {
        return Err(Error::Schema(format!(
            "table `{}` is already declared on {}",
            table.name(),
            table
                .bind_key()
                .map_or_else(|| "the default bind".to_owned(), |b| format!("bind `{b}`"))
        )));
    }
    let table: &'static Table = Box::leak(Box::new(table));
    declared.push(table);
    Ok(table)
}

/// Every registered table (models and declared tables), sorted by bind and name so the
/// order is stable.
pub(crate) fn registered_tables() -> Vec<&'static Table> {
    let mut tables: Vec<&'static Table> = inventory::iter::<ModelEntry>
        .into_iter()
        .map(|e| (e.table)())
        .chain(
            DECLARED
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .copied(),
        )
        .collect();
    tables.sort_by(|a, b| (a.bind_key(), a.name()).cmp(&(b.bind_key(), b.name())));
    tables
}

/// The tables that live on one bind (Flask-SQLAlchemy's `db.metadatas[key]`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use flaskdb_core::{Config, Db};
/// let db = Db::connect(Config::new("sqlite::memory:")).await?;
/// let metadata = db.metadata(None);
/// assert!(metadata.table("no_such_table").is_none());
/// # Ok::<(), flaskdb_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    bind: Option<String>,
    tables: Vec<Arc<Table>>,
}

impl Metadata {
    /// The registered tables of `bind`, and those of its `reflected` tables that no
    /// model or declared table already describes.
    pub(crate) fn for_bind(bind: Option<&str>, reflected: &[Arc<Table>]) -> Self {
        let mut tables: Vec<Arc<Table>> = registered_tables()
            .into_iter()
            .filter(|t| t.bind_key() == bind)
            .map(|t| Arc::new(t.clone()))
            .collect();
        for table in reflected {
            if !tables.iter().any(|t| t.name() == table.name()) {
                tables.push(Arc::clone(table));
            }
        }
        tables.sort_by(|a, b| a.name().cmp(b.name()));
        Metadata {
            bind: bind.map(str::to_owned),
            tables,
        }
    }

    /// The bind key (`None` = default bind).
    pub fn bind_key(&self) -> Option<&str> {
        self.bind.as_deref()
    }

    /// The tables, sorted by name.
    pub fn tables(&self) -> &[Arc<Table>] {
        &self.tables
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .map(Arc::as_ref)
            .find(|t| t.name() == name)
    }
}
