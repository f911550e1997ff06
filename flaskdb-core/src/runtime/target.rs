//! Where a query's statements run: an explicit `Db`, a session, or the current context,
//! resolved to an engine (and maybe a session) when the query runs.

use crate::driver::engine::Engine;
use crate::driver::executor::{self, Conn};
use crate::error::Result;
use crate::model::FromRow;
use crate::runtime::context;
use crate::runtime::db::Db;
use crate::runtime::session::Session;
use crate::sql::Rendered;

/// Where a query runs (not public API: exported for trait signatures only).
#[doc(hidden)]
#[derive(Clone)]
pub enum Runner {
    /// The current scope's session, or the global default `Db` (`Model::query()`).
    Current,
    /// An explicit `Db` (`db.query::<M>()`).
    Db(Db),
    /// An explicit session (`session.query::<M>()`).
    Session(Session),
}

/// A resolved runner: the engine of the bind, and the session to run through, if any.
pub(crate) struct Target {
    pub(crate) engine: Engine,
    pub(crate) session: Option<Session>,
    bind: Option<String>,
}

impl Runner {
    /// The target for a statement on `bind`.
    pub(crate) fn resolve(&self, bind: Option<&str>) -> Result<Target> {
        let (db, session) = match self {
            Runner::Current => context::current()?,
            Runner::Db(db) => (db.clone(), None),
            Runner::Session(s) => (s.database()?, Some(s.clone())),
        };
        Ok(Target {
            engine: db.engine_for(bind)?,
            session,
            bind: bind.map(str::to_owned),
        })
    }
}

impl Target {
    /// Runs a query and decodes up to `max` rows (through the session when there is one).
    pub(crate) async fn fetch<T: FromRow>(
        &self,
        r: Rendered<'_>,
        max: Option<usize>,
    ) -> Result<Vec<T>> {
        match &self.session {
            None => executor::fetch(Conn::Pool(&self.engine), r, max).await,
            Some(s) => s.fetch(&self.engine, self.bind.as_deref(), r, max).await,
        }
    }

    /// Runs a statement; returns the rows affected.
    pub(crate) async fn execute(&self, r: Rendered<'_>) -> Result<u64> {
        let done = match &self.session {
            None => executor::execute(Conn::Pool(&self.engine), r).await?,
            Some(s) => s.execute(&self.engine, self.bind.as_deref(), r).await?,
        };
        Ok(done.rows_affected)
    }
}
