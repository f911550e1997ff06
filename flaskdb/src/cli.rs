//! The command line (feature `cli`): `reflect`, and Flask-Migrate's `db` commands.
//!
//! The `flaskdb` binary is this module's [`main`]. An application gets the same
//! commands with its models linked in from a binary of its own, `src/bin/manage.rs`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     flaskdb::cli::main()
//! }
//! ```
//!
//! and runs them as `cargo run --bin manage -- db upgrade`. The database comes from the
//! environment ([`Config::from_env`]: `DATABASE_URL`, `FLASKDB_BINDS`, ...), the
//! migrations from `migrations/` (or `-d DIR`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use flaskdb_core::migrate::{Migration, Migrations};
use flaskdb_core::{Backend, Config, Db, EngineOptions, Error, Table, model_source, redact_url};

const USAGE: &str = "usage: flaskdb reflect [--url URL] [--bind KEY] [--tables a,b]
       flaskdb db <command> [-d DIR] [--bind KEY]

reflect       prints Rust source with one #[derive(Model)] struct per table (and
              view) of the database at URL, ready to paste into an application
  --url URL     the database: sqlite://path, postgres://.., mysql://..; without it,
                the environment variable DATABASE_URL (better for a URL with a
                password: command lines show in `ps`)
  --bind KEY    put the models on bind KEY (#[model(bind = \"KEY\")])
  --tables a,b  only these tables

db init                 creates the migrations directory
db revision -m MSG      writes a new, empty migration after the last one
db migrate -m MSG       writes a migration of what the models have and the database
                        lacks (autogenerate; the models must be linked into this program)
db check                exits 1, naming each difference, when models and database differ
db upgrade [REV]        upgrades every bind (or --bind KEY) to REV, or to the last
db upgrade [REV] --sql  prints the SQL instead, for an empty database of DATABASE_URL's
                        backend (--from REV: for a database at REV)
db downgrade [REV]      undoes the last migration, or every one after REV (`base`: all)
db downgrade FROM:TO --sql   prints the SQL instead
db current              the revision of every bind
db history              the migrations, last first
db heads                the last migration
db show REV             one migration
db stamp REV            records REV as applied without running anything (`base`: none)
  -d DIR        the migrations directory (default: migrations)
  --bind KEY    only bind KEY (every bind by default)
The database comes from the environment: DATABASE_URL, FLASKDB_BINDS, ...";

/// What the command line asked for.
enum Command {
    Reflect {
        url: String,
        bind: Option<String>,
        tables: Option<Vec<String>>,
    },
    Migrations {
        action: Action,
        dir: PathBuf,
        bind: Option<String>,
    },
}

/// A `db` command.
enum Action {
    Init,
    Revision {
        message: String,
    },
    Migrate {
        message: String,
    },
    Check,
    Upgrade {
        rev: Option<String>,
        sql: bool,
        from: Option<String>,
    },
    Downgrade {
        rev: Option<String>,
        sql: bool,
    },
    Current,
    History,
    Heads,
    Show {
        rev: String,
    },
    Stamp {
        rev: String,
    },
}

/// Runs the command line of the process, configured from its environment, and says
/// how it went: 0 done, 1 failed (the error printed), 2 a bad command line (the usage
/// printed).
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(args, std::env::var("DATABASE_URL").ok()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("flaskdb: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("flaskdb: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("flaskdb: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line `args`; `database_url` (the environment's `DATABASE_URL`) is
/// `reflect`'s URL when `--url` is absent.
fn parse(args: Vec<String>, database_url: Option<String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let command = args.next();
    let mut flags = Flags::default();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => flags.url = Some(value()?),
            "--bind" => flags.bind = Some(value()?),
            "--tables" => {
                flags.tables = Some(value()?.split(',').map(|t| t.trim().to_owned()).collect());
            }
            "-d" | "--directory" => flags.dir = Some(value()?),
            "-m" | "--message" => flags.message = Some(value()?),
            "--from" => flags.from = Some(value()?),
            "--sql" => flags.sql = true,
            other if other.starts_with('-') => return Err(format!("unknown argument `{other}`")),
            _ => flags.positional.push(arg),
        }
    }
    match command.as_deref() {
        Some("reflect") => flags.reflect(database_url),
        Some("db") => flags.migrations(),
        Some(other) => Err(format!(
            "unknown command `{other}`: the commands are `reflect` and `db`"
        )),
        None => Err("a command is needed".into()),
    }
}

/// Everything the command line said, before it is checked against the command.
#[derive(Default)]
struct Flags {
    url: Option<String>,
    bind: Option<String>,
    tables: Option<Vec<String>>,
    dir: Option<String>,
    message: Option<String>,
    from: Option<String>,
    sql: bool,
    positional: Vec<String>,
}

impl Flags {
    fn reflect(self, database_url: Option<String>) -> Result<Command, String> {
        self.refuse(
            "reflect",
            &[self.dir.is_some(), self.message.is_some(), self.sql],
        )?;
        if let Some(extra) = self.positional.first() {
            return Err(format!("unknown argument `{extra}`"));
        }
        Ok(Command::Reflect {
            url: self
                .url
                .or(database_url.filter(|u| !u.is_empty()))
                .ok_or("--url or the environment variable DATABASE_URL is required")?,
            bind: self.bind,
            tables: self.tables,
        })
    }

    fn migrations(mut self) -> Result<Command, String> {
        if self.url.is_some() || self.tables.is_some() {
            return Err("--url and --tables belong to `reflect`; `db` reads DATABASE_URL".into());
        }
        if self.positional.is_empty() {
            return Err("`db` needs a command".into());
        }
        let name = self.positional.remove(0);
        let rev = match self.positional.as_slice() {
            [] => None,
            [rev] => Some(rev.clone()),
            [_, extra, ..] => return Err(format!("unknown argument `{extra}`")),
        };
        let needs_rev = |rev: Option<String>| rev.ok_or(format!("`db {name}` needs a revision"));
        let action = match name.as_str() {
            "init" => Action::Init,
            "revision" => Action::Revision {
                message: self
                    .message
                    .take()
                    .ok_or("`db revision` needs -m MESSAGE")?,
            },
            "migrate" => Action::Migrate {
                message: self.message.take().ok_or("`db migrate` needs -m MESSAGE")?,
            },
            "check" => Action::Check,
            "upgrade" => Action::Upgrade {
                rev,
                sql: self.sql,
                from: self.from.take(),
            },
            "downgrade" => Action::Downgrade { rev, sql: self.sql },
            "current" => Action::Current,
            "history" => Action::History,
            "heads" => Action::Heads,
            "show" => Action::Show {
                rev: needs_rev(rev)?,
            },
            "stamp" => Action::Stamp {
                rev: needs_rev(rev)?,
            },
            other => {
                return Err(format!(
                    "unknown command `db {other}`: init, revision, migrate, check, upgrade, \
                     downgrade, current, history, heads, show and stamp"
                ));
            }
        };
        if self.message.is_some() || self.from.is_some() {
            return Err(format!("-m and --from do not go with `db {name}`"));
        }
        Ok(Command::Migrations {
            action,
            dir: PathBuf::from(self.dir.unwrap_or_else(|| "migrations".into())),
            bind: self.bind,
        })
    }

    /// Fails when any of `used` is set: flags of another command.
    fn refuse(&self, command: &str, used: &[bool]) -> Result<(), String> {
        if used.iter().any(|u| *u) {
            return Err(format!("-d, -m and --sql do not go with `{command}`"));
        }
        Ok(())
    }
}

/// Runs `command`; returns what it prints.
async fn run(command: Command) -> Result<String, Error> {
    match command {
        Command::Reflect { url, bind, tables } => reflect(&url, bind.as_deref(), tables).await,
        Command::Migrations { action, dir, bind } => migrations(action, &dir, bind).await,
    }
}

async fn reflect(
    url: &str,
    bind: Option<&str>,
    wanted: Option<Vec<String>>,
) -> Result<String, Error> {
    let readonly = read_only(url);
    let config = match bind {
        Some(key) => Config::default().bind(key, readonly),
        None => Config::new(readonly),
    };
    // One connection, and no half-minute wait for a database that is not there.
    let options = EngineOptions::default()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5));
    let db = Db::connect(config.engine_options(options)).await?;
    db.reflect_for(&[bind]).await?;
    let mut tables: Vec<Arc<Table>> = db.reflected(bind);
    if tables.is_empty() {
        return Err(Error::Schema(format!(
            "the database at `{}` has no tables",
            redact_url(url)
        )));
    }
    if let Some(wanted) = &wanted {
        if let Some(missing) = wanted
            .iter()
            .find(|w| !tables.iter().any(|t| t.name() == *w))
        {
            return Err(Error::Schema(format!(
                "the database has no table `{missing}`"
            )));
        }
        tables.retain(|t| wanted.iter().any(|w| w == t.name()));
    }
    let source = model_source(&tables)?;
    let mut out = format!(
        "// Models of {}, generated by `flaskdb reflect`.\n",
        redact_url(url)
    );
    if ["chrono::", "uuid::", "serde_json::", "rust_decimal::"]
        .iter()
        .any(|path| source.contains(path))
    {
        out.push_str(
            "// Date, UUID, JSON and decimal columns need flaskdb's features chrono, uuid,\n\
             // json and decimal, and those crates in Cargo.toml.\n",
        );
    }
    out.push('\n');
    out.push_str(&source);
    Ok(out)
}

/// A SQLite URL opened read-only (unless it says otherwise), so that a mistyped path is
/// an error instead of a new, empty database file.
fn read_only(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.contains("mode=") || url.contains(":memory:") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=ro")
}

async fn migrations(action: Action, dir: &Path, bind: Option<String>) -> Result<String, Error> {
    match action {
        Action::Init => return init(dir),
        Action::Revision { message } => return revision(dir, &message),
        _ => {}
    }
    let migrations = Migrations::from_dir(dir)?;
    let mut out = String::new();
    match action {
        Action::Init | Action::Revision { .. } => {}
        Action::Migrate { message } => {
            return autogenerate(dir, &migrations, bind.as_deref(), &message).await;
        }
        Action::Check => {
            let db = Db::connect(Config::from_env()?).await?;
            let mut found = Vec::new();
            for (key, diff) in differences(&db, bind.as_deref()).await? {
                let name = key.as_deref().unwrap_or("default").to_owned();
                found.extend(diff.upgrade.iter().map(|op| format!("{name}: {op}")));
            }
            if !found.is_empty() {
                return Err(Error::Migration(format!(
                    "the database differs from the models; `db migrate` would write:\n  {}",
                    found.join("\n  ")
                )));
            }
            out.push_str("no new upgrade operations detected\n");
        }
        Action::History => {
            for m in migrations.iter().rev() {
                out.push_str(&line(m, &migrations));
            }
        }
        Action::Heads => {
            if let Some(head) = migrations.head() {
                out.push_str(&format!("{} (head)\n", head.revision()));
            }
        }
        Action::Show { rev } => {
            let m = migrations.get(&rev)?;
            out.push_str(&format!(
                "Revision ID: {}\nRevises: {}\nPath: {}\nChecksum: {}\n\n    {}\n",
                m.revision(),
                m.down_revision().unwrap_or("<base>"),
                m.file(),
                m.checksum(),
                m.message()
            ));
        }
        Action::Upgrade {
            rev,
            sql: true,
            from,
        } => {
            let backend = backend_of(bind.as_deref())?;
            let sql = migrations.upgrade_sql(
                backend,
                bind.as_deref(),
                from.as_deref(),
                rev.as_deref(),
            )?;
            out.push_str(&statements(&sql));
        }
        Action::Downgrade { rev, sql: true } => {
            let range = rev.unwrap_or_default();
            let (from, to) = range.split_once(':').ok_or(Error::Migration(
                "`db downgrade --sql` needs FROM:TO (the database's revision and the one to go \
                 back to)"
                    .into(),
            ))?;
            let backend = backend_of(bind.as_deref())?;
            out.push_str(&statements(&migrations.downgrade_sql(
                backend,
                bind.as_deref(),
                from,
                to,
            )?));
        }
        Action::Upgrade { .. }
        | Action::Downgrade { .. }
        | Action::Current
        | Action::Stamp { .. } => {
            let db = Db::connect(Config::from_env()?).await?;
            for (key, _) in db.engines()? {
                if bind.is_some() && key != bind {
                    continue;
                }
                let name = key.as_deref().unwrap_or("default");
                let key = key.as_deref();
                match &action {
                    Action::Upgrade { rev, .. } => {
                        let done = migrations.upgrade_bind(&db, key, rev.as_deref()).await?;
                        out.push_str(&ran(name, "upgraded", &done));
                    }
                    Action::Downgrade { rev, .. } => {
                        let done = migrations.downgrade_bind(&db, key, rev.as_deref()).await?;
                        out.push_str(&ran(name, "downgraded", &done));
                    }
                    Action::Stamp { rev } => {
                        migrations.stamp(&db, key, rev).await?;
                        out.push_str(&format!("{name}: stamped {rev}\n"));
                    }
                    _ => {
                        let at = migrations.current(&db, key).await?;
                        let head = migrations.head().map(Migration::revision);
                        out.push_str(&match at {
                            None => format!("{name}: (base)\n"),
                            Some(rev) if Some(rev.as_str()) == head => {
                                format!("{name}: {rev} (head)\n")
                            }
                            Some(rev) => format!("{name}: {rev}\n"),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Each bind's differences from its models (every bind, or `bind`).
///
/// # Errors
/// [`Error::Migration`] when no model is linked into this program: against no models,
/// every table would look like one to drop.
async fn differences(
    db: &Db,
    bind: Option<&str>,
) -> Result<Vec<(Option<String>, flaskdb_core::migrate::Diff)>, Error> {
    let mut out = Vec::new();
    let mut models = 0;
    for (key, _) in db.engines()? {
        if bind.is_some() && key.as_deref() != bind {
            continue;
        }
        models += db.metadata(key.as_deref()).tables().len();
        let diff = flaskdb_core::migrate::compare(db, key.as_deref()).await?;
        out.push((key, diff));
    }
    if models == 0 {
        return Err(Error::Migration(
            "no models are linked into this program: run `db migrate` and `db check` from \
             the application's own binary (src/bin/manage.rs calling flaskdb::cli::main())"
                .into(),
        ));
    }
    Ok(out)
}

/// `db migrate`: a migration file of every bind's differences, after the last one.
async fn autogenerate(
    dir: &Path,
    migrations: &Migrations,
    bind: Option<&str>,
    message: &str,
) -> Result<String, Error> {
    let db = Db::connect(Config::from_env()?).await?;
    let head = migrations.head().map(Migration::revision);
    for (key, _) in db.engines()? {
        let at = migrations.current(&db, key.as_deref()).await?;
        if at.as_deref() != head {
            return Err(Error::Migration(format!(
                "bind {} is at {}, not at the last migration {}: upgrade it first, so the \
                 new migration holds only what the models changed",
                key.as_deref().unwrap_or("default"),
                at.as_deref().unwrap_or("(base)"),
                head.unwrap_or("(base)")
            )));
        }
    }
    let diffs = differences(&db, bind).await?;
    if diffs.iter().all(|(_, d)| d.is_empty()) {
        return Ok("no changes in schema detected\n".into());
    }
    let binds: Vec<(Option<&str>, &flaskdb_core::migrate::Diff)> = diffs
        .iter()
        .filter(|(_, d)| !d.is_empty())
        .map(|(k, d)| (k.as_deref(), d))
        .collect();
    let rev = new_revision();
    let text = flaskdb_core::migrate::migration_text(&rev, head, message, &binds);
    write_migration(dir, &rev, message, &text)
}

/// Writes migration `text` as `<rev>_<message>.toml` in `dir`, after checking that it
/// parses (a file that does not is never left behind).
fn write_migration(dir: &Path, rev: &str, message: &str, text: &str) -> Result<String, Error> {
    let slug: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let path = dir.join(format!("{rev}_{}.toml", slug.trim_matches('_')));
    Migration::parse(&path.display().to_string(), text)?;
    std::fs::write(&path, text)
        .map_err(|e| Error::Migration(format!("cannot write {}: {e}", path.display())))?;
    Ok(format!("wrote {}\n", path.display()))
}

/// What an upgrade or downgrade of bind `name` did.
fn ran(name: &str, verb: &str, revisions: &[String]) -> String {
    if revisions.is_empty() {
        format!("{name}: nothing to do\n")
    } else {
        format!("{name}: {verb} {}\n", revisions.join(", "))
    }
}

/// One line of `history`: `parent -> revision (head), message`.
fn line(m: &Migration, migrations: &Migrations) -> String {
    let head = migrations.head().map(Migration::revision) == Some(m.revision());
    format!(
        "{} -> {}{}, {}\n",
        m.down_revision().unwrap_or("<base>"),
        m.revision(),
        if head { " (head)" } else { "" },
        m.message()
    )
}

/// The statements, each ended with `;`.
fn statements(sql: &[String]) -> String {
    sql.iter().map(|s| format!("{s};\n")).collect()
}

/// The backend of bind `bind` in the environment's configuration, without connecting.
fn backend_of(bind: Option<&str>) -> Result<Backend, Error> {
    let config = Config::from_env()?;
    let url = match bind {
        None => config
            .database_uri()
            .ok_or(Error::Config("DATABASE_URL is not set".into()))?,
        Some(key) => config
            .binds()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, b)| b.url())
            .ok_or_else(|| Error::UnknownBind(key.to_owned()))?,
    };
    Backend::from_url(url)
}

/// `db init`: the migrations directory, new or empty.
fn init(dir: &Path) -> Result<String, Error> {
    let failed =
        |e: std::io::Error| Error::Migration(format!("cannot create {}: {e}", dir.display()));
    if dir.exists() && std::fs::read_dir(dir).map_err(failed)?.next().is_some() {
        return Err(Error::Migration(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(failed)?;
    Ok(format!(
        "created {}; add a migration with `db revision -m MESSAGE`\n",
        dir.display()
    ))
}

/// `db revision`: a new migration file after the last one, with its steps to write.
fn revision(dir: &Path, message: &str) -> Result<String, Error> {
    let migrations = Migrations::from_dir(dir)?;
    let rev = new_revision();
    let parent = migrations
        .head()
        .map(|h| format!("down_revision = \"{}\"\n", h.revision()))
        .unwrap_or_default();
    let text = format!(
        "revision = \"{rev}\"\n{parent}message = \"{}\"\n\n{TEMPLATE}",
        message
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    );
    write_migration(dir, &rev, message, &text)
}

/// The steps of a new migration, as comments to fill in.
const TEMPLATE: &str = "\
# The steps up, in order, and the steps down that undo them (see the guide's
# chapter \"Migrations\" for every operation), for example:
#
# [[upgrade]]
# op = \"add_column\"
# table = \"user\"
# column = { name = \"age\", type = \"integer\", nullable = true }
#
# [[downgrade]]
# op = \"drop_column\"
# table = \"user\"
# column = \"age\"
";

/// A new revision identifier: 12 hex digits, from the clock and the process's hasher
/// seed (two revisions written in one second by one process still differ).
fn new_revision() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}
