//! The route table and the OpenAPI document, both built from the handlers' annotations.

pub mod account;
pub mod accounts;
pub mod api_keys;
pub mod calendar;
pub mod chat;
pub mod connected_apps;
pub mod events;
pub mod health;
pub mod notifications;
mod problems;
pub mod projects;
pub mod push;
mod shapes;
pub mod sharing;
pub mod tags;
pub mod tasks;
pub mod transfer;
pub mod webhooks;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{Problem, method_not_allowed, no_route, panic_response};
use crate::{AppState, access_log, auth, hardening, mcp, metrics, rate_limit};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todo",
        description = "Tasks, projects, sharing, chat and accounts. Every route under `/api/v1` \
                       that acts on the caller's own data is also served under `/api/{user_id}` \
                       (operationId suffixed `ForUser`), where the path user must be the \
                       authenticated user (else 403 `wrong-user`). Errors are \
                       `application/problem+json` (RFC 9457). Conventions: docs/api-design.md.",
        contact(name = "The todo maintainers (issues: the project's tracker)"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    // Status is named only by a list parameter, which does not bring its schema along.
    components(schemas(Problem, todo_core::page::Status)),
    tags(
        (name = "accounts", description = "Sign up, log in, profile"),
        (name = "api-keys", description = "Personal access tokens"),
        (name = "connected-apps", description = "Apps connected with OAuth (claude.ai, ChatGPT, …)"),
        (name = "tasks", description = "Tasks and subtasks"),
        (name = "projects", description = "Projects and their sections"),
        (name = "sharing", description = "Members, invitations, comments and activity of shared projects"),
        (name = "tags", description = "Labels on tasks"),
        (name = "transfer", description = "Export and import"),
        (name = "chat", description = "The AI assistant: chat turns, conversations, your own LLM key"),
        (name = "events", description = "Live updates (Server-Sent Events)"),
        (name = "webhooks", description = "Events POSTed to your URL, signed"),
        (name = "push", description = "Web Push: reminders pushed to your browsers"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "oauth", description = "OAuth 2.1 for connected apps (on when PUBLIC_URL is set; errors as RFC 6749)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A login token (JWT) or an API key (todo_…)"))
                    .build(),
            ),
        );
    }
}

/// Routes that act on the caller's own data; served under both route shapes.
fn resources() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            accounts::me,
            accounts::update_me,
            account::delete_me
        ))
        .routes(routes!(account::change_password))
        .routes(routes!(accounts::send_email_verification))
        .routes(routes!(notifications::get, notifications::put))
        .routes(routes!(account::sessions))
        .routes(routes!(account::end_session))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(connected_apps::list))
        .routes(routes!(connected_apps::revoke))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::quick))
        .routes(routes!(tasks::parse))
        .routes(routes!(tasks::move_task))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::get, projects::update, projects::delete))
        .routes(routes!(projects::sections, projects::create_section))
        .routes(routes!(projects::update_section, projects::delete_section))
        .routes(routes!(sharing::members))
        .routes(routes!(sharing::update_member, sharing::remove_member))
        .routes(routes!(sharing::project_invitations, sharing::invite))
        .routes(routes!(sharing::cancel_invitation))
        .routes(routes!(sharing::my_invitations))
        .routes(routes!(sharing::accept))
        .routes(routes!(sharing::decline))
        .routes(routes!(sharing::activity))
        .routes(routes!(sharing::comments, sharing::create_comment))
        .routes(routes!(sharing::update_comment, sharing::delete_comment))
        .routes(routes!(tasks::bulk))
        .routes(routes!(transfer::export))
        .routes(routes!(calendar::feed))
        .routes(
            routes!(transfer::import).layer(axum::extract::DefaultBodyLimit::max(
                transfer::MAX_IMPORT_BYTES,
            )),
        )
        .routes(routes!(
            tasks::get,
            tasks::replace,
            tasks::patch,
            tasks::delete
        ))
        .routes(routes!(tasks::complete))
        .routes(routes!(tags::list, tags::create))
        .routes(routes!(tags::update, tags::delete))
        .routes(routes!(chat::chat))
        .routes(routes!(chat::list))
        .routes(routes!(chat::get, chat::delete))
        .routes(routes!(
            chat::put_credential,
            chat::get_credential,
            chat::delete_credential
        ))
        .routes(routes!(events::stream))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::delete))
        .routes(routes!(push::public_key))
        .routes(routes!(push::list, push::create))
        .routes(routes!(push::delete))
}

/// `Location` of resource `id` in the collection at `collection` (in the request's route shape).
pub(crate) fn location(collection: &str, id: impl std::fmt::Display) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::try_from(format!("{}/{id}", collection.trim_end_matches('/'))) {
        headers.insert(header::LOCATION, value);
    }
    headers
}

/// Adds `Link: <…>; rel="next"` to `headers`: this request again, its other query parameters
/// kept (filters, `limit`), with `key` (the page cursor) set to `value`.
pub(crate) fn link_next(headers: &mut HeaderMap, uri: &Uri, key: &str, value: &str) {
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(key))
        .collect();
    let next = format!("{key}={value}");
    query.push(&next);
    let link = format!("<{}?{}>; rel=\"next\"", uri.path(), query.join("&"));
    if let Ok(link) = HeaderValue::try_from(link) {
        headers.insert(header::LINK, link);
    }
}

fn documented() -> (Router<AppState>, OpenApiDoc) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(metrics::metrics))
        .merge(crate::oauth::routes())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .routes(routes!(accounts::signup))
                .routes(routes!(accounts::login))
                .routes(routes!(accounts::request_password_reset))
                .routes(routes!(accounts::confirm_password_reset))
                .routes(routes!(accounts::verify_email))
                .routes(routes!(accounts::logout))
                .merge(resources()),
        )
        .split_for_parts();
    // After the routes are in: a modifier on `ApiDoc` would run before there are any.
    problems::CommonProblems.modify(&mut doc);
    plain_optional_bodies(&mut doc);
    let (_, by_user) = resources().split_for_parts();
    let resource_paths: Vec<String> = by_user.paths.paths.keys().cloned().collect();
    shapes::add_user_shape(&mut doc, &resource_paths);
    (router, doc)
}

/// An optional body is left out to mean "none", so its schema is the body's own rather than
/// `oneOf: [body, null]` (which utoipa gives an `Option`): generated clients then make it an
/// optional argument that they leave out, instead of sending it empty. The routes still take a
/// `null` body as none, as their descriptions say.
fn plain_optional_bodies(doc: &mut OpenApiDoc) {
    use utoipa::openapi::{RefOr, Required, schema::Schema};
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.put, &mut item.post, &mut item.patch]
            .into_iter()
            .flatten()
        {
            let Some(RefOr::T(body)) = &mut operation.request_body else {
                continue;
            };
            if body.required == Some(Required::True) {
                continue;
            }
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content
                    && let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
                    && let [RefOr::Ref(own), _] | [_, RefOr::Ref(own)] = one_of.items.as_slice()
                {
                    content.schema = Some(RefOr::Ref(own.clone()));
                }
            }
        }
    }
}

/// The OpenAPI 3.1 document served at `/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    documented().1
}

/// The routes and the middleware every request passes, outermost last: rate limit, identify
/// the caller, catch panics, hardening, metrics, request log. All are route layers, so each
/// sees the matched route template. `/mcp` is served here too, outside the OpenAPI document.
pub fn router(state: AppState) -> Result<Router, String> {
    let (v1, doc) = documented();
    let (by_user, _) = resources().split_for_parts();
    let routes = v1
        .nest("/api/{user_id}", by_user)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .merge(mcp::routes(&state))
        .merge(crate::web::routes())
        .merge(crate::dav::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::enforce,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(CatchPanicLayer::custom(panic_response));
    Ok(hardening::apply(routes, &state.http)?
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn(access_log::log))
        .with_state(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(uri: &str, key: &str, value: &str) -> String {
        let mut headers = HeaderMap::new();
        link_next(&mut headers, &uri.parse().expect("uri"), key, value);
        headers[header::LINK].to_str().expect("ascii").to_owned()
    }

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_the_cursor() {
        assert_eq!(
            next("/api/v1/tasks", "cursor", "abc"),
            "</api/v1/tasks?cursor=abc>; rel=\"next\""
        );
        assert_eq!(
            next("/api/v1/tasks?limit=5&cursor=old&tag=x", "cursor", "new"),
            "</api/v1/tasks?limit=5&tag=x&cursor=new>; rel=\"next\""
        );
        assert_eq!(
            next("/api/v1/conversations/c1?limit=3&before=9", "before", "4"),
            "</api/v1/conversations/c1?limit=3&before=4>; rel=\"next\""
        );
    }
}
