//! One migration file: its revision, its parent, and the steps up and down of each bind.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::migrate::op::Op;

/// One revision: a migration file, parsed.
///
/// The file is TOML. Its steps for the default bind are `[[upgrade]]` and
/// `[[downgrade]]` tables; a named bind's are under `[bind.NAME]`:
///
/// ```
/// use flaskdb_core::migrate::Migration;
/// let text = r#"
/// revision = "1a2b3c4d5e6f"
/// message = "create users"
///
/// [[upgrade]]
/// op = "create_table"
/// table = "users"
/// columns = [
///     { name = "id", type = "bigint", primary_key = true },
///     { name = "email", type = "text", length = 120, unique = true },
/// ]
///
/// [[downgrade]]
/// op = "drop_table"
/// table = "users"
/// "#;
/// let m = Migration::parse("1a2b3c4d5e6f_create_users.toml", text).unwrap();
/// assert_eq!((m.revision(), m.down_revision()), ("1a2b3c4d5e6f", None));
/// assert_eq!(m.upgrade_steps(None).len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Migration {
    revision: String,
    down_revision: Option<String>,
    message: String,
    file: String,
    checksum: String,
    binds: BTreeMap<Option<String>, Steps>,
}

/// The steps of one bind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Steps {
    #[serde(default)]
    upgrade: Vec<Op>,
    #[serde(default)]
    downgrade: Vec<Op>,
}

/// The file as TOML gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    revision: String,
    #[serde(default)]
    down_revision: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    upgrade: Vec<Op>,
    #[serde(default)]
    downgrade: Vec<Op>,
    #[serde(default)]
    bind: BTreeMap<String, Steps>,
}

impl Migration {
    /// Parses the migration file named `file` (the name only appears in errors).
    ///
    /// # Errors
    /// [`Error::Migration`] naming the file: TOML it cannot read (with the line), an
    /// unknown key or operation, a revision that is not a name of letters, digits and
    /// `_`, or a bind whose upgrade has steps and whose downgrade has none.
    pub fn parse(file: &str, text: &str) -> Result<Migration> {
        let bad = |what: String| Error::Migration(format!("{file}: {what}"));
        let spec: FileSpec = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for rev in std::iter::once(&spec.revision).chain(&spec.down_revision) {
            let valid = !rev.is_empty()
                && rev.len() <= 64
                && rev.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(bad(format!(
                    "the revision {rev:?} is not a name of 1 to 64 letters, digits and `_`"
                )));
            }
        }
        let mut binds = BTreeMap::new();
        let default_bind = Steps {
            upgrade: spec.upgrade,
            downgrade: spec.downgrade,
        };
        if default_bind != Steps::default() {
            binds.insert(None, default_bind);
        }
        binds.extend(spec.bind.into_iter().map(|(k, s)| (Some(k), s)));
        for (key, steps) in &binds {
            if !steps.upgrade.is_empty() && steps.downgrade.is_empty() {
                let at = key.as_ref().map_or(String::new(), |k| format!("bind.{k}."));
                return Err(bad(format!(
                    "[[{at}upgrade]] has steps and [[{at}downgrade]] none: write the steps \
                     that undo them (a migration that cannot be undone says so with \
                     `op = \"sql\"` and `sql = []` under [[{at}downgrade]])"
                )));
            }
        }
        Ok(Migration {
            revision: spec.revision,
            down_revision: spec.down_revision,
            message: spec.message,
            file: file.to_owned(),
            checksum: checksum(text),
            binds,
        })
    }

    /// The revision's identifier.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The revision it follows; `None` for the first.
    pub fn down_revision(&self) -> Option<&str> {
        self.down_revision.as_deref()
    }

    /// What the migration does, in a line.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// SHA-256 of the file's text (line endings as `\n`), in hex: the version table
    /// keeps it, and a file changed after it was applied is an error.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// The steps up for `bind` (`None`: the default bind); empty where the migration
    /// does not touch the bind.
    pub fn upgrade_steps(&self, bind: Option<&str>) -> &[Op] {
        self.steps(bind).map_or(&[], |s| &s.upgrade)
    }

    /// The steps down for `bind`, in the order they run.
    pub fn downgrade_steps(&self, bind: Option<&str>) -> &[Op] {
        self.steps(bind).map_or(&[], |s| &s.downgrade)
    }

    /// The binds the migration names (`None`: the default bind).
    pub fn binds(&self) -> impl Iterator<Item = Option<&str>> {
        self.binds.keys().map(Option::as_deref)
    }

    fn steps(&self, bind: Option<&str>) -> Option<&Steps> {
        self.binds.get(&bind.map(str::to_owned))
    }
}

/// SHA-256 of `text` with `\r\n` read as `\n` (a checkout that converts line endings
/// does not change a migration), in lower-case hex.
fn checksum(text: &str) -> String {
    let digest = Sha256::digest(text.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
