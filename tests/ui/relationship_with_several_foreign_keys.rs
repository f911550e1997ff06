use flaskdb::{HasMany, Model};

#[derive(Model, Clone)]
struct Team {
    id: i64,
    #[model(has_many)]
    matches: HasMany<GameMatch>,
    // Naming the key settles it.
    #[model(has_many, foreign_key = "game_match.home_id")]
    home_matches: HasMany<GameMatch>,
    #[model(has_many, foreign_key = "game_match.home")]
    misnamed: HasMany<GameMatch>,
}

#[derive(Model, Clone)]
struct GameMatch {
    id: i64,
    #[model(foreign_key = "team.id")]
    home_id: i64,
    #[model(foreign_key = "team.id")]
    away_id: i64,
}

fn main() {}
