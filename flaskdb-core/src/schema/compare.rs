//! Declared tables checked against reflected ones.

use std::fmt;

use crate::driver::engine::Backend;
use crate::runtime::reflect::{parse_type, same_family};
use crate::schema::Table;

/// One difference between a model's table and the database's, found by
/// [`Db::reflect`](crate::Db::reflect) and reported in
/// [`Error::SchemaMismatch`](crate::Error::SchemaMismatch).
///
/// ```
/// use flaskdb_core::{Mismatch, MismatchKind};
/// let m = Mismatch {
///     bind: None,
///     table: "user".into(),
///     column: "email".into(),
///     kind: MismatchKind::MissingColumn,
/// };
/// assert_eq!(m.to_string(), "`user.email` is declared by the model but not in the database");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The bind (`None` = default bind).
    pub bind: Option<String>,
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// What differs.
    pub kind: MismatchKind,
}

/// What differs between a model's column and the database's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchKind {
    /// The model declares a column the table does not have.
    MissingColumn,
    /// One allows NULL and the other does not.
    Nullability {
        /// Whether the model's column is nullable.
        model: bool,
        /// Whether the database's column is nullable.
        database: bool,
    },
    /// The column holds another kind of value (text where the model has an integer).
    Type {
        /// The model's type, as this database would declare it.
        model: String,
        /// The database's declared type.
        database: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}.{}`", self.table, self.column)?;
        match &self.kind {
            MismatchKind::MissingColumn => {
                f.write_str(" is declared by the model but not in the database")?;
            }
            MismatchKind::Nullability { model, database } => {
                let says = |nullable: &bool| if *nullable { "nullable" } else { "NOT NULL" };
                write!(
                    f,
                    " is {} in the model but {} in the database",
                    says(model),
                    says(database)
                )?;
            }
            MismatchKind::Type { model, database } => {
                write!(f, " is {model} in the model but {database} in the database")?;
            }
        }
        if let Some(bind) = &self.bind {
            write!(f, " (bind `{bind}`)")?;
        }
        Ok(())
    }
}

/// The differences between a model's `declared` table and the `reflected` one.
pub(crate) fn mismatches(declared: &Table, reflected: &Table, backend: Backend) -> Vec<Mismatch> {
    let mut found = Vec::new();
    for column in declared.columns() {
        let mut kinds = Vec::new();
        match reflected.column_named(column.name()) {
            None => kinds.push(MismatchKind::MissingColumn),
            Some(db) => {
                if db.is_nullable() != column.is_nullable() {
                    kinds.push(MismatchKind::Nullability {
                        model: column.is_nullable(),
                        database: db.is_nullable(),
                    });
                }
                let model = backend.column_type(column, true);
                let (model_type, _) = parse_type(backend, &model);
                if !same_family(model_type, db.sql_type()) {
                    kinds.push(MismatchKind::Type {
                        model,
                        database: db.declared_type().unwrap_or_default().to_owned(),
                    });
                }
            }
        }
        found.extend(kinds.into_iter().map(|kind| Mismatch {
            bind: declared.bind_key().map(str::to_owned),
            table: declared.name().to_owned(),
            column: column.name().to_owned(),
            kind,
        }));
    }
    found
}
