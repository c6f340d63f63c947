//! The authorization matrix's role dimension, read from the OpenAPI document like the rest of
//! it (isolation.rs): every operation on a shared project's objects (the project, its
//! sections, tasks, comments, members, invitations and activity) is called by each member of
//! a project shared owner → editor → viewer, and by someone who is not a member, in both route
//! shapes.
//!
//! What each caller gets comes from the document: a read is every member's, a write is an
//! editor's; an operation whose text says it is the owner's ("owner only", "only the owner")
//! is the owner's alone; a refused role is 403 `insufficient-role`, a non-member learns
//! nothing (404), and both are documented responses of the operation. A refused call changes
//! nothing the owner can see. What the document cannot say is in [`EXCEPTIONS`] and
//! [`BODIES`], each with its reason. MCP tools are the last tests.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, TestUser};
use crate::isolation::{
    Operation, app_without_rate_limits, invite_and_accept, openapi, protected_operations, serial,
};

/// Collections whose objects belong to a project, and so to all of its members.
const SHARED: &[&str] = &[
    "/api/v1/projects",
    "/api/v1/sections",
    "/api/v1/tasks",
    "/api/v1/comments",
];

/// Collections with `{id}` routes whose objects are one user's, whatever they share: the
/// isolation matrix covers them (another user's object → 404); roles do not apply. A new
/// collection fails the matrix until it is named here or in [`SHARED`].
const PERSONAL: &[(&str, &str)] = &[
    ("/api/v1/api-keys", "a user's own credential"),
    ("/api/v1/sessions", "a user's own logins"),
    (
        "/api/v1/tags",
        "labels are personal, on a shared task too (docs/sharing.md)",
    ),
    ("/api/v1/webhooks", "a user's own hooks"),
    ("/api/v1/push/subscriptions", "a user's own browsers"),
    ("/api/v1/conversations", "a user's own chat"),
    ("/api/v1/connected-apps", "a user's own OAuth grants"),
    (
        "/api/v1/invitations",
        "answered by the invitee its email names, who is not a member yet; the project's \
         side of an invitation is /projects/{id}/invitations",
    ),
];

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Owner,
    Editor,
    Viewer,
    /// Signed in, but not a member of the project.
    Outsider,
}

/// What the caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A 2xx answer.
    Allowed,
    /// 403 `urn:todo:problem:insufficient-role`.
    Role,
    /// 404: nothing there for this caller.
    Hidden,
    /// 409.
    Conflict,
    /// 200, each id of the body answered `not_found` (bulk actions answer per id).
    EachNotFound,
    /// What the same call answers for a project that does not exist: a project named in a
    /// body or a query is a field (422 `no such project`, or an empty list), not the URI's
    /// resource, and one the caller is not a member of is no different from none.
    AsIfAbsent,
}

use Expect::{Allowed, Conflict, Role};

/// Which of the project's objects of its kind the call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Someone else's: a comment written by another member, another member (not the owner).
    Others,
    /// The caller's own: their comment, themselves as a member.
    Own,
}

/// What the document cannot say: (operation, target, what the owner, an editor and a viewer
/// get, why). An operation listed with [`Target::Own`] is also called on the caller's own
/// object; every operation is called on others' objects.
const EXCEPTIONS: &[(&str, Target, [Expect; 3], &str)] = &[
    (
        "POST /api/v1/tasks/{id}/comments",
        Target::Others,
        [Allowed, Allowed, Allowed],
        "viewers comment: commenting is reading out loud, not changing the project",
    ),
    (
        "PATCH /api/v1/comments/{id}",
        Target::Others,
        [Role, Role, Role],
        "only its author edits a comment, not even the owner",
    ),
    (
        "PATCH /api/v1/comments/{id}",
        Target::Own,
        [Allowed, Allowed, Allowed],
        "every member, a viewer too, edits their own comment",
    ),
    (
        "DELETE /api/v1/comments/{id}",
        Target::Others,
        [Allowed, Role, Role],
        "the owner deletes anyone's comment; everyone else only their own",
    ),
    (
        "DELETE /api/v1/comments/{id}",
        Target::Own,
        [Allowed, Allowed, Allowed],
        "every member, a viewer too, deletes their own comment",
    ),
    (
        "POST /api/v1/tasks/parse",
        Target::Others,
        [Allowed, Allowed, Allowed],
        "a preview of what a line would make stores nothing: whoever reads the project may",
    ),
    (
        "DELETE /api/v1/projects/{id}/members/{member_id}",
        Target::Own,
        [Conflict, Allowed, Allowed],
        "any member leaves, a viewer too; the owner cannot leave (409) but hands over first",
    ),
];

/// Bodies the required-fields example cannot stand for: (operation, why). The body is
/// [`Household::body`]'s.
const BODIES: &[(&str, &str)] = &[
    (
        "PATCH /api/v1/projects/{id}",
        "the example `{}` changes nothing (422); renaming is what only the owner does",
    ),
    (
        "PATCH /api/v1/sections/{id}",
        "the example `{}` changes nothing (422)",
    ),
    (
        "PATCH /api/v1/tasks/{id}",
        "the example `{}` changes nothing (422)",
    ),
    (
        "POST /api/v1/tasks/bulk",
        "its body names tasks, not a project: the shared task",
    ),
    (
        "POST /api/v1/projects/{id}/invitations",
        "the example address is not one; each call invites a new one",
    ),
    (
        "POST /api/v1/webhooks",
        "the example URL's host does not resolve here (no DNS): a loopback URL, private \
         networks allowed (run_matrix's app; nothing is delivered, no job worker runs)",
    ),
];

/// Operations that look as if they reached a project but do not, and why.
const UNREACHING: &[(&str, &str)] = &[(
    "POST /api/v1/import",
    "its `project` query parameter is a name: a CSV goes into the caller's own project of \
     that name, made when they own none (never a shared project they are a member of; see \
     a_viewer_s_import_named_after_a_shared_project_makes_a_project_of_their_own)",
)];

/// How an operation reaches the shared project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Through its path: `/projects/{id}/…`, `/tasks/{id}`, …
    Path,
    /// Through the `project_id` of its body.
    BodyProject,
    /// Through its `project` query parameter.
    QueryProject,
    /// Through the task ids of its body ([`BODIES`]).
    BodyTasks,
}

/// How `operation` reaches a shared project's objects, if it does.
fn reach(operation: &Operation, doc: &Value) -> Option<Reach> {
    if UNREACHING
        .iter()
        .any(|(listed, _)| *listed == operation.name())
    {
        return None;
    }
    if let Some(collection) = operation.item_of() {
        if SHARED.contains(&collection) {
            return Some(Reach::Path);
        }
        assert!(
            PERSONAL.iter().any(|(personal, _)| *personal == collection),
            "{}: is a {collection} a shared project's object? Name it in SHARED or PERSONAL",
            operation.name()
        );
        return None;
    }
    // Its `project_id` is where a move goes; the tasks it names are what it reaches.
    if operation.name() == "POST /api/v1/tasks/bulk" {
        return Some(Reach::BodyTasks);
    }
    let schema = operation
        .doc
        .pointer("/requestBody/content/application~1json/schema")
        .map(|schema| resolve(schema, doc));
    if schema.is_some_and(|schema| schema["properties"].get("project_id").is_some()) {
        return Some(Reach::BodyProject);
    }
    let parameters = operation.doc["parameters"].as_array();
    if parameters.is_some_and(|parameters| {
        parameters
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "project")
    }) {
        return Some(Reach::QueryProject);
    }
    None
}

fn resolve<'a>(schema: &'a Value, doc: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .expect("a $ref that resolves"),
        None => schema,
    }
}

/// Whether the operation's text in the document gives it to the owner alone.
fn owner_only(operation: &Operation) -> bool {
    let doc = &operation.doc;
    let text = [
        &doc["summary"],
        &doc["description"],
        &doc["responses"]["403"]["description"],
    ]
    .iter()
    .filter_map(|text| text.as_str())
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase();
    text.contains("owner only") || text.contains("only the owner")
}

/// What `caller` gets from `operation` on the `target` object.
fn expected(operation: &Operation, reach: Reach, target: Target, caller: Caller) -> Expect {
    let name = operation.name();
    let index = match caller {
        Caller::Outsider if reach == Reach::BodyTasks => return Expect::EachNotFound,
        Caller::Outsider if matches!(reach, Reach::BodyProject | Reach::QueryProject) => {
            return Expect::AsIfAbsent;
        }
        Caller::Outsider => return Expect::Hidden,
        Caller::Owner => 0,
        Caller::Editor => 1,
        Caller::Viewer => 2,
    };
    if let Some((_, _, expect, _)) = EXCEPTIONS
        .iter()
        .find(|(listed, t, _, _)| *listed == name && *t == target)
    {
        return expect[index];
    }
    assert_eq!(target, Target::Others, "{name}: own objects are exceptions");
    if owner_only(operation) {
        return if caller == Caller::Owner {
            Allowed
        } else {
            Role
        };
    }
    if operation.is_write() && caller == Caller::Viewer {
        Role
    } else {
        Allowed
    }
}

/// A project id no one has.
const ABSENT: i64 = 999_999_999;

struct People {
    owner: TestUser,
    editor: TestUser,
    viewer: TestUser,
    outsider: TestUser,
}

impl People {
    async fn sign_up(app: &TestApp) -> Self {
        Self {
            owner: app.signup("owner@example.com").await,
            editor: app.signup("editor@example.com").await,
            viewer: app.signup("viewer@example.com").await,
            outsider: app.signup("outsider@example.com").await,
        }
    }

    fn of(&self, caller: Caller) -> &TestUser {
        match caller {
            Caller::Owner => &self.owner,
            Caller::Editor => &self.editor,
            Caller::Viewer => &self.viewer,
            Caller::Outsider => &self.outsider,
        }
    }
}

/// A project the owner shares with the editor and the viewer, with a section, a task, a
/// comment by each member on it, and an invitation waiting.
struct Household {
    project: i64,
    section: i64,
    task: i64,
    /// The owner's, the editor's and the viewer's comment.
    comments: [i64; 3],
    invitation: i64,
}

fn id_of(response: &TestResponse) -> i64 {
    assert!(response.status.is_success(), "{}", response.body);
    response.body["id"].as_i64().expect("id")
}

impl Household {
    async fn new(app: &TestApp, people: &People) -> Self {
        let owner = &people.owner.token;
        let project = id_of(
            &app.post("/api/v1/projects", owner, json!({"name": "Home"}))
                .await,
        );
        let uri = format!("/api/v1/projects/{project}");
        invite_and_accept(app, &people.owner, &uri, &people.editor, "editor").await;
        invite_and_accept(app, &people.owner, &uri, &people.viewer, "viewer").await;
        let section = id_of(
            &app.post(&format!("{uri}/sections"), owner, json!({"name": "Aisle"}))
                .await,
        );
        let task = id_of(
            &app.post(
                "/api/v1/tasks",
                owner,
                json!({"title": "Milk", "project_id": project}),
            )
            .await,
        );
        let mut comments = [0; 3];
        for (comment, who) in
            comments
                .iter_mut()
                .zip([&people.owner, &people.editor, &people.viewer])
        {
            *comment = id_of(
                &app.post(
                    &format!("/api/v1/tasks/{task}/comments"),
                    &who.token,
                    json!({"body": "said"}),
                )
                .await,
            );
        }
        let invitation = id_of(
            &app.post(
                &format!("{uri}/invitations"),
                owner,
                json!({"email": format!("pending-{}@example.com", serial())}),
            )
            .await,
        );
        Self {
            project,
            section,
            task,
            comments,
            invitation,
        }
    }

    /// The call's URI in the `/api/v1` shape.
    fn uri(
        &self,
        operation: &Operation,
        reach: Reach,
        people: &People,
        caller: Caller,
        target: Target,
    ) -> String {
        let uri = operation.uri_with(|collection| match collection {
            "/api/v1/projects" => self.project.to_string(),
            "/api/v1/sections" => self.section.to_string(),
            "/api/v1/tasks" => self.task.to_string(),
            "/api/v1/comments" => match (target, caller) {
                (Target::Own, Caller::Editor) => self.comments[1],
                (Target::Own, Caller::Viewer) | (Target::Others, Caller::Owner) => self.comments[2],
                _ => self.comments[0],
            }
            .to_string(),
            "/api/v1/projects/{id}/members" => match (target, caller) {
                (Target::Own, caller) => people.of(caller).id.clone(),
                (Target::Others, Caller::Viewer) => people.editor.id.clone(),
                (Target::Others, _) => people.viewer.id.clone(),
            },
            "/api/v1/projects/{id}/invitations" => self.invitation.to_string(),
            other => panic!("{}: no {other} in the household", operation.name()),
        });
        match reach {
            Reach::QueryProject => format!("{uri}?project={}", self.project),
            _ => uri,
        }
    }

    fn body(&self, operation: &Operation, reach: Reach) -> Option<Value> {
        let name = operation.name();
        if BODIES.iter().any(|(listed, _)| *listed == name) {
            return Some(match name.as_str() {
                "PATCH /api/v1/projects/{id}" | "PATCH /api/v1/sections/{id}" => {
                    json!({"name": "Renamed"})
                }
                "PATCH /api/v1/tasks/{id}" => json!({"title": "Renamed"}),
                "POST /api/v1/tasks/bulk" => json!({"action": "complete", "ids": [self.task]}),
                "POST /api/v1/projects/{id}/invitations" => {
                    json!({"email": format!("invited-{}@example.com", serial())})
                }
                "POST /api/v1/webhooks" => {
                    json!({"url": "http://127.0.0.1:9/matrix", "project_id": self.project})
                }
                other => panic!("BODIES names {other}, Household::body has no body for it"),
            });
        }
        let mut body = operation.body.clone();
        if reach == Reach::BodyProject
            && let Some(Value::Object(fields)) = &mut body
        {
            fields.insert("project_id".into(), json!(self.project));
        }
        body
    }

    /// Everything of the household the owner sees, to compare before and after a refusal.
    async fn seen_by_owner(&self, app: &TestApp, people: &People) -> Value {
        let mut seen = Vec::new();
        for uri in [
            format!("/api/v1/projects/{}", self.project),
            format!("/api/v1/projects/{}/sections", self.project),
            format!("/api/v1/tasks?project={}", self.project),
            format!("/api/v1/tasks/{}/comments", self.task),
            format!("/api/v1/projects/{}/members", self.project),
            format!("/api/v1/projects/{}/invitations", self.project),
        ] {
            let response = app.get(&uri, &people.owner.token).await;
            assert_eq!(response.status, StatusCode::OK, "{uri}: {}", response.body);
            seen.push(response.body);
        }
        Value::Array(seen)
    }
}

/// Runs every shared-project operation as `caller`, in both shapes, each call on a household
/// of its own; the number of calls.
/// The matrix's app: no rate limits, webhooks to loopback allowed (see [`BODIES`]).
async fn matrix_app() -> TestApp {
    let app = app_without_rate_limits().await;
    let todo = app.todo.clone().with_private_webhooks(true);
    let mut settings = todo_server::Settings::new(crate::helpers::auth_settings());
    settings.rate_limit.enabled = false;
    let state = todo_server::AppState::new(todo.clone(), &settings).expect("settings");
    TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: app.db.clone(),
    }
}

async fn run_matrix(caller: Caller) -> usize {
    let app = matrix_app().await;
    let doc = openapi();
    let people = People::sign_up(&app).await;
    let who = people.of(caller);
    let mut failures = Vec::new();
    let mut calls = 0;
    let operations: Vec<_> = protected_operations(&doc)
        .into_iter()
        .filter_map(|operation| reach(&operation, &doc).map(|reach| (operation, reach)))
        .collect();
    assert!(
        operations.len() >= 25,
        "expected every operation on a shared project's objects: {:?}",
        operations.iter().map(|(o, _)| o.name()).collect::<Vec<_>>()
    );
    for (operation, reach) in &operations {
        let name = operation.name();
        let mut targets = vec![Target::Others];
        if EXCEPTIONS
            .iter()
            .any(|(listed, t, _, _)| *listed == name && *t == Target::Own)
        {
            targets.push(Target::Own);
        }
        for target in targets {
            let expect = expected(operation, *reach, target, caller);
            let documented = match expect {
                Expect::Role => Some(("403", "insufficient-role")),
                Expect::Hidden => Some(("404", "")),
                Expect::Conflict => Some(("409", "")),
                Expect::Allowed | Expect::EachNotFound | Expect::AsIfAbsent => None,
            };
            if let Some((status, says)) = documented {
                let description = operation.doc["responses"][status]["description"]
                    .as_str()
                    .unwrap_or_default();
                if operation.doc["responses"].get(status).is_none() || !description.contains(says) {
                    failures.push(format!(
                        "{name}: the document does not say it answers {status} {says} \
                         ({expect:?} for the {caller:?}; it says {description:?})"
                    ));
                }
            }
            // Each call on a household of its own: an allowed one may change it.
            for shape in 0..2 {
                let household = Household::new(&app, &people).await;
                let uri = household.uri(operation, *reach, &people, caller, target);
                let Some(uri) = Operation::shapes_of(&uri, &who.id).into_iter().nth(shape) else {
                    continue;
                };
                let before = household.seen_by_owner(&app, &people).await;
                let body = household.body(operation, *reach);
                let response = app
                    .send(operation.method.clone(), &uri, Some(&who.token), body)
                    .await;
                calls += 1;
                let call = format!(
                    "{} {uri} as the {caller:?} ({target:?}): expected {expect:?}, got {} {}",
                    operation.method, response.status, response.body
                );
                let problem_type = response.body["type"].as_str().unwrap_or_default();
                let fine = match expect {
                    Expect::Allowed => response.status.is_success(),
                    Expect::Role => {
                        response.status == StatusCode::FORBIDDEN
                            && problem_type == "urn:todo:problem:insufficient-role"
                    }
                    Expect::Hidden => response.status == StatusCode::NOT_FOUND,
                    Expect::Conflict => response.status == StatusCode::CONFLICT,
                    Expect::AsIfAbsent => {
                        let absent = uri.replace(
                            &format!("project={}", household.project),
                            &format!("project={ABSENT}"),
                        );
                        let body = household.body(operation, *reach).map(|mut body| {
                            body["project_id"] = json!(ABSENT);
                            body
                        });
                        let none = app
                            .send(operation.method.clone(), &absent, Some(&who.token), body)
                            .await;
                        (response.status, &response.body) == (none.status, &none.body)
                    }
                    Expect::EachNotFound => {
                        response.status == StatusCode::OK
                            && response.body
                                == json!([{"id": household.task, "status": "not_found"}])
                    }
                };
                if !fine {
                    failures.push(call);
                    continue;
                }
                if expect != Allowed {
                    let after = household.seen_by_owner(&app, &people).await;
                    if before != after {
                        failures.push(format!("{call}: and it changed {before} into {after}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls as the {caller:?} went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    calls
}

#[tokio::test]
async fn a_viewer_reads_and_comments_but_every_other_write_is_refused_for_its_role() {
    let calls = run_matrix(Caller::Viewer).await;
    assert!(calls >= 50, "{calls}");
}

#[tokio::test]
async fn an_editor_changes_tasks_and_sections_but_not_what_is_the_owner_s() {
    let calls = run_matrix(Caller::Editor).await;
    assert!(calls >= 50, "{calls}");
}

#[tokio::test]
async fn the_owner_does_everything_but_edit_others_comments_and_leave() {
    let calls = run_matrix(Caller::Owner).await;
    assert!(calls >= 50, "{calls}");
}

#[tokio::test]
async fn a_non_member_finds_nothing_of_a_shared_project() {
    let calls = run_matrix(Caller::Outsider).await;
    assert!(calls >= 50, "{calls}");
}

#[tokio::test]
async fn a_viewer_s_import_named_after_a_shared_project_makes_a_project_of_their_own() {
    let app = TestApp::spawn().await;
    let people = People::sign_up(&app).await;
    let household = Household::new(&app, &people).await;
    let before = household.seen_by_owner(&app, &people).await;
    let csv = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n\
               task,Buy bread,,4,1,Viewer (1),,,en,UTC\n";
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/import?project=Home")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", people.viewer.token),
        )
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .expect("request");
    let imported = app.raw(request).await;
    assert_eq!(imported.body, json!({"created": 1, "skipped": 0}));

    assert_eq!(household.seen_by_owner(&app, &people).await, before);
    let homes: Vec<_> = app
        .get("/api/v1/projects", &people.viewer.token)
        .await
        .body
        .as_array()
        .expect("projects")
        .iter()
        .filter(|p| p["name"] == "Home")
        .map(|p| (p["id"].as_i64().expect("id"), p["role"].clone()))
        .collect();
    assert_eq!(homes.len(), 2, "{homes:?}");
    let (own, _) = homes
        .iter()
        .find(|(_, role)| *role == "owner")
        .expect("a Home of the viewer's own");
    let bread = app
        .get(
            &format!("/api/v1/tasks?project={own}"),
            &people.viewer.token,
        )
        .await;
    assert_eq!(bread.body[0]["title"], "Buy bread", "{}", bread.body);
}

/// Sends one JSON-RPC `tools/call` to `/mcp` (as mcp.rs does) and returns its `result`.
async fn call_tool(app: &TestApp, key: &str, name: &str, arguments: Value) -> Value {
    let body = json!({
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    });
    let request = Request::post("/mcp")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = app.raw(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["result"].clone()
}

/// A full-scope API key of `user`'s.
async fn api_key(app: &TestApp, user: &TestUser) -> String {
    let created = app
        .post("/api/v1/api-keys", &user.token, json!({"name": "mcp"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["secret"].as_str().expect("secret").to_owned()
}

fn tool_error(result: &Value) -> String {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn through_mcp_a_viewer_s_write_tool_is_refused_for_its_role_and_a_non_member_finds_nothing()
{
    let app = TestApp::spawn().await;
    let people = People::sign_up(&app).await;
    let household = Household::new(&app, &people).await;
    let task = household.task;
    let viewer = api_key(&app, &people.viewer).await;
    let outsider = api_key(&app, &people.outsider).await;
    let before = household.seen_by_owner(&app, &people).await;

    let writes = [
        ("update_task", json!({"task_id": task, "title": "Oat milk"})),
        ("complete_task", json!({"task_id": task})),
        ("delete_task", json!({"task_id": task})),
        (
            "add_task",
            json!({"title": "Bread", "project_id": household.project}),
        ),
    ];
    for (tool, arguments) in &writes {
        let refused = tool_error(&call_tool(&app, &viewer, tool, arguments.clone()).await);
        assert!(
            refused.contains("viewer may not"),
            "{tool} as the viewer: {refused}"
        );
        let hidden = tool_error(&call_tool(&app, &outsider, tool, arguments.clone()).await);
        assert!(
            hidden.contains("no task") || hidden.contains("no such project"),
            "{tool} as a non-member: {hidden}"
        );
    }
    // The batch tools refuse each item the same way, as a failed item of the batch.
    let batches = [
        (
            "update_tasks",
            json!({"tasks": [{"task_id": task, "title": "Oat milk"}]}),
        ),
        ("complete_tasks", json!({"task_ids": [task]})),
        (
            "reschedule_tasks",
            json!({"task_ids": [task], "due_date": "2027-01-04"}),
        ),
        (
            "add_tasks",
            json!({"tasks": [{"title": "Bread", "project_id": household.project}]}),
        ),
    ];
    for (tool, arguments) in &batches {
        for (who, key) in [("the viewer", &viewer), ("a non-member", &outsider)] {
            let result = call_tool(&app, key, tool, arguments.clone()).await;
            let item = &result["structuredContent"]["results"][0];
            assert_eq!(item["status"], "failed", "{tool} as {who}: {result}");
            let error = item["error"].as_str().unwrap_or_default();
            let expected = if who == "the viewer" {
                error.contains("viewer may not")
            } else {
                error.contains("no task") || error.contains("no such project")
            };
            assert!(expected, "{tool} as {who}: {error}");
        }
    }
    assert_eq!(household.seen_by_owner(&app, &people).await, before);

    // Reading is every member's, and no one else's.
    let read = call_tool(&app, &viewer, "get_task", json!({"task_id": task})).await;
    assert_eq!(read["isError"], false, "{read}");
    let hidden =
        tool_error(&call_tool(&app, &outsider, "get_task", json!({"task_id": task})).await);
    assert!(hidden.contains("no task"), "{hidden}");

    // The editor's same calls go through.
    let editor = api_key(&app, &people.editor).await;
    for (tool, arguments) in &writes {
        let done = call_tool(&app, &editor, tool, arguments.clone()).await;
        assert_eq!(done["isError"], false, "{tool} as the editor: {done}");
    }
}

/// Moving a task between projects (`POST /tasks/{id}/move` with a `project_id`, which the
/// matrix's example body does not give) needs the editor's role on both sides: where it leaves
/// and where it arrives; a project one is not a member of is no destination at all.
#[tokio::test]
async fn a_task_moves_into_or_out_of_a_shared_project_only_with_an_editor_s_role_on_both_sides() {
    let app = TestApp::spawn().await;
    let people = People::sign_up(&app).await;
    let household = Household::new(&app, &people).await;
    let shared = household.project;
    // A second project of the owner's, where the editor is only a viewer.
    let other = id_of(
        &app.post(
            "/api/v1/projects",
            &people.owner.token,
            json!({"name": "Garden"}),
        )
        .await,
    );
    let garden = format!("/api/v1/projects/{other}");
    invite_and_accept(&app, &people.owner, &garden, &people.editor, "viewer").await;
    let before = household.seen_by_owner(&app, &people).await;

    // Into the shared project: a viewer's own task may not arrive; a replace moves nothing.
    let viewer_s = app.task(&people.viewer, "mine").await;
    let into = app
        .post(
            &format!("/api/v1/tasks/{viewer_s}/move"),
            &people.viewer.token,
            json!({"project_id": shared}),
        )
        .await;
    assert_eq!(
        into.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-role"
    );
    let replaced = app
        .put(
            &format!("/api/v1/tasks/{viewer_s}"),
            &people.viewer.token,
            json!({"title": "mine", "project_id": shared}),
        )
        .await;
    assert_eq!(replaced.invalid_fields(), ["project_id"]);
    // Out of it: a viewer may not take a shared task into a project of their own.
    let own = id_of(
        &app.post(
            "/api/v1/projects",
            &people.viewer.token,
            json!({"name": "Mine"}),
        )
        .await,
    );
    let out = app
        .post(
            &format!("/api/v1/tasks/{}/move", household.task),
            &people.viewer.token,
            json!({"project_id": own}),
        )
        .await;
    assert_eq!(
        out.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-role"
    );
    // An editor may not move a shared task where they only view.
    let across = app
        .post(
            &format!("/api/v1/tasks/{}/move", household.task),
            &people.editor.token,
            json!({"project_id": other}),
        )
        .await;
    assert_eq!(
        across.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-role"
    );
    // A non-member's task finds no such project to go to, as for one that does not exist.
    let outsider_s = app.task(&people.outsider, "theirs").await;
    let mut answers = Vec::new();
    for project in [shared, ABSENT] {
        let moved = app
            .post(
                &format!("/api/v1/tasks/{outsider_s}/move"),
                &people.outsider.token,
                json!({"project_id": project}),
            )
            .await;
        assert!(moved.status.is_client_error(), "{}", moved.body);
        answers.push((moved.status, moved.body));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(household.seen_by_owner(&app, &people).await, before);
    let tasks_of_garden = app
        .get(
            &format!("/api/v1/tasks?project={other}"),
            &people.owner.token,
        )
        .await;
    assert_eq!(tasks_of_garden.body, json!([]));
}
