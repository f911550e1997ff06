//! The identity map: the session's snapshot of every row it loaded or wrote, by table and
//! primary key.

use std::collections::HashMap;

use crate::error::Result;
use crate::model::{KeyValues, Model, ValuesRow};
use crate::schema::Table;
use crate::value::Value;

use super::Session;

impl Session {
    /// Records loaded rows in the identity map.
    pub(crate) fn remember<M: Model>(&self, rows: &[M]) {
        let mut state = self.state();
        for row in rows {
            let id = Identity(M::table().name(), row.primary_key().key_values());
            state.identity.insert(id, row.values());
        }
    }

    /// The session's copy of a row, decoded, when it has one.
    pub(crate) fn lookup<M: Model>(&self, key: &[Value]) -> Option<Result<M>> {
        let state = self.state();
        let values = state
            .identity
            .get(&Identity(M::table().name(), key.to_vec()))?;
        Some(M::from_row(&ValuesRow(values), 0))
    }
}

/// A primary key as an identity-map key: the table and the key's values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Identity(pub(super) &'static str, pub(super) Vec<Value>);

/// The session's copy of each row it loaded or wrote, by identity.
pub(super) type IdentityMap = HashMap<Identity, Vec<Value>>;

pub(super) fn key_of(table: &Table, values: &[Value]) -> Vec<Value> {
    table
        .columns()
        .iter()
        .zip(values)
        .filter(|(c, _)| c.is_primary_key())
        .map(|(_, v)| v.clone())
        .collect()
}
