//! Crate-level options of the derive, read from the deriving crate's `Cargo.toml`:
//! a throwaway crate with `[package.metadata.flaskdb] require_table_names = true` is
//! checked with cargo, and only its model without `#[model(table = "..")]` is rejected.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;

#[test]
fn a_crate_requiring_table_names_rejects_generated_ones() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("flaskdb-explicit-names-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let flaskdb = workspace.join("flaskdb");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"explicit-names\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[package.metadata.flaskdb]\nrequire_table_names = true\n\n\
             [dependencies]\nflaskdb = {{ path = {:?} }}\n\n[workspace]\n",
            flaskdb.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "use flaskdb::Model;\n\n\
         #[derive(Model)]\n#[model(table = \"named\")]\npub struct Named {\n    pub id: i64,\n}\n\n\
         #[derive(Model)]\npub struct Unnamed {\n    pub id: i64,\n}\n",
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format", "short"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", workspace.join("target/crate-options"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("this crate requires explicit table names")
            && stderr.contains("to `Unnamed`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`Named`"), "{stderr}");
}
