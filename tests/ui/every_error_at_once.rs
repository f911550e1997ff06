use flaskdb::Model;

#[derive(Model)]
#[model(table = "people", colour = "red")]
struct Person {
    #[model(max_length = "long")]
    name: String,
    #[model(on_delete = "cascade")]
    team_id: i64,
}

fn main() {}
