//! The authorization matrix, driven by the OpenAPI document so that a new route is covered the
//! day it is added: every protected route without a credential → 401; every write with a
//! read-only API key → 403; every route with an object id, given another user's object → 404;
//! someone else's path → 403. A route the matrix cannot exercise fails it. Its role dimension
//! (members of a shared project: owner, editor, viewer) is `isolation_roles.rs`.

use axum::http::{Method, StatusCode};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, TestUser, auth_settings};

/// The matrix sends more writes a minute than the default limit allows; limits are not what
/// it tests.
pub(crate) async fn app_without_rate_limits() -> TestApp {
    let mut settings = todo_server::Settings::new(auth_settings());
    settings.rate_limit.enabled = false;
    TestApp::spawn_configured(settings).await
}

/// Operations anyone may call without a credential. A new route without `security` in the
/// OpenAPI document fails the matrix until it is named here on purpose.
const PUBLIC: &[&str] = &[
    "GET /health",
    "GET /ready",
    "GET /metrics",
    "POST /api/v1/auth/signup",
    "POST /api/v1/auth/login",
    // Password reset by email (no account yet: the token in the body is the credential),
    // tested in password_reset.rs and tests/mail.
    "POST /api/v1/auth/password-reset",
    "POST /api/v1/auth/password-reset/confirm",
    "POST /api/v1/auth/verify-email",
    // OAuth 2.1 (the apps' side: metadata, authorize with its own session check, token,
    // registration, revocation), tested in oauth.rs.
    "GET /.well-known/oauth-protected-resource",
    "GET /.well-known/oauth-protected-resource/mcp",
    "GET /.well-known/oauth-authorization-server",
    "GET /oauth/authorize",
    "POST /oauth/authorize",
    "POST /oauth/token",
    "POST /oauth/register",
    "POST /oauth/revoke",
];

/// The path parameters the matrix knows how to fill: `{id}` (the object of the collection
/// before it), and the nested `{member_id}` (a member's user id) and `{invitation_id}`.
const PATH_PARAMETERS: &[&str] = &["id", "member_id", "invitation_id"];

/// One documented operation, as the matrix exercises it.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    /// The path template, e.g. `/api/v1/projects/{id}/members/{member_id}`.
    pub(crate) template: String,
    /// Each path parameter with the collection whose object it names, in order: for
    /// `/api/v1/projects/{id}/members/{member_id}`, `id` names a `/api/v1/projects` and
    /// `member_id` a `/api/v1/projects/{id}/members`.
    pub(crate) params: Vec<(String, String)>,
    /// A valid body built from the request schema, so that validation never answers first.
    pub(crate) body: Option<Value>,
    /// The operation's object in the OpenAPI document.
    pub(crate) doc: Value,
}

impl Operation {
    /// `GET /api/v1/tasks/{id}`: how the matrix names it.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    pub(crate) fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// The collection of the first path parameter's object (`/api/v1/tasks` for
    /// `/api/v1/tasks/{id}/comments`), if the path has one.
    pub(crate) fn item_of(&self) -> Option<&str> {
        self.params
            .first()
            .map(|(_, collection)| collection.as_str())
    }

    /// The URI in the `/api/v1` shape, each parameter filled in by `fill(collection)`.
    pub(crate) fn uri_with(&self, fill: impl Fn(&str) -> String) -> String {
        let mut uri = self.template.clone();
        for (param, collection) in &self.params {
            uri = uri.replace(&format!("{{{param}}}"), &fill(collection));
        }
        uri
    }

    /// The URI with the objects of `objects` filled in.
    fn uri(&self, objects: &Objects) -> String {
        self.uri_with(|collection| objects[collection].id.clone())
    }

    /// The URI in both route shapes: `/api/v1/…` and, for resources, `/api/{user_id}/…`.
    pub(crate) fn shapes_of(uri: &str, user_id: &str) -> Vec<String> {
        let mut shapes = vec![uri.to_owned()];
        if uri.starts_with("/api/v1/") && !uri.starts_with("/api/v1/auth/") {
            shapes.push(uri.replacen("/api/v1/", &format!("/api/{user_id}/"), 1));
        }
        shapes
    }
}

pub(crate) fn openapi() -> Value {
    serde_json::to_value(todo_server::api::openapi()).expect("openapi")
}

/// Every documented operation that needs a credential, in its `/api/v1` shape (each test
/// calls both shapes). Panics on an operation the matrix does not know how to exercise: an
/// unlisted public route, or an unknown path parameter.
pub(crate) fn protected_operations(doc: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if path.starts_with("/api/{user_id}/") {
            continue;
        }
        for (method, operation) in item.as_object().expect("item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let name = format!("{method} {path}");
            let public = operation["security"]
                .as_array()
                .is_none_or(|requirements| requirements.is_empty());
            if public {
                assert!(
                    PUBLIC.contains(&name.as_str()),
                    "{name} takes no credential: add it to PUBLIC if that is intended"
                );
                continue;
            }
            let params: Vec<(String, String)> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .map(|param| {
                    assert!(
                        PATH_PARAMETERS.contains(&param),
                        "{name}: the authorization matrix knows the path parameters \
                         {PATH_PARAMETERS:?}, not `{{{param}}}`: teach it what object it names"
                    );
                    let at = path.find(&format!("/{{{param}}}")).expect("the parameter");
                    (param.to_owned(), path[..at].to_owned())
                })
                .collect();
            let body = operation
                .pointer("/requestBody/content/application~1json/schema")
                .map(|schema| example(schema, doc));
            operations.push(Operation {
                method,
                template: path.clone(),
                params,
                body,
                doc: operation.clone(),
            });
        }
    }
    assert!(
        operations.len() >= 20,
        "expected every protected route, got {operations:?}"
    );
    operations
}

/// A small valid instance of a JSON Schema: required properties only, the first of a `oneOf`
/// that is not `null`, the first enum value, a plausible value for each string format.
pub(crate) fn example(schema: &Value, doc: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let pointer = reference.trim_start_matches('#');
        let target = doc.pointer(pointer).expect("a $ref that resolves");
        return example(target, doc);
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let chosen = options
                .iter()
                .find(|option| option["type"] != "null")
                .unwrap_or(&options[0]);
            return example(chosen, doc);
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(fields) = example(part, doc) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let properties = &schema["properties"];
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            let fields = required
                .iter()
                .filter_map(Value::as_str)
                .map(|name| (name.to_owned(), example(&properties[name], doc)))
                .collect();
            Value::Object(fields)
        }
        "array" => {
            let min = schema["minItems"].as_u64().unwrap_or(0);
            Value::Array((0..min).map(|_| example(&schema["items"], doc)).collect())
        }
        "string" => json!(match schema["format"].as_str() {
            Some("date-time") => "2030-01-01T09:00:00Z".to_owned(),
            Some("date") => "2030-01-01".to_owned(),
            Some("email") => "matrix@example.com".to_owned(),
            Some("uri" | "url") => "https://example.com/matrix".to_owned(),
            _ => "m".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize),
        }),
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

/// An object the matrix made: its id, and where its owner finds it listed.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) id: String,
    /// The URI that lists it, in the `/api/v1` shape.
    listed_at: String,
    /// The field of a listed object that holds its id (`user_id` for a member).
    id_field: &'static str,
}

impl Object {
    fn listed(id: String, listed_at: &str) -> Self {
        Self {
            id,
            listed_at: listed_at.to_owned(),
            id_field: "id",
        }
    }
}

/// The matrix's objects by the collection (path template) they belong to.
pub(crate) type Objects = BTreeMap<String, Object>;

/// Numbers the helper users' addresses apart.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn serial() -> usize {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// `collection` with the parameters of its parents filled in from `objects`
/// (`/api/v1/projects/{id}/members` → `/api/v1/projects/42/members`).
fn filled(collection: &str, objects: &Objects) -> String {
    let (mut template, mut path) = (String::new(), String::new());
    for segment in collection.split('/').skip(1) {
        path.push('/');
        if segment.starts_with('{') {
            // The object of the collection before the parameter, made first.
            path.push_str(&objects[&template].id);
        } else {
            path.push_str(segment);
        }
        template.push('/');
        template.push_str(segment);
    }
    path
}

/// `owner` invites `member` to the project at `project` (an `/api/v1/projects/{id}` URI) as
/// `role`, and `member` accepts.
pub(crate) async fn invite_and_accept(
    app: &TestApp,
    owner: &TestUser,
    project: &str,
    member: &TestUser,
    role: &str,
) {
    let email = app.get("/api/v1/me", &member.token).await.body["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let invited = app
        .post(
            &format!("{project}/invitations"),
            &owner.token,
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let id = invited.body["id"].as_i64().expect("id");
    let accepted = app
        .post(
            &format!("/api/v1/invitations/{id}/accept"),
            &member.token,
            json!({}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
}

/// Creates an object in `collection` for `owner` with the collection's documented `POST` and
/// an example body. Panics when the collection has no `POST` to make one with.
async fn create_object(
    app: &TestApp,
    doc: &Value,
    owner: &TestUser,
    collection: &str,
    objects: &Objects,
) -> Object {
    let path = filled(collection, objects);
    if let Some(object) = create_shared(app, owner, collection, &path).await {
        return object;
    }
    if let Some(object) = create_without_post(app, owner, collection).await {
        return object;
    }
    let operation = doc["paths"][collection]["post"]
        .as_object()
        .unwrap_or_else(|| {
            panic!(
                "{collection}/{{id}}: the matrix creates objects with POST {collection}; \
             there is none, so teach it another way to make one"
            )
        });
    let body = operation
        .get("requestBody")
        .and_then(|body| body.pointer("/content/application~1json/schema"))
        .map(|schema| example(schema, doc))
        .unwrap_or_else(|| json!({}));
    let created = app.post(&path, &owner.token, body.clone()).await;
    assert!(
        created.status.is_success(),
        "POST {path} {body}: {} {}",
        created.status,
        created.body
    );
    let id = match &created.body["id"] {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        other => panic!("POST {path} answered no id: {other}"),
    };
    Object::listed(id, &path)
}

/// The objects of sharing: a project's members and invitations, comments, and invitations to
/// `owner`. `path` is `collection` with its parents filled in.
async fn create_shared(
    app: &TestApp,
    owner: &TestUser,
    collection: &str,
    path: &str,
) -> Option<Object> {
    match collection {
        // A member is a second user, invited and accepted.
        "/api/v1/projects/{id}/members" => {
            let member = app
                .signup(&format!("member-{}@example.com", serial()))
                .await;
            let project = path.trim_end_matches("/members");
            invite_and_accept(app, owner, project, &member, "editor").await;
            Some(Object {
                id: member.id,
                listed_at: path.to_owned(),
                id_field: "user_id",
            })
        }
        // The example address would be the same each time: one per invitation.
        "/api/v1/projects/{id}/invitations" => {
            let email = format!("invitee-{}@example.com", serial());
            let invited = app
                .post(
                    path,
                    &owner.token,
                    json!({"email": email, "role": "viewer"}),
                )
                .await;
            assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
            Some(Object::listed(invited.body["id"].to_string(), path))
        }
        // Comments are made on their task: `POST /api/v1/tasks/{id}/comments`.
        "/api/v1/comments" => {
            let task = app.task(owner, "commented").await;
            let comments = format!("/api/v1/tasks/{task}/comments");
            let said = app
                .post(&comments, &owner.token, json!({"body": "matrix"}))
                .await;
            assert_eq!(said.status, StatusCode::CREATED, "{}", said.body);
            Some(Object::listed(said.body["id"].to_string(), &comments))
        }
        // An invitation is `owner`'s when it names their email: someone else invites them.
        "/api/v1/invitations" => {
            let inviter = app
                .signup(&format!("inviter-{}@example.com", serial()))
                .await;
            let project = app
                .post(
                    "/api/v1/projects",
                    &inviter.token,
                    json!({"name": "matrix"}),
                )
                .await;
            let project = project.body["id"].as_i64().expect("project");
            let email = app.get("/api/v1/me", &owner.token).await.body["email"].clone();
            let invited = app
                .post(
                    &format!("/api/v1/projects/{project}/invitations"),
                    &inviter.token,
                    json!({"email": email}),
                )
                .await;
            assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
            Some(Object::listed(
                invited.body["id"].to_string(),
                "/api/v1/invitations",
            ))
        }
        _ => None,
    }
}

/// Objects of collections that have no `POST` of their own.
async fn create_without_post(app: &TestApp, owner: &TestUser, collection: &str) -> Option<Object> {
    match collection {
        // Conversations begin with `POST /api/v1/chat`, which needs a model; store one directly.
        "/api/v1/conversations" => {
            let now = chrono::Utc::now();
            let conversation = todo_core::chat::NewConversation {
                user_id: owner.id.clone().into(),
                title: "matrix".into(),
                created_at: now,
                updated_at: now,
            };
            let conversation = app
                .db
                .store
                .insert_conversation(&conversation)
                .await
                .expect("insert a conversation");
            Some(Object::listed(conversation.id.to_string(), collection))
        }
        // A webhook's host must resolve (no DNS in tests) and be public unless allowed:
        // create one for a loopback URL through the use case, private networks allowed.
        "/api/v1/webhooks" => {
            let input = todo_core::webhooks::WebhookInput {
                url: "http://127.0.0.1:9/matrix".into(),
                project_id: None,
            };
            let created = app
                .todo
                .clone()
                .with_private_webhooks(true)
                .create_webhook(&owner.id.clone().into(), input)
                .await
                .expect("create a webhook");
            Some(Object::listed(created.webhook.id.to_string(), collection))
        }
        // A subscription's keys must be a point on P-256, which no example from the schema is:
        // subscribe through the use case with the curve's generator point, at an endpoint of
        // the owner's own (an endpoint subscribed again moves to whoever subscribed it).
        "/api/v1/push/subscriptions" => {
            let input = todo_core::push::SubscriptionInput {
                endpoint: format!("https://93.184.216.34/matrix/{}", serial()),
                keys: todo_core::push::SubscriptionKeys {
                    p256dh: "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"
                        .into(),
                    auth: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                },
            };
            let subscribed = app
                .todo
                .subscribe_push(&owner.id.clone().into(), input)
                .await
                .expect("subscribe a browser");
            Some(Object::listed(
                subscribed.subscription.id.to_string(),
                collection,
            ))
        }
        // A session is a login: sign in once more and take that session.
        "/api/v1/sessions" => {
            let me = app.get("/api/v1/me", &owner.token).await;
            let login = json!({"email": me.body["email"], "password": "correct horse battery"});
            let signed_in = app
                .send(Method::POST, "/api/v1/auth/login", None, Some(login))
                .await;
            let token = signed_in.body["token"].as_str().expect("a login token");
            let sessions = app.get("/api/v1/sessions", token).await;
            let id = sessions
                .body
                .as_array()
                .expect("sessions")
                .iter()
                .find(|session| session["current"] == true)
                .and_then(|session| session["id"].as_str())
                .expect("the new session")
                .to_owned();
            Some(Object::listed(id, collection))
        }
        // Sections are made under their project: `POST /api/v1/projects/{id}/sections`.
        "/api/v1/sections" => {
            let user = owner.id.clone().into();
            let project = app
                .todo
                .create_project(
                    &user,
                    todo_core::project::ProjectInput {
                        name: "matrix".into(),
                        color: None,
                    },
                )
                .await
                .expect("create a project");
            let section = app
                .todo
                .create_section(
                    &user,
                    project.id,
                    todo_core::project::SectionInput {
                        name: "matrix".into(),
                        position: None,
                    },
                )
                .await
                .expect("create a section");
            Some(Object::listed(
                section.id.to_string(),
                &format!("/api/v1/projects/{}/sections", project.id),
            ))
        }
        // An app connects through the OAuth flow (consent in the web app); go through the
        // use cases with an issuer of the test's own.
        "/api/v1/connected-apps" => {
            use todo_core::oauth::{AuthorizeParams, Issuer, RegistrationInput, TokenParams};
            let issuer = Issuer::parse("https://matrix.example").expect("issuer");
            let registration = RegistrationInput {
                redirect_uris: vec!["https://app.example/cb".into()],
                client_name: Some("matrix".into()),
                ..RegistrationInput::default()
            };
            let client = app
                .todo
                .register_oauth_client(&registration)
                .await
                .expect("register");
            let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
            let params = AuthorizeParams {
                response_type: Some("code".into()),
                client_id: Some(client.client_id.clone()),
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
                code_challenge_method: Some("S256".into()),
                ..AuthorizeParams::default()
            };
            let found = app
                .todo
                .oauth_client(&client.client_id)
                .await
                .expect("client");
            let request = app
                .todo
                .check_authorization(&issuer, found, &params)
                .expect("a valid request");
            let user_id = owner.id.clone().into();
            let code = app
                .todo
                .approve_authorization(&user_id, &request)
                .await
                .expect("approve");
            let token = TokenParams {
                grant_type: Some("authorization_code".into()),
                code: Some(code),
                redirect_uri: Some("https://app.example/cb".into()),
                client_id: Some(client.client_id),
                code_verifier: Some(verifier.into()),
                ..TokenParams::default()
            };
            app.todo.oauth_token(&issuer, &token).await.expect("tokens");
            let apps = app.todo.connected_apps(&user_id).await.expect("apps");
            Some(Object::listed(apps[0].id.clone(), collection))
        }
        _ => None,
    }
}

/// One object per collection that a path parameter names, owned by `owner`.
async fn objects_of(
    app: &TestApp,
    doc: &Value,
    owner: &TestUser,
    operations: &[Operation],
) -> Objects {
    let mut objects = Objects::new();
    for operation in operations {
        for (_, collection) in &operation.params {
            if !objects.contains_key(collection) {
                let object = create_object(app, doc, owner, collection, &objects).await;
                objects.insert(collection.clone(), object);
            }
        }
    }
    objects
}

#[tokio::test]
async fn every_protected_route_needs_a_credential_in_both_shapes() {
    let app = app_without_rate_limits().await;
    let user = app.signup("ada@example.com").await;
    for operation in protected_operations(&openapi()) {
        let uri = operation.uri_with(|_| "1".to_owned());
        for uri in Operation::shapes_of(&uri, &user.id) {
            let method = operation.method.clone();
            let response = app
                .send(method.clone(), &uri, None, operation.body.clone())
                .await;
            response.problem(StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.header("www-authenticate"),
                Some("Bearer"),
                "{method} {uri}"
            );
        }
    }
}

#[tokio::test]
async fn a_read_only_api_key_is_refused_every_write_in_both_shapes() {
    let app = app_without_rate_limits().await;
    let doc = openapi();
    let user = app.signup("ada@example.com").await;
    let operations = protected_operations(&doc);
    // The key's own user's objects: only the scope stands between the key and the write.
    let objects = objects_of(&app, &doc, &user, &operations).await;
    let key = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "read only", "scopes": ["read"]}),
        )
        .await;
    let key = key.body["secret"].as_str().expect("secret").to_owned();

    let writes: Vec<_> = operations.iter().filter(|o| o.is_write()).collect();
    assert!(writes.len() >= 12, "expected every write, got {writes:?}");
    for operation in writes {
        for uri in Operation::shapes_of(&operation.uri(&objects), &user.id) {
            let method = operation.method.clone();
            let response = app
                .send(method.clone(), &uri, Some(&key), operation.body.clone())
                .await;
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{method} {uri}: {}",
                response.body
            );
            assert_eq!(
                response.problem(StatusCode::FORBIDDEN)["type"],
                "urn:todo:problem:insufficient-scope",
                "{method} {uri}"
            );
        }
    }
    for object in objects.values() {
        assert_still_there(&app, &user, object).await;
    }
}

#[tokio::test]
async fn every_route_with_an_object_id_answers_404_for_another_users_object_in_both_shapes() {
    let app = app_without_rate_limits().await;
    let doc = openapi();
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let operations = protected_operations(&doc);
    let objects = objects_of(&app, &doc, &alice, &operations).await;
    for expected in [
        "/api/v1/tasks",
        "/api/v1/tags",
        "/api/v1/api-keys",
        "/api/v1/projects/{id}/members",
        "/api/v1/projects/{id}/invitations",
        "/api/v1/comments",
        "/api/v1/invitations",
    ] {
        assert!(objects.contains_key(expected), "{expected}: {objects:?}");
    }

    let mut exercised = 0;
    for operation in operations.iter().filter(|o| o.item_of().is_some()) {
        for uri in Operation::shapes_of(&operation.uri(&objects), &bob.id) {
            let method = operation.method.clone();
            let response = app
                .send(
                    method.clone(),
                    &uri,
                    Some(&bob.token),
                    operation.body.clone(),
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::NOT_FOUND,
                "{method} {uri} as another user: {}",
                response.body
            );
            response.problem(StatusCode::NOT_FOUND);
            exercised += 1;
        }
    }
    assert!(exercised >= 60, "{exercised} calls");
    for object in objects.values() {
        assert_still_there(&app, &alice, object).await;
    }
}

/// The owner still lists the object, unchanged in existence by everyone else's attempts.
async fn assert_still_there(app: &TestApp, owner: &TestUser, object: &Object) {
    let listed = app.get(&object.listed_at, &owner.token).await;
    assert_eq!(listed.status, StatusCode::OK, "GET {}", object.listed_at);
    let ids: Vec<String> = listed
        .body
        .as_array()
        .unwrap_or_else(|| panic!("GET {} is not a list: {}", object.listed_at, listed.body))
        .iter()
        .map(|listed| match &listed[object.id_field] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        })
        .collect();
    assert!(
        ids.iter().any(|listed| listed == &object.id),
        "{} {} is gone: {ids:?}",
        object.listed_at,
        object.id
    );
}

#[tokio::test]
async fn nobody_can_read_change_or_delete_another_users_task() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let id = app.task(&alice, "alice's secret").await;
    let uri = format!("/api/v1/tasks/{id}");

    app.get(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.put(&uri, &bob.token, json!({"title": "mine"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.patch(&uri, &bob.token, json!({"title": "mine"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.send(
        Method::PATCH,
        &format!("{uri}/complete"),
        Some(&bob.token),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.delete(&uri, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/tasks", &bob.token).await.body, json!([]));
    assert_eq!(
        app.get("/api/v1/tasks", &bob.token)
            .await
            .header("x-total-count"),
        Some("0")
    );

    let untouched = app.get(&uri, &alice.token).await;
    assert_eq!(untouched.body["title"], "alice's secret");
    assert_eq!(untouched.body["completed"], false);
}

#[tokio::test]
async fn nobody_can_revoke_another_users_api_key() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let created = app
        .post("/api/v1/api-keys", &alice.token, json!({"name": "alice's"}))
        .await;
    let id = created.body["id"].as_str().expect("id");

    app.delete(&format!("/api/v1/api-keys/{id}"), &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/api-keys", &bob.token).await.body,
        json!([])
    );
    let secret = created.body["secret"].as_str().expect("secret");
    assert_eq!(
        app.get("/api/v1/me", secret).await.status,
        StatusCode::OK,
        "still works"
    );
}

#[tokio::test]
async fn the_user_path_shape_serves_the_same_handlers() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let base = format!("/api/{}", user.id);

    let created = app
        .post(
            &format!("{base}/tasks"),
            &user.token,
            json!({"title": "via user path"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/tasks/{id}").as_str())
    );
    let listed = app.get(&format!("{base}/tasks"), &user.token).await;
    assert_eq!(listed.body[0]["id"], id);
    let done = app
        .send(
            Method::PATCH,
            &format!("{base}/tasks/{id}/complete"),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(done.body["completed"], true);
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{id}"), &user.token)
            .await
            .body["completed"],
        true
    );
    assert_eq!(
        app.delete(&format!("{base}/tasks/{id}"), &user.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn another_users_path_is_forbidden() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let id = app.task(&alice, "alice's").await;

    for (method, uri) in [
        (Method::GET, format!("/api/{}/tasks", alice.id)),
        (Method::GET, format!("/api/{}/tasks/{id}", alice.id)),
        (Method::DELETE, format!("/api/{}/tasks/{id}", alice.id)),
        (Method::GET, "/api/someone-else/me".to_owned()),
    ] {
        let response = app.send(method, &uri, Some(&bob.token), None).await;
        assert_eq!(
            response.problem(StatusCode::FORBIDDEN)["type"],
            "urn:todo:problem:wrong-user"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{id}"), &alice.token)
            .await
            .status,
        StatusCode::OK
    );
}
