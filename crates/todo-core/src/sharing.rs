//! Sharing a project: its members and their roles, invitations by email, comments on its tasks
//! and its activity. The rules are here, once; stores read the facts, ask, and write
//! (docs/sharing.md).
//!
//! - Owner manages members and invitations; editor changes tasks and sections; viewer reads and
//!   comments ([`Role::allows`]). The Inbox is never shared.
//! - An invitation names an email and a role (editor or viewer); it waits until someone signed
//!   in with that email accepts or declines it, so an address with no account finds it after
//!   signing up. While the server sends mail, accepting needs the address confirmed
//!   ([`check_may_accept`]): else whoever registers an address first would take what it is
//!   invited to. Without mail nothing can be confirmed, and accepting needs only the address.
//! - A member may leave; the owner may remove anyone else, change roles, and hand ownership to
//!   a member (becoming an editor). The owner cannot leave: they hand over or delete.
//! - Leaving or being removed unassigns the member's tasks in the project and drops their
//!   personal things on its tasks (reminders, labels).
//! - A deleted account's shared projects go to their longest-standing editor, else are
//!   deleted with it ([`successor`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::error::{Error, Result};
use crate::events::{Activity, EventId};
use crate::ids::{ProjectId, UserId};
use crate::project::{Action, PROJECT_NOT_FOUND, Project, Role};
use crate::task::TaskId;
use crate::time::now;
use crate::user::{Email, User};
use crate::validation::storable_text;

pub use crate::ids::{CommentId, InvitationId};

/// Members a project may have, the owner included.
pub const MAX_MEMBERS_PER_PROJECT: u64 = 100;
/// Invitations a project may have pending at once.
pub const MAX_PENDING_INVITATIONS: u64 = 100;
pub const COMMENT_MAX_CHARS: usize = 10_000;
/// Comments one task may carry.
pub const MAX_COMMENTS_PER_TASK: u64 = 1_000;
/// Most activity entries one page returns.
pub const ACTIVITY_PAGE_MAX: u32 = 200;

/// A member of a project, as its other members see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Member {
    pub user_id: UserId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    /// When they joined (the owner: when the project was made).
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub joined_at: DateTime<Utc>,
}

/// The body of `PATCH /projects/{id}/members/{user_id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatchInput {
    /// `owner` hands the project to this member (the caller becomes an editor).
    pub role: Role,
}

/// The body of `POST /projects/{id}/invitations`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    /// Whom to invite; they accept after signing in (or up) with this address, and (when the
    /// server sends email) confirming it.
    #[schema(max_length = 254)]
    pub email: String,
    /// `editor` (the default) or `viewer`.
    #[serde(default = "default_invited_role")]
    pub role: Role,
}

fn default_invited_role() -> Role {
    Role::Editor
}

/// A validated invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub email: Email,
    pub role: Role,
}

/// An invitation, as its project's owner and its invitee see it: who invited whom to what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub project_id: ProjectId,
    pub project_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    pub invited_by_name: Option<String>,
    pub invited_by_email: Option<String>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
}

/// A comment on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Comment {
    pub id: CommentId,
    pub task_id: TaskId,
    pub author_id: UserId,
    pub author_name: Option<String>,
    pub body: String,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /tasks/{id}/comments` and `PATCH /comments/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// 1–10 000 characters after trimming.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub body: String,
}

/// One entry of a project's activity: who did what to which task, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct ActivityEntry {
    pub id: EventId,
    pub action: Activity,
    pub task_id: TaskId,
    /// The task's title at the time.
    pub task_title: String,
    pub user_id: UserId,
    pub user_name: Option<String>,
    #[serde(serialize_with = "crate::time::serialize_json")]
    pub timestamp: DateTime<Utc>,
}

/// What a role change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// The member gets this role (editor or viewer).
    Set(Role),
    /// The member becomes the owner; the owner becomes an editor.
    Transfer,
}

/// What removing a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// A member removes themselves.
    Leave,
    /// The owner removes someone else.
    Remove,
}

impl InvitationInput {
    /// The invitation `project`'s member may send: only the owner invites, never to the Inbox,
    /// never as owner (ownership is handed to a member instead).
    pub fn validate(&self, project: &Project) -> Result<NewInvitation> {
        project.role.require(Action::Manage)?;
        check_shareable(project)?;
        let email = Email::parse(&self.email).map_err(|e| Error::invalid("email", e))?;
        if self.role == Role::Owner {
            return Err(Error::invalid(
                "role",
                "invite as editor or viewer; make a member owner with PATCH …/members/{user_id}",
            ));
        }
        Ok(NewInvitation {
            email,
            role: self.role,
        })
    }
}

/// The Inbox is personal: it is never shared.
pub fn check_shareable(project: &Project) -> Result<()> {
    if project.inbox {
        return Err(Error::invalid("project", "the Inbox cannot be shared"));
    }
    Ok(())
}

/// Whether a project with `members` members and `pending` invitations may invite again.
pub fn check_invitation_room(members: u64, pending: u64) -> Result<()> {
    if members + pending >= MAX_MEMBERS_PER_PROJECT || pending >= MAX_PENDING_INVITATIONS {
        return Err(Error::invalid(
            "email",
            format!("a project has at most {MAX_MEMBERS_PER_PROJECT} members and invitations"),
        ));
    }
    Ok(())
}

/// Whether `user` may accept an invitation: while the server sends mail (`sends_mail`), only
/// with a confirmed address, since anyone can sign up with any address. Declining needs
/// nothing. Without mail no address can be confirmed, and the address alone is the proof.
pub fn check_may_accept(sends_mail: bool, user: &User) -> Result<()> {
    if !sends_mail || user.email_verified {
        return Ok(());
    }
    Err(Error::EmailUnverified(match &user.email {
        Some(email) => format!("Confirm your email address first: we sent a link to {email}"),
        None => "Confirm your email address first: your account has no address".into(),
    }))
}

/// What the caller (`actor`, whose role is `actor_role`) giving `target` the role `to` does.
pub fn role_change(
    actor: &UserId,
    actor_role: Role,
    target: &Member,
    to: Role,
) -> Result<RoleChange> {
    actor_role.require(Action::Manage)?;
    if &target.user_id == actor {
        return Err(Error::invalid(
            "role",
            "the owner keeps their role: make another member owner to hand the project over",
        ));
    }
    Ok(match to {
        Role::Owner => RoleChange::Transfer,
        role => RoleChange::Set(role),
    })
}

/// What the caller (`actor`, whose role is `actor_role`) removing `target` is: leaving when
/// it is themselves (never the owner), else removing someone, which only the owner does.
pub fn removal(actor: &UserId, actor_role: Role, target: &Member) -> Result<Removal> {
    if &target.user_id == actor {
        if target.role == Role::Owner {
            return Err(Error::Conflict(
                "the owner cannot leave: make another member owner first, or delete the project"
                    .into(),
            ));
        }
        return Ok(Removal::Leave);
    }
    actor_role.require(Action::Manage)?;
    Ok(Removal::Remove)
}

/// Who takes over a project whose owner `leaving` deletes their account: the member who has
/// been an editor longest; `None` (the project goes with the account) when there is none.
pub fn successor<'a>(members: &'a [Member], leaving: &UserId) -> Option<&'a UserId> {
    members
        .iter()
        .filter(|m| m.role == Role::Editor && &m.user_id != leaving)
        .min_by(|a, b| (a.joined_at, &a.user_id).cmp(&(b.joined_at, &b.user_id)))
        .map(|m| &m.user_id)
}

impl CommentInput {
    /// The body, trimmed: 1–10 000 characters.
    pub fn validate(&self) -> Result<String> {
        parse_comment(&self.body).map_err(|e| Error::invalid("body", e))
    }
}

fn parse_comment(raw: &str) -> Result<String, String> {
    storable_text(raw)?;
    let body = raw.trim();
    let chars = body.chars().count();
    if chars == 0 {
        return Err("must not be empty".into());
    }
    if chars > COMMENT_MAX_CHARS {
        return Err(format!("must be at most {COMMENT_MAX_CHARS} characters"));
    }
    Ok(body.to_owned())
}

/// A task's assignee is a member of its project.
pub fn check_assignee(is_member: bool) -> Result<()> {
    if !is_member {
        return Err(Error::invalid(
            "assignee_id",
            "must be a member of the task's project",
        ));
    }
    Ok(())
}

/// Whether a task with `comments` comments may have another.
pub fn check_comment_room(comments: u64) -> Result<()> {
    if comments >= MAX_COMMENTS_PER_TASK {
        return Err(Error::invalid(
            "body",
            format!("a task has at most {MAX_COMMENTS_PER_TASK} comments"),
        ));
    }
    Ok(())
}

/// Only its author edits a comment.
pub fn check_comment_edit(comment: &Comment, actor: &UserId) -> Result<()> {
    if &comment.author_id != actor {
        return Err(Error::InsufficientRole(
            "only its author edits a comment".into(),
        ));
    }
    Ok(())
}

/// Its author deletes a comment, and so may the project's owner.
pub fn check_comment_delete(comment: &Comment, actor: &UserId, actor_role: Role) -> Result<()> {
    if &comment.author_id != actor && actor_role != Role::Owner {
        return Err(Error::InsufficientRole(
            "only its author or the project's owner deletes a comment".into(),
        ));
    }
    Ok(())
}

/// The 404 for a member (or invitation, comment) the caller cannot see.
pub const MEMBER_NOT_FOUND: Error = Error::NotFound("member");
pub const INVITATION_NOT_FOUND: Error = Error::NotFound("invitation");
pub const COMMENT_NOT_FOUND: Error = Error::NotFound("comment");

impl Todo {
    /// The project's members, the owner first; 404 for a non-member.
    pub async fn members(&self, user_id: &UserId, project: ProjectId) -> Result<Vec<Member>> {
        self.store
            .members(user_id, project)
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    /// Changes a member's role, or hands the project to them (`owner`).
    pub async fn change_member_role(
        &self,
        user_id: &UserId,
        project: ProjectId,
        target: &UserId,
        input: MemberPatchInput,
    ) -> Result<Vec<Member>> {
        self.store
            .change_role(user_id, project, target, input.role, now())
            .await?
            .ok_or(MEMBER_NOT_FOUND)
    }

    /// Removes a member, or (the caller themselves) leaves the project.
    pub async fn remove_member(
        &self,
        user_id: &UserId,
        project: ProjectId,
        target: &UserId,
    ) -> Result<()> {
        if self.store.remove_member(user_id, project, target).await? {
            Ok(())
        } else {
            Err(MEMBER_NOT_FOUND)
        }
    }

    pub async fn invite(
        &self,
        user_id: &UserId,
        project: ProjectId,
        input: InvitationInput,
    ) -> Result<Invitation> {
        let invitation = self
            .store
            .invite(user_id, project, &input, now())
            .await?
            .ok_or(PROJECT_NOT_FOUND)?;
        // The invitation stands without its email (the invitee also finds it on signing in).
        if let Err(e) = self.mail_invitation(&invitation).await {
            tracing::warn!(error = %e, "queueing an invitation email failed");
        }
        Ok(invitation)
    }

    /// The project's pending invitations (its owner's to see).
    pub async fn project_invitations(
        &self,
        user_id: &UserId,
        project: ProjectId,
    ) -> Result<Vec<Invitation>> {
        self.store
            .project_invitations(user_id, project)
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    pub async fn cancel_invitation(
        &self,
        user_id: &UserId,
        project: ProjectId,
        id: InvitationId,
    ) -> Result<()> {
        if self.store.cancel_invitation(user_id, project, id).await? {
            Ok(())
        } else {
            Err(INVITATION_NOT_FOUND)
        }
    }

    /// The invitations waiting for the user's email.
    pub async fn my_invitations(&self, user_id: &UserId) -> Result<Vec<Invitation>> {
        self.store.invitations_for(user_id).await
    }

    /// Joins the project the invitation is for; the project as the new member sees it.
    pub async fn accept_invitation(&self, user_id: &UserId, id: InvitationId) -> Result<Project> {
        if self.sends_mail() {
            check_may_accept(true, &self.me(user_id).await?)?;
        }
        self.store
            .accept_invitation(user_id, id, now())
            .await?
            .ok_or(INVITATION_NOT_FOUND)
    }

    pub async fn decline_invitation(&self, user_id: &UserId, id: InvitationId) -> Result<()> {
        if self.store.decline_invitation(user_id, id, now()).await? {
            Ok(())
        } else {
            Err(INVITATION_NOT_FOUND)
        }
    }

    pub async fn comments(&self, user_id: &UserId, task: TaskId) -> Result<Vec<Comment>> {
        self.store
            .comments(user_id, task)
            .await?
            .ok_or(Error::NotFound("task"))
    }

    pub async fn add_comment(
        &self,
        user_id: &UserId,
        task: TaskId,
        input: CommentInput,
    ) -> Result<Comment> {
        // Someone else's task is a 404 whatever the body says.
        let body = match input.validate() {
            Ok(body) => body,
            Err(err) => {
                self.comments(user_id, task).await?;
                return Err(err);
            }
        };
        self.store
            .add_comment(user_id, task, &body, now())
            .await?
            .ok_or(Error::NotFound("task"))
    }

    pub async fn edit_comment(
        &self,
        user_id: &UserId,
        id: CommentId,
        input: CommentInput,
    ) -> Result<Comment> {
        let body = match input.validate() {
            Ok(body) => body,
            Err(err) => {
                self.store
                    .comment(user_id, id)
                    .await?
                    .ok_or(COMMENT_NOT_FOUND)?;
                return Err(err);
            }
        };
        self.store
            .edit_comment(user_id, id, &body, now())
            .await?
            .ok_or(COMMENT_NOT_FOUND)
    }

    pub async fn delete_comment(&self, user_id: &UserId, id: CommentId) -> Result<()> {
        if self.store.delete_comment(user_id, id).await? {
            Ok(())
        } else {
            Err(COMMENT_NOT_FOUND)
        }
    }

    /// The project's activity, newest first, before the entry `before` when given.
    pub async fn activity(
        &self,
        user_id: &UserId,
        project: ProjectId,
        before: Option<EventId>,
        limit: Option<u32>,
    ) -> Result<Vec<ActivityEntry>> {
        let limit = limit.unwrap_or(50);
        if limit == 0 || limit > ACTIVITY_PAGE_MAX {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {ACTIVITY_PAGE_MAX}"),
            ));
        }
        self.store
            .activity(user_id, project, before, limit)
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn member(id: &str, role: Role, joined_day: u32) -> Member {
        Member {
            user_id: UserId::new(id),
            name: None,
            email: None,
            role,
            joined_at: Utc
                .with_ymd_and_hms(2026, 1, joined_day, 0, 0, 0)
                .single()
                .expect("a date"),
        }
    }

    fn project(role: Role, inbox: bool) -> Project {
        Project {
            id: ProjectId::new(7),
            name: "Home".into(),
            color: None,
            archived: false,
            position: 1,
            inbox,
            role,
            members: 1,
            open_tasks: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn user(email: Option<&str>, email_verified: bool) -> User {
        User {
            id: UserId::new("u1"),
            email: email.map(str::to_owned),
            email_verified,
            name: None,
            timezone: "UTC".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn while_mail_is_sent_only_a_confirmed_address_accepts() {
        let unconfirmed = user(Some("ada@example.com"), false);
        let err = check_may_accept(true, &unconfirmed).expect_err("unconfirmed");
        match err {
            Error::EmailUnverified(detail) => {
                assert!(
                    detail.starts_with(
                        "Confirm your email address first: we sent a link to ada@example.com"
                    ),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(check_may_accept(true, &user(Some("ada@example.com"), true)).is_ok());
        assert!(matches!(
            check_may_accept(true, &user(None, false)),
            Err(Error::EmailUnverified(_))
        ));
    }

    #[test]
    fn without_mail_nothing_can_be_confirmed_and_the_address_is_enough() {
        assert!(check_may_accept(false, &user(Some("ada@example.com"), false)).is_ok());
    }

    fn invite(email: &str, role: Role) -> InvitationInput {
        InvitationInput {
            email: email.into(),
            role,
        }
    }

    #[test]
    fn only_the_owner_invites_and_never_to_the_inbox_or_as_owner() {
        let owner = project(Role::Owner, false);
        let made = invite(" Bob@Example.com ", Role::Viewer)
            .validate(&owner)
            .expect("the owner invites");
        assert_eq!(made.email.as_str(), "bob@example.com");
        assert_eq!(made.role, Role::Viewer);
        assert!(matches!(
            invite("bob@example.com", Role::Editor).validate(&project(Role::Editor, false)),
            Err(Error::InsufficientRole(_))
        ));
        assert!(matches!(
            invite("bob@example.com", Role::Editor).validate(&project(Role::Owner, true)),
            Err(Error::Validation(_))
        ));
        assert!(
            invite("bob@example.com", Role::Owner)
                .validate(&owner)
                .is_err()
        );
        assert!(
            invite("not an address", Role::Editor)
                .validate(&owner)
                .is_err()
        );
        let default: InvitationInput = serde_json::from_str(r#"{"email":"a@b.co"}"#).expect("json");
        assert_eq!(default.role, Role::Editor);
    }

    #[test]
    fn invitations_and_members_are_bounded() {
        assert!(check_invitation_room(1, 0).is_ok());
        assert!(check_invitation_room(MAX_MEMBERS_PER_PROJECT - 1, 1).is_err());
        assert!(check_invitation_room(1, MAX_PENDING_INVITATIONS).is_err());
    }

    #[test]
    fn the_owner_changes_roles_and_hands_over_but_not_their_own() {
        let (alice, bob) = (UserId::new("alice"), member("bob", Role::Editor, 2));
        assert_eq!(
            role_change(&alice, Role::Owner, &bob, Role::Viewer).expect("allowed"),
            RoleChange::Set(Role::Viewer)
        );
        assert_eq!(
            role_change(&alice, Role::Owner, &bob, Role::Owner).expect("allowed"),
            RoleChange::Transfer
        );
        assert!(matches!(
            role_change(&UserId::new("carol"), Role::Editor, &bob, Role::Viewer),
            Err(Error::InsufficientRole(_))
        ));
        let owner = member("alice", Role::Owner, 1);
        assert!(matches!(
            role_change(&alice, Role::Owner, &owner, Role::Editor),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn members_leave_the_owner_removes_and_the_owner_cannot_leave() {
        let bob = member("bob", Role::Viewer, 2);
        assert_eq!(
            removal(&UserId::new("bob"), Role::Viewer, &bob).expect("leave"),
            Removal::Leave
        );
        assert_eq!(
            removal(&UserId::new("alice"), Role::Owner, &bob).expect("remove"),
            Removal::Remove
        );
        assert!(matches!(
            removal(&UserId::new("carol"), Role::Editor, &bob),
            Err(Error::InsufficientRole(_))
        ));
        let alice = member("alice", Role::Owner, 1);
        assert!(matches!(
            removal(&UserId::new("alice"), Role::Owner, &alice),
            Err(Error::Conflict(_))
        ));
    }

    #[test]
    fn a_deleted_owner_s_project_goes_to_the_longest_standing_editor() {
        let members = [
            member("alice", Role::Owner, 1),
            member("viewer", Role::Viewer, 2),
            member("late", Role::Editor, 9),
            member("early", Role::Editor, 3),
        ];
        let alice = UserId::new("alice");
        assert_eq!(
            successor(&members, &alice).map(UserId::as_str),
            Some("early")
        );
        let only_viewers = [
            member("alice", Role::Owner, 1),
            member("viewer", Role::Viewer, 2),
        ];
        assert_eq!(successor(&only_viewers, &alice), None);
    }

    #[test]
    fn comments_are_trimmed_bounded_and_edited_by_their_author() {
        assert_eq!(
            CommentInput {
                body: "  Bought milk \n".into()
            }
            .validate()
            .expect("valid"),
            "Bought milk"
        );
        assert!(CommentInput { body: " ".into() }.validate().is_err());
        let long = "x".repeat(COMMENT_MAX_CHARS + 1);
        assert!(CommentInput { body: long }.validate().is_err());
        let comment = Comment {
            id: CommentId::new(1),
            task_id: TaskId::new(1),
            author_id: UserId::new("bob"),
            author_name: None,
            body: "hi".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let (bob, alice) = (UserId::new("bob"), UserId::new("alice"));
        assert!(check_comment_edit(&comment, &bob).is_ok());
        assert!(check_comment_edit(&comment, &alice).is_err());
        assert!(check_comment_delete(&comment, &alice, Role::Owner).is_ok());
        assert!(check_comment_delete(&comment, &alice, Role::Editor).is_err());
        assert!(check_comment_delete(&comment, &bob, Role::Viewer).is_ok());
        assert!(check_comment_room(MAX_COMMENTS_PER_TASK).is_err());
    }
}
