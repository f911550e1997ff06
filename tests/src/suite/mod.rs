//! The cases, one module per area.

mod context;
mod engine;
mod events;
mod faults;
mod integrity;
mod locks;
mod migrate;
mod mixins;
mod paginate;
mod pool;
mod query;
mod record;
mod reflection;
mod relations;
pub mod reliability;
mod schema;
mod select;
mod session;
mod types;

use crate::Case;

/// Every case of the suite (each registered by `#[case]`), by name.
pub fn all() -> Vec<&'static Case> {
    let mut cases: Vec<&'static Case> = inventory::iter::<Case>.into_iter().collect();
    cases.sort_by_key(|case| case.name());
    cases
}
