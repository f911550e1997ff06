//! Flask-Migrate's commands with the blog's models linked in:
//! `cargo run -p example-blog --bin manage -- db check -d examples/blog/migrations`.

use example_blog as _; // the models, registered by linking them

fn main() -> std::process::ExitCode {
    flaskdb::cli::main()
}
