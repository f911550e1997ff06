use flaskdb::{BelongsTo, HasMany, Model};

#[derive(Model, Clone)]
struct Team {
    id: i64,
    #[model(has_many, back_populates = "teem")]
    players: HasMany<Player>,
    #[model(has_many, back_populates = "coach")]
    coached: HasMany<Player>,
}

#[derive(Model, Clone)]
struct Player {
    id: i64,
    #[model(foreign_key = "team.id")]
    team_id: i64,
    #[model(belongs_to)]
    team: BelongsTo<Team>,
    #[model(foreign_key = "player.id")]
    coach_id: Option<i64>,
    #[model(belongs_to)]
    coach: BelongsTo<Player>,
}

fn main() {}
