//! The one place that talks to the three drivers: engines and their pools, the
//! executor that runs a rendered statement on a connection, and the recording of
//! what ran.

pub(crate) mod engine;
pub(crate) mod executor;
mod lease;
mod pooled;
pub(crate) mod recording;
