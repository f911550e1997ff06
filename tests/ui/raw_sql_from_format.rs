use flaskdb::Db;

// SQL built with `format!` is refused, as by `sqlx::query`: the caller has to wrap it in
// `flaskdb::AssertSqlSafe` after checking nothing untrusted went into it.
async fn delete_named(db: &Db, name: &str) {
    let _ = db
        .execute(&format!("DELETE FROM users WHERE name = '{name}'"), vec![])
        .await;
    let _ = db
        .fetch_all(format!("SELECT * FROM users WHERE name = '{name}'"), vec![])
        .await;
}

fn main() {
    let _ = delete_named;
}
