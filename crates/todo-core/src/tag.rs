//! Tags: named labels on tasks, unique per user regardless of case.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::patch::Patch;
use crate::validation::Validator;

pub use crate::ids::TagId;

pub const TAG_NAME_MAX_CHARS: usize = 50;
pub const MAX_TAGS_PER_TASK: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    /// `#rrggbb`, or null for the default color.
    pub color: Option<String>,
    /// How many of the user's tasks carry it.
    pub task_count: i64,
    pub created_at: DateTime<Utc>,
}

/// A tag name as typed, and the key that makes names unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName {
    pub name: String,
    pub key: String,
}

impl TagName {
    /// Trimmed, without a leading `#`, 1–50 characters, no whitespace or control characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().trim_start_matches('#');
        let chars = name.chars().count();
        if chars == 0 {
            return Err("a tag name must not be empty".into());
        }
        if chars > TAG_NAME_MAX_CHARS {
            return Err(format!(
                "a tag name must be at most {TAG_NAME_MAX_CHARS} characters"
            ));
        }
        if name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(format!("tag {name:?} must not contain spaces or commas"));
        }
        Ok(Self {
            name: name.to_owned(),
            key: name.to_lowercase(),
        })
    }
}

/// Parses a task's tag list: at most 20 names, each valid, duplicates (by key) dropped. The
/// count is checked before any name is read, so a list of any length costs nothing.
pub fn parse_tag_list(raw: &[String]) -> Result<Vec<TagName>, String> {
    if raw.len() > MAX_TAGS_PER_TASK {
        return Err(format!("at most {MAX_TAGS_PER_TASK} tags per task"));
    }
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut tags: Vec<TagName> = Vec::with_capacity(raw.len());
    for name in raw {
        let tag = TagName::parse(name)?;
        if seen.insert(tag.key.clone()) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// `#rrggbb` (any case), stored lower-case.
pub fn parse_color(raw: &str) -> Result<String, String> {
    let color = raw.trim();
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(color.to_ascii_lowercase())
    } else {
        Err("must be a color like #3b82f6".into())
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TagInput {
    /// 1–50 characters without spaces or commas; a leading `#` is dropped.
    #[schema(
        pattern = r"^#*[^\s,#\u0000-\u001f\u007f-\u009f][^\s,\u0000-\u001f\u007f-\u009f]{0,49}$"
    )]
    pub name: String,
    /// `#rrggbb`.
    #[serde(default)]
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TagPatchInput {
    /// 1–50 characters without spaces or commas; a leading `#` is dropped.
    #[serde(default)]
    #[schema(
        pattern = r"^#*[^\s,#\u0000-\u001f\u007f-\u009f][^\s,\u0000-\u001f\u007f-\u009f]{0,49}$"
    )]
    pub name: Option<String>,
    /// `#rrggbb`; `null` resets to the default color.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Patch<String>,
}

/// A validated tag change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub name: Option<TagName>,
    pub color: Option<Option<String>>,
}

impl TagInput {
    pub fn validate(self) -> Result<(TagName, Option<String>)> {
        let mut v = Validator::new();
        let name = v.check("name", TagName::parse(&self.name));
        let color = match &self.color {
            Some(c) => v.check("color", parse_color(c)),
            None => None,
        };
        v.finish()?;
        Ok((
            name.unwrap_or_else(|| TagName {
                name: String::new(),
                key: String::new(),
            }),
            color,
        ))
    }
}

impl TagPatchInput {
    pub fn validate(self) -> Result<TagChanges> {
        let mut v = Validator::new();
        let name = match &self.name {
            Some(n) => v.check("name", TagName::parse(n)),
            None => None,
        };
        let color = match &self.color {
            Patch::Missing => None,
            Patch::Null => Some(None),
            Patch::Value(c) => v.check("color", parse_color(c)).map(Some),
        };
        v.finish()?;
        Ok(TagChanges { name, color })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_drop_the_hash_and_compare_without_case() {
        let tag = TagName::parse(" #Home ").expect("valid");
        assert_eq!((tag.name.as_str(), tag.key.as_str()), ("Home", "home"));
        assert!(TagName::parse("#").is_err());
        assert!(TagName::parse("two words").is_err());
        assert!(TagName::parse(&"x".repeat(51)).is_err());
    }

    #[test]
    fn tag_lists_drop_duplicates_regardless_of_case() {
        let huge: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
        assert!(
            parse_tag_list(&huge).is_err(),
            "refused by count before a name is read"
        );
        let tags = parse_tag_list(&["Work".into(), "work".into(), "#home".into()]).expect("valid");
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Work", "home"]);
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(parse_tag_list(&many).is_err());
    }

    #[test]
    fn colors_are_hex_triplets() {
        assert_eq!(parse_color("#3B82F6"), Ok("#3b82f6".into()));
        for bad in ["3b82f6", "#3b82f", "#zzzzzz", "red"] {
            assert!(parse_color(bad).is_err(), "{bad}");
        }
    }
}
