//! Projects and their sections: the records, their rules, and who may do what in a project.
//! Every task lives in a project; every user has an Inbox, made with the account, that is never
//! deleted, archived or shared. Access to a project and everything in it goes through its
//! members' roles ([`Role::allows`]): a non-member does not see the project at all (404), a
//! member whose role does not allow an action gets 403 `insufficient-role`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::patch::Patch;
use crate::tag::parse_color;
use crate::validation::{Validator, storable_text};

pub use crate::ids::{ProjectId, SectionId};

pub const NAME_MAX_CHARS: usize = 120;
/// Projects a user may own, archived ones included (each is a sidebar entry and a calendar).
pub const MAX_PROJECTS_PER_USER: u64 = 500;
pub const MAX_SECTIONS_PER_PROJECT: u64 = 200;
/// How deep subtasks nest below a top-level task (Todoist shows four levels; one more here).
pub const MAX_SUBTASK_DEPTH: u32 = 5;
/// The name of the project every account starts with.
pub const INBOX_NAME: &str = "Inbox";

/// A member's role in a project.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schema(as = ProjectRole)]
pub enum Role {
    Viewer,
    Editor,
    Owner,
}

/// What a request does in a project, as far as roles go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the project, its sections, tasks and comments.
    Read,
    /// Add, change, complete, move or delete tasks; add, rename, reorder or delete sections.
    Edit,
    /// Rename, recolour, archive or delete the project; manage its members.
    Manage,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::Edit => self >= Role::Editor,
            Action::Manage => self == Role::Owner,
        }
    }

    /// `Ok` when the role allows `action`, else the 403 every door answers.
    pub fn require(self, action: Action) -> Result<()> {
        if self.allows(action) {
            Ok(())
        } else {
            Err(Error::InsufficientRole(format!(
                "a project's {} may not do this",
                self.as_str()
            )))
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        [Role::Viewer, Role::Editor, Role::Owner]
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| format!("unknown role {raw:?}: use owner, editor or viewer"))
    }
}

/// The 404 for a project the caller is not a member of (or that does not exist).
pub const PROJECT_NOT_FOUND: Error = Error::NotFound("project");
pub const SECTION_NOT_FOUND: Error = Error::NotFound("section");

/// A project as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    /// `#rrggbb`, or none.
    pub color: Option<String>,
    pub archived: bool,
    /// Manual order in the sidebar; the Inbox is always listed first.
    pub position: i64,
    /// The user's Inbox: never deleted, archived or shared.
    pub inbox: bool,
    /// The caller's role in the project.
    pub role: Role,
    /// How many members it has (1: not shared).
    pub members: i64,
    /// Tasks not completed, for the sidebar.
    pub open_tasks: i64,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub updated_at: DateTime<Utc>,
}

/// A section of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Section {
    pub id: SectionId,
    pub project_id: ProjectId,
    pub name: String,
    /// Order within the project.
    pub position: i64,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /projects`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    /// 1–120 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// `#rrggbb`.
    #[serde(default)]
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// The body of `PATCH /projects/{id}`: absent fields are kept.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct ProjectPatchInput {
    /// 1–120 characters after trimming; not `null`.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 120, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub name: Patch<String>,
    /// `#rrggbb`; `null` removes the colour.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Patch<String>,
    /// Archived projects leave the sidebar and the task views; not the Inbox.
    #[serde(default)]
    #[schema(value_type = bool)]
    pub archived: Patch<bool>,
    /// The project's new index in the sidebar (0 = first after the Inbox).
    #[serde(default)]
    #[schema(value_type = u64, maximum = 4294967295_u64)]
    pub position: Patch<u32>,
}

/// A validated new project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: String,
    pub color: Option<String>,
}

/// A validated change of a project: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub color: Option<Option<String>>,
    pub archived: Option<bool>,
    /// The index among the user's other projects.
    pub position: Option<u32>,
}

impl ProjectChanges {
    /// Whether the change needs the owner (anything but a reorder of one's own sidebar).
    pub fn manages(&self) -> bool {
        self.name.is_some() || self.color.is_some() || self.archived.is_some()
    }
}

/// The body of `POST /projects/{id}/sections`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    /// 1–120 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// Index among the project's sections (default: last).
    #[serde(default)]
    #[schema(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub position: Option<u32>,
}

/// The body of `PATCH /sections/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct SectionPatchInput {
    /// 1–120 characters after trimming; not `null`.
    #[serde(default)]
    #[schema(value_type = String, min_length = 1, max_length = 120, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub name: Patch<String>,
    /// The section's new index among the project's sections.
    #[serde(default)]
    #[schema(value_type = u64, maximum = 4294967295_u64)]
    pub position: Patch<u32>,
}

/// A validated change of a section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionChanges {
    pub name: Option<String>,
    pub position: Option<u32>,
}

/// Whether a user who owns `owned` projects may create another.
pub fn check_project_room(owned: u64) -> Result<()> {
    if owned >= MAX_PROJECTS_PER_USER {
        return Err(Error::invalid(
            "name",
            format!("at most {MAX_PROJECTS_PER_USER} projects per account"),
        ));
    }
    Ok(())
}

/// Whether a project with `sections` sections may have another.
pub fn check_section_room(sections: u64) -> Result<()> {
    if sections >= MAX_SECTIONS_PER_PROJECT {
        return Err(Error::invalid(
            "name",
            format!("at most {MAX_SECTIONS_PER_PROJECT} sections per project"),
        ));
    }
    Ok(())
}

/// A project or section name: 1–120 characters after trimming.
pub fn parse_name(raw: &str) -> Result<String, String> {
    storable_text(raw)?;
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err("must not be empty".into());
    }
    if chars > NAME_MAX_CHARS {
        return Err(format!("must be at most {NAME_MAX_CHARS} characters"));
    }
    Ok(name.to_owned())
}

impl ProjectInput {
    pub fn validate(self) -> Result<NewProject> {
        let mut v = Validator::new();
        let name = v.check("name", parse_name(&self.name));
        let color = match &self.color {
            Some(c) => v.check("color", parse_color(c)).map(Some),
            None => Some(None),
        };
        v.finish()?;
        Ok(NewProject {
            name: name.unwrap_or_default(),
            color: color.flatten(),
        })
    }
}

impl ProjectPatchInput {
    pub fn validate(self) -> Result<ProjectChanges> {
        let mut v = Validator::new();
        let mut changes = ProjectChanges::default();
        match self.name {
            Patch::Missing => {}
            Patch::Null => v.fail("name", "must not be null"),
            Patch::Value(raw) => changes.name = v.check("name", parse_name(&raw)),
        }
        match self.color {
            Patch::Missing => {}
            Patch::Null => changes.color = Some(None),
            Patch::Value(raw) => changes.color = v.check("color", parse_color(&raw)).map(Some),
        }
        match self.archived {
            Patch::Missing => {}
            Patch::Null => v.fail("archived", "must not be null"),
            Patch::Value(archived) => changes.archived = Some(archived),
        }
        match self.position {
            Patch::Missing => {}
            Patch::Null => v.fail("position", "must not be null"),
            Patch::Value(position) => changes.position = Some(position),
        }
        v.finish()?;
        if changes == ProjectChanges::default() {
            return Err(Error::invalid(
                "body",
                "nothing to change: give at least one field",
            ));
        }
        Ok(changes)
    }
}

/// Refuses what the Inbox never does: be archived (or deleted, see [`deletable`]).
pub fn check_change(project: &Project, changes: &ProjectChanges) -> Result<()> {
    if changes.manages() {
        project.role.require(Action::Manage)?;
    }
    if project.inbox && changes.archived == Some(true) {
        return Err(Error::invalid("archived", "the Inbox cannot be archived"));
    }
    if project.inbox && changes.name.is_some() {
        return Err(Error::invalid("name", "the Inbox cannot be renamed"));
    }
    if project.inbox && changes.position.is_some() {
        return Err(Error::invalid("position", "the Inbox is always first"));
    }
    Ok(())
}

/// Whether the project may be deleted by its member: the owner, and never the Inbox.
pub fn deletable(project: &Project) -> Result<()> {
    project.role.require(Action::Manage)?;
    if project.inbox {
        return Err(Error::invalid("project", "the Inbox cannot be deleted"));
    }
    Ok(())
}

impl SectionInput {
    pub fn validate(&self) -> Result<String> {
        parse_name(&self.name).map_err(|e| Error::invalid("name", e))
    }
}

impl SectionPatchInput {
    pub fn validate(self) -> Result<SectionChanges> {
        let mut v = Validator::new();
        let mut changes = SectionChanges::default();
        match self.name {
            Patch::Missing => {}
            Patch::Null => v.fail("name", "must not be null"),
            Patch::Value(raw) => changes.name = v.check("name", parse_name(&raw)),
        }
        match self.position {
            Patch::Missing => {}
            Patch::Null => v.fail("position", "must not be null"),
            Patch::Value(position) => changes.position = Some(position),
        }
        v.finish()?;
        if changes == SectionChanges::default() {
            return Err(Error::invalid(
                "body",
                "nothing to change: give at least one field",
            ));
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_the_design_says() {
        assert!(Role::Viewer.allows(Action::Read));
        assert!(!Role::Viewer.allows(Action::Edit));
        assert!(Role::Editor.allows(Action::Edit));
        assert!(!Role::Editor.allows(Action::Manage));
        assert!(Role::Owner.allows(Action::Manage));
        assert!(matches!(
            Role::Editor.require(Action::Manage),
            Err(Error::InsufficientRole(_))
        ));
        for role in [Role::Viewer, Role::Editor, Role::Owner] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    fn inbox() -> Project {
        Project {
            id: ProjectId::new(1),
            name: INBOX_NAME.into(),
            color: None,
            archived: false,
            position: 0,
            inbox: true,
            role: Role::Owner,
            members: 1,
            open_tasks: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_inbox_is_never_archived_renamed_or_deleted() {
        let inbox = inbox();
        let archive = ProjectChanges {
            archived: Some(true),
            ..ProjectChanges::default()
        };
        assert!(check_change(&inbox, &archive).is_err());
        let rename = ProjectChanges {
            name: Some("Mine".into()),
            ..ProjectChanges::default()
        };
        assert!(check_change(&inbox, &rename).is_err());
        let reorder_inbox = ProjectChanges {
            position: Some(1),
            ..ProjectChanges::default()
        };
        assert!(check_change(&inbox, &reorder_inbox).is_err());
        let recolor = ProjectChanges {
            color: Some(Some("#112233".into())),
            ..ProjectChanges::default()
        };
        assert!(check_change(&inbox, &recolor).is_ok());
        assert!(deletable(&inbox).is_err());
        let other = Project {
            inbox: false,
            ..inbox
        };
        assert!(deletable(&other).is_ok());
        let editor = Project {
            role: Role::Editor,
            ..other
        };
        assert!(matches!(
            deletable(&editor),
            Err(Error::InsufficientRole(_))
        ));
        let reorder = ProjectChanges {
            position: Some(2),
            ..ProjectChanges::default()
        };
        assert!(check_change(&editor, &reorder).is_ok());
        assert!(check_change(&editor, &recolor).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Home "), Ok("Home".into()));
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(NAME_MAX_CHARS + 1)).is_err());
        assert!(parse_name(&"é".repeat(NAME_MAX_CHARS)).is_ok());
    }

    #[test]
    fn a_patch_must_change_something() {
        assert!(ProjectPatchInput::default().validate().is_err());
        assert!(SectionPatchInput::default().validate().is_err());
        let patch: ProjectPatchInput = serde_json::from_str(r#"{"color": null}"#).expect("json");
        assert_eq!(
            patch.validate().expect("valid").color,
            Some(None),
            "null clears the colour"
        );
        assert!(serde_json::from_str::<ProjectInput>(r#"{"name":"a","owner":"x"}"#).is_err());
    }
}
