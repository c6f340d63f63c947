//! `TestApp`: a fresh database and the full router, with typed request helpers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_core::Todo;
use todo_core::chat::model::Secret;
use todo_server::auth::ExternalSettings;
use todo_server::{AppState, AuthSettings, Settings};
use todo_testkit::TestDb;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub todo: Todo,
    /// Shared by replicas of the app (see [`TestApp::replica`]).
    pub db: Arc<TestDb>,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status, and returns it.
    pub fn problem(&self, status: StatusCode) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"], status.as_u16());
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:todo:problem:"))
        );
        assert!(self.body["title"].is_string());
        &self.body
    }

    /// The fields named in a validation problem.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A signed-up user and their login token.
#[derive(Clone)]
pub struct TestUser {
    pub id: String,
    pub token: String,
}

/// The job worker's settings with a short lease, for tests that run it.
pub fn fast_jobs() -> todo_server::jobs::JobSettings {
    todo_server::jobs::JobSettings {
        lease: std::time::Duration::from_secs(5),
        ..todo_server::jobs::JobSettings::default()
    }
}

pub fn auth_settings() -> AuthSettings {
    AuthSettings {
        jwt_secret: Secret::new("test-secret-test-secret-test-secret"),
        external: ExternalSettings::default(),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(auth_settings()).await
    }

    pub async fn spawn_with(auth: AuthSettings) -> Self {
        Self::spawn_configured(Settings::new(auth)).await
    }

    /// With production defaults for everything not given (rate limits in memory, …).
    pub async fn spawn_configured(settings: Settings) -> Self {
        let db = todo_testkit::selected().await;
        let todo = Todo::new(db.store.clone());
        let state = AppState::new(todo.clone(), &settings).expect("valid settings");
        let router = todo_server::app(state).expect("router");
        Self {
            router,
            todo,
            db: Arc::new(db),
        }
    }

    /// Another app over the same database: a second replica, in-process.
    pub fn replica(&self, settings: &Settings) -> Self {
        let state = AppState::new(self.todo.clone(), settings).expect("valid settings");
        Self {
            router: todo_server::app(state).expect("router"),
            todo: self.todo.clone(),
            db: self.db.clone(),
        }
    }

    /// Another replica over the same database with a memory of checked credentials of its own
    /// (a separate process, as far as that memory goes), remembering them for `ttl`.
    pub fn replica_with_own_credential_memory(&self, ttl: std::time::Duration) -> Self {
        let todo = Todo::with_credential_ttl(self.db.store.clone(), ttl);
        let state = AppState::new(todo.clone(), &Settings::new(auth_settings())).expect("state");
        Self {
            router: todo_server::app(state).expect("router"),
            todo,
            db: self.db.clone(),
        }
    }

    /// The app after a restart: a new process's state over the same database, with nothing
    /// carried over in memory (a new connection pool, new caches).
    pub async fn restarted(&self, settings: &Settings) -> Self {
        let todo = Todo::new(self.db.reopen().await);
        let state = AppState::new(todo.clone(), settings).expect("valid settings");
        Self {
            router: todo_server::app(state).expect("router"),
            todo,
            db: self.db.clone(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.raw(request.body(body).expect("request")).await
    }

    pub async fn raw(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.send(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> TestResponse {
        self.send(Method::POST, uri, Some(token), Some(body)).await
    }

    pub async fn patch(&self, uri: &str, token: &str, body: Value) -> TestResponse {
        self.send(Method::PATCH, uri, Some(token), Some(body)).await
    }

    pub async fn put(&self, uri: &str, token: &str, body: Value) -> TestResponse {
        self.send(Method::PUT, uri, Some(token), Some(body)).await
    }

    pub async fn delete(&self, uri: &str, token: &str) -> TestResponse {
        self.send(Method::DELETE, uri, Some(token), None).await
    }

    pub async fn signup(&self, email: &str) -> TestUser {
        let body = json!({"email": email, "password": "correct horse battery"});
        let response = self
            .send(Method::POST, "/api/v1/auth/signup", None, Some(body))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        TestUser {
            id: response.body["user"]["id"].as_str().expect("id").to_owned(),
            token: response.body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Creates a task and returns its id.
    pub async fn task(&self, user: &TestUser, title: &str) -> i64 {
        let response = self
            .post("/api/v1/tasks", &user.token, json!({ "title": title }))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body["id"].as_i64().expect("id")
    }
}
