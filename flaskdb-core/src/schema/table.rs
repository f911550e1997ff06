//! Table metadata: plain data describing a table, built by the derive or at runtime.

use crate::schema::convention;
use crate::schema::relation::RelationDef;
use crate::value::Value;
use crate::value::column_type::ColumnType;
use crate::value::sql_type::{Ddl, SqlType};

/// What a foreign key does when the referenced row is deleted.
///
/// ```
/// use flaskdb_core::OnDelete;
/// assert_eq!(OnDelete::SetNull.sql(), "SET NULL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// `ON DELETE CASCADE`.
    Cascade,
    /// `ON DELETE SET NULL`.
    SetNull,
    /// `ON DELETE RESTRICT`.
    Restrict,
    /// `ON DELETE SET DEFAULT`.
    SetDefault,
}

impl OnDelete {
    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
            OnDelete::Restrict => "RESTRICT",
            OnDelete::SetDefault => "SET DEFAULT",
        }
    }
}

/// One column of a [`Table`].
///
/// ```
/// use flaskdb_core::{ColumnDef, SqlType};
/// let c = ColumnDef::new("username", SqlType::Text).max_length(80).unique();
/// assert_eq!((c.name(), c.length(), c.is_unique()), ("username", Some(80), true));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    name: String,
    sql_type: SqlType,
    nullable: bool,
    primary_key: bool,
    autoincrement: Option<bool>,
    unique: bool,
    index: bool,
    max_length: Option<u32>,
    default: Option<Value>,
    server_default: Option<String>,
    ddl: Option<Ddl>,
    default_fn: Option<ValueFn>,
    onupdate: Option<ValueFn>,
    database_type: Declared,
    renamed_from: Former,
}

/// A value computed in Rust when it is needed (`default_fn`, `onupdate`). Not part of
/// the schema: two columns differing only in it compare equal.
#[derive(Clone, Copy)]
struct ValueFn(fn() -> Value);

impl PartialEq for ValueFn {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The type as a database spells it (`int(11)`, `INTEGER`): informative, not part of
/// the schema, so two columns differing only in it compare equal.
#[derive(Debug, Clone, Default)]
struct Declared(Option<String>);

impl PartialEq for Declared {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A former name (`renamed_from`): what autogenerate renames from, not part of the
/// schema, so two columns or tables differing only in it compare equal.
#[derive(Debug, Clone, Default)]
struct Former(Option<String>);

impl PartialEq for Former {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ValueFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fn")
    }
}

impl ColumnDef {
    /// A NOT NULL column of the given type with no other options.
    pub fn new(name: impl Into<String>, sql_type: SqlType) -> Self {
        ColumnDef {
            name: name.into(),
            sql_type,
            nullable: false,
            primary_key: false,
            autoincrement: None,
            unique: false,
            index: false,
            max_length: None,
            default: None,
            server_default: None,
            ddl: None,
            default_fn: None,
            onupdate: None,
            database_type: Declared(None),
            renamed_from: Former(None),
        }
    }

    /// A column of Rust type `T`: its SQL type, nullability, default text length and
    /// DDL type come from `T`'s [`ColumnType`] implementation.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType};
    /// let c = ColumnDef::of::<Option<i32>>("rank");
    /// assert_eq!((c.sql_type(), c.is_nullable()), (SqlType::Integer, true));
    /// ```
    pub fn of<T: ColumnType>(name: impl Into<String>) -> Self {
        let mut column = ColumnDef::new(name, T::SQL_TYPE).nullable(T::NULLABLE);
        column.max_length = T::MAX_LENGTH;
        column.ddl = T::DDL;
        column
    }

    /// Sets the DDL type per dialect (a [`CustomType`](crate::CustomType) column declared
    /// unlike its stored type).
    pub fn ddl(mut self, ddl: Ddl) -> Self {
        self.ddl = Some(ddl);
        self
    }

    /// Makes the column nullable (or not).
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// Marks the column as (part of) the primary key.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Overrides whether the column autoincrements (by default a table's single integer
    /// primary key does).
    pub fn autoincrement(mut self, on: bool) -> Self {
        self.autoincrement = Some(on);
        self
    }

    /// Adds a UNIQUE constraint.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Adds an index named `ix_<table>_<column>`.
    pub fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// Sets the maximum length of a text column (`VARCHAR(n)`).
    pub fn max_length(mut self, n: u32) -> Self {
        self.max_length = Some(n);
        self
    }

    /// Sets a literal default, used by builders and emitted in DDL.
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    /// Sets a default computed in Rust each time a builder leaves the column unset
    /// (`created_at` set to the current time). It is not in the DDL.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Value};
    /// let c = ColumnDef::new("n", SqlType::BigInt).default_fn(|| Value::I64(7));
    /// assert_eq!(c.computed_default(), Some(Value::I64(7)));
    /// ```
    pub fn default_fn(mut self, f: fn() -> Value) -> Self {
        self.default_fn = Some(ValueFn(f));
        self
    }

    /// Sets a value computed in Rust each time a session updates the row without
    /// setting the column itself, and by bulk updates that do not assign it
    /// (`updated_at` set to the current time).
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Value};
    /// let c = ColumnDef::new("n", SqlType::BigInt).onupdate(|| Value::I64(8));
    /// assert_eq!(c.update_value(), Some(Value::I64(8)));
    /// ```
    pub fn onupdate(mut self, f: fn() -> Value) -> Self {
        self.onupdate = Some(ValueFn(f));
        self
    }

    /// A new value from the column's `default_fn`, if it has one.
    pub fn computed_default(&self) -> Option<Value> {
        self.default_fn.map(|f| (f.0)())
    }

    /// A new value from the column's `onupdate`, if it has one.
    pub fn update_value(&self) -> Option<Value> {
        self.onupdate.map(|f| (f.0)())
    }

    /// Records the type as the database declares it (`character varying(80)`): set by
    /// [`Db::reflect`](crate::Db::reflect), informative only (the DDL flaskdb writes
    /// comes from the SQL type).
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType};
    /// let c = ColumnDef::new("ip", SqlType::Text).declared_as("inet");
    /// assert_eq!(c.declared_type(), Some("inet"));
    /// ```
    pub fn declared_as(mut self, declared: impl Into<String>) -> Self {
        self.database_type = Declared(Some(declared.into()));
        self
    }

    /// The type as the database declared it, for a reflected column.
    pub fn declared_type(&self) -> Option<&str> {
        self.database_type.0.as_deref()
    }

    /// Names the column's former name (`#[model(renamed_from = "old")]`): autogenerate
    /// then renames `old` to it, keeping its values, instead of dropping one column and
    /// adding another.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType};
    /// let c = ColumnDef::new("title", SqlType::Text).renamed_from("headline");
    /// assert_eq!(c.former_name(), Some("headline"));
    /// ```
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Former(Some(old.into()));
        self
    }

    /// The former name given with [`ColumnDef::renamed_from`].
    pub fn former_name(&self) -> Option<&str> {
        self.renamed_from.0.as_deref()
    }

    /// Sets a default written as SQL, emitted in DDL only.
    pub fn server_default(mut self, sql: impl Into<String>) -> Self {
        self.server_default = Some(sql.into());
        self
    }

    /// The column name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The SQL type.
    pub fn sql_type(&self) -> SqlType {
        self.sql_type
    }
    /// The DDL type per dialect, when it is not the SQL type's.
    pub(crate) fn ddl_type(&self) -> Option<Ddl> {
        self.ddl
    }
    /// Whether NULL is allowed.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// Whether the column is (part of) the primary key.
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }
    /// Whether the column has a UNIQUE constraint.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    /// Whether the column has its own index.
    pub fn is_indexed(&self) -> bool {
        self.index
    }
    /// The maximum length (`max_length`), if any.
    pub fn length(&self) -> Option<u32> {
        self.max_length
    }
    /// The literal default, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }
    /// The SQL default, if any.
    pub fn server_default_sql(&self) -> Option<&str> {
        self.server_default.as_deref()
    }
}

/// A foreign key of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns.
    pub ref_columns: Vec<String>,
    /// What happens on delete of the referenced row.
    pub on_delete: Option<OnDelete>,
    /// The constraint's name where it is not the convention's
    /// (`fk_<table>_<column>_<referred table>`): a reflected foreign key made by hand.
    pub name: Option<String>,
}

/// An index of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// The index name.
    pub name: String,
    /// The indexed columns.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
}

/// A CHECK constraint of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The constraint's name.
    pub name: String,
    /// The condition, in SQL.
    pub sql: String,
}

/// The description of one table: its name, bind, columns, keys and indexes.
///
/// Derived models build theirs once; tables without a model (association tables) are
/// declared with the same builder.
///
/// ```
/// use flaskdb_core::{ColumnDef, SqlType, Table};
/// let t = Table::new("post_tag")
///     .column(ColumnDef::new("post_id", SqlType::BigInt).primary_key())
///     .column(ColumnDef::new("tag_id", SqlType::BigInt).primary_key())
///     .foreign_key("post_id", "post.id", None)
///     .unwrap();
/// assert_eq!(t.primary_key(), ["post_id", "tag_id"]);
/// assert_eq!(t.foreign_keys()[0].ref_table, "post");
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    name: String,
    bind: Option<String>,
    columns: Vec<ColumnDef>,
    foreign_keys: Vec<ForeignKey>,
    /// Indexes beyond the columns' own (`ColumnDef::index`): composite, or named
    /// otherwise.
    indexes: Vec<Index>,
    checks: Vec<Check>,
    view: bool,
    relations: Vec<fn() -> &'static RelationDef>,
    history: Option<fn() -> &'static Table>,
    renamed_from: Option<String>,
}

/// Tables are equal when their schemas are: the model's relationships and history
/// link are not part of it.
impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.bind == other.bind
            && self.columns == other.columns
            && self.foreign_keys == other.foreign_keys
            && self.indexes == other.indexes
            && self.checks == other.checks
            && self.view == other.view
    }
}

impl Table {
    /// An empty table on the default bind.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            bind: None,
            columns: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            view: false,
            relations: Vec::new(),
            history: None,
            renamed_from: None,
        }
    }

    /// Names the table's former name (`#[model(renamed_from = "old")]`): autogenerate
    /// then renames table `old`, keeping its rows, instead of dropping it and creating
    /// this one. Not part of the schema: tables differing only in it are equal.
    ///
    /// ```
    /// use flaskdb_core::Table;
    /// let t = Table::new("article").renamed_from("post");
    /// assert_eq!(t.former_name(), Some("post"));
    /// ```
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Some(old.into());
        self
    }

    /// The former name given with [`Table::renamed_from`].
    pub fn former_name(&self) -> Option<&str> {
        self.renamed_from.as_deref()
    }

    /// Puts the table on a bind (`None` is the default bind).
    pub fn bind(mut self, bind: Option<&str>) -> Self {
        self.bind = bind.map(str::to_owned);
        self
    }

    /// Marks the table as a view: queryable, never created or dropped.
    pub fn view(mut self, view: bool) -> Self {
        self.view = view;
        self
    }

    /// Registers this table for the life of the process, beside the models' tables:
    /// `create_all` creates it on its bind, and a many-to-many relationship can go
    /// through it (`secondary = "post_tag"`). What SQLAlchemy's `db.Table(..)` does.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Table};
    /// let post_tag = Table::new("doc_post_tag")
    ///     .column(ColumnDef::new("post_id", SqlType::BigInt).primary_key())
    ///     .column(ColumnDef::new("tag_id", SqlType::BigInt).primary_key())
    ///     .declare()
    ///     .unwrap();
    /// assert_eq!(post_tag.name(), "doc_post_tag");
    /// assert!(Table::new("doc_post_tag").declare().is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Schema`](crate::Error::Schema) when a table of that name is already
    /// registered on the same bind.
    pub fn declare(self) -> crate::Result<&'static Table> {
        super::declare(self)
    }

    /// Keeps the previous version of every row a session updates or deletes in
    /// `history` (the table [`Table::history`] makes; `#[model(versioned)]` sets it).
    #[doc(hidden)]
    pub fn versioned(mut self, history: fn() -> &'static Table) -> Self {
        self.history = Some(history);
        self
    }

    /// The history table of a versioned table.
    pub fn history_table(&self) -> Option<&'static Table> {
        self.history.map(|history| history())
    }

    /// The history table of this table, as SQLAlchemy's versioning example makes it:
    /// `<name>_history` on the same bind, with every column (without defaults,
    /// uniqueness, indexes or foreign keys, so old rows outlive what they pointed at)
    /// and a `version` column, keyed by the primary key and the version.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Table};
    /// let page = Table::new("page")
    ///     .column(ColumnDef::new("id", SqlType::BigInt).primary_key())
    ///     .column(ColumnDef::new("title", SqlType::Text).unique());
    /// let history = page.history();
    /// assert_eq!(history.name(), "page_history");
    /// assert_eq!(history.primary_key(), ["id", "version"]);
    /// assert!(history.autoincrement_column().is_none());
    /// ```
    pub fn history(&self) -> Table {
        let mut history = Table::new(format!("{}_history", self.name)).bind(self.bind_key());
        for column in &self.columns {
            history = history.column(ColumnDef {
                autoincrement: Some(false),
                unique: false,
                index: false,
                default: None,
                server_default: None,
                ..column.clone()
            });
        }
        history.column(ColumnDef::new("version", SqlType::BigInt).primary_key())
    }

    /// Adds a model's relationship (generated by `#[derive(Model)]`): deleting a row
    /// through a session follows it.
    #[doc(hidden)]
    pub fn relation(mut self, def: fn() -> &'static RelationDef) -> Self {
        self.relations.push(def);
        self
    }

    /// The relationships of the model behind this table.
    pub(crate) fn relations(&self) -> impl Iterator<Item = &'static RelationDef> + '_ {
        self.relations.iter().map(|def| def())
    }

    /// Appends a column.
    pub fn column(mut self, column: ColumnDef) -> Self {
        self.columns.push(column);
        self
    }

    /// Adds a foreign key from `column` to `target`, written `"table.column"`.
    ///
    /// # Errors
    /// [`crate::Error::Schema`] when `target` is not of the form `table.column`.
    pub fn foreign_key(
        self,
        column: &str,
        target: &str,
        on_delete: Option<OnDelete>,
    ) -> crate::Result<Self> {
        let (ref_table, ref_column) = split_target(target).ok_or_else(|| {
            crate::Error::Schema(format!(
                "foreign key `{}.{column}` -> `{target}`: expected \"table.column\"",
                self.name
            ))
        })?;
        Ok(self.references(column, ref_table, ref_column, on_delete))
    }

    /// Adds a foreign key from `column` to `ref_table.ref_column`.
    pub fn references(
        self,
        column: &str,
        ref_table: &str,
        ref_column: &str,
        on_delete: Option<OnDelete>,
    ) -> Self {
        self.composite_foreign_key(ForeignKey {
            columns: vec![column.to_owned()],
            ref_table: ref_table.to_owned(),
            ref_columns: vec![ref_column.to_owned()],
            on_delete,
            name: None,
        })
    }

    /// Adds a foreign key over several columns (or one).
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, ForeignKey, OnDelete, SqlType, Table};
    /// let t = Table::new("line").column(ColumnDef::new("order_no", SqlType::BigInt))
    ///     .column(ColumnDef::new("shop", SqlType::BigInt))
    ///     .composite_foreign_key(ForeignKey {
    ///         columns: vec!["shop".into(), "order_no".into()],
    ///         ref_table: "orders".into(),
    ///         ref_columns: vec!["shop".into(), "no".into()],
    ///         on_delete: Some(OnDelete::Cascade),
    ///         name: None,
    ///     });
    /// assert_eq!(t.foreign_keys()[0].columns.len(), 2);
    /// ```
    pub fn composite_foreign_key(mut self, foreign_key: ForeignKey) -> Self {
        self.foreign_keys.push(foreign_key);
        self
    }

    /// Adds an index of its own (composite, or with a name of its choosing); a
    /// column's own index is [`ColumnDef::index`]. A table's own indexes are kept in
    /// name order, as catalogs list them.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, Index, SqlType, Table};
    /// let t = Table::new("visit")
    ///     .column(ColumnDef::new("day", SqlType::Text))
    ///     .column(ColumnDef::new("page", SqlType::Text))
    ///     .index(Index { name: "ix_visit_day_page".into(), columns: vec!["day".into(), "page".into()], unique: true });
    /// assert_eq!(t.indexes()[0].columns, ["day", "page"]);
    /// ```
    pub fn index(mut self, index: Index) -> Self {
        let at = self.indexes.partition_point(|i| i.name < index.name);
        self.indexes.insert(at, index);
        self
    }

    /// Adds an index over `columns` named by convention (`ix_<table>_<columns>`, or
    /// `uq_<table>_<columns>` for a unique one): `#[model(index("a", "b"))]` and
    /// `#[model(unique("a", "b"))]`.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Table};
    /// let t = Table::new("stock")
    ///     .column(ColumnDef::new("shop", SqlType::BigInt))
    ///     .column(ColumnDef::new("sku", SqlType::Text))
    ///     .index_on(&["shop", "sku"], true);
    /// assert_eq!(t.indexes()[0].name, "uq_stock_shop_sku");
    /// ```
    pub fn index_on(self, columns: &[&str], unique: bool) -> Self {
        let name = if unique {
            convention::unique_name(&self.name, columns)
        } else {
            convention::index_name(&self.name, columns)
        };
        self.index(Index {
            name,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            unique,
        })
    }

    /// Adds CHECK constraint `name`, named `ck_<table>_<name>` by convention:
    /// `#[model(check(name = "..", sql = ".."))]`. The database refuses a row for which
    /// `sql` is false.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Table};
    /// let t = Table::new("item")
    ///     .column(ColumnDef::new("price", SqlType::BigInt))
    ///     .check("price_positive", "price >= 0");
    /// assert_eq!(t.checks()[0].name, "ck_item_price_positive");
    /// ```
    pub fn check(self, name: &str, sql: impl Into<String>) -> Self {
        let name = convention::check_name(&self.name, name);
        self.check_constraint(Check {
            name,
            sql: sql.into(),
        })
    }

    /// Adds a CHECK constraint under exactly the name it has (a reflected one). The
    /// checks are kept in name order, as catalogs list them.
    pub fn check_constraint(mut self, check: Check) -> Self {
        let at = self.checks.partition_point(|c| c.name < check.name);
        self.checks.insert(at, check);
        self
    }

    /// The CHECK constraints.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// This table without its columns (SQLite's rebuild lists them again).
    pub(crate) fn without_columns(&self) -> Table {
        Table {
            columns: Vec::new(),
            ..self.clone()
        }
    }

    /// This table without its CHECK constraints.
    pub(crate) fn without_checks(mut self) -> Table {
        self.checks.clear();
        self
    }

    /// This table with the columns its foreign keys and own indexes name renamed.
    pub(crate) fn renamed_columns(mut self, renamed: impl Fn(&str) -> String) -> Table {
        for fk in &mut self.foreign_keys {
            fk.columns = fk.columns.iter().map(|c| renamed(c)).collect();
        }
        for index in &mut self.indexes {
            index.columns = index.columns.iter().map(|c| renamed(c)).collect();
        }
        self
    }

    /// Gives the foreign keys that name no referenced columns (SQLite's
    /// `REFERENCES parent`) the referenced table's primary key.
    pub(crate) fn fill_referenced_keys(&mut self, primary_key_of: impl Fn(&str) -> Vec<String>) {
        for fk in &mut self.foreign_keys {
            if fk.ref_columns.is_empty() {
                fk.ref_columns = primary_key_of(&fk.ref_table);
            }
        }
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The bind key (`None` = default bind).
    pub fn bind_key(&self) -> Option<&str> {
        self.bind.as_deref()
    }
    /// Whether this is a view.
    pub fn is_view(&self) -> bool {
        self.view
    }
    /// The columns, in declaration order.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.columns
    }
    /// Where column `name` sits among the columns.
    pub(crate) fn column_position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name() == name)
    }
    /// A column by name.
    pub fn column_named(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// The primary-key column names, in declaration order.
    pub fn primary_key(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect()
    }
    /// The foreign keys.
    pub fn foreign_keys(&self) -> &[ForeignKey] {
        &self.foreign_keys
    }

    /// The name of foreign key `fk` of this table: its own, or the convention's.
    pub fn foreign_key_name(&self, fk: &ForeignKey) -> String {
        fk.name.clone().unwrap_or_else(|| {
            convention::foreign_key_name(&self.name, &fk.columns, &fk.ref_table, &fk.ref_columns)
        })
    }

    /// This table without foreign key `name`, or `None` when it has none of that name.
    pub(crate) fn without_foreign_key(&self, name: &str) -> Option<Table> {
        let at = self
            .foreign_keys
            .iter()
            .position(|fk| self.foreign_key_name(fk) == name)?;
        let mut table = self.clone();
        table.foreign_keys.remove(at);
        Some(table)
    }

    /// Whether `column` is part of a key, unique, indexed or referencing: what MySQL
    /// declares a text column of as `VARCHAR(255)` (it cannot index `LONGTEXT`).
    pub(crate) fn in_key(&self, column: &ColumnDef) -> bool {
        column.is_primary_key()
            || column.is_unique()
            || column.is_indexed()
            || self
                .foreign_keys
                .iter()
                .any(|fk| fk.columns.iter().any(|c| c == column.name()))
    }

    /// The column that the database numbers itself, if any: the single integer primary
    /// key, unless it says `autoincrement(false)`.
    pub fn autoincrement_column(&self) -> Option<&ColumnDef> {
        let mut pk = self.columns.iter().filter(|c| c.primary_key);
        let (first, second) = (pk.next(), pk.next());
        match (first, second) {
            (Some(c), None) if c.sql_type.is_integer() && c.autoincrement != Some(false) => Some(c),
            _ => self.columns.iter().find(|c| c.autoincrement == Some(true)),
        }
    }

    /// The indexes: each column's own ([`Table::column_index`]), then the table's own
    /// ([`Table::index`]).
    pub fn indexes(&self) -> Vec<Index> {
        self.columns
            .iter()
            .filter_map(|c| self.column_index(c))
            .chain(self.indexes.iter().cloned())
            .collect()
    }

    /// The index `column` makes of its own, named by convention: `ix_<table>_<column>`
    /// for an `index` column (unique when it is also `unique`), `uq_<table>_<column>`
    /// for a `unique` one. A unique column is a unique index, which every backend can
    /// drop by name.
    ///
    /// ```
    /// use flaskdb_core::{ColumnDef, SqlType, Table};
    /// let t = Table::new("user").column(ColumnDef::new("email", SqlType::Text).unique());
    /// let own = t.column_index(&t.columns()[0]).unwrap();
    /// assert_eq!((own.name.as_str(), own.unique), ("uq_user_email", true));
    /// ```
    pub fn column_index(&self, column: &ColumnDef) -> Option<Index> {
        let name = match (column.index, column.unique) {
            (true, _) => convention::index_name(&self.name, &[&column.name]),
            (false, true) => convention::unique_name(&self.name, &[&column.name]),
            (false, false) => return None,
        };
        Some(Index {
            name,
            columns: vec![column.name.clone()],
            unique: column.unique,
        })
    }
}

fn split_target(target: &str) -> Option<(&str, &str)> {
    let (table, column) = target.rsplit_once('.')?;
    (!table.is_empty() && !column.is_empty()).then_some((table, column))
}
