//! Projects, sections and the subtask tree: what a store writes for each, with its events.

use todo_core::Store;
use todo_core::events::EventType;
use todo_core::placement::{Destination, MoveInput};
use todo_core::project::{NewProject, ProjectChanges, SectionChanges};
use todo_core::task::{NewTask, Task};
use todo_core::time::now;

use crate::tasks::new_task;
use crate::{context, user};

async fn under(
    store: &dyn Store,
    owner: &todo_core::ids::UserId,
    title: &str,
    parent: &Task,
) -> Task {
    let task = NewTask {
        destination: Destination {
            parent: Some(parent.id),
            ..Destination::default()
        },
        ..new_task(title)
    };
    store
        .insert_task(owner, &task, now())
        .await
        .expect("insert")
}

fn kinds(events: &[todo_core::events::Event]) -> Vec<(EventType, i64)> {
    events
        .iter()
        .map(|e| (e.event_type, e.task_id.get()))
        .collect()
}

/// Completing, moving and deleting a task act on its whole subtree, each task with its event.
#[tokio::test]
async fn a_subtree_is_completed_moved_and_deleted_with_an_event_per_task() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let root = store
            .insert_task(&owner, &new_task("Move house"), now())
            .await
            .expect("insert");
        let child = under(store, &owner, "Pack", &root).await;
        let grandchild = under(store, &owner, "Books", &child).await;
        let other = under(store, &owner, "Keys", &root).await;
        assert_eq!(
            (child.project_id, grandchild.parent_id),
            (root.project_id, Some(child.id)),
            "{}",
            db.backend
        );
        // Keys done first: completing the root completes the two open ones.
        store
            .set_task_completed(&owner, other.id, Some(true), &context(now()))
            .await
            .expect("complete")
            .expect("found");
        let seen = store.last_event_id(&owner).await.expect("last");
        store
            .set_task_completed(&owner, root.id, Some(true), &context(now()))
            .await
            .expect("complete")
            .expect("found");
        let events = store.events_after(&owner, seen, 100).await.expect("events");
        assert_eq!(
            kinds(&events),
            [
                (EventType::Completed, root.id.get()),
                (EventType::Completed, child.id.get()),
                (EventType::Completed, grandchild.id.get()),
            ],
            "{}",
            db.backend
        );

        let work = store
            .insert_project(
                &owner,
                &NewProject {
                    name: "Work".into(),
                    color: None,
                },
                now(),
            )
            .await
            .expect("project");
        let section = store
            .insert_section(&owner, work.id, "Later", None, now())
            .await
            .expect("section")
            .expect("visible");
        let seen = store.last_event_id(&owner).await.expect("last");
        let to = MoveInput {
            section_id: Some(section.id),
            ..MoveInput::default()
        };
        let moved = store
            .move_task(&owner, root.id, &to, now())
            .await
            .expect("move")
            .expect("found");
        assert_eq!(
            (moved.project_id, moved.section_id, moved.parent_id),
            (work.id, Some(section.id), None),
            "{}",
            db.backend
        );
        let carried = store
            .get_task(&owner, grandchild.id)
            .await
            .expect("get")
            .expect("there");
        assert_eq!(
            (carried.project_id, carried.section_id),
            (work.id, Some(section.id))
        );
        let events = store.events_after(&owner, seen, 100).await.expect("events");
        assert_eq!(events.len(), 4, "{}: one per task carried", db.backend);
        assert!(events.iter().all(|e| e.event_type == EventType::Updated));

        let seen = store.last_event_id(&owner).await.expect("last");
        assert!(
            store
                .delete_section(&owner, section.id)
                .await
                .expect("delete")
        );
        let events = store.events_after(&owner, seen, 100).await.expect("events");
        assert_eq!(
            events.len(),
            4,
            "{}: the section's tasks go, each with its event",
            db.backend
        );
        assert!(events.iter().all(|e| e.event_type == EventType::Deleted));
        assert!(
            store
                .get_task(&owner, root.id)
                .await
                .expect("get")
                .is_none()
        );
    }
}

/// Projects and sections as their owner sees them; another user sees none of them.
#[tokio::test]
async fn projects_and_sections_are_their_members_only() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let owner = user(store).await;
        let stranger = user(store).await;
        let projects = store.list_projects(&owner).await.expect("list");
        assert_eq!(projects.len(), 1, "{}: the Inbox", db.backend);
        assert!(projects[0].inbox);
        let home = store
            .insert_project(
                &owner,
                &NewProject {
                    name: "Home".into(),
                    color: Some("#112233".into()),
                },
                now(),
            )
            .await
            .expect("project");
        let archived = store
            .update_project(
                &owner,
                home.id,
                &ProjectChanges {
                    archived: Some(true),
                    ..ProjectChanges::default()
                },
                now(),
            )
            .await
            .expect("update")
            .expect("visible");
        assert!(archived.archived && archived.color.as_deref() == Some("#112233"));
        let a = store
            .insert_section(&owner, home.id, "A", None, now())
            .await
            .expect("a")
            .expect("a");
        let b = store
            .insert_section(&owner, home.id, "B", Some(0), now())
            .await
            .expect("b")
            .expect("b");
        let names: Vec<_> = store
            .list_sections(&owner, home.id)
            .await
            .expect("sections")
            .expect("visible")
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["B", "A"], "{}", db.backend);
        store
            .update_section(
                &owner,
                a.id,
                &SectionChanges {
                    position: Some(0),
                    ..SectionChanges::default()
                },
                now(),
            )
            .await
            .expect("reorder");
        let first = store
            .list_sections(&owner, home.id)
            .await
            .expect("s")
            .expect("v");
        assert_eq!(first[0].id, a.id);

        assert_eq!(store.project(&stranger, home.id).await.expect("get"), None);
        assert_eq!(
            store.list_sections(&stranger, home.id).await.expect("get"),
            None
        );
        assert_eq!(store.section(&stranger, b.id).await.expect("get"), None);
        assert!(!store.delete_section(&stranger, b.id).await.expect("delete"));
        assert!(
            !store
                .delete_project(&stranger, home.id)
                .await
                .expect("delete")
        );
        let into_theirs = NewTask {
            destination: Destination {
                project: Some(home.id),
                ..Destination::default()
            },
            ..new_task("x")
        };
        assert!(
            store
                .insert_task(&stranger, &into_theirs, now())
                .await
                .is_err()
        );
        assert!(store.delete_project(&owner, home.id).await.expect("delete"));
        assert_eq!(store.list_projects(&owner).await.expect("list").len(), 1);
    }
}
