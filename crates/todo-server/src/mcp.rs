//! MCP: the tools of [`todo_core::tools`] served over the Model Context Protocol, through the
//! official SDK (rmcp). The handler only translates: listing comes from the registry, a call
//! goes to [`todo_core::tools::call`] with the caller's principal, and a registry error becomes
//! a tool error result the model can read. Two transports share it: Streamable HTTP at `/mcp`
//! (see [`routes`]) and stdio for `todo mcp` (see [`serve_stdio`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;
use todo_core::Todo;
use todo_core::accounts::{CredentialKind, Principal};
use todo_core::api_key::Scope;
use todo_core::tools::{self, ToolDef, ToolError};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::auth::{Caller, Via};
use crate::error::ApiError;
use crate::metrics::auth_failure;

const INSTRUCTIONS: &str = "Tools for the user's todo list: tasks in projects (the Inbox first), \
     sections and subtasks, and comments on the tasks of shared projects. Find task ids with \
     list_tasks (or search), project ids with list_projects and section ids with \
     list_sections. For several tasks at once use add_tasks, complete_tasks, update_tasks and \
     reschedule_tasks (up to 100 each): every item succeeds or fails on its own, so read each \
     entry of `results`. Task mutations return {task_id, status, title}. search and fetch \
     find tasks by their words and read one whole. Dates are in the user's time zone; \
     list_tasks with assignee: \"me\" shows what is assigned to the user. Tools marked \
     destructive delete or overwrite what the user wrote: confirm first when the request \
     was not explicit.";

/// Settings of the `/mcp` endpoint.
#[derive(Debug, Clone)]
pub struct McpSettings {
    /// `Host` values accepted (DNS rebinding protection); `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted (`:*` matches any port); a request with any other `Origin`
    /// is refused. Requests without an `Origin` (every non-browser client) pass. Loopback
    /// pages by default: they are this machine's, which DNS rebinding cannot fake.
    pub allowed_origins: Vec<String>,
    /// `PUBLIC_URL`: the server's external URL, its OAuth issuer. OAuth is off without it.
    pub public_url: Option<String>,
    /// Accept `http://` loopback URLs as Client ID Metadata Documents: on with
    /// `WEBHOOK_ALLOW_PRIVATE_NETWORKS` (development machines and tests), off in production.
    pub allow_http_metadata_documents: bool,
}

impl Default for McpSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: vec![
                "http://localhost:*".into(),
                "http://127.0.0.1:*".into(),
                "http://[::1]:*".into(),
            ],
            public_url: None,
            allow_http_metadata_documents: false,
        }
    }
}

/// Who the tools act for.
#[derive(Clone)]
enum Identity {
    /// Fixed for the whole connection (stdio: the key or user given at start).
    Fixed(Arc<Principal>),
    /// Per HTTP request, put there by [`require_principal`].
    PerRequest,
}

/// The MCP server handler: a thin adapter over the tool registry.
#[derive(Clone)]
pub struct TodoMcp {
    todo: Todo,
    identity: Identity,
}

impl TodoMcp {
    /// A handler acting as `principal` for every call (the stdio transport).
    pub fn for_principal(todo: Todo, principal: Principal) -> Self {
        Self {
            todo,
            identity: Identity::Fixed(Arc::new(principal)),
        }
    }

    fn per_request(todo: Todo) -> Self {
        Self {
            todo,
            identity: Identity::PerRequest,
        }
    }

    fn principal(&self, context: &RequestContext<RoleServer>) -> Option<Principal> {
        match &self.identity {
            Identity::Fixed(principal) => Some(principal.as_ref().clone()),
            Identity::PerRequest => context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Principal>())
                .cloned(),
        }
    }
}

fn to_mcp_tool(def: &ToolDef) -> Tool {
    Tool::new(def.name, def.description, def.input_schema.clone())
        .with_title(def.title)
        .with_raw_output_schema(def.output_schema.clone())
        .with_annotations(
            ToolAnnotations::with_title(def.title)
                .read_only(def.read_only())
                .destructive(def.destructive)
                .idempotent(def.idempotent)
                // Every tool works on the user's own list, not on an open world.
                .open_world(false),
        )
}

impl ServerHandler for TodoMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("todo", env!("CARGO_PKG_VERSION")).with_title("todo"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult {
            tools: tools::tools().iter().map(to_mcp_tool).collect(),
            ..Default::default()
        })
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::tool(name).map(to_mcp_tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(principal) = self.principal(&context) else {
            // `require_principal` runs before every HTTP request; reaching here is a wiring bug.
            return Err(ErrorData::internal_error("no authenticated user", None));
        };
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        let outcome = tools::call(&self.todo, &principal, &request.name, arguments).await;
        let result = match outcome {
            Ok(output) => {
                let text = text_of(&request.name, &output);
                let mut result = CallToolResult::structured(output);
                result.content = vec![ContentBlock::text(text)];
                result
            }
            Err(ToolError::UnknownTool(name)) => {
                return Err(ErrorData::invalid_params(
                    format!("unknown tool {name:?}; list the tools to see their names"),
                    None,
                ));
            }
            Err(error) => {
                if let ToolError::Internal(cause) = &error {
                    tracing::error!(tool = %request.name, error = %cause, "tool failed");
                }
                CallToolResult::error(vec![ContentBlock::text(error.to_string())])
            }
        };
        Ok(result.into())
    }
}

/// The text content of a tool's result: its structured content as JSON, except `list_tasks`,
/// whose text is the brief's JSON array of tasks (what agents built for the brief read), while
/// its structured content stays the object its output schema gives (`tasks`, `total`,
/// `next_cursor`).
fn text_of(tool: &str, output: &Value) -> String {
    match (tool, output.get("tasks")) {
        ("list_tasks", Some(tasks @ Value::Array(_))) => tasks.to_string(),
        _ => output.to_string(),
    }
}

/// `/mcp` (Streamable HTTP) and the protected-resource metadata, for the app's router.
///
/// Stateless: every POST is served on its own, so any replica can answer any request and no
/// session needs to stick to one (protocol 2026-07-28 has no sessions; 2025 clients are
/// served without a session id, which the protocol allows). Server-initiated streams (GET)
/// are therefore not offered.
pub fn routes(state: &AppState) -> Router<AppState> {
    let settings = &state.mcp;
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(state.shutdown.child_token())
        .with_allowed_origins(settings.allowed_origins.clone())
        .enforce_origin_validation();
    config = if settings.allowed_hosts.iter().any(|h| h == "*") {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(settings.allowed_hosts.clone())
    };
    let todo = state.todo.clone();
    let service = StreamableHttpService::new(
        move || Ok(TodoMcp::per_request(todo.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_principal,
        ))
}

/// Middleware on `/mcp`: the request's credential (resolved by [`crate::auth::identify`])
/// must name a user, else 401 with a pointer to the resource metadata (RFC 9728) when OAuth
/// is on. An OAuth grant without `tasks:write` calling a tool that writes is refused with 403
/// `insufficient_scope` (RFC 6750 §3.1), so that the client can ask the user for more.
async fn require_principal(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // The web app's cookie is not a credential for MCP clients: they send a Bearer header.
    let outcome = request
        .extensions()
        .get::<Caller>()
        .filter(|caller| caller.via() == Via::Header)
        .and_then(Caller::outcome)
        .cloned();
    match outcome {
        Some(Ok(principal)) => {
            let request = match step_up(&state, &principal, request).await {
                Ok(request) => request,
                Err(response) => return *response,
            };
            let mut request = request;
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Some(Err(error)) => {
            if error.status() == StatusCode::UNAUTHORIZED {
                auth_failure("invalid_credential");
            }
            drain(&state, request).await;
            challenge(&state, error, Some("invalid_token"))
        }
        None => {
            auth_failure("missing_credential");
            drain(&state, request).await;
            let error = ApiError::unauthenticated(
                "send a credential: Authorization: Bearer <OAuth access token, API key or login token>",
            );
            challenge(&state, error, None)
        }
    }
}

/// Reads the refused request's body (within the body limit) before answering. An OAuth
/// client's first request is refused with 401 and the client goes on on the same connection;
/// a connection closed with unread bytes in it is reset, which can take the 401 with it
/// ("server disconnected without sending a response", seen with the MCP SDK).
async fn drain(state: &AppState, request: Request) {
    let _ = axum::body::to_bytes(request.into_body(), state.http.body_limit).await;
}

/// A 401 with `WWW-Authenticate` naming the resource metadata and the scopes when OAuth is on.
fn challenge(state: &AppState, error: ApiError, code: Option<&str>) -> Response {
    let unauthorized = error.status() == StatusCode::UNAUTHORIZED;
    let mut response = error.into_response();
    if unauthorized
        && let Some(issuer) = &state.oauth
        && let Ok(value) = HeaderValue::try_from(crate::oauth::challenge(issuer, code))
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Lets the request through unless it is an OAuth grant without `tasks:write` calling a tool
/// that writes: that is a 403 with `error="insufficient_scope"` and the scope it needs. The
/// body is read (within the server's body limit) and handed on unchanged.
async fn step_up(
    state: &AppState,
    principal: &Principal,
    request: Request,
) -> Result<Request, Box<Response>> {
    let oauth = matches!(principal.credential, CredentialKind::OAuth(_));
    if !oauth || principal.can(Scope::Write) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, state.http.body_limit)
        .await
        .map_err(|_| {
            Box::new(
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "the body is too large",
                )
                .into_response(),
            )
        })?;
    let message: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let wants_write = message["method"] == "tools/call"
        && message["params"]["name"]
            .as_str()
            .and_then(tools::tool)
            .is_some_and(|tool| tool.scope == Scope::Write);
    if wants_write {
        auth_failure("insufficient_scope");
        let mut response = ApiError::forbidden(
            "insufficient-scope",
            "this access token lacks the tasks:write scope that this tool needs",
        )
        .into_response();
        if let Some(issuer) = &state.oauth {
            let value = format!(
                "Bearer error=\"insufficient_scope\", scope=\"tasks:read tasks:write\", \
                 resource_metadata=\"{}{}/mcp\", error_description=\"this tool changes tasks\"",
                issuer.url(),
                crate::oauth::PROTECTED_RESOURCE_PATH
            );
            if let Ok(value) = HeaderValue::try_from(value) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        return Err(Box::new(response));
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// Serves MCP on stdin/stdout as `principal` until the client closes the stream or
/// `shutdown` is cancelled. Nothing else may write to stdout meanwhile.
pub async fn serve_stdio(
    todo: Todo,
    principal: Principal,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let server = TodoMcp::for_principal(todo, principal)
        .serve_with_ct(rmcp::transport::stdio(), shutdown)
        .await?;
    server.waiting().await?;
    Ok(())
}
