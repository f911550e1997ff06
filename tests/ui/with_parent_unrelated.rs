use flaskdb::{Db, HasMany, Model};

#[derive(Model, Clone)]
struct Team {
    id: i64,
    #[model(has_many)]
    players: HasMany<Player>,
}

#[derive(Model, Clone)]
struct Player {
    id: i64,
    #[model(foreign_key = "team.id")]
    team_id: i64,
}

#[derive(Model, Clone)]
struct Stadium {
    id: i64,
}

fn main() {
    let _ = |db: Db, stadium: Stadium| db.query::<Player>().with_parent(&stadium);
}
