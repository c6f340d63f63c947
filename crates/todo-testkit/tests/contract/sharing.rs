//! Sharing a project (docs/sharing.md): invitations accepted, declined, withdrawn and waiting
//! for a sign-up; members leaving, removed, and handed the project; a deleted owner's shared
//! projects; and the events of members writing at once, complete and in order for each of
//! them, until they leave.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use todo_core::Store;
use todo_core::error::Error;
use todo_core::events::{Event, EventId, EventType};
use todo_core::ids::{ProjectId, TaskId, UserId};
use todo_core::placement::Destination;
use todo_core::project::{NewProject, Role};
use todo_core::sharing::{InvitationInput, Member};
use todo_core::task::{NewTask, TaskChanges};
use todo_core::time::now;

use crate::tasks::new_task;
use crate::{context, new_user, user};

fn email(user: &UserId) -> String {
    format!("{user}@example.com")
}

async fn project(store: &dyn Store, owner: &UserId, name: &str) -> ProjectId {
    store
        .insert_project(
            owner,
            &NewProject {
                name: name.into(),
                color: None,
            },
            now(),
        )
        .await
        .expect("project")
        .id
}

/// `owner` invites `member` to `project` as `role`, and `member` accepts at `at`.
async fn join(
    store: &dyn Store,
    owner: &UserId,
    project: ProjectId,
    member: &UserId,
    role: Role,
    at: DateTime<Utc>,
) {
    let input = InvitationInput {
        email: email(member),
        role,
    };
    let invitation = store
        .invite(owner, project, &input, at)
        .await
        .expect("invite")
        .expect("the owner's project");
    let joined = store
        .accept_invitation(member, invitation.id, at)
        .await
        .expect("accept")
        .expect("an invitation to the member");
    assert_eq!(joined.id, project);
    assert_eq!(joined.role, role);
}

fn roles(members: &[Member]) -> Vec<(UserId, Role)> {
    members
        .iter()
        .map(|m| (m.user_id.clone(), m.role))
        .collect()
}

async fn members(store: &dyn Store, user: &UserId, project: ProjectId) -> Vec<(UserId, Role)> {
    roles(
        &store
            .members(user, project)
            .await
            .expect("members")
            .expect("a member's project"),
    )
}

async fn task_in(store: &dyn Store, user: &UserId, project: ProjectId, title: &str) -> TaskId {
    let task = NewTask {
        destination: Destination {
            project: Some(project),
            ..Destination::default()
        },
        ..new_task(title)
    };
    store
        .insert_task(user, &task, now())
        .await
        .expect("insert")
        .id
}

#[tokio::test]
async fn invitations_are_accepted_declined_withdrawn_and_wait_for_their_address() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let backend = db.backend;
        let owner = user(store).await;
        let (bob, carol, stranger) = (user(store).await, user(store).await, user(store).await);
        let home = project(store, &owner, "Home").await;
        let invite = |email: String, role: Role| InvitationInput { email, role };

        let sent = store
            .invite(&owner, home, &invite(email(&bob), Role::Viewer), now())
            .await
            .expect("invite")
            .expect("visible");
        assert_eq!((sent.project_id, sent.role), (home, Role::Viewer));
        assert_eq!(sent.invited_by, owner);
        let again = store
            .invite(&owner, home, &invite(email(&bob), Role::Editor), now())
            .await;
        assert!(
            matches!(again, Err(Error::Conflict(_))),
            "{backend}: {again:?}"
        );
        // Someone who is not a member sees no project to invite to.
        let theirs = store
            .invite(&stranger, home, &invite(email(&carol), Role::Editor), now())
            .await;
        assert!(matches!(theirs, Ok(None)), "{backend}: {theirs:?}");
        let waiting = store.invitations_for(&bob).await.expect("mine");
        assert_eq!(waiting.len(), 1, "{backend}");
        assert_eq!(waiting[0].project_name, "Home");
        assert!(
            store
                .invitations_for(&carol)
                .await
                .expect("none")
                .is_empty()
        );
        assert_eq!(
            store
                .project_invitations(&owner, home)
                .await
                .expect("pending")
                .expect("visible")
                .len(),
            1
        );

        // Only the invitee answers, once.
        assert_eq!(
            store
                .accept_invitation(&stranger, sent.id, now())
                .await
                .expect("accept"),
            None,
            "{backend}"
        );
        let joined = store
            .accept_invitation(&bob, sent.id, now())
            .await
            .expect("accept")
            .expect("joined");
        assert_eq!(
            (joined.role, joined.members),
            (Role::Viewer, 2),
            "{backend}"
        );
        assert_eq!(
            store
                .accept_invitation(&bob, sent.id, now())
                .await
                .expect("again"),
            None
        );
        assert!(store.invitations_for(&bob).await.expect("mine").is_empty());
        assert_eq!(
            members(store, &bob, home).await,
            [(owner.clone(), Role::Owner), (bob.clone(), Role::Viewer)],
            "{backend}"
        );
        // A member (not the owner) neither invites nor sees the invitations.
        let by_viewer = store
            .invite(&bob, home, &invite(email(&carol), Role::Viewer), now())
            .await;
        assert!(
            matches!(by_viewer, Err(Error::InsufficientRole(_))),
            "{backend}: {by_viewer:?}"
        );
        assert!(matches!(
            store.project_invitations(&bob, home).await,
            Err(Error::InsufficientRole(_))
        ));
        // Inviting a member is a conflict.
        let member = store
            .invite(&owner, home, &invite(email(&bob), Role::Editor), now())
            .await;
        assert!(
            matches!(member, Err(Error::Conflict(_))),
            "{backend}: {member:?}"
        );

        // Declined: gone, and no member more.
        let to_carol = store
            .invite(&owner, home, &invite(email(&carol), Role::Editor), now())
            .await
            .expect("invite")
            .expect("visible");
        assert!(
            !store
                .decline_invitation(&stranger, to_carol.id, now())
                .await
                .expect("not theirs")
        );
        assert!(
            store
                .decline_invitation(&carol, to_carol.id, now())
                .await
                .expect("decline")
        );
        assert!(
            store
                .invitations_for(&carol)
                .await
                .expect("none")
                .is_empty()
        );
        assert_eq!(store.project(&carol, home).await.expect("read"), None);

        // Waiting for an address with no account; withdrawn by the owner only.
        let later = format!("later-{}@example.com", UserId::generate());
        let pending = store
            .invite(&owner, home, &invite(later.clone(), Role::Editor), now())
            .await
            .expect("invite")
            .expect("visible");
        let newcomer = UserId::generate();
        store
            .insert_user(&new_user(&newcomer, Some(&later), now()))
            .await
            .expect("sign up");
        let found = store.invitations_for(&newcomer).await.expect("found");
        assert_eq!(
            found.iter().map(|i| i.id).collect::<Vec<_>>(),
            [pending.id],
            "{backend}: the invitation waited for the sign-up"
        );
        assert!(matches!(
            store.cancel_invitation(&bob, home, pending.id).await,
            Err(Error::InsufficientRole(_))
        ));
        assert!(
            !store
                .cancel_invitation(&stranger, home, pending.id)
                .await
                .expect("not theirs")
        );
        assert!(
            store
                .cancel_invitation(&owner, home, pending.id)
                .await
                .expect("withdraw")
        );
        assert!(
            !store
                .cancel_invitation(&owner, home, pending.id)
                .await
                .expect("again")
        );
        assert!(
            store
                .invitations_for(&newcomer)
                .await
                .expect("gone")
                .is_empty()
        );
        assert_eq!(
            store
                .accept_invitation(&newcomer, pending.id, now())
                .await
                .expect("accept"),
            None,
            "{backend}: a withdrawn invitation cannot be accepted"
        );
    }
}

#[tokio::test]
async fn members_leave_are_removed_and_are_handed_the_project() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let backend = db.backend;
        let owner = user(store).await;
        let (editor, viewer, stranger) = (user(store).await, user(store).await, user(store).await);
        let home = project(store, &owner, "Home").await;
        join(store, &owner, home, &editor, Role::Editor, now()).await;
        join(store, &owner, home, &viewer, Role::Viewer, now()).await;
        let task = task_in(store, &editor, home, "Milk").await;

        // Nobody but the owner removes someone else; a non-member finds no one.
        assert!(matches!(
            store.remove_member(&editor, home, &viewer).await,
            Err(Error::InsufficientRole(_))
        ));
        assert!(
            !store
                .remove_member(&stranger, home, &viewer)
                .await
                .expect("not theirs")
        );
        let owner_leaves = store.remove_member(&owner, home, &owner).await;
        assert!(
            matches!(owner_leaves, Err(Error::Conflict(_))),
            "{backend}: {owner_leaves:?}"
        );

        // The viewer leaves: the project, its tasks and its members are gone for them.
        assert!(
            store
                .remove_member(&viewer, home, &viewer)
                .await
                .expect("leave")
        );
        assert_eq!(store.project(&viewer, home).await.expect("read"), None);
        assert_eq!(store.members(&viewer, home).await.expect("read"), None);
        assert_eq!(store.get_task(&viewer, task).await.expect("read"), None);
        assert_eq!(store.comments(&viewer, task).await.expect("read"), None);
        assert_eq!(
            members(store, &owner, home).await,
            [(owner.clone(), Role::Owner), (editor.clone(), Role::Editor)],
            "{backend}"
        );
        assert!(
            !store
                .remove_member(&viewer, home, &viewer)
                .await
                .expect("twice")
        );

        // The owner removes the editor; the editor's task stays in the project.
        assert!(
            store
                .remove_member(&owner, home, &editor)
                .await
                .expect("remove")
        );
        assert_eq!(store.project(&editor, home).await.expect("read"), None);
        assert_eq!(
            store
                .get_task(&owner, task)
                .await
                .expect("read")
                .map(|t| t.id),
            Some(task),
            "{backend}"
        );

        // Back as an editor, and handed the project: the owner becomes an editor.
        join(store, &owner, home, &editor, Role::Editor, now()).await;
        assert!(matches!(
            store
                .change_role(&editor, home, &owner, Role::Viewer, now())
                .await,
            Err(Error::InsufficientRole(_))
        ));
        assert_eq!(
            store
                .change_role(&stranger, home, &editor, Role::Owner, now())
                .await
                .expect("not theirs"),
            None
        );
        let handed = store
            .change_role(&owner, home, &editor, Role::Owner, now())
            .await
            .expect("hand over")
            .expect("a member");
        assert_eq!(
            roles(&handed),
            [(editor.clone(), Role::Owner), (owner.clone(), Role::Editor)],
            "{backend}"
        );
        assert_eq!(
            store
                .project(&editor, home)
                .await
                .expect("read")
                .map(|p| p.role),
            Some(Role::Owner)
        );
        assert!(matches!(
            store
                .change_role(&owner, home, &editor, Role::Viewer, now())
                .await,
            Err(Error::InsufficientRole(_))
        ));
        // The new owner makes the old one a viewer; the old owner may now leave.
        let demoted = store
            .change_role(&editor, home, &owner, Role::Viewer, now())
            .await
            .expect("change")
            .expect("a member");
        assert_eq!(
            roles(&demoted),
            [(editor.clone(), Role::Owner), (owner.clone(), Role::Viewer)]
        );
        assert!(
            store
                .remove_member(&owner, home, &owner)
                .await
                .expect("leave")
        );
        assert_eq!(store.project(&owner, home).await.expect("read"), None);
        assert_eq!(
            members(store, &editor, home).await,
            [(editor.clone(), Role::Owner)],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_deleted_owner_s_shared_projects_go_to_the_longest_standing_editor_or_with_them() {
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let backend = db.backend;
        let owner = user(store).await;
        let (early, late, viewer) = (user(store).await, user(store).await, user(store).await);
        let start = now() - Duration::hours(3);
        // Shared with two editors and a viewer who joined before both: the editor who joined
        // first takes it over.
        let home = project(store, &owner, "Home").await;
        join(store, &owner, home, &viewer, Role::Viewer, start).await;
        join(
            store,
            &owner,
            home,
            &late,
            Role::Editor,
            start + Duration::hours(2),
        )
        .await;
        join(
            store,
            &owner,
            home,
            &early,
            Role::Editor,
            start + Duration::hours(1),
        )
        .await;
        let task = task_in(store, &owner, home, "The owner's").await;
        // Shared with a viewer only, and not shared: both go with the account.
        let trip = project(store, &owner, "Trip").await;
        join(store, &owner, trip, &viewer, Role::Viewer, start).await;
        let trip_task = task_in(store, &owner, trip, "Passports").await;
        let alone = project(store, &owner, "Alone").await;

        assert!(store.delete_account(&owner).await.expect("delete"));

        assert_eq!(
            members(store, &viewer, home).await,
            [
                (early.clone(), Role::Owner),
                (viewer.clone(), Role::Viewer),
                (late.clone(), Role::Editor)
            ],
            "{backend}"
        );
        assert_eq!(
            store
                .project(&early, home)
                .await
                .expect("read")
                .map(|p| (p.role, p.members)),
            Some((Role::Owner, 3)),
            "{backend}"
        );
        assert_eq!(
            store
                .get_task(&late, task)
                .await
                .expect("read")
                .map(|t| t.id),
            Some(task),
            "{backend}: the project keeps the deleted owner's tasks"
        );
        assert_eq!(store.project(&viewer, trip).await.expect("read"), None);
        assert_eq!(store.members(&viewer, trip).await.expect("read"), None);
        assert_eq!(
            store.get_task(&viewer, trip_task).await.expect("read"),
            None
        );
        assert_eq!(store.project(&owner, alone).await.expect("read"), None);
        assert!(!store.delete_account(&owner).await.expect("again"));
    }
}

/// Every event that reached `user` after `after`, page by page.
async fn all_events_after(store: &dyn Store, user: &UserId, mut after: EventId) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let page = store.events_after(user, after, 50).await.expect("events");
        let Some(last) = page.last() else {
            return events;
        };
        after = last.id;
        events.extend(page);
    }
}

/// Reads `user`'s events as a live stream does, from `after` until `done` and one last read:
/// each read resumes after the newest id seen so far, so an event committed under a smaller
/// id than one already read would be lost; the events read.
async fn follow(
    store: Arc<dyn Store>,
    user: UserId,
    after: EventId,
    done: Arc<tokio::sync::Notify>,
    finished: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Event> {
    let mut seen: Vec<Event> = Vec::new();
    let mut cursor = after;
    loop {
        let last_round = finished.load(std::sync::atomic::Ordering::SeqCst);
        let page = store.events_after(&user, cursor, 50).await.expect("events");
        for event in page {
            assert!(
                event.id > cursor,
                "ids increase: {} after {cursor}",
                event.id
            );
            cursor = event.id;
            seen.push(event);
        }
        if last_round {
            let rest = all_events_after(store.as_ref(), &user, cursor).await;
            seen.extend(rest);
            return seen;
        }
        tokio::select! {
            () = done.notified() => {}
            () = tokio::time::sleep(std::time::Duration::from_millis(2)) => {}
        }
    }
}

/// Two members write at once, many tasks each; both hear every change, in increasing order,
/// complete, read as they happen; after one leaves, nothing more reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_writing_at_once_hear_every_change_in_order_until_they_leave() {
    const EACH: usize = 30;
    for db in todo_testkit::all().await {
        let backend = db.backend;
        let store = db.store.clone();
        let owner = user(store.as_ref()).await;
        let editor = user(store.as_ref()).await;
        let home = project(store.as_ref(), &owner, "Home").await;
        join(store.as_ref(), &owner, home, &editor, Role::Editor, now()).await;
        let marks = [
            store.last_event_id(&owner).await.expect("mark"),
            store.last_event_id(&editor).await.expect("mark"),
        ];

        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = Arc::new(tokio::sync::Notify::new());
        let followers: Vec<_> = [&owner, &editor]
            .into_iter()
            .zip(marks)
            .map(|(who, mark)| {
                tokio::spawn(follow(
                    store.clone(),
                    who.clone(),
                    mark,
                    done.clone(),
                    finished.clone(),
                ))
            })
            .collect();

        // Each adds EACH tasks at once, then changes each of them at once.
        let mut writes = Vec::new();
        for who in [&owner, &editor] {
            for n in 0..EACH {
                let (store, who) = (store.clone(), who.clone());
                writes.push(tokio::spawn(async move {
                    let id = task_in(store.as_ref(), &who, home, &format!("{who} {n}")).await;
                    (who, id)
                }));
            }
        }
        let mut made = Vec::new();
        for write in futures::future::join_all(writes).await {
            made.push(write.expect("insert"));
        }
        let changes = made.iter().map(|(who, id)| {
            let (store, who, id) = (store.clone(), who.clone(), *id);
            tokio::spawn(async move {
                let changes = TaskChanges {
                    title: Some(format!("{id} changed")),
                    ..TaskChanges::default()
                };
                store
                    .update_task(&who, id, &changes, &context(now()))
                    .await
                    .expect("update")
                    .expect("visible");
            })
        });
        for change in futures::future::join_all(changes).await {
            change.expect("update");
        }
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
        done.notify_waiters();

        let tasks: BTreeSet<TaskId> = made.iter().map(|(_, id)| *id).collect();
        assert_eq!(tasks.len(), 2 * EACH);
        let mut heard = Vec::new();
        for ((follower, mark), listener) in followers.into_iter().zip(marks).zip([&owner, &editor])
        {
            let live = follower.await.expect("follow");
            assert!(
                live.windows(2).all(|w| w[0].id < w[1].id),
                "{backend}: strictly increasing"
            );
            let created: BTreeSet<TaskId> = live
                .iter()
                .filter(|e| e.event_type == EventType::Created)
                .map(|e| e.task_id)
                .collect();
            let updated: BTreeSet<TaskId> = live
                .iter()
                .filter(|e| e.event_type == EventType::Updated)
                .map(|e| e.task_id)
                .collect();
            assert_eq!(created, tasks, "{backend}: every creation, read live");
            assert_eq!(updated, tasks, "{backend}: every change, read live");
            assert_eq!(live.len(), 4 * EACH, "{backend}: each once");
            // Read live, they are what a reader reading afterwards gets: nothing was skipped.
            let afterwards = all_events_after(store.as_ref(), listener, mark).await;
            assert_eq!(
                afterwards.iter().map(|e| e.id).collect::<Vec<_>>(),
                live.iter().map(|e| e.id).collect::<Vec<_>>(),
                "{backend}"
            );
            heard.push(live);
        }
        // Both heard the same changes, each naming who made it.
        let ids = |events: &[Event]| {
            events
                .iter()
                .map(|e| (e.event_type.as_str(), e.task_id, e.user_id.clone()))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(ids(&heard[0]), ids(&heard[1]), "{backend}");
        assert!(
            heard[0].iter().all(|e| {
                let (who, _) = made.iter().find(|(_, id)| *id == e.task_id).expect("made");
                e.user_id == *who
            }),
            "{backend}: an event names who acted"
        );

        // The editor leaves: the owner's changes reach the owner, and no longer the editor.
        assert!(
            store
                .remove_member(&editor, home, &editor)
                .await
                .expect("leave")
        );
        let left = store.last_event_id(&editor).await.expect("mark");
        let mark = store.last_event_id(&owner).await.expect("mark");
        let later = made.iter().filter(|(who, _)| *who == owner).map(|(_, id)| {
            let (store, owner, id) = (store.clone(), owner.clone(), *id);
            tokio::spawn(async move {
                store
                    .set_task_completed(&owner, id, Some(true), &context(now()))
                    .await
                    .expect("complete")
                    .expect("visible");
            })
        });
        for write in futures::future::join_all(later).await {
            write.expect("complete");
        }
        assert!(
            all_events_after(store.as_ref(), &editor, left)
                .await
                .is_empty(),
            "{backend}: nothing after leaving"
        );
        let owners = all_events_after(store.as_ref(), &owner, mark).await;
        assert_eq!(owners.len(), EACH, "{backend}");
        assert!(owners.iter().all(|e| e.event_type == EventType::Completed));
        assert!(owners.windows(2).all(|w| w[0].id < w[1].id));
    }
}

/// A shared project's events go to its owner's webhooks (unscoped, or scoped to it), never a
/// member's; a hook scoped to another project hears nothing of it.
#[tokio::test]
async fn a_shared_project_s_events_go_to_its_owner_s_webhooks() {
    use todo_core::jobs::JobKind;
    for db in todo_testkit::all().await {
        let store = db.store.as_ref();
        let (owner, member) = (user(store).await, user(store).await);
        let shared = project(store, &owner, "Shared").await;
        let other = project(store, &owner, "Other").await;
        join(store, &owner, shared, &member, Role::Editor, now()).await;
        let hook = |project: Option<ProjectId>, name: &'static str, who: UserId| async move {
            store
                .insert_webhook(
                    &who,
                    &format!("https://example.com/{name}"),
                    "whsec_x",
                    project,
                    now(),
                    10,
                )
                .await
                .expect("webhook")
                .expect("under the limit")
                .id
        };
        let everything = hook(None, "all", owner.clone()).await;
        let scoped = hook(Some(shared), "shared", owner.clone()).await;
        hook(Some(other), "other", owner.clone()).await;
        hook(None, "members", member.clone()).await;

        let task = task_in(store, &member, shared, "Mow the lawn").await;
        let jobs = store
            .claim_jobs(
                JobKind::Webhook,
                now() + Duration::seconds(1),
                Duration::seconds(30),
                10,
            )
            .await
            .expect("claim");
        let mut hooks = BTreeSet::new();
        for job in &jobs {
            let delivery = store.delivery(job).await.expect("delivery").expect("some");
            assert_eq!(delivery.event.task_id, task, "{}", db.backend);
            assert_eq!(delivery.event.user_id, member, "the event names who acted");
            hooks.insert(delivery.webhook.id);
        }
        assert_eq!(
            hooks,
            BTreeSet::from([everything, scoped]),
            "{}",
            db.backend
        );
    }
}
