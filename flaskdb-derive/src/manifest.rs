//! Crate-level options, read from the deriving crate's `Cargo.toml`:
//!
//! ```toml
//! [package.metadata.flaskdb]
//! require_table_names = true   # every model names its table: #[model(table = "..")]
//! ```
//!
//! A Cargo feature would not do: features are unified across every crate of a build,
//! so one crate's choice would bind all the others.

/// Whether the crate being compiled requires explicit table names.
pub(crate) fn require_table_names() -> bool {
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return false;
    };
    std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml"))
        .is_ok_and(|text| flag(&text, "require_table_names"))
}

/// Whether `key = true` appears in the `[package.metadata.flaskdb]` table of a manifest
/// (the dotted form `flaskdb.key = true` under `[package.metadata]` too).
fn flag(manifest: &str, key: &str) -> bool {
    let mut section = String::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = header.replace(' ', "");
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.replace(' ', "");
        let full = if section.is_empty() {
            name
        } else {
            format!("{section}.{name}")
        };
        if full == format!("package.metadata.flaskdb.{key}") {
            return value.trim() == "true";
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::flag;

    #[test]
    fn reads_the_flag_from_the_metadata_table() {
        let on = "[package]\nname = \"app\"\n\n[package.metadata.flaskdb]\nrequire_table_names = true # yes\n";
        assert!(flag(on, "require_table_names"));
        let dotted = "[package.metadata]\nflaskdb.require_table_names = true\n";
        assert!(flag(dotted, "require_table_names"));
        let off = "[package.metadata.flaskdb]\nrequire_table_names = false\n";
        assert!(!flag(off, "require_table_names"));
        let elsewhere = "[package.metadata.other]\nrequire_table_names = true\n";
        assert!(!flag(elsewhere, "require_table_names"));
        let commented = "[package.metadata.flaskdb]\n# require_table_names = true\n";
        assert!(!flag(commented, "require_table_names"));
        assert!(!flag("", "require_table_names"));
    }
}
