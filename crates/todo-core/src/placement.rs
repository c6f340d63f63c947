//! Where a task lives: its project, its section and its parent, and the rules that keep those
//! consistent. A store reads what it knows of the destination ([`Facts`]), asks [`place`] (or
//! [`place_move`]) here, and writes the answer, in one transaction.
//!
//! The rules: a task is in exactly one project; its section, if any, is a section of that
//! project; a subtask is in its parent's project and section; a task cannot be its own
//! ancestor; subtasks nest at most [`MAX_SUBTASK_DEPTH`] levels below a top-level task. A
//! project, section or task the caller cannot see does not exist for them: named in a body, it
//! is a 422 naming the field ("no such …", the same whether it exists elsewhere or not; the
//! URL's own resource is what a 404 is for); adding to or moving within a project needs a role
//! that edits it (403).

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::project::{Action, MAX_SUBTASK_DEPTH, PROJECT_NOT_FOUND, ProjectId, Role, SectionId};
use crate::task::TaskId;

/// Where a task should go, as the caller says it (each part optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Destination {
    pub project: Option<ProjectId>,
    pub section: Option<SectionId>,
    pub parent: Option<TaskId>,
}

/// The body of `POST /tasks/{id}/move`: the task (with its subtasks) goes under `parent_id`,
/// else to the top of `section_id`, else to the top level of `project_id` (outside any
/// section); with none of them it stays where it is. `position` is its index among its new
/// siblings (default: last).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    #[serde(default)]
    pub section_id: Option<SectionId>,
    #[serde(default)]
    pub parent_id: Option<TaskId>,
    /// 0 = first among the new siblings.
    #[serde(default)]
    pub position: Option<u32>,
}

impl MoveInput {
    /// A move that names nothing changes nothing (no event, no reorder).
    pub fn is_empty(&self) -> bool {
        self.destination() == Destination::default() && self.position.is_none()
    }

    pub fn destination(&self) -> Destination {
        Destination {
            project: self.project_id,
            section: self.section_id,
            parent: self.parent_id,
        }
    }
}

/// A project as the caller sees it, with their role (a project they are not a member of is
/// absent from [`Facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectFacts {
    pub id: ProjectId,
    pub role: Role,
    pub archived: bool,
}

/// A task that would be the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentFacts {
    pub project: ProjectId,
    pub section: Option<SectionId>,
    /// 0 for a top-level task, 1 for its subtask, …
    pub depth: u32,
}

/// What the store read of a destination. A part the caller named but cannot see is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The project the task goes to, as the store read it for [`project_to_read`].
    pub project: Option<ProjectFacts>,
    /// The named section's project.
    pub section_project: Option<ProjectId>,
    pub parent: Option<ParentFacts>,
}

/// Where a task goes, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub project: ProjectId,
    pub section: Option<SectionId>,
    pub parent: Option<TaskId>,
}

/// Which project a store must read for `destination`: the parent's, else the section's, else
/// the named one, else (`None`) the caller's Inbox. The store reads the parent and section
/// first when they are named.
pub fn project_to_read(
    destination: &Destination,
    section_project: Option<ProjectId>,
    parent: Option<&ParentFacts>,
) -> Option<ProjectId> {
    parent
        .map(|p| p.project)
        .or(section_project)
        .or(destination.project)
}

/// Checks a new task's destination against what the store read.
pub fn place(destination: &Destination, facts: &Facts) -> Result<Placed> {
    if destination.section.is_some() && facts.section_project.is_none() {
        return Err(Error::invalid("section_id", "no such section"));
    }
    if destination.parent.is_some() && facts.parent.is_none() {
        return Err(Error::invalid("parent_id", "no such task"));
    }
    let project = match (facts.project, destination.project) {
        (Some(project), _) => project,
        (None, Some(_)) => return Err(Error::invalid("project_id", "no such project")),
        (None, None) => return Err(PROJECT_NOT_FOUND),
    };
    project.role.require(Action::Edit)?;
    if project.archived {
        return Err(Error::invalid(
            "project_id",
            "the project is archived: unarchive it first",
        ));
    }
    if let Some(named) = destination.project
        && named != project.id
    {
        let field = if destination.parent.is_some() {
            "parent_id"
        } else {
            "section_id"
        };
        return Err(Error::invalid(
            field,
            "is in another project than project_id",
        ));
    }
    if let (Some(section_project), Some(parent)) = (facts.section_project, facts.parent)
        && section_project != parent.project
    {
        return Err(Error::invalid(
            "section_id",
            "is in another project than the parent task",
        ));
    }
    if let Some(parent) = facts.parent {
        if let Some(section) = destination.section
            && parent.section != Some(section)
        {
            return Err(Error::invalid(
                "section_id",
                "a subtask is in its parent's section",
            ));
        }
        if parent.depth + 1 > MAX_SUBTASK_DEPTH {
            return Err(Error::invalid(
                "parent_id",
                format!("subtasks nest at most {MAX_SUBTASK_DEPTH} levels deep"),
            ));
        }
    }
    Ok(Placed {
        project: project.id,
        section: facts.parent.map_or(destination.section, |p| p.section),
        parent: destination.parent,
    })
}

/// What a store knows of the task being moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moving {
    pub placed: Placed,
    pub role: Role,
    /// The task and all its subtasks, at any depth.
    pub subtree: Vec<TaskId>,
    /// How many levels of subtasks it has (0: none).
    pub height: u32,
}

impl Moving {
    /// Whether a move to `place` takes the subtasks to another project or section.
    pub fn carries_subtasks(&self, place: &Placed) -> bool {
        (place.project, place.section) != (self.placed.project, self.placed.section)
            && self.subtree.len() > 1
    }

    /// The tasks whose place a move to `place` changes, the moved one first: it, and its
    /// subtasks when they go along to another project or section.
    pub fn changed_by(&self, place: &Placed) -> &[TaskId] {
        if self.carries_subtasks(place) {
            &self.subtree
        } else {
            &self.subtree[..self.subtree.len().min(1)]
        }
    }
}

/// Checks a move of `moving` to `destination`; an empty destination keeps the place (a
/// reorder among the same siblings).
pub fn place_move(moving: &Moving, destination: &Destination, facts: &Facts) -> Result<Placed> {
    moving.role.require(Action::Edit)?;
    if *destination == Destination::default() {
        return Ok(moving.placed);
    }
    if let Some(parent) = destination.parent
        && moving.subtree.contains(&parent)
    {
        return Err(Error::invalid(
            "parent_id",
            "a task cannot move under itself or its own subtasks",
        ));
    }
    let placed = place(destination, facts)?;
    let depth = facts.parent.map_or(0, |p| p.depth + 1);
    if depth + moving.height > MAX_SUBTASK_DEPTH {
        return Err(Error::invalid(
            "parent_id",
            format!("subtasks nest at most {MAX_SUBTASK_DEPTH} levels deep"),
        ));
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: ProjectId = ProjectId::new(1);
    const WORK: ProjectId = ProjectId::new(2);

    fn project(id: ProjectId, role: Role) -> Option<ProjectFacts> {
        Some(ProjectFacts {
            id,
            role,
            archived: false,
        })
    }

    fn field(err: Error) -> String {
        match err {
            Error::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_task_goes_to_the_project_it_names_or_the_inbox() {
        let facts = Facts {
            project: project(HOME, Role::Owner),
            section_project: None,
            parent: None,
        };
        let placed = place(&Destination::default(), &facts).expect("inbox");
        assert_eq!(placed.project, HOME);
        assert_eq!(placed.section, None);
        let nowhere = Facts {
            project: None,
            ..facts
        };
        assert!(matches!(
            place(&Destination::default(), &nowhere),
            Err(Error::NotFound("project"))
        ));
    }

    #[test]
    fn a_viewer_cannot_add_and_a_stranger_sees_nothing() {
        let viewer = Facts {
            project: project(WORK, Role::Viewer),
            section_project: None,
            parent: None,
        };
        let to_work = Destination {
            project: Some(WORK),
            ..Destination::default()
        };
        assert!(matches!(
            place(&to_work, &viewer),
            Err(Error::InsufficientRole(_))
        ));
        let hidden_section = Destination {
            section: Some(SectionId::new(9)),
            ..Destination::default()
        };
        assert_eq!(
            field(place(&hidden_section, &viewer).expect_err("hidden")),
            "section_id"
        );
        let hidden_project = Facts {
            project: None,
            ..viewer
        };
        assert_eq!(
            field(place(&to_work, &hidden_project).expect_err("hidden")),
            "project_id"
        );
    }

    #[test]
    fn a_section_or_parent_of_another_project_is_refused_by_field() {
        let facts = Facts {
            project: project(WORK, Role::Owner),
            section_project: Some(WORK),
            parent: None,
        };
        let wrong = Destination {
            project: Some(HOME),
            section: Some(SectionId::new(3)),
            parent: None,
        };
        assert_eq!(
            field(place(&wrong, &facts).expect_err("mismatch")),
            "section_id"
        );
        let parent_elsewhere = Facts {
            project: project(WORK, Role::Owner),
            section_project: Some(HOME),
            parent: Some(ParentFacts {
                project: WORK,
                section: None,
                depth: 0,
            }),
        };
        let both = Destination {
            project: None,
            section: Some(SectionId::new(3)),
            parent: Some(TaskId::new(5)),
        };
        assert_eq!(
            field(place(&both, &parent_elsewhere).expect_err("mismatch")),
            "section_id"
        );
    }

    #[test]
    fn a_subtask_takes_its_parents_section_and_depth_is_bounded() {
        let section = SectionId::new(4);
        let parent = |depth| {
            Some(ParentFacts {
                project: HOME,
                section: Some(section),
                depth,
            })
        };
        let under = Destination {
            parent: Some(TaskId::new(7)),
            ..Destination::default()
        };
        let facts = Facts {
            project: project(HOME, Role::Editor),
            section_project: None,
            parent: parent(MAX_SUBTASK_DEPTH - 1),
        };
        let placed = place(&under, &facts).expect("deep enough");
        assert_eq!(placed.section, Some(section));
        assert_eq!(placed.parent, Some(TaskId::new(7)));
        let too_deep = Facts {
            parent: parent(MAX_SUBTASK_DEPTH),
            ..facts
        };
        assert_eq!(
            field(place(&under, &too_deep).expect_err("deep")),
            "parent_id"
        );
    }

    #[test]
    fn a_move_never_makes_a_cycle_nor_too_deep_a_tree() {
        let moving = Moving {
            placed: Placed {
                project: HOME,
                section: None,
                parent: None,
            },
            role: Role::Owner,
            subtree: vec![TaskId::new(1), TaskId::new(2), TaskId::new(3)],
            height: 2,
        };
        let facts = |depth| Facts {
            project: project(HOME, Role::Owner),
            section_project: None,
            parent: Some(ParentFacts {
                project: HOME,
                section: None,
                depth,
            }),
        };
        let under = |id| Destination {
            parent: Some(TaskId::new(id)),
            ..Destination::default()
        };
        assert_eq!(
            field(place_move(&moving, &under(3), &facts(2)).expect_err("cycle")),
            "parent_id"
        );
        assert_eq!(
            field(place_move(&moving, &under(1), &facts(0)).expect_err("itself")),
            "parent_id"
        );
        assert!(place_move(&moving, &under(9), &facts(MAX_SUBTASK_DEPTH - 3)).is_ok());
        assert_eq!(
            field(place_move(&moving, &under(9), &facts(MAX_SUBTASK_DEPTH - 2)).expect_err("deep")),
            "parent_id"
        );
        let viewer = Moving {
            role: Role::Viewer,
            ..moving.clone()
        };
        assert!(matches!(
            place_move(&viewer, &Destination::default(), &facts(0)),
            Err(Error::InsufficientRole(_))
        ));
        assert_eq!(
            place_move(&moving, &Destination::default(), &facts(0)).expect("stay"),
            moving.placed
        );
    }

    #[test]
    fn subtasks_go_along_only_to_another_project_or_section() {
        let moving = Moving {
            placed: Placed {
                project: HOME,
                section: None,
                parent: None,
            },
            role: Role::Owner,
            subtree: vec![TaskId::new(1), TaskId::new(2)],
            height: 1,
        };
        let under_another = Placed {
            parent: Some(TaskId::new(9)),
            ..moving.placed
        };
        assert!(!moving.carries_subtasks(&under_another));
        assert_eq!(moving.changed_by(&under_another), [TaskId::new(1)]);
        let to_work = Placed {
            project: WORK,
            ..moving.placed
        };
        assert!(moving.carries_subtasks(&to_work));
        assert_eq!(
            moving.changed_by(&to_work),
            [TaskId::new(1), TaskId::new(2)]
        );
    }
}
