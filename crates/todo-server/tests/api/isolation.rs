//! The authorization matrix, driven by the OpenAPI document so that a new route is covered the
//! day it is added: every protected route without a credential → 401; every write with a
//! read-only API key → 403; every route with an object id, given another user's object → 404;
//! someone else's path → 403. A route the matrix cannot exercise fails it.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, TestUser, auth_settings};

/// The matrix sends more writes a minute than the default limit allows; limits are not what
/// it tests.
async fn app_without_rate_limits() -> TestApp {
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

/// One documented operation, as the matrix exercises it.
#[derive(Debug)]
struct Operation {
    method: Method,
    /// The path template, e.g. `/api/v1/tasks/{id}`.
    template: String,
    /// The collection whose object `{id}` names (`/api/v1/tasks` for `/api/v1/tasks/{id}…`).
    item_of: Option<String>,
    /// A valid body built from the request schema, so that validation never answers first.
    body: Option<Value>,
}

impl Operation {
    fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// The URI with `{id}` filled in, in the `/api/v1` shape.
    fn uri(&self, id: &str) -> String {
        self.template.replace("{id}", id)
    }

    /// The URI in both route shapes: `/api/v1/…` and, for resources, `/api/{user_id}/…`.
    fn shapes(&self, id: &str, user_id: &str) -> Vec<String> {
        let uri = self.uri(id);
        let mut shapes = vec![uri.clone()];
        if uri.starts_with("/api/v1/") && !uri.starts_with("/api/v1/auth/") {
            shapes.push(uri.replacen("/api/v1/", &format!("/api/{user_id}/"), 1));
        }
        shapes
    }
}

fn openapi() -> Value {
    serde_json::to_value(todo_server::api::openapi()).expect("openapi")
}

/// Every documented operation that needs a credential. Panics on an operation the matrix does
/// not know how to exercise: an unlisted public route, or a path parameter other than `{id}`.
fn protected_operations(doc: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let name = format!("{method} {path}");
            if operation.get("security").is_none() {
                assert!(
                    PUBLIC.contains(&name.as_str()),
                    "{name} takes no credential: add it to PUBLIC if that is intended"
                );
                continue;
            }
            let params: Vec<&str> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert!(
                params.iter().all(|p| *p == "id"),
                "{name}: the authorization matrix knows only `{{id}}` path parameters, not {params:?}"
            );
            let item_of = path.find("/{id}").map(|at| path[..at].to_owned());
            let body = operation
                .pointer("/requestBody/content/application~1json/schema")
                .map(|schema| example(schema, doc));
            operations.push(Operation {
                method,
                template: path.clone(),
                item_of,
                body,
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
fn example(schema: &Value, doc: &Value) -> Value {
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

/// Creates an object in `collection` for `owner` with the collection's documented `POST` and
/// an example body; its id. Panics when the collection has no `POST` to make one with.
async fn create_object(app: &TestApp, doc: &Value, owner: &TestUser, collection: &str) -> String {
    if let Some(id) = create_without_post(app, owner, collection).await {
        return id;
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
    let created = app.post(collection, &owner.token, body.clone()).await;
    assert!(
        created.status.is_success(),
        "POST {collection} {body}: {} {}",
        created.status,
        created.body
    );
    match &created.body["id"] {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        other => panic!("POST {collection} answered no id: {other}"),
    }
}

/// Objects of collections that have no `POST` of their own.
async fn create_without_post(app: &TestApp, owner: &TestUser, collection: &str) -> Option<String> {
    match collection {
        // Conversations begin with `POST /api/v1/chat`, which needs a model; store one directly.
        "/api/v1/conversations" => {
            let now = chrono::Utc::now();
            let conversation = todo_core::chat::Conversation {
                id: todo_core::ids::ConversationId::generate(),
                user_id: owner.id.clone().into(),
                title: "matrix".into(),
                created_at: now,
                updated_at: now,
            };
            app.db
                .store
                .insert_conversation(&conversation)
                .await
                .expect("insert a conversation");
            Some(conversation.id.into_inner())
        }
        // A webhook's host must resolve (no DNS in tests) and be public unless allowed:
        // create one for a loopback URL through the use case, private networks allowed.
        "/api/v1/webhooks" => {
            let input = todo_core::webhooks::WebhookInput {
                url: "http://127.0.0.1:9/matrix".into(),
            };
            let created = app
                .todo
                .clone()
                .with_private_webhooks(true)
                .create_webhook(&owner.id.clone().into(), input)
                .await
                .expect("create a webhook");
            Some(created.webhook.id.to_string())
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
            Some(section.id.to_string())
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
            Some(apps[0].id.clone())
        }
        _ => None,
    }
}

/// One object per collection that has `{id}` routes, owned by `owner`.
async fn objects_of(
    app: &TestApp,
    doc: &Value,
    owner: &TestUser,
    operations: &[Operation],
) -> std::collections::BTreeMap<String, String> {
    let mut objects = std::collections::BTreeMap::new();
    for collection in operations.iter().filter_map(|o| o.item_of.as_deref()) {
        if !objects.contains_key(collection) {
            let id = create_object(app, doc, owner, collection).await;
            objects.insert(collection.to_owned(), id);
        }
    }
    objects
}

#[tokio::test]
async fn every_protected_route_needs_a_credential_in_both_shapes() {
    let app = app_without_rate_limits().await;
    let user = app.signup("ada@example.com").await;
    for operation in protected_operations(&openapi()) {
        for uri in operation.shapes("1", &user.id) {
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
        let id = operation
            .item_of
            .as_ref()
            .map_or("1", |collection| objects[collection].as_str());
        for uri in operation.shapes(id, &user.id) {
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
    for (collection, id) in &objects {
        assert_still_there(&app, &user, collection, id).await;
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
    assert!(
        objects.len() >= 3,
        "expected tasks, tags and API keys at least: {objects:?}"
    );

    for operation in operations.iter().filter(|o| o.item_of.is_some()) {
        let collection = operation.item_of.as_deref().expect("item route");
        for uri in operation.shapes(&objects[collection], &bob.id) {
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
        }
    }
    for (collection, id) in &objects {
        assert_still_there(&app, &alice, collection, id).await;
    }
}

/// The owner still lists the object, unchanged in existence by everyone else's attempts.
async fn assert_still_there(app: &TestApp, owner: &TestUser, collection: &str, id: &str) {
    if collection == "/api/v1/sections" {
        // Sections are listed per project.
        let user = owner.id.clone().into();
        let mut ids = Vec::new();
        for project in app.todo.list_projects(&user).await.expect("projects") {
            for section in app
                .todo
                .list_sections(&user, project.id)
                .await
                .expect("sections")
            {
                ids.push(section.id.to_string());
            }
        }
        assert!(ids.iter().any(|s| s == id), "section {id} is gone");
        return;
    }
    let listed = app.get(collection, &owner.token).await;
    assert_eq!(listed.status, StatusCode::OK, "GET {collection}");
    let ids: Vec<String> = listed
        .body
        .as_array()
        .unwrap_or_else(|| panic!("GET {collection} is not a list: {}", listed.body))
        .iter()
        .map(|object| match &object["id"] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        })
        .collect();
    assert!(
        ids.iter().any(|listed| listed == id),
        "{collection}/{id} is gone: {ids:?}"
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
