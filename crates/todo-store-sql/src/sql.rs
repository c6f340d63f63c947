//! SQL built at run time: text with placeholders and its values in order, in one of the two
//! dialects. Each backend binds the values with its own driver. The same shape of request
//! gives the same text, so prepared-statement caches find the statement again.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use todo_core::ids::{
    ApiKeyId, CommentId, ConversationId, InvitationId, ProjectId, PushSubscriptionId, SectionId,
    TagId, TaskId, UserId, WebhookId,
};

/// A value to bind. Absent values keep their type (PostgreSQL binds typed NULLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    SmallInt(i16),
    Int(Option<i64>),
    Text(Option<String>),
    /// A moment: `TIMESTAMPTZ` on PostgreSQL, fixed-width RFC 3339 text on SQLite.
    Time(Option<DateTime<Utc>>),
    /// A day: `DATE` on PostgreSQL, `YYYY-MM-DD` text on SQLite.
    Date(Option<NaiveDate>),
    /// A wall-clock time: `TIMESTAMP` on PostgreSQL, `YYYY-MM-DDTHH:MM:SS` text on SQLite.
    Local(Option<NaiveDateTime>),
}

impl From<Option<NaiveDateTime>> for Value {
    fn from(v: Option<NaiveDateTime>) -> Self {
        Value::Local(v)
    }
}

impl From<ProjectId> for Value {
    fn from(v: ProjectId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<Option<ProjectId>> for Value {
    fn from(v: Option<ProjectId>) -> Self {
        Value::Int(v.map(ProjectId::get))
    }
}

impl From<InvitationId> for Value {
    fn from(v: InvitationId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<CommentId> for Value {
    fn from(v: CommentId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<SectionId> for Value {
    fn from(v: SectionId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<Option<SectionId>> for Value {
    fn from(v: Option<SectionId>) -> Self {
        Value::Int(v.map(SectionId::get))
    }
}

impl From<Option<TaskId>> for Value {
    fn from(v: Option<TaskId>) -> Self {
        Value::Int(v.map(TaskId::get))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<i16> for Value {
    fn from(v: i16) -> Self {
        Value::SmallInt(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(Some(i64::from(v)))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        Value::Text(v.clone())
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_owned))
    }
}

impl From<&UserId> for Value {
    fn from(v: &UserId) -> Self {
        Value::Text(Some(v.as_str().to_owned()))
    }
}

impl From<&ApiKeyId> for Value {
    fn from(v: &ApiKeyId) -> Self {
        Value::Text(Some(v.as_str().to_owned()))
    }
}

impl From<&ConversationId> for Value {
    fn from(v: &ConversationId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<WebhookId> for Value {
    fn from(v: WebhookId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<PushSubscriptionId> for Value {
    fn from(v: PushSubscriptionId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<TaskId> for Value {
    fn from(v: TaskId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<TagId> for Value {
    fn from(v: TagId) -> Self {
        Value::Int(Some(v.get()))
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Time(Some(v))
    }
}

impl From<Option<DateTime<Utc>>> for Value {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Value::Time(v)
    }
}

impl From<Option<NaiveDate>> for Value {
    fn from(v: Option<NaiveDate>) -> Self {
        Value::Date(v)
    }
}

/// How full-text search is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// SQLite FTS5: the `tasks_fts` table.
    Fts5,
    /// PostgreSQL: the `search` tsvector column and a `simple` tsquery.
    TsQuery,
}

/// Where a task row's columns name their reader: labels and reminders are personal, so a
/// task shows the reader's own. Statements put a placeholder there ([`task_columns`],
/// [`Sql::push_task_columns`]).
pub const VIEWER: &str = "{viewer}";

/// `columns` with the reader's id at `placeholder` (such as `?1`).
pub fn task_columns(columns: &str, placeholder: &str) -> String {
    columns.replace(VIEWER, placeholder)
}

/// What differs between the two databases in the SQL both build at run time; each backend
/// declares its own (`DIALECT` in its `list.rs`).
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// `$1`, `$2`, … (PostgreSQL), or `?` bound in order (SQLite).
    pub numbered_placeholders: bool,
    /// The columns of a task row, in the order the backend decodes them, with [`VIEWER`]
    /// where the reader's id goes (their own labels and reminders).
    pub task_columns: &'static str,
    /// What a task without a due sorts as: after every real moment.
    pub no_due: &'static str,
    /// The title as it sorts, without regard to case; `title_cursor` wraps a bound title so
    /// that it compares the same way.
    pub title_sort: &'static str,
    pub title_cursor: (&'static str, &'static str),
    /// A task that is not completed.
    pub open: &'static str,
    /// The tag filter, around its two values (the owner and the tag's key).
    pub tag_filter: [&'static str; 3],
    pub search: Search,
}

/// SQL text and the values of its placeholders, in order.
#[derive(Debug, Clone)]
pub struct Sql {
    text: String,
    values: Vec<Value>,
    numbered: bool,
}

impl Sql {
    pub fn new(dialect: &Dialect, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            values: Vec::new(),
            numbered: dialect.numbered_placeholders,
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// A task row's columns (`columns`, with [`VIEWER`] marks) as `viewer` reads them: each
    /// mark a placeholder bound to the viewer's id.
    pub fn push_task_columns(&mut self, columns: &str, viewer: &UserId) -> &mut Self {
        let mut parts = columns.split(VIEWER);
        if let Some(first) = parts.next() {
            self.push(first);
        }
        for part in parts {
            self.bind(viewer).push(part);
        }
        self
    }

    /// A placeholder, bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        if self.numbered {
            self.text.push('$');
            self.text.push_str(&self.values.len().to_string());
        } else {
            self.text.push('?');
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }

    pub fn into_parts(self) -> (String, Vec<Value>) {
        (self.text, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(numbered: bool) -> Dialect {
        Dialect {
            numbered_placeholders: numbered,
            task_columns: "id",
            no_due: "'last'",
            title_sort: "title",
            title_cursor: ("", ""),
            open: "NOT completed",
            tag_filter: [" AND tag = ", " AND key = ", ""],
            search: Search::TsQuery,
        }
    }

    #[test]
    fn values_bind_in_order_as_each_dialect_writes_placeholders() {
        for (numbered, text) in [
            (true, "SELECT 1 WHERE a = $1 AND b = $2"),
            (false, "SELECT 1 WHERE a = ? AND b = ?"),
        ] {
            let mut sql = Sql::new(&dialect(numbered), "SELECT 1 WHERE a = ");
            sql.bind(7_i64).push(" AND b = ").bind("x");
            assert_eq!(sql.text(), text);
            assert_eq!(
                sql.values(),
                [Value::Int(Some(7)), Value::Text(Some("x".into()))]
            );
        }
    }

    #[test]
    fn a_filter_binds_every_value_it_names_and_no_other() {
        use todo_core::ids::UserId;
        use todo_core::page::{Status, TaskFilter};
        use todo_core::task::Priority;

        let filter = TaskFilter {
            status: Status::Pending,
            priorities: vec![Priority::High, Priority::Urgent],
            tags: vec!["home".into()],
            ..TaskFilter::default()
        };
        let mut sql = Sql::new(&dialect(true), "SELECT id FROM tasks");
        crate::list::push_filter(&mut sql, &dialect(true), &UserId::new("u"), &filter);
        assert_eq!(
            sql.text(),
            "SELECT id FROM tasks WHERE project_id IN (SELECT m.project_id \
             FROM project_members m JOIN projects p ON p.id = m.project_id WHERE m.user_id = $1 \
             AND NOT p.archived) AND completed = $2 \
             AND priority IN ($3, $4) AND tag = $5 AND key = $6"
        );
        assert_eq!(sql.values().len(), 6);
        assert_eq!(sql.values()[1], Value::Bool(false));
        assert_eq!(sql.values()[2], Value::SmallInt(Priority::High.rank()));
    }
}
