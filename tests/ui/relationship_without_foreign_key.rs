use flaskdb::{BelongsTo, HasMany, Model};

#[derive(Model, Clone)]
struct Team {
    id: i64,
    #[model(has_many)]
    players: HasMany<Player>,
}

#[derive(Model, Clone)]
struct Player {
    id: i64,
    team_id: i64,
    #[model(belongs_to)]
    team: BelongsTo<Team>,
}

fn main() {}
