//! A type that is not a model, given where a model is expected: named as such, with
//! where flaskdb looks for one and what to use instead.
use flaskdb::{Db, Session};

struct NotAModel;

fn reads(db: &Db, session: &Session) {
    let _ = db.query::<NotAModel>();
    let _ = db.select::<NotAModel>();
    let _ = session.query::<NotAModel>();
}

fn main() {}
