//! Typed expressions beyond plain columns: aggregates, column-to-column comparisons and
//! subqueries, with the Rust type each one decodes to.

use std::marker::PhantomData;

use crate::model::Model;
use crate::model::column::{Column, TextColumn};
use crate::schema::Table;
use crate::sql::expr::{Aggregate, CastTo, CompareOp, Expr, Node, Order};
use crate::value::column_type::{ColumnType, IntoField};
use crate::value::relations::{Comparable, MaybeNull, Numeric};

/// A typed SQL expression that is not a plain column: an aggregate (`Post::id.count()`),
/// or a scalar subquery. It can be selected (decoding to `T`), compared, and ordered by.
///
/// ```
/// # use flaskdb_core::{Column, Expression, Expr, Model};
/// fn popular<M: Model>(id: Column<M, i64>) -> (Expression<i64>, Expr) {
///     (id.count(), id.count().gt(10))
/// }
/// ```
pub struct Expression<T> {
    pub(crate) node: Node,
    pub(crate) table: Option<&'static Table>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Expression<T> {
    fn clone(&self) -> Self {
        Expression {
            node: self.node.clone(),
            table: self.table,
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Expression<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.node).finish()
    }
}

impl<T> Expression<T> {
    pub(crate) fn new(node: Node, table: Option<&'static Table>) -> Self {
        Expression {
            node,
            table,
            _type: PhantomData,
        }
    }
}

/// The comparison, ordering and null-test methods of a typed operand (a column or an
/// expression) whose values are `T`.
macro_rules! operand_methods {
    () => {
        /// `self = value` (`IS NULL` for `None`).
        pub fn eq(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Eq, value.into_field().into_value())
        }

        /// `self <> value` (`IS NOT NULL` for `None`).
        pub fn ne(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Ne, value.into_field().into_value())
        }

        /// `self < value`.
        pub fn lt(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Lt, value.into_field().into_value())
        }

        /// `self <= value`.
        pub fn le(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Le, value.into_field().into_value())
        }

        /// `self > value`.
        pub fn gt(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Gt, value.into_field().into_value())
        }

        /// `self >= value`.
        pub fn ge(self, value: impl IntoField<T>) -> Expr {
            $crate::sql::expr::compare(self.node(), CompareOp::Ge, value.into_field().into_value())
        }

        /// `self = other` for another column or expression of a comparable type
        /// (`Post::user_id.eq_col(User::id)`, the ON of a join).
        pub fn eq_col<O: Operand>(self, other: O) -> Expr
        where
            O::Type: Comparable<T>,
        {
            Expr(Node::eq(self.node(), other.into_expr().0))
        }

        /// `self IS NULL`.
        pub fn is_null(self) -> Expr {
            $crate::sql::expr::is_null(self.node(), false)
        }

        /// `self IS NOT NULL`.
        pub fn is_not_null(self) -> Expr {
            $crate::sql::expr::is_null(self.node(), true)
        }

        /// Ascending order.
        pub fn asc(self) -> Order {
            $crate::sql::expr::order(self.node(), false)
        }

        /// Descending order.
        pub fn desc(self) -> Order {
            $crate::sql::expr::order(self.node(), true)
        }
    };
}
pub(crate) use operand_methods;

impl<T: ColumnType> Expression<T> {
    pub(crate) fn node(&self) -> Node {
        self.node.clone()
    }

    operand_methods!();
}

/// The LIKE methods of a text expression: an aliased or derived table's text column.
impl<T: TextColumn> Expression<T> {
    crate::model::column::text_methods!((self) self.node());
}

/// A column or expression usable on either side of a comparison; see `eq_col`.
pub trait Operand {
    /// The Rust type of its values.
    type Type;
    /// The expression.
    #[doc(hidden)]
    fn into_expr(self) -> Expr;
}

impl<M: Model, T: ColumnType> Operand for Column<M, T> {
    type Type = T;
    fn into_expr(self) -> Expr {
        Expr(self.node())
    }
}

impl<T: ColumnType> Operand for Expression<T> {
    type Type = T;
    fn into_expr(self) -> Expr {
        Expr(self.node)
    }
}

impl<M: Model, T: ColumnType> From<Column<M, T>> for Expr {
    fn from(column: Column<M, T>) -> Expr {
        Expr(column.node())
    }
}

impl<T: ColumnType> From<Expression<T>> for Expr {
    fn from(e: Expression<T>) -> Expr {
        Expr(e.node)
    }
}

fn aggregate(func: Aggregate, arg: Node, distinct: bool) -> Node {
    Node::Aggregate {
        func,
        arg: Some(Box::new(arg)),
        distinct,
    }
}

fn cast(node: Node, to: CastTo) -> Node {
    Node::Cast {
        expr: Box::new(node),
        to,
    }
}

impl<M: Model, T: ColumnType> Column<M, T> {
    /// `COUNT(column)`: the rows where the column is not NULL.
    pub fn count(self) -> Expression<i64> {
        Expression::new(
            aggregate(Aggregate::Count, self.node(), false),
            Some(M::table()),
        )
    }

    /// `COUNT(DISTINCT column)`.
    pub fn count_distinct(self) -> Expression<i64> {
        Expression::new(
            aggregate(Aggregate::Count, self.node(), true),
            Some(M::table()),
        )
    }
}

impl<M: Model, T: Numeric> Column<M, T> {
    /// `SUM(column)`, as `i64` for integer columns and `f64` for float ones (cast where a
    /// backend would return a DECIMAL); `None` when no row matched.
    pub fn sum(self) -> Expression<T::Sum> {
        let to = if T::FLOAT {
            CastTo::Double
        } else {
            CastTo::BigInt
        };
        let node = cast(aggregate(Aggregate::Sum, self.node(), false), to);
        Expression::new(node, Some(M::table()))
    }

    /// `AVG(column)` as `f64`; `None` when no row matched.
    pub fn avg(self) -> Expression<Option<f64>> {
        let node = cast(
            aggregate(Aggregate::Avg, self.node(), false),
            CastTo::Double,
        );
        Expression::new(node, Some(M::table()))
    }
}

impl<M: Model, T: MaybeNull> Column<M, T> {
    /// `MIN(column)`; `None` when no row matched.
    pub fn min(self) -> Expression<T::Nullable> {
        Expression::new(
            aggregate(Aggregate::Min, self.node(), false),
            Some(M::table()),
        )
    }

    /// `MAX(column)`; `None` when no row matched.
    pub fn max(self) -> Expression<T::Nullable> {
        Expression::new(
            aggregate(Aggregate::Max, self.node(), false),
            Some(M::table()),
        )
    }
}

/// `COUNT(*)`, to select beside other values (`select_columns((User::username,
/// count_all()))`).
///
/// ```
/// let n = flaskdb_core::count_all();
/// ```
pub fn count_all() -> Expression<i64> {
    Expression::new(
        Node::Aggregate {
            func: Aggregate::Count,
            arg: None,
            distinct: false,
        },
        None,
    )
}
