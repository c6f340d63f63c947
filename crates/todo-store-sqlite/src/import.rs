//! Imports on SQLite: an [`ImportBatch`] stored inside the caller's transaction — its tags,
//! its projects and sections (reused by name, else made), then its tasks in order, each
//! index mapped to the id it got (the statements are `todo_store_sql::import`'s).

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::ids::UserId;
use todo_core::placement::Destination;
use todo_core::project::{
    MAX_PROJECTS_PER_USER, MAX_SECTIONS_PER_PROJECT, ProjectId, Role, SectionId,
};
use todo_core::task::TaskId;
use todo_core::transfer::{ImportBatch, ImportProject, ImportedTask};
use todo_core::{Error, Result};
use todo_store_sql::import::{self as statements, Insert};
use todo_store_sql::projects;

use crate::sql;
use crate::tasks::insert;

/// An import looks this often whether its caller still waits.
const CHECK_EVERY: usize = 256;

fn abandoned() -> Error {
    Error::Unavailable("the import's caller stopped waiting: rolled back".into())
}

/// Stores `batch` for the user in `conn`'s transaction; how many tasks it inserted. `waiting`
/// says whether the caller still waits: when it stops, the import fails (and rolls back).
pub(crate) fn store(
    conn: &Connection,
    user_id: &UserId,
    batch: &ImportBatch,
    now: DateTime<Utc>,
    waiting: impl Fn() -> bool,
) -> Result<u64> {
    for (name, color) in &batch.tags {
        let values = [
            user_id.into(),
            (&name.name).into(),
            (&name.key).into(),
            color.into(),
            now.into(),
        ];
        sql::run(conn, statements::TAG, values)?;
    }
    let mut places = Vec::with_capacity(batch.projects.len());
    for project in &batch.projects {
        places.push(project_place(conn, user_id, project, now)?);
    }
    let mut ids: Vec<Option<TaskId>> = Vec::with_capacity(batch.tasks.len());
    let mut created = 0;
    for (i, item) in batch.tasks.iter().enumerate() {
        if i % CHECK_EVERY == 0 && !waiting() {
            return Err(abandoned());
        }
        // A reused project that is archived takes no task, but a known one is skipped as
        // anywhere else: look for its key first.
        let archived = item
            .project
            .and_then(|p| places.get(p))
            .is_some_and(|p| p.archived);
        if archived && item.task.import_key.is_some() {
            let values = [user_id.into(), (&item.task.import_key).into()];
            if let Some(known) =
                sql::scalar::<TaskId>(conn, statements::TASK_BY_IMPORT_KEY, values)?
            {
                ids.push(Some(known));
                continue;
            }
        }
        let mut task = item.task.clone();
        task.destination = destination(item, &places, &ids);
        let kind = Insert::Imported {
            position: item.position,
            completed_at: item.completed_at,
        };
        let id = match insert(conn, user_id, &task, now, kind)? {
            Some(inserted) => {
                created += 1;
                for completion in &item.completions {
                    let due = &completion.due;
                    let values = [
                        inserted.id.into(),
                        completion.completed_at.into(),
                        user_id.into(),
                        due.due.at().into(),
                        due.due.date().into(),
                        due.local.into(),
                        due.zone.map(|z| z.name().to_owned()).into(),
                        (&completion.recurrence).into(),
                    ];
                    sql::run(conn, statements::RECORD_COMPLETION, values)?;
                }
                Some(inserted.id)
            }
            // Imported before: its subtasks of this batch go under it, wherever it is now.
            None => sql::scalar(
                conn,
                statements::TASK_BY_IMPORT_KEY,
                [user_id.into(), (&task.import_key).into()],
            )?,
        };
        ids.push(id);
    }
    // Archived last: an archived project takes no new tasks.
    for (project, place) in batch.projects.iter().zip(&places) {
        if project.archived && place.made {
            let values = [place.id.into(), true.into()];
            sql::run(conn, statements::ARCHIVE_PROJECT, values)?;
        }
    }
    if !waiting() {
        return Err(abandoned());
    }
    Ok(created)
}

/// A project of the batch as stored.
struct Place {
    id: ProjectId,
    /// Its sections' ids, in the batch's order.
    sections: Vec<SectionId>,
    /// Made by this import (not reused).
    made: bool,
    /// Reused, and archived.
    archived: bool,
}

/// Where an imported task goes: under its parent (in the parent's project and section), else
/// in its project and section, else where the task itself says (the Inbox when nowhere).
fn destination(item: &ImportedTask, places: &[Place], ids: &[Option<TaskId>]) -> Destination {
    if let Some(parent) = item.parent.and_then(|p| ids.get(p).copied().flatten()) {
        return Destination {
            parent: Some(parent),
            ..Destination::default()
        };
    }
    match item.project.and_then(|p| places.get(p)) {
        Some(place) => Destination {
            project: Some(place.id),
            section: item.section.and_then(|s| place.sections.get(s).copied()),
            parent: None,
        },
        None => item.task.destination,
    }
}

/// The user's project of that name and its sections, reused or made.
fn project_place(
    conn: &Connection,
    user_id: &UserId,
    project: &ImportProject,
    now: DateTime<Utc>,
) -> Result<Place> {
    let found = if project.inbox {
        sql::scalar::<ProjectId>(conn, statements::INBOX, [user_id.into()])?
    } else {
        let named = [user_id.into(), project.name.as_str().into()];
        sql::scalar::<ProjectId>(conn, statements::OWNED_PROJECT_NAMED, named)?
    };
    let made = found.is_none();
    let archived = match found {
        Some(id) => {
            sql::scalar::<bool>(conn, statements::PROJECT_ARCHIVED, [id.into()])?.unwrap_or(false)
        }
        None => false,
    };
    let id = match found {
        Some(id) => id,
        None => insert_project(conn, user_id, project, now)?,
    };
    let mut sections = Vec::with_capacity(project.sections.len());
    for name in &project.sections {
        let named = [id.into(), name.as_str().into()];
        let section = match sql::scalar::<SectionId>(conn, statements::SECTION_NAMED, named)? {
            Some(section) => section,
            None => insert_section(conn, id, name, now)?,
        };
        sections.push(section);
    }
    Ok(Place {
        id,
        sections,
        made,
        archived,
    })
}

fn insert_project(
    conn: &Connection,
    user_id: &UserId,
    project: &ImportProject,
    now: DateTime<Utc>,
) -> Result<ProjectId> {
    let owned: i64 = sql::scalar(conn, projects::COUNT_OWNED, [user_id.into()])?.unwrap_or(0);
    if owned >= i64::try_from(MAX_PROJECTS_PER_USER).unwrap_or(i64::MAX) {
        return Err(Error::invalid(
            "projects",
            format!("at most {MAX_PROJECTS_PER_USER} projects per account"),
        ));
    }
    let values = [
        user_id.into(),
        project.name.as_str().into(),
        project.color.clone().into(),
        false.into(),
        now.into(),
    ];
    let id: ProjectId = sql::scalar(conn, projects::INSERT, values)?
        .ok_or_else(|| Error::internal("insert returned no row"))?;
    let values = [
        id.into(),
        user_id.into(),
        Role::Owner.as_str().into(),
        now.into(),
    ];
    sql::run(conn, projects::INSERT_MEMBER, values)?;
    Ok(id)
}

fn insert_section(
    conn: &Connection,
    project: ProjectId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<SectionId> {
    let count: i64 = sql::scalar(conn, statements::SECTION_COUNT, [project.into()])?.unwrap_or(0);
    if count >= i64::try_from(MAX_SECTIONS_PER_PROJECT).unwrap_or(i64::MAX) {
        return Err(Error::invalid(
            "sections",
            format!("at most {MAX_SECTIONS_PER_PROJECT} sections per project"),
        ));
    }
    let position: i64 =
        sql::scalar(conn, statements::NEXT_SECTION_POSITION, [project.into()])?.unwrap_or(1);
    let values = [project.into(), name.into(), position.into(), now.into()];
    sql::row::<todo_store_sql::SectionRow, todo_core::project::Section>(
        conn,
        &projects::INSERT_SECTION,
        values,
    )?
    .map(|section| section.id)
    .ok_or_else(|| Error::internal("insert returned no row"))
}
