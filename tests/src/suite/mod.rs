//! The cases, one module per area.

mod context;
mod engine;
mod events;
mod faults;
mod integrity;
mod lock_order;
mod lost_commit;
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
mod stalls;
mod types;

use crate::Case;

/// Every case of the suite.
pub fn all() -> Vec<Case> {
    let mut cases = schema::cases();
    cases.extend(query::cases());
    cases.extend(context::cases());
    cases.extend(session::cases());
    cases.extend(paginate::cases());
    cases.extend(engine::cases());
    cases.extend(record::cases());
    cases.extend(select::cases());
    cases.extend(relations::cases());
    cases.extend(events::cases());
    cases.extend(types::cases());
    cases.extend(mixins::cases());
    cases.extend(reflection::cases());
    cases.extend(reliability::cases());
    cases.extend(faults::cases());
    cases.extend(integrity::cases());
    cases.extend(lost_commit::cases());
    cases.extend(stalls::cases());
    cases.extend(pool::cases());
    cases.extend(lock_order::cases());
    cases
}
