//! Imports on PostgreSQL: an [`ImportBatch`] stored inside the caller's transaction — its
//! tags, its projects and sections (reused by name, else made), then its tasks in order, each
//! index mapped to the id it got (the statements are `todo_store_sql::import`'s).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
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
use todo_store_sql::tree::numbered;

use crate::sql;
use crate::tasks::insert;

static TAG: LazyLock<String> = LazyLock::new(|| numbered(statements::TAG));
static OWNED_PROJECT_NAMED: LazyLock<String> =
    LazyLock::new(|| numbered(statements::OWNED_PROJECT_NAMED));
static INBOX: LazyLock<String> = LazyLock::new(|| numbered(statements::INBOX));
static PROJECT_ARCHIVED: LazyLock<String> =
    LazyLock::new(|| numbered(statements::PROJECT_ARCHIVED));
static ARCHIVE_PROJECT: LazyLock<String> = LazyLock::new(|| numbered(statements::ARCHIVE_PROJECT));
static SECTION_NAMED: LazyLock<String> = LazyLock::new(|| numbered(statements::SECTION_NAMED));
static SECTION_COUNT: LazyLock<String> = LazyLock::new(|| numbered(statements::SECTION_COUNT));
static NEXT_SECTION_POSITION: LazyLock<String> =
    LazyLock::new(|| numbered(statements::NEXT_SECTION_POSITION));
static TASK_BY_IMPORT_KEY: LazyLock<String> =
    LazyLock::new(|| numbered(statements::TASK_BY_IMPORT_KEY));
static RECORD_COMPLETION: LazyLock<String> =
    LazyLock::new(|| numbered(statements::RECORD_COMPLETION));
static COUNT_OWNED: LazyLock<String> = LazyLock::new(|| numbered(projects::COUNT_OWNED));
static INSERT_PROJECT: LazyLock<String> = LazyLock::new(|| numbered(projects::INSERT));
static INSERT_MEMBER: LazyLock<String> = LazyLock::new(|| numbered(projects::INSERT_MEMBER));
static INSERT_SECTION: LazyLock<String> = LazyLock::new(|| numbered(&projects::INSERT_SECTION));

/// Stores `batch` for the user in the transaction `tx`; how many tasks it inserted. A caller
/// that stops waiting drops the transaction, which rolls it back.
pub(crate) async fn store(
    tx: &mut PgConnection,
    user_id: &UserId,
    batch: &ImportBatch,
    now: DateTime<Utc>,
) -> Result<u64> {
    for (name, color) in &batch.tags {
        let values = [
            user_id.into(),
            (&name.name).into(),
            (&name.key).into(),
            color.into(),
            now.into(),
        ];
        sql::run(&mut *tx, TAG.as_str(), values).await?;
    }
    let mut places = Vec::with_capacity(batch.projects.len());
    for project in &batch.projects {
        places.push(project_place(tx, user_id, project, now).await?);
    }
    let mut ids: Vec<Option<TaskId>> = Vec::with_capacity(batch.tasks.len());
    let mut created = 0;
    for item in &batch.tasks {
        // A reused project that is archived takes no task, but a known one is skipped as
        // anywhere else: look for its key first.
        let archived = item
            .project
            .and_then(|p| places.get(p))
            .is_some_and(|p| p.archived);
        if archived && item.task.import_key.is_some() {
            let values = [user_id.into(), (&item.task.import_key).into()];
            let known: Option<TaskId> =
                sql::scalar(&mut *tx, TASK_BY_IMPORT_KEY.as_str(), values).await?;
            if let Some(known) = known {
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
        let id = match insert(tx, user_id, &task, now, kind).await? {
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
                    sql::run(&mut *tx, RECORD_COMPLETION.as_str(), values).await?;
                }
                Some(inserted.id)
            }
            // Imported before: its subtasks of this batch go under it, wherever it is now.
            None => {
                let values = [user_id.into(), (&task.import_key).into()];
                sql::scalar(&mut *tx, TASK_BY_IMPORT_KEY.as_str(), values).await?
            }
        };
        ids.push(id);
    }
    // Archived last: an archived project takes no new tasks.
    for (project, place) in batch.projects.iter().zip(&places) {
        if project.archived && place.made {
            let values = [place.id.into(), true.into()];
            sql::run(&mut *tx, ARCHIVE_PROJECT.as_str(), values).await?;
        }
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
async fn project_place(
    tx: &mut PgConnection,
    user_id: &UserId,
    project: &ImportProject,
    now: DateTime<Utc>,
) -> Result<Place> {
    let found = if project.inbox {
        sql::scalar::<ProjectId>(&mut *tx, INBOX.as_str(), [user_id.into()]).await?
    } else {
        let named = [user_id.into(), project.name.as_str().into()];
        sql::scalar::<ProjectId>(&mut *tx, OWNED_PROJECT_NAMED.as_str(), named).await?
    };
    let made = found.is_none();
    let archived = match found {
        Some(id) => sql::scalar::<bool>(&mut *tx, PROJECT_ARCHIVED.as_str(), [id.into()])
            .await?
            .unwrap_or(false),
        None => false,
    };
    let id = match found {
        Some(id) => id,
        None => insert_project(tx, user_id, project, now).await?,
    };
    let mut sections = Vec::with_capacity(project.sections.len());
    for name in &project.sections {
        let named = [id.into(), name.as_str().into()];
        let section =
            match sql::scalar::<SectionId>(&mut *tx, SECTION_NAMED.as_str(), named).await? {
                Some(section) => section,
                None => insert_section(tx, id, name, now).await?,
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

async fn insert_project(
    tx: &mut PgConnection,
    user_id: &UserId,
    project: &ImportProject,
    now: DateTime<Utc>,
) -> Result<ProjectId> {
    let owned: i64 = sql::scalar(&mut *tx, COUNT_OWNED.as_str(), [user_id.into()])
        .await?
        .unwrap_or(0);
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
    let id: ProjectId = sql::scalar(&mut *tx, INSERT_PROJECT.as_str(), values)
        .await?
        .ok_or_else(|| Error::internal("insert returned no row"))?;
    let values = [
        id.into(),
        user_id.into(),
        Role::Owner.as_str().into(),
        now.into(),
    ];
    sql::run(&mut *tx, INSERT_MEMBER.as_str(), values).await?;
    Ok(id)
}

async fn insert_section(
    tx: &mut PgConnection,
    project: ProjectId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<SectionId> {
    let count: i64 = sql::scalar(&mut *tx, SECTION_COUNT.as_str(), [project.into()])
        .await?
        .unwrap_or(0);
    if count >= i64::try_from(MAX_SECTIONS_PER_PROJECT).unwrap_or(i64::MAX) {
        return Err(Error::invalid(
            "sections",
            format!("at most {MAX_SECTIONS_PER_PROJECT} sections per project"),
        ));
    }
    let position: i64 = sql::scalar(&mut *tx, NEXT_SECTION_POSITION.as_str(), [project.into()])
        .await?
        .unwrap_or(1);
    let values = [project.into(), name.into(), position.into(), now.into()];
    sql::row::<todo_store_sql::SectionRow, todo_core::project::Section>(
        &mut *tx,
        INSERT_SECTION.as_str(),
        values,
    )
    .await?
    .map(|section| section.id)
    .ok_or_else(|| Error::internal("insert returned no row"))
}
