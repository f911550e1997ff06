use flaskdb::{BelongsTo, HasMany, Model};

#[derive(Model, Clone)]
struct Team {
    id: i64,
    #[model(has_many, cascade = "all")]
    players: HasMany<Player>,
}

#[derive(Model, Clone)]
struct Player {
    id: i64,
    #[model(foreign_key = "team.id", cascade = "delete")]
    team_id: i64,
    #[model(belongs_to, cascade = "delete")]
    team: BelongsTo<Team>,
}

fn main() {}
