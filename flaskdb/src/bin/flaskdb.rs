//! `flaskdb`: `reflect`, and the migration commands that need no models (`db upgrade`,
//! `db downgrade`, `db current`, ...). See [`flaskdb::cli`].

fn main() -> std::process::ExitCode {
    flaskdb::cli::main()
}
