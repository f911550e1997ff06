//! The integration suite on postgres.
fn main() -> std::process::ExitCode {
    flaskdb_tests::run(flaskdb::Backend::Postgres)
}
