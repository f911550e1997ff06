use flaskdb::Model;

#[derive(Model)]
#[model(view)]
struct Report {
    id: i64,
}

fn main() {
    let _ = Report::build();
}
