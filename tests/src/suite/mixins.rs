//! Mixins: `#[derive(Columns)]` structs flattened into models, with their defaults,
//! `onupdate` values, foreign keys and column handles.

use chrono::{DateTime, Utc};
use flaskdb::{BelongsTo, Columns, Model};

use crate::models::User;
use crate::{TestDb, TestResult, case};

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[derive(Columns, Debug, Clone, PartialEq)]
pub struct Timestamps {
    #[model(default_fn = now)]
    pub created_at: DateTime<Utc>,
    #[model(default_fn = now, onupdate = now)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Columns, Debug, Clone, PartialEq)]
pub struct Owned {
    #[model(foreign_key = "user.id", on_delete = "cascade", index)]
    pub owner_id: i64,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    #[model(flatten)]
    pub times: Timestamps,
    #[model(max_length = 100)]
    pub body: String,
    #[model(flatten)]
    pub owner: Owned,
    #[model(flatten)]
    pub deleted: SoftDelete,
    #[model(belongs_to)]
    pub author: BelongsTo<User>,
}

async fn user(db: &flaskdb::Db, name: &str) -> anyhow::Result<User> {
    let mut s = db.session();
    s.add(
        User::build()
            .username(name)
            .email(format!("{name}@example.com")),
    );
    s.commit().await?;
    Ok(db
        .query::<User>()
        .filter_by(User::username, name)
        .one()
        .await?)
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

#[case]
async fn mixin_columns_are_created_and_round_trip(t: TestDb) -> TestResult {
    let names: Vec<&str> = Note::table().columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "id",
            "created_at",
            "updated_at",
            "body",
            "owner_id",
            "deleted_at"
        ]
    );
    assert_eq!(Note::table().foreign_keys().len(), 1);
    let db = t.with_tables().await?;
    let ada = user(&db, "ada").await?;
    let before = Utc::now() - chrono::Duration::seconds(1);
    let mut s = db.session();
    s.add(
        Note::build()
            .body("defaults")
            .owner(Owned { owner_id: ada.id }),
    );
    s.add(
        Note::build()
            .body("given")
            .times(Timestamps {
                created_at: at(1_000),
                updated_at: at(2_000),
            })
            .owner(Owned { owner_id: ada.id }),
    );
    s.commit().await?;
    let notes = db.query::<Note>().order_by(Note::id.asc()).all().await?;
    assert_eq!(notes.len(), 2);
    assert!(notes[0].times.created_at >= before, "{notes:?}");
    assert_eq!(notes[0].owner.owner_id, ada.id);
    assert_eq!(
        notes[1].times,
        Timestamps {
            created_at: at(1_000),
            updated_at: at(2_000),
        }
    );
    // A model added whole writes the mixin's columns too.
    let mut edited = notes[1].clone();
    edited.times.created_at = at(500);
    s.add(edited.clone());
    s.commit().await?;
    let reread = db.query::<Note>().get(edited.id).await?.unwrap();
    assert_eq!(reread.times.created_at, at(500));
    Ok(())
}

#[case]
async fn mixin_handles_filter_and_order(t: TestDb) -> TestResult {
    use OwnedColumns as _;
    use TimestampsColumns as _;
    let db = t.with_tables().await?;
    let (ada, bob) = (user(&db, "ada").await?, user(&db, "bob").await?);
    let mut s = db.session();
    for (i, owner) in [ada.id, bob.id, ada.id].into_iter().enumerate() {
        s.add(
            Note::build()
                .body(format!("n{i}"))
                .times(Timestamps {
                    created_at: at(10_000 - i as i64),
                    updated_at: at(0),
                })
                .owner(Owned { owner_id: owner }),
        );
    }
    s.commit().await?;
    let adas = db
        .query::<Note>()
        .filter(Note::owner_id.eq(ada.id))
        .order_by(Note::created_at.asc())
        .all()
        .await?;
    let bodies: Vec<&str> = adas.iter().map(|n| n.body.as_str()).collect();
    assert_eq!(bodies, ["n2", "n0"]);
    let recent = db
        .query::<Note>()
        .filter(Note::created_at.gt(at(9_999)))
        .count()
        .await?;
    assert_eq!(recent, 1);
    Ok(())
}

#[case]
async fn onupdate_in_a_mixin_refreshes_on_update(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let ada = user(&db, "ada").await?;
    let mut s = db.session();
    s.add(
        Note::build()
            .body("x")
            .times(Timestamps {
                created_at: at(1),
                updated_at: at(1),
            })
            .owner(Owned { owner_id: ada.id }),
    );
    s.commit().await?;
    let mut note = s.query::<Note>().one().await?;
    note.body = "y".into();
    s.add(note.clone());
    s.commit().await?;
    let reread = db.query::<Note>().get(note.id).await?.unwrap();
    assert_eq!(reread.body, "y");
    assert_eq!(reread.times.created_at, at(1));
    assert!(reread.times.updated_at > at(1_700_000_000), "{reread:?}");
    Ok(())
}

#[case]
async fn a_relationship_runs_over_a_mixin_foreign_key(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let ada = user(&db, "ada").await?;
    let mut s = db.session();
    s.add(Note::build().body("x").owner(Owned { owner_id: ada.id }));
    s.commit().await?;
    let note = db.query::<Note>().one().await?;
    assert_eq!(note.author.load(&db).await?, Some(ada.clone()));
    let loaded = db.query::<Note>().eager(Note::author).all().await?;
    assert_eq!(loaded[0].author.loaded(), Some(Some(&ada)));
    Ok(())
}

/// A soft-delete mixin and a query method for every model that has it.
#[derive(Columns, Debug, Clone, PartialEq, Default)]
pub struct SoftDelete {
    pub deleted_at: Option<DateTime<Utc>>,
}

pub trait LiveQuery {
    fn live(self) -> Self;
}

impl<M: flaskdb::Flattens<SoftDelete>> LiveQuery for flaskdb::Query<M> {
    fn live(self) -> Self {
        self.filter(M::deleted_at.is_null())
    }
}

#[case]
async fn a_query_extension_trait_serves_every_model_with_the_mixin(t: TestDb) -> TestResult {
    let db = t.with_tables().await?;
    let ada = user(&db, "ada").await?;
    let mut s = db.session();
    s.add(Note::build().body("kept").owner(Owned { owner_id: ada.id }));
    s.add(
        Note::build()
            .body("gone")
            .owner(Owned { owner_id: ada.id })
            .deleted(SoftDelete {
                deleted_at: Some(at(5)),
            }),
    );
    s.commit().await?;
    let live = db.query::<Note>().live().all().await?;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].body, "kept");
    assert_eq!(db.query::<Note>().count().await?, 2);
    Ok(())
}
