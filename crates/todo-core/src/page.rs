//! Listing tasks: filters, sort order, and keyset cursors that stay stable under inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::task::{Task, TaskId};
use crate::validation::Validator;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    All,
    Pending,
    Completed,
}

impl Status {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "all" => Ok(Status::All),
            "pending" => Ok(Status::Pending),
            "completed" => Ok(Status::Completed),
            _ => Err(format!(
                "unknown status {raw:?}: use all, pending or completed"
            )),
        }
    }

    /// The `completed` value this status selects, if it selects one.
    pub fn completed(self) -> Option<bool> {
        match self {
            Status::All => None,
            Status::Pending => Some(false),
            Status::Completed => Some(true),
        }
    }
}

/// What to list, independent of paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Status,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortField {
    #[default]
    CreatedAt,
}

/// An order over tasks; ties are always broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Sort {
    /// `created_at` or `-created_at`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let field = match name {
            "created_at" => SortField::CreatedAt,
            _ => {
                return Err(format!(
                    "unknown sort key {name:?}: use created_at, optionally prefixed by '-'"
                ));
            }
        };
        Ok(Self { field, descending })
    }

    pub fn as_param(&self) -> String {
        let name = match self.field {
            SortField::CreatedAt => "created_at",
        };
        if self.descending {
            format!("-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// The position after the last task of a page, in the page's sort order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort the cursor was made for; a cursor is only valid with the same sort.
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "c")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: TaskId,
}

impl Cursor {
    pub fn after(task: &Task, sort: &Sort) -> Self {
        Self {
            sort: sort.as_param(),
            created_at: task.created_at,
            id: task.id,
        }
    }

    pub fn encode(&self) -> String {
        // Serializing a struct of strings and numbers cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str, sort: &Sort) -> Result<Self, String> {
        let malformed =
            || "malformed cursor: pass the value from the previous page's Link header".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| malformed())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        if cursor.sort != sort.as_param() {
            return Err("this cursor belongs to another sort order".into());
        }
        Ok(cursor)
    }
}

/// A validated list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: Sort,
    pub limit: u32,
    pub after: Option<Cursor>,
}

/// A list request as it arrives from any interface, every field still text.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasksRequest {
    /// `all` (default), `pending` or `completed`.
    pub status: Option<String>,
    /// `created_at` (default); prefix with `-` for descending.
    pub sort: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
}

impl ListTasksRequest {
    pub fn validate(&self) -> crate::Result<TaskQuery> {
        let mut v = Validator::new();
        let status = match &self.status {
            Some(s) => v.check("status", Status::parse(s)),
            None => Some(Status::All),
        };
        let sort = match &self.sort {
            Some(s) => v.check("sort", Sort::parse(s)),
            None => Some(Sort::default()),
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            v.fail("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        let after = match (&self.cursor, &sort) {
            (Some(raw), Some(sort)) => v.check("cursor", Cursor::decode(raw, sort)),
            _ => None,
        };
        v.finish()?;
        Ok(TaskQuery {
            filter: TaskFilter {
                status: status.unwrap_or_default(),
            },
            sort: sort.unwrap_or_default(),
            limit,
            after,
        })
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
    /// How many items match the filter across all pages.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_tied_to_their_sort() {
        let sort = Sort::parse("-created_at").expect("valid");
        let cursor = Cursor {
            sort: sort.as_param(),
            created_at: crate::time::now(),
            id: 42,
        };
        let encoded = cursor.encode();
        assert_eq!(Cursor::decode(&encoded, &sort), Ok(cursor));
        assert!(Cursor::decode(&encoded, &Sort::default()).is_err());
        assert!(Cursor::decode("not a cursor", &sort).is_err());
    }

    #[test]
    fn bad_list_parameters_are_all_reported() {
        let request = ListTasksRequest {
            status: Some("done".into()),
            sort: Some("colour".into()),
            limit: Some(0),
            cursor: Some("x".into()),
        };
        let Err(crate::Error::Validation(errors)) = request.validate() else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "sort", "limit"]);
    }

    #[test]
    fn limits_outside_one_to_five_hundred_are_rejected() {
        for (limit, ok) in [
            (1, true),
            (500, true),
            (0, false),
            (501, false),
            (10_000, false),
        ] {
            let request = ListTasksRequest {
                limit: Some(limit),
                ..Default::default()
            };
            assert_eq!(request.validate().is_ok(), ok, "limit {limit}");
        }
    }
}
