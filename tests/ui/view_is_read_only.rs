use flaskdb::{Model, Session};

#[derive(Model, Clone)]
#[model(view)]
struct ActiveUser {
    id: i64,
    name: String,
}

fn writes(session: &mut Session, row: ActiveUser) {
    session.delete(&row);
    session.add(row);
    let _ = ActiveUser::query().delete();
}

fn main() {}
