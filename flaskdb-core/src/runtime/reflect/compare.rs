//! Declared tables checked against reflected ones.

use crate::backend::Backend;
use crate::error::{Mismatch, MismatchKind};
use crate::schema::Table;
use crate::sql::dialect::catalog::parse_type;

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
                if !model_type.same_family(db.sql_type()) {
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
