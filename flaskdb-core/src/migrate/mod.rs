//! Migrations, as Flask-Migrate (Alembic) runs them: a linear history of revisions,
//! each a TOML file of dialect-neutral steps up and down per bind, applied in order and
//! recorded with a checksum in the bind's table `flaskdb_migrations`.
//!
//! ```text
//! autogen.rs  the steps that bring a database to its models, by comparison
//! op.rs       the operations a step can be, and columns as files declare them
//! file.rs     one migration file: revision, parent, steps per bind, checksum
//! history.rs  the files as one linear history
//! render.rs   an operation as one backend's statements
//! runner.rs   upgrade, downgrade, current and stamp against a bind, under a lock
//! offline.rs  the SQL of an upgrade or downgrade, printed instead of run
//! ```

mod autogen;
mod file;
mod history;
mod offline;
mod op;
mod render;
mod runner;

pub use autogen::{Diff, compare, migration_text};
pub use file::Migration;
pub use history::Migrations;
pub use op::{CheckSpec, ColumnSpec, ForeignKeySpec, Op};
