//! Boolean and value expressions used in WHERE, ORDER BY and SET clauses.

use std::borrow::Cow;

use crate::schema::Table;
use crate::value::Value;

/// A SQL expression: built from column handles (`User::id.gt(3)`) and combined with
/// [`Expr::and`], [`Expr::or`] and [`Expr::not`]. Every value inside it is a bound
/// parameter when rendered.
///
/// ```
/// use flaskdb_core::Expr;
/// # fn demo(a: Expr, b: Expr) -> Expr {
/// a.and(b).not()
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Expr(pub(crate) Node);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Column {
        table: Cow<'static, str>,
        name: Cow<'static, str>,
    },
    Value(Value),
    Compare {
        op: CompareOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    Like {
        expr: Box<Node>,
        pattern: Box<Node>,
        case_insensitive: bool,
    },
    In {
        expr: Box<Node>,
        values: Vec<Value>,
        negated: bool,
    },
    Between {
        expr: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
    },
    IsNull {
        expr: Box<Node>,
        negated: bool,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// An aggregate; `arg: None` is `COUNT(*)`.
    Aggregate {
        func: Aggregate,
        arg: Option<Box<Node>>,
        distinct: bool,
    },
    /// A cast that gives an aggregate the same result type on every backend.
    Cast {
        expr: Box<Node>,
        to: CastTo,
    },
    /// `(SELECT ..)` as a value.
    Scalar(Box<super::SubSelect>),
    /// `expr AS "name"` in a select list.
    Named {
        expr: Box<Node>,
        name: String,
    },
    /// `[NOT] EXISTS (SELECT ..)`.
    Exists {
        sub: Box<super::SubSelect>,
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT ..)`.
    InSelect {
        expr: Box<Node>,
        sub: Box<super::SubSelect>,
        negated: bool,
    },
}

/// The aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Aggregate {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Aggregate::Count => "COUNT",
            Aggregate::Sum => "SUM",
            Aggregate::Avg => "AVG",
            Aggregate::Min => "MIN",
            Aggregate::Max => "MAX",
        }
    }
}

/// The result types aggregates are cast to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CastTo {
    BigInt,
    Double,
}

impl Node {
    /// `"table"."name"`.
    pub(crate) fn column(
        table: impl Into<Cow<'static, str>>,
        name: impl Into<Cow<'static, str>>,
    ) -> Node {
        Node::Column {
            table: table.into(),
            name: name.into(),
        }
    }

    /// `left = right`.
    pub(crate) fn eq(left: Node, right: Node) -> Node {
        Node::Compare {
            op: CompareOp::Eq,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    /// `c1 = v1 AND c2 = v2 ..`: the row of `table` whose `columns` hold `values` (a
    /// primary key, say).
    pub(crate) fn key_eq<'c>(
        table: &'static str,
        columns: impl IntoIterator<Item = &'c str>,
        values: impl IntoIterator<Item = Value>,
    ) -> Node {
        Node::And(
            columns
                .into_iter()
                .zip(values)
                .map(|(c, v)| Node::eq(Node::column(table, c.to_owned()), Node::Value(v)))
                .collect(),
        )
    }

    /// Whether this expression holds a subquery (then column names are qualified).
    pub(crate) fn has_subquery(&self) -> bool {
        match self {
            Node::Scalar(_) | Node::Exists { .. } | Node::InSelect { .. } => true,
            Node::Column { .. } | Node::Value(_) => false,
            Node::Compare { left, right, .. } => left.has_subquery() || right.has_subquery(),
            Node::Like { expr, pattern, .. } => expr.has_subquery() || pattern.has_subquery(),
            Node::In { expr, .. } | Node::IsNull { expr, .. } | Node::Not(expr) => {
                expr.has_subquery()
            }
            Node::Between { expr, low, high } => {
                expr.has_subquery() || low.has_subquery() || high.has_subquery()
            }
            Node::And(items) | Node::Or(items) => items.iter().any(Node::has_subquery),
            Node::Aggregate { arg, .. } => arg.as_deref().is_some_and(Node::has_subquery),
            Node::Cast { expr, .. } | Node::Named { expr, .. } => expr.has_subquery(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => " = ",
            CompareOp::Ne => " <> ",
            CompareOp::Lt => " < ",
            CompareOp::Le => " <= ",
            CompareOp::Gt => " > ",
            CompareOp::Ge => " >= ",
        }
    }
}

impl Expr {
    /// Both conditions (`a AND b`).
    pub fn and(self, other: Expr) -> Expr {
        Expr(match self.0 {
            Node::And(mut items) => {
                items.push(other.0);
                Node::And(items)
            }
            first => Node::And(vec![first, other.0]),
        })
    }

    /// Either condition (`a OR b`).
    pub fn or(self, other: Expr) -> Expr {
        Expr(match self.0 {
            Node::Or(mut items) => {
                items.push(other.0);
                Node::Or(items)
            }
            first => Node::Or(vec![first, other.0]),
        })
    }

    /// The negation (`NOT a`).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr {
        Expr(Node::Not(Box::new(self.0)))
    }
}

impl std::ops::BitAnd for Expr {
    type Output = Expr;
    fn bitand(self, rhs: Expr) -> Expr {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Expr {
    type Output = Expr;
    fn bitor(self, rhs: Expr) -> Expr {
        self.or(rhs)
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::not(self)
    }
}

/// The operators' shapes: each operator of a column or expression is built here once,
/// for the typed [`Column`](crate::Column) and [`Expression`](crate::Expression)
/// (values checked against the column's type) and for the by-name
/// [`ColumnRef`](crate::ColumnRef) (any value, converted when the query runs).
///
/// `left op value`; comparing with NULL gives `IS NULL` (`=`) or `IS NOT NULL` (`<>`),
/// as SQLAlchemy does.
pub(crate) fn compare(left: Node, op: CompareOp, value: Value) -> Expr {
    match (value, op) {
        (Value::Null(_), CompareOp::Eq) => is_null(left, false),
        (Value::Null(_), CompareOp::Ne) => is_null(left, true),
        (value, op) => Expr(Node::Compare {
            op,
            left: Box::new(left),
            right: Box::new(Node::Value(value)),
        }),
    }
}

/// `expr [NOT] IN (values)`.
pub(crate) fn in_list(expr: Node, values: impl IntoIterator<Item = Value>, negated: bool) -> Expr {
    Expr(Node::In {
        expr: Box::new(expr),
        values: values.into_iter().collect(),
        negated,
    })
}

/// `expr BETWEEN low AND high`.
pub(crate) fn between(expr: Node, low: Value, high: Value) -> Expr {
    Expr(Node::Between {
        expr: Box::new(expr),
        low: Box::new(Node::Value(low)),
        high: Box::new(Node::Value(high)),
    })
}

/// `expr IS [NOT] NULL`.
pub(crate) fn is_null(expr: Node, negated: bool) -> Expr {
    Expr(Node::IsNull {
        expr: Box::new(expr),
        negated,
    })
}

/// `expr LIKE pattern` (or case-insensitive), with [`LIKE_ESCAPE`] as its escape.
pub(crate) fn like(expr: Node, pattern: String, case_insensitive: bool) -> Expr {
    Expr(Node::Like {
        expr: Box::new(expr),
        pattern: Box::new(Node::Value(Value::Text(pattern))),
        case_insensitive,
    })
}

/// `expr ASC` or `expr DESC`.
pub(crate) fn order(expr: Node, descending: bool) -> Order {
    Order { expr, descending }
}

/// One ORDER BY term: an expression and a direction. Made by `User::id.asc()` or
/// `.desc()`; a bare column handle orders ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub(crate) expr: Node,
    pub(crate) descending: bool,
}

/// One `column = value` of a bulk UPDATE, made by `User::email.set("x")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub(crate) column: Cow<'static, str>,
    pub(crate) value: Value,
}

/// The SET list of a bulk update: one [`Assignment`], a tuple of them, a `Vec` or an array.
///
/// ```
/// # use flaskdb_core::{Assignment, Assignments};
/// fn takes(_: impl Assignments) {}
/// # fn demo(a: Assignment, b: Assignment) { takes((a, b)); }
/// ```
pub trait Assignments {
    /// The assignments in order.
    fn into_assignments(self) -> Vec<Assignment>;
}

impl Assignments for Assignment {
    fn into_assignments(self) -> Vec<Assignment> {
        vec![self]
    }
}

impl Assignments for Vec<Assignment> {
    fn into_assignments(self) -> Vec<Assignment> {
        self
    }
}

impl<const N: usize> Assignments for [Assignment; N] {
    fn into_assignments(self) -> Vec<Assignment> {
        self.into()
    }
}

macro_rules! tuple_assignments {
    (@ty $var:ident) => { Assignment };
    ($($var:ident),+) => {
        impl Assignments for ($(tuple_assignments!(@ty $var),)+) {
            fn into_assignments(self) -> Vec<Assignment> {
                let ($($var,)+) = self;
                vec![$($var),+]
            }
        }
    };
}

tuple_assignments!(a, b);
tuple_assignments!(a, b, c);
tuple_assignments!(a, b, c, d);
tuple_assignments!(a, b, c, d, e);
tuple_assignments!(a, b, c, d, e, f);

/// The character that escapes `%`, `_` and itself in LIKE patterns on every backend
/// (sent as a parameter of the `ESCAPE` clause).
pub(crate) const LIKE_ESCAPE: char = '\\';

/// `text` as a LIKE pattern that matches exactly `text`: `%`, `_` and the escape
/// character (a backslash, on every backend) are escaped with a backslash. For patterns
/// of your own around user input; `contains`, `startswith` and `endswith` (of
/// [`Column`](crate::Column), [`Expression`](crate::Expression) and [`ColumnRef`](crate::ColumnRef))
/// use it.
///
/// ```
/// use flaskdb_core::escape_like;
/// assert_eq!(escape_like(r"100%_sure\"), r"100\%\_sure\\");
/// let pattern = format!("{}%.txt", escape_like("report_")); // "report_" then anything
/// assert_eq!(pattern, r"report\_%.txt");
/// ```
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// `(c1, c2, ..) IN (keys)` on `table`: `c IN (..)` for one column, OR-ed equalities
/// for a composite key.
pub(crate) fn key_in<K: AsRef<[Value]>>(
    table: &'static Table,
    columns: &[&str],
    keys: &[K],
) -> Node {
    if let [single] = columns {
        let column = Node::column(table.name(), (*single).to_owned());
        return in_list(column, keys.iter().map(|k| k.as_ref()[0].clone()), false).0;
    }
    Node::Or(
        keys.iter()
            .map(|key| Node::key_eq(table.name(), columns.iter().copied(), key.as_ref().to_vec()))
            .collect(),
    )
}
