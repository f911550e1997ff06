//! What an application holds at run time: the [`Db`](crate::Db) with its binds, the
//! scoped context, sessions with their unit of work and events, and reflection of a
//! live database.

pub(crate) mod context;
pub(crate) mod db;
pub(crate) mod events;
pub(crate) mod reflect;
pub(crate) mod session;
pub(crate) mod target;
