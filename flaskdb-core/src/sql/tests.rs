//! Exact SQL for every clause and statement, on all three dialects side by side.

use std::borrow::Cow;

use super::expr::{Assignment, CompareOp, Node, Order};
use super::*;
use super::{Join, SubSelect};
use crate::backend::Backend::{self, MySql, Postgres, Sqlite};
use crate::schema::{ColumnDef, OnDelete, Table};
use crate::value::Value;
use crate::value::sql_type::SqlType;

fn user() -> Table {
    Table::new("user")
        .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
        .column(
            ColumnDef::new("username", SqlType::Text)
                .max_length(80)
                .unique(),
        )
        .column(ColumnDef::new("bio", SqlType::Text).nullable(true))
}

fn col(name: &'static str) -> Node {
    Node::Column {
        table: Cow::Borrowed("user"),
        name: Cow::Borrowed(name),
    }
}

fn cmp(op: CompareOp, name: &'static str, v: Value) -> Node {
    Node::Compare {
        op,
        left: Box::new(col(name)),
        right: Box::new(Node::Value(v)),
    }
}

/// The parameters as plain values.
fn owned(params: Vec<std::borrow::Cow<'_, Value>>) -> Vec<Value> {
    params
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .collect()
}

fn select_sql(clauses: &Clauses, projection: Projection, backend: Backend) -> Rendered<'static> {
    let table = user();
    select(
        &SelectStmt {
            table: &table,
            projection,
            clauses,
            exprs: &[],
        },
        backend,
    )
    .unwrap()
}

/// Asserts the SQL on SQLite, PostgreSQL and MySQL, in that order.
fn assert_dialects<'a>(render: impl Fn(Backend) -> Rendered<'a>, expected: [&str; 3]) {
    for (backend, sql) in [Sqlite, Postgres, MySql].into_iter().zip(expected) {
        assert_eq!(render(backend).sql, sql, "{backend:?}");
    }
}

#[test]
fn select_all_columns() {
    let c = Clauses::default();
    assert_dialects(
        |b| select_sql(&c, Projection::AllColumns, b),
        [
            r#"SELECT "id", "username", "bio" FROM "user""#,
            r#"SELECT "id", "username", "bio" FROM "user""#,
            "SELECT `id`, `username`, `bio` FROM `user`",
        ],
    );
}

#[test]
fn where_binds_values_in_placeholder_order() {
    let mut c = Clauses::default();
    c.and_filter(cmp(CompareOp::Gt, "id", Value::I64(3)));
    c.and_filter(cmp(CompareOp::Eq, "username", Value::Text("a'b".into())));
    let r = select_sql(&c, Projection::AllColumns, Postgres);
    assert_eq!(
        r.sql,
        r#"SELECT "id", "username", "bio" FROM "user" WHERE ("id" > $1 AND "username" = $2)"#
    );
    assert_eq!(owned(r.params), [Value::I64(3), Value::Text("a'b".into())]);
    assert_eq!(
        select_sql(&c, Projection::AllColumns, Sqlite).sql,
        r#"SELECT "id", "username", "bio" FROM "user" WHERE ("id" > ? AND "username" = ?)"#
    );
}

#[test]
fn every_comparison_operator() {
    let ops = [
        (CompareOp::Eq, "="),
        (CompareOp::Ne, "<>"),
        (CompareOp::Lt, "<"),
        (CompareOp::Le, "<="),
        (CompareOp::Gt, ">"),
        (CompareOp::Ge, ">="),
    ];
    for (op, sql) in ops {
        let mut c = Clauses::default();
        c.and_filter(cmp(op, "id", Value::I64(1)));
        assert_dialects(
            |b| select_sql(&c, Projection::Count, b),
            [
                &format!(r#"SELECT COUNT(*) FROM "user" WHERE "id" {sql} ?"#),
                &format!(r#"SELECT COUNT(*) FROM "user" WHERE "id" {sql} $1"#),
                &format!("SELECT COUNT(*) FROM `user` WHERE `id` {sql} ?"),
            ],
        );
    }
}

#[test]
fn like_ilike_in_between_null_not_or() {
    let filter = Node::Or(vec![
        Node::Like {
            expr: Box::new(col("username")),
            pattern: Box::new(Node::Value(Value::Text("a%".into()))),
            case_insensitive: false,
        },
        Node::Like {
            expr: Box::new(col("bio")),
            pattern: Box::new(Node::Value(Value::Text("B%".into()))),
            case_insensitive: true,
        },
        Node::In {
            expr: Box::new(col("id")),
            values: vec![Value::I64(1), Value::I64(2)],
            negated: true,
        },
        Node::Between {
            expr: Box::new(col("id")),
            low: Box::new(Node::Value(Value::I64(1))),
            high: Box::new(Node::Value(Value::I64(9))),
        },
        Node::Not(Box::new(Node::IsNull {
            expr: Box::new(col("bio")),
            negated: true,
        })),
        Node::In {
            expr: Box::new(col("id")),
            values: vec![],
            negated: false,
        },
    ]);
    let c = Clauses {
        filter: Some(filter),
        ..Clauses::default()
    };
    assert_dialects(
        |b| select_sql(&c, Projection::Count, b),
        [
            r#"SELECT COUNT(*) FROM "user" WHERE ("username" LIKE ? ESCAPE ? OR LOWER("bio") LIKE LOWER(?) ESCAPE ? OR "id" NOT IN (?, ?) OR "id" BETWEEN ? AND ? OR NOT ("bio" IS NOT NULL) OR 1 = 0)"#,
            r#"SELECT COUNT(*) FROM "user" WHERE ("username" LIKE $1 ESCAPE $2 OR "bio" ILIKE $3 ESCAPE $4 OR "id" <> ALL($5) OR "id" BETWEEN $6 AND $7 OR NOT ("bio" IS NOT NULL) OR 1 = 0)"#,
            "SELECT COUNT(*) FROM `user` WHERE (`username` LIKE ? ESCAPE ? OR LOWER(`bio`) LIKE LOWER(?) ESCAPE ? OR `id` NOT IN (?, ?) OR `id` BETWEEN ? AND ? OR NOT (`bio` IS NOT NULL) OR 1 = 0)",
        ],
    );
}

#[test]
fn order_limit_offset_distinct_for_update() {
    let c = Clauses {
        order_by: vec![
            Order {
                expr: col("username"),
                descending: false,
            },
            Order {
                expr: col("id"),
                descending: true,
            },
        ],
        limit: Some(10),
        offset: Some(20),
        distinct: true,
        for_update: true,
        ..Clauses::default()
    };
    assert_dialects(
        |b| select_sql(&c, Projection::AllColumns, b),
        [
            r#"SELECT DISTINCT "id", "username", "bio" FROM "user" ORDER BY "username" ASC, "id" DESC LIMIT ? OFFSET ?"#,
            r#"SELECT DISTINCT "id", "username", "bio" FROM "user" ORDER BY "username" ASC, "id" DESC LIMIT $1 OFFSET $2 FOR UPDATE"#,
            "SELECT DISTINCT `id`, `username`, `bio` FROM `user` ORDER BY `username` ASC, `id` DESC LIMIT ? OFFSET ? FOR UPDATE",
        ],
    );
    let r = select_sql(&c, Projection::AllColumns, Sqlite);
    assert_eq!(owned(r.params), [Value::I64(10), Value::I64(20)]);
}

#[test]
fn offset_without_limit() {
    let c = Clauses {
        offset: Some(5),
        ..Clauses::default()
    };
    assert_dialects(
        |b| select_sql(&c, Projection::One, b),
        [
            r#"SELECT 1 FROM "user" LIMIT -1 OFFSET ?"#,
            r#"SELECT 1 FROM "user" OFFSET $1"#,
            "SELECT 1 FROM `user` LIMIT 18446744073709551615 OFFSET ?",
        ],
    );
}

#[test]
fn count_drops_order_by_and_wraps_limited_queries() {
    let ordered = Clauses {
        order_by: vec![Order {
            expr: col("id"),
            descending: true,
        }],
        ..Clauses::default()
    };
    assert_dialects(
        |b| select_sql(&ordered, Projection::Count, b),
        [
            r#"SELECT COUNT(*) FROM "user""#,
            r#"SELECT COUNT(*) FROM "user""#,
            "SELECT COUNT(*) FROM `user`",
        ],
    );
    let limited = Clauses {
        limit: Some(3),
        ..ordered
    };
    assert_dialects(
        |b| select_sql(&limited, Projection::Count, b),
        [
            r#"SELECT COUNT(*) FROM (SELECT "id", "username", "bio" FROM "user" ORDER BY "id" DESC LIMIT ?) AS "anon_1""#,
            r#"SELECT COUNT(*) FROM (SELECT "id", "username", "bio" FROM "user" ORDER BY "id" DESC LIMIT $1) AS "anon_1""#,
            "SELECT COUNT(*) FROM (SELECT `id`, `username`, `bio` FROM `user` ORDER BY `id` DESC LIMIT ?) AS `anon_1`",
        ],
    );
}

#[test]
fn update_and_delete() {
    let table = user();
    let filter = cmp(CompareOp::Eq, "id", Value::I64(7));
    assert_dialects(
        |b| {
            update(
                &UpdateStmt {
                    table: &table,
                    assignments: vec![
                        Assignment {
                            column: Cow::Borrowed("username"),
                            value: Value::Text("x".into()),
                        },
                        Assignment {
                            column: Cow::Borrowed("bio"),
                            value: Value::Null(SqlType::Text),
                        },
                    ],
                    filter: Some(&filter),
                },
                b,
            )
            .unwrap()
        },
        [
            r#"UPDATE "user" SET "username" = ?, "bio" = ? WHERE "id" = ?"#,
            r#"UPDATE "user" SET "username" = $1, "bio" = $2 WHERE "id" = $3"#,
            "UPDATE `user` SET `username` = ?, `bio` = ? WHERE `id` = ?",
        ],
    );
    assert_dialects(
        |b| {
            delete(
                &DeleteStmt {
                    table: &table,
                    filter: None,
                },
                b,
            )
            .unwrap()
        },
        [
            r#"DELETE FROM "user""#,
            r#"DELETE FROM "user""#,
            "DELETE FROM `user`",
        ],
    );
}

/// Two rows of `user()` for a multi-row INSERT, the key left to the database.
fn two_rows() -> [[Option<Value>; 3]; 2] {
    [
        [
            None,
            Some(Value::Text("a".into())),
            Some(Value::Null(SqlType::Text)),
        ],
        [
            None,
            Some(Value::Text("b".into())),
            Some(Value::Text("hi".into())),
        ],
    ]
}

#[test]
fn multi_row_insert_and_default_values() {
    let table = user();
    let [a, b_row] = two_rows();
    assert_dialects(
        |b| {
            insert(
                InsertStmt {
                    table: &table,
                    rows: vec![&a, &b_row],
                    returning: if b == MySql { vec![] } else { vec!["id"] },
                    ordered: false,
                },
                b,
            )
            .unwrap()
        },
        [
            r#"INSERT INTO "user" ("username", "bio") VALUES (?, ?), (?, ?) RETURNING "id""#,
            r#"INSERT INTO "user" ("username", "bio") VALUES ($1, $2), ($3, $4) RETURNING "id""#,
            "INSERT INTO `user` (`username`, `bio`) VALUES (?, ?), (?, ?)",
        ],
    );
    // Where rows after the first repeat its text, each still binds its own values.
    for backend in [Sqlite, Postgres, MySql] {
        let rows = vec![&a[..], &b_row[..], &a[..]];
        let r = insert(
            InsertStmt {
                table: &table,
                rows,
                returning: vec![],
                ordered: false,
            },
            backend,
        )
        .unwrap();
        let params: Vec<Value> = r.params.iter().map(|p| p.clone().into_owned()).collect();
        let text = |s: &str| Value::Text(s.into());
        let null = Value::Null(SqlType::Text);
        assert_eq!(
            params,
            [
                text("a"),
                null.clone(),
                text("b"),
                text("hi"),
                text("a"),
                null
            ],
            "{backend:?}"
        );
    }
    assert_dialects(
        |b| {
            insert(
                InsertStmt {
                    table: &table,
                    rows: vec![&[None, None, None]],
                    returning: vec![],
                    ordered: true,
                },
                b,
            )
            .unwrap()
        },
        [
            r#"INSERT INTO "user" DEFAULT VALUES"#,
            r#"INSERT INTO "user" DEFAULT VALUES"#,
            "INSERT INTO `user` () VALUES ()",
        ],
    );
}

#[test]
fn ordered_insert_draws_keys_through_select_order_by_on_postgres() {
    let table = user();
    let [a, b_row] = two_rows();
    assert_dialects(
        |b| {
            insert(
                InsertStmt {
                    table: &table,
                    rows: vec![&a, &b_row],
                    returning: vec!["id"],
                    ordered: true,
                },
                b,
            )
            .unwrap()
        },
        [
            r#"INSERT INTO "user" ("username", "bio") VALUES (?, ?), (?, ?) RETURNING "id""#,
            concat!(
                r#"INSERT INTO "user" ("username", "bio") SELECT "p0", "p1" FROM "#,
                r#"(VALUES ($1, $2, 0), ($3, $4, 1)) AS "v" ("p0", "p1", "n") ORDER BY "n" "#,
                r#"RETURNING "id""#
            ),
            "INSERT INTO `user` (`username`, `bio`) VALUES (?, ?), (?, ?) RETURNING `id`",
        ],
    );
    // One row needs no numbering.
    let r = insert(
        InsertStmt {
            table: &table,
            rows: vec![&a],
            returning: vec!["id"],
            ordered: true,
        },
        Postgres,
    )
    .unwrap();
    assert_eq!(
        r.sql,
        r#"INSERT INTO "user" ("username", "bio") VALUES ($1, $2) RETURNING "id""#
    );
}

#[test]
fn identifiers_with_quotes_are_escaped() {
    let mut out = String::new();
    Postgres.quote_ident(r#"we"ird"#, &mut out).unwrap();
    MySql.quote_ident("we`ird", &mut out).unwrap();
    assert_eq!(out, r#""we""ird"`we``ird`"#);
}

fn spam() -> Table {
    Table::new("spam")
        .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
        .column(
            ColumnDef::new("rank", SqlType::Integer)
                .index()
                .default(Value::I32(0)),
        )
        .column(ColumnDef::new("owner_id", SqlType::BigInt).nullable(true))
        .column(
            ColumnDef::new("label", SqlType::Text)
                .max_length(20)
                .server_default("'fresh'"),
        )
        .column(
            ColumnDef::new("name", SqlType::Text)
                .nullable(true)
                .unique()
                .index(),
        )
        .column(ColumnDef::new("flag", SqlType::Bool).default(Value::Bool(true)))
        .column(ColumnDef::new("note", SqlType::Text).default(Value::Text("it's".into())))
        .column(ColumnDef::new("ratio", SqlType::Double).nullable(true))
        .column(ColumnDef::new("data", SqlType::Blob).nullable(true))
        .references("owner_id", "user", "id", Some(OnDelete::Cascade))
}

#[test]
fn create_table_sqlite() {
    assert_eq!(
        create_table(&spam(), Sqlite, true).unwrap(),
        [
            r#"CREATE TABLE IF NOT EXISTS "spam" ("id" INTEGER NOT NULL, "rank" INTEGER DEFAULT 0 NOT NULL, "owner_id" BIGINT, "label" VARCHAR(20) DEFAULT 'fresh' NOT NULL, "name" TEXT, "flag" BOOLEAN DEFAULT 1 NOT NULL, "note" TEXT DEFAULT 'it''s' NOT NULL, "ratio" REAL, "data" BLOB, CONSTRAINT "pk_spam" PRIMARY KEY ("id"), CONSTRAINT "fk_spam_owner_id_user" FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE CASCADE)"#,
            r#"CREATE INDEX IF NOT EXISTS "ix_spam_rank" ON "spam" ("rank")"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_spam_name" ON "spam" ("name")"#,
        ]
    );
}

#[test]
fn create_table_postgres() {
    assert_eq!(
        create_table(&spam(), Postgres, true).unwrap(),
        [
            r#"CREATE TABLE IF NOT EXISTS "spam" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY, "rank" INTEGER DEFAULT 0 NOT NULL, "owner_id" BIGINT, "label" VARCHAR(20) DEFAULT 'fresh' NOT NULL, "name" TEXT, "flag" BOOLEAN DEFAULT TRUE NOT NULL, "note" TEXT DEFAULT 'it''s' NOT NULL, "ratio" DOUBLE PRECISION, "data" BYTEA, CONSTRAINT "pk_spam" PRIMARY KEY ("id"), CONSTRAINT "fk_spam_owner_id_user" FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE CASCADE)"#,
            r#"CREATE INDEX IF NOT EXISTS "ix_spam_rank" ON "spam" ("rank")"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "ix_spam_name" ON "spam" ("name")"#,
        ]
    );
}

#[test]
fn create_table_mysql() {
    assert_eq!(
        create_table(&spam(), MySql, true).unwrap(),
        [
            "CREATE TABLE IF NOT EXISTS `spam` (`id` BIGINT NOT NULL AUTO_INCREMENT, `rank` INT DEFAULT 0 NOT NULL, `owner_id` BIGINT, `label` VARCHAR(20) DEFAULT 'fresh' NOT NULL, `name` VARCHAR(255), `flag` BOOLEAN DEFAULT 1 NOT NULL, `note` LONGTEXT DEFAULT 'it''s' NOT NULL, `ratio` DOUBLE, `data` LONGBLOB, CONSTRAINT `pk_spam` PRIMARY KEY (`id`), CONSTRAINT `fk_spam_owner_id_user` FOREIGN KEY (`owner_id`) REFERENCES `user` (`id`) ON DELETE CASCADE, INDEX `ix_spam_rank` (`rank`), UNIQUE INDEX `ix_spam_name` (`name`))",
        ]
    );
}

#[test]
fn composite_key_has_no_autoincrement_and_constraints_are_named() {
    let t = Table::new("post_tag")
        .column(ColumnDef::new("post_id", SqlType::BigInt).primary_key())
        .column(ColumnDef::new("tag", SqlType::Text).primary_key())
        .column(ColumnDef::new("slug", SqlType::Text).unique())
        .index_on(&["tag", "slug"], false)
        .check("slug_long", "length(slug) > 2");
    assert_eq!(
        create_table(&t, Postgres, true).unwrap(),
        [
            r#"CREATE TABLE IF NOT EXISTS "post_tag" ("post_id" BIGINT NOT NULL, "tag" TEXT NOT NULL, "slug" TEXT NOT NULL, CONSTRAINT "pk_post_tag" PRIMARY KEY ("post_id", "tag"), CONSTRAINT "ck_post_tag_slug_long" CHECK (length(slug) > 2))"#,
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "uq_post_tag_slug" ON "post_tag" ("slug")"#,
            r#"CREATE INDEX IF NOT EXISTS "ix_post_tag_tag_slug" ON "post_tag" ("tag", "slug")"#,
        ]
    );
    assert_eq!(
        create_table(&t, MySql, true).unwrap(),
        [
            "CREATE TABLE IF NOT EXISTS `post_tag` (`post_id` BIGINT NOT NULL, `tag` VARCHAR(255) NOT NULL, `slug` VARCHAR(255) NOT NULL, CONSTRAINT `pk_post_tag` PRIMARY KEY (`post_id`, `tag`), CONSTRAINT `ck_post_tag_slug_long` CHECK (length(slug) > 2), UNIQUE INDEX `uq_post_tag_slug` (`slug`), INDEX `ix_post_tag_tag_slug` (`tag`, `slug`))"
        ]
    );
}

#[test]
fn drop_table_every_dialect() {
    let t = user();
    assert_eq!(
        drop_table(&t, Sqlite).unwrap(),
        r#"DROP TABLE IF EXISTS "user""#
    );
    assert_eq!(
        drop_table(&t, Postgres).unwrap(),
        r#"DROP TABLE IF EXISTS "user""#
    );
    assert_eq!(
        drop_table(&t, MySql).unwrap(),
        "DROP TABLE IF EXISTS `user`"
    );
}

#[test]
fn tables_are_ordered_parents_first_and_cycles_are_named() {
    let parent = Table::new("a").column(ColumnDef::new("id", SqlType::BigInt).primary_key());
    let child = Table::new("b")
        .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
        .references("id", "a", "id", None)
        .references("id", "b", "id", None);
    let ordered = crate::schema::parents_first(&[&child, &parent]).unwrap();
    assert_eq!(
        ordered.iter().map(|t| t.name()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let a2 = parent.clone().references("id", "b", "id", None);
    let err = crate::schema::parents_first(&[&a2, &child]).unwrap_err();
    assert!(
        err.to_string().contains("cycle between tables a, b"),
        "{err}"
    );
}

fn post() -> Table {
    Table::new("post")
        .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
        .column(ColumnDef::new("user_id", SqlType::BigInt))
        .column(ColumnDef::new("score", SqlType::Integer))
}

fn qualified(table: &'static str, name: &'static str) -> Node {
    Node::Column {
        table: Cow::Borrowed(table),
        name: Cow::Borrowed(name),
    }
}

#[test]
fn join_group_by_having_with_cast_aggregates() {
    use super::expr::{Aggregate, CastTo};
    static POST: std::sync::LazyLock<Table> = std::sync::LazyLock::new(post);
    let user = user();
    let count = Node::Aggregate {
        func: Aggregate::Count,
        arg: Some(Box::new(qualified("post", "id"))),
        distinct: false,
    };
    let sum = Node::Cast {
        expr: Box::new(Node::Aggregate {
            func: Aggregate::Sum,
            arg: Some(Box::new(qualified("post", "score"))),
            distinct: false,
        }),
        to: CastTo::BigInt,
    };
    let clauses = Clauses {
        joins: vec![Join {
            left: true,
            table: &POST,
            alias: None,
            on: Node::Compare {
                op: CompareOp::Eq,
                left: Box::new(qualified("post", "user_id")),
                right: Box::new(qualified("user", "id")),
            },
        }],
        group_by: vec![qualified("user", "username")],
        having: Some(Node::Compare {
            op: CompareOp::Gt,
            left: Box::new(count.clone()),
            right: Box::new(Node::Value(Value::I64(1))),
        }),
        ..Clauses::default()
    };
    let exprs = [qualified("user", "username"), count, sum];
    let render = |b| {
        select(
            &SelectStmt {
                table: &user,
                projection: Projection::Exprs,
                clauses: &clauses,
                exprs: &exprs,
            },
            b,
        )
        .unwrap()
    };
    assert_dialects(
        render,
        [
            r#"SELECT "user"."username", COUNT("post"."id"), SUM("post"."score") FROM "user" LEFT OUTER JOIN "post" ON "post"."user_id" = "user"."id" GROUP BY "user"."username" HAVING COUNT("post"."id") > ?"#,
            r#"SELECT "user"."username", COUNT("post"."id"), CAST(SUM("post"."score") AS BIGINT) FROM "user" LEFT OUTER JOIN "post" ON "post"."user_id" = "user"."id" GROUP BY "user"."username" HAVING COUNT("post"."id") > $1"#,
            "SELECT `user`.`username`, COUNT(`post`.`id`), CAST(SUM(`post`.`score`) AS SIGNED) FROM `user` LEFT OUTER JOIN `post` ON `post`.`user_id` = `user`.`id` GROUP BY `user`.`username` HAVING COUNT(`post`.`id`) > ?",
        ],
    );
}

#[test]
fn correlated_exists_and_in_subquery_qualify_columns() {
    static POST: std::sync::LazyLock<Table> = std::sync::LazyLock::new(post);
    let exists = Node::Exists {
        sub: Box::new(SubSelect {
            table: &POST,
            exprs: vec![qualified("post", "user_id")],
            clauses: Clauses {
                filter: Some(Node::Compare {
                    op: CompareOp::Eq,
                    left: Box::new(qualified("post", "user_id")),
                    right: Box::new(qualified("user", "id")),
                }),
                ..Clauses::default()
            },
        }),
        negated: false,
    };
    let clauses = Clauses {
        filter: Some(Node::And(vec![
            exists,
            Node::InSelect {
                expr: Box::new(qualified("user", "id")),
                sub: Box::new(SubSelect {
                    table: &POST,
                    exprs: vec![qualified("post", "user_id")],
                    clauses: Clauses::default(),
                }),
                negated: true,
            },
        ])),
        ..Clauses::default()
    };
    assert_dialects(
        |b| select_sql(&clauses, Projection::Count, b),
        [
            r#"SELECT COUNT(*) FROM "user" WHERE (EXISTS (SELECT "post"."user_id" FROM "post" WHERE "post"."user_id" = "user"."id") AND "user"."id" NOT IN (SELECT "post"."user_id" FROM "post"))"#,
            r#"SELECT COUNT(*) FROM "user" WHERE (EXISTS (SELECT "post"."user_id" FROM "post" WHERE "post"."user_id" = "user"."id") AND "user"."id" NOT IN (SELECT "post"."user_id" FROM "post"))"#,
            "SELECT COUNT(*) FROM `user` WHERE (EXISTS (SELECT `post`.`user_id` FROM `post` WHERE `post`.`user_id` = `user`.`id`) AND `user`.`id` NOT IN (SELECT `post`.`user_id` FROM `post`))",
        ],
    );
}

#[test]
fn aliased_self_join_and_derived_table() {
    static USER: std::sync::LazyLock<Table> = std::sync::LazyLock::new(user);
    let joined = Clauses {
        joins: vec![Join {
            left: true,
            table: &USER,
            alias: Some("boss".into()),
            on: Node::Compare {
                op: CompareOp::Eq,
                left: Box::new(qualified("boss", "id")),
                right: Box::new(qualified("user", "id")),
            },
        }],
        ..Clauses::default()
    };
    let exprs = [qualified("user", "username"), qualified("boss", "username")];
    let render = |clauses: &Clauses, exprs: &[Node], b| {
        select(
            &SelectStmt {
                table: &USER,
                projection: Projection::Exprs,
                clauses,
                exprs,
            },
            b,
        )
        .unwrap()
        .sql
    };
    assert_eq!(
        render(&joined, &exprs, Postgres),
        r#"SELECT "user"."username", "boss"."username" FROM "user" LEFT OUTER JOIN "user" AS "boss" ON "boss"."id" = "user"."id""#
    );
    let derived = Clauses {
        derived: Some(Box::new((
            SubSelect {
                table: &USER,
                exprs: vec![Node::Named {
                    expr: Box::new(Node::Aggregate {
                        func: super::expr::Aggregate::Count,
                        arg: None,
                        distinct: false,
                    }),
                    name: "n".into(),
                }],
                clauses: Clauses::default(),
            },
            "t".into(),
        ))),
        ..Clauses::default()
    };
    assert_eq!(
        render(&derived, &[qualified("t", "n")], MySql),
        "SELECT `t`.`n` FROM (SELECT COUNT(*) AS `n` FROM `user`) AS `t`"
    );
}

#[test]
fn copy_to_history_as_the_next_version() {
    let table = user();
    let history = table.history();
    let key = [Value::I64(7)];
    assert_dialects(
        |b| copy_to_history(&table, &history, &key, b).unwrap(),
        [
            r#"INSERT INTO "user_history" ("id", "username", "bio", "version") SELECT "user"."id", "user"."username", "user"."bio", COALESCE((SELECT MAX("v"."version") FROM "user_history" AS "v" WHERE "v"."id" = ?), 0) + 1 FROM "user" WHERE "user"."id" = ?"#,
            r#"INSERT INTO "user_history" ("id", "username", "bio", "version") SELECT "user"."id", "user"."username", "user"."bio", COALESCE((SELECT MAX("v"."version") FROM "user_history" AS "v" WHERE "v"."id" = $1), 0) + 1 FROM "user" WHERE "user"."id" = $2"#,
            "INSERT INTO `user_history` (`id`, `username`, `bio`, `version`) SELECT `user`.`id`, `user`.`username`, `user`.`bio`, COALESCE((SELECT MAX(`v`.`version`) FROM `user_history` AS `v` WHERE `v`.`id` = ?), 0) + 1 FROM `user` WHERE `user`.`id` = ?",
        ],
    );
    assert_eq!(
        copy_to_history(&table, &history, &key, Sqlite)
            .unwrap()
            .params
            .len(),
        2
    );
}
