//! Imports with structure: projects reused or made, sections, subtasks by index, positions,
//! completions, and re-imports that add nothing.

use chrono::{Duration, NaiveDate};
use todo_core::Store;
use todo_core::ids::UserId;
use todo_core::page::{ParentFilter, Sort, SortField, TaskFilter, TaskQuery};
use todo_core::project::ProjectId;
use todo_core::task::{Due, DueChange, NewTask, Task};
use todo_core::time::now;
use todo_core::transfer::{ImportBatch, ImportProject, ImportedCompletion, ImportedTask};

use crate::tasks::new_task;
use crate::user;

fn keyed(key: &str) -> NewTask {
    NewTask {
        import_key: Some(key.into()),
        ..new_task(key)
    }
}

fn at(task: NewTask, section: Option<usize>, parent: Option<usize>) -> ImportedTask {
    ImportedTask {
        project: Some(0),
        section,
        parent,
        ..ImportedTask::new(task)
    }
}

/// A Todoist-like file: a project with two sections, a task with a subtask and a sub-subtask.
fn home(extra: &[&str]) -> ImportBatch {
    let mut tasks = vec![
        at(keyed("clean"), Some(0), None),
        at(keyed("oven"), Some(0), Some(0)),
        at(keyed("racks"), Some(0), Some(1)),
        at(keyed("loose"), None, None),
        at(keyed("mow"), Some(1), None),
    ];
    tasks.extend(extra.iter().map(|k| at(keyed(k), Some(0), Some(0))));
    ImportBatch {
        tags: Vec::new(),
        projects: vec![ImportProject {
            name: "Home".into(),
            color: Some("#336699".into()),
            sections: vec!["Kitchen".into(), "Garden".into()],
            ..ImportProject::default()
        }],
        tasks,
    }
}

async fn project_tasks(store: &dyn Store, user: &UserId, project: ProjectId) -> Vec<Task> {
    let query = TaskQuery {
        filter: TaskFilter {
            project: Some(project),
            ..TaskFilter::default()
        },
        sort: Sort {
            field: SortField::Position,
            descending: false,
        },
        limit: 100,
        ..TaskQuery::default()
    };
    store
        .list_tasks(user, &query, 100)
        .await
        .expect("list")
        .tasks
}

fn titled<'a>(tasks: &'a [Task], title: &str) -> &'a Task {
    tasks
        .iter()
        .find(|t| t.title == title)
        .unwrap_or_else(|| panic!("no task {title}"))
}

#[tokio::test]
async fn an_import_makes_its_project_sections_and_subtasks() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;

        let created = store
            .import_tasks(&owner, &home(&[]), now())
            .await
            .expect("import");

        assert_eq!(created, 5, "{}", db.backend);
        let projects = store.list_projects(&owner).await.expect("projects");
        let names: Vec<_> = projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Inbox", "Home"], "{}", db.backend);
        let home_project = &projects[1];
        assert_eq!(home_project.color.as_deref(), Some("#336699"));
        let sections = store
            .list_sections(&owner, home_project.id)
            .await
            .expect("sections")
            .expect("visible");
        let section_names: Vec<_> = sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(section_names, ["Kitchen", "Garden"], "{}", db.backend);
        let tasks = project_tasks(store, &owner, home_project.id).await;
        let (clean, oven, racks) = (
            titled(&tasks, "clean"),
            titled(&tasks, "oven"),
            titled(&tasks, "racks"),
        );
        assert_eq!(clean.section_id, Some(sections[0].id), "{}", db.backend);
        assert_eq!(oven.parent_id, Some(clean.id), "{}", db.backend);
        assert_eq!(racks.parent_id, Some(oven.id), "{}", db.backend);
        assert_eq!(
            racks.section_id,
            Some(sections[0].id),
            "subtasks share the section"
        );
        assert_eq!(titled(&tasks, "loose").section_id, None);
        assert_eq!(titled(&tasks, "mow").section_id, Some(sections[1].id));
    }
}

#[tokio::test]
async fn importing_again_reuses_the_project_and_puts_new_subtasks_under_known_parents() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        store
            .import_tasks(&owner, &home(&[]), now())
            .await
            .expect("first import");

        let created = store
            .import_tasks(&owner, &home(&["knobs"]), now())
            .await
            .expect("second import");

        assert_eq!(created, 1, "{}: only the new row", db.backend);
        let projects = store.list_projects(&owner).await.expect("projects");
        assert_eq!(projects.len(), 2, "{}: one Home", db.backend);
        let sections = store
            .list_sections(&owner, projects[1].id)
            .await
            .expect("sections")
            .expect("visible");
        assert_eq!(sections.len(), 2, "{}: the sections reused", db.backend);
        let tasks = project_tasks(store, &owner, projects[1].id).await;
        assert_eq!(tasks.len(), 6, "{}", db.backend);
        let clean = titled(&tasks, "clean");
        assert_eq!(
            titled(&tasks, "knobs").parent_id,
            Some(clean.id),
            "{}",
            db.backend
        );
    }
}

#[tokio::test]
async fn importing_a_known_file_after_renaming_its_project_makes_no_empty_project() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        store
            .import_tasks(&owner, &home(&[]), now())
            .await
            .expect("first import");
        let home_id = store.list_projects(&owner).await.expect("projects")[1].id;
        let rename = todo_core::project::ProjectChanges {
            name: Some("House".into()),
            ..Default::default()
        };
        store
            .update_project(&owner, home_id, &rename, now())
            .await
            .expect("rename");

        let created = store
            .import_tasks(&owner, &home(&[]), now())
            .await
            .expect("again");

        assert_eq!(created, 0, "{}", db.backend);
        let names: Vec<_> = store
            .list_projects(&owner)
            .await
            .expect("projects")
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Inbox", "House"], "{}", db.backend);
    }
}

#[tokio::test]
async fn an_import_keeps_positions_completion_moments_completions_and_archived_state() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let done_at = now() - Duration::days(3);
        let due = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let recurring = NewTask {
            due: Due::Date(due),
            recurrence: Some("FREQ=DAILY".into()),
            ..keyed("water")
        };
        let batch = ImportBatch {
            tags: Vec::new(),
            projects: vec![ImportProject {
                name: "Old".into(),
                archived: true,
                ..ImportProject::default()
            }],
            tasks: vec![
                ImportedTask {
                    position: Some(20),
                    ..at(keyed("second"), None, None)
                },
                ImportedTask {
                    position: Some(10),
                    completed_at: Some(done_at),
                    ..at(
                        NewTask {
                            completed: true,
                            ..keyed("first")
                        },
                        None,
                        None,
                    )
                },
                ImportedTask {
                    completions: vec![ImportedCompletion {
                        completed_at: done_at,
                        due: DueChange::new(
                            Due::Date(due - Duration::days(1)),
                            None,
                            chrono_tz::Tz::UTC,
                        ),
                        recurrence: Some("FREQ=DAILY".into()),
                    }],
                    ..at(recurring, None, None)
                },
            ],
        };

        store
            .import_tasks(&owner, &batch, now())
            .await
            .expect("import");

        let projects = store.list_projects(&owner).await.expect("projects");
        let old = &projects[1];
        assert!(old.archived, "{}", db.backend);
        let tasks = project_tasks(store, &owner, old.id).await;
        let titles: Vec<_> = tasks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["first", "second", "water"], "{}", db.backend);
        assert_eq!(tasks[0].position, 10);
        let stored = tasks[0].completed_at.expect("completed");
        assert!(
            (stored - done_at).num_seconds().abs() < 1,
            "{}: {stored} vs {done_at}",
            db.backend
        );
        let completions = store.completions(&owner, 100).await.expect("completions");
        assert_eq!(completions.len(), 1, "{}", db.backend);
        assert_eq!(completions[0].0, tasks[2].id);
        assert_eq!(completions[0].1.due.due, Due::Date(due - Duration::days(1)));
    }
}

#[tokio::test]
async fn an_inbox_project_is_the_users_inbox_whatever_its_name() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let batch = ImportBatch {
            projects: vec![ImportProject {
                name: "Eingang".into(),
                inbox: true,
                archived: true,
                sections: vec!["Later".into()],
                ..ImportProject::default()
            }],
            tasks: vec![at(keyed("someday"), Some(0), None)],
            ..ImportBatch::default()
        };

        store
            .import_tasks(&owner, &batch, now())
            .await
            .expect("import");

        let projects = store.list_projects(&owner).await.expect("projects");
        assert_eq!(projects.len(), 1, "{}: no new project", db.backend);
        assert!(projects[0].inbox && !projects[0].archived, "{}", db.backend);
        let tasks = project_tasks(store, &owner, projects[0].id).await;
        assert!(
            tasks[0].section_id.is_some(),
            "{}: in the Inbox's new section",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_parent_filter_lists_the_imported_tree_level_by_level() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        store
            .import_tasks(&owner, &home(&[]), now())
            .await
            .expect("import");
        let query = TaskQuery {
            filter: TaskFilter {
                parent: Some(ParentFilter::None),
                ..TaskFilter::default()
            },
            limit: 100,
            ..TaskQuery::default()
        };
        let top = store.list_tasks(&owner, &query, 100).await.expect("list");
        let mut titles: Vec<_> = top.tasks.iter().map(|t| t.title.as_str()).collect();
        titles.sort_unstable();
        assert_eq!(titles, ["clean", "loose", "mow"], "{}", db.backend);
    }
}
