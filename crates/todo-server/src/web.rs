//! The web app: server-rendered pages (askama templates compiled into the binary) over the same
//! core use cases as the JSON API, plus a small script that enhances them. Every core flow is a
//! plain HTML form that works without JavaScript; with it, forms are sent with `fetch` and the
//! server answers an HTML fragment instead of a redirect (header `X-Fragment: 1`), so rows are
//! rendered in one place only. See docs/web.md.

mod account;
pub(crate) mod assets;
mod comments;
mod projects;
mod settings;
mod sharing;
mod tags;
mod tasks;
mod unsubscribe;
mod view;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use todo_core::accounts::{CredentialKind, Principal};
use todo_core::ids::UserId;

use crate::AppState;
use crate::auth::{Caller, check_csrf};
use crate::error::ApiError;

/// Pages load nothing from anywhere but this server: no inline script or style, no CDN.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Request header of the page script: answer with an HTML fragment, not a redirect.
const FRAGMENT_HEADER: &str = "x-fragment";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(tasks::list))
        .route("/login", get(account::login_page).post(account::login))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route("/logout", post(account::logout))
        .route(
            "/forgot-password",
            get(account::forgot_page).post(account::forgot),
        )
        .route("/reset", get(account::reset_page).post(account::reset))
        .route(
            "/verify-email",
            get(account::verify_email_page).post(account::verify_email),
        )
        .route(
            "/unsubscribe",
            get(unsubscribe::page_get).post(unsubscribe::confirm),
        )
        .route("/tasks", post(tasks::quick_add))
        .route("/today/reschedule-overdue", post(tasks::reschedule_overdue))
        .route("/tasks/{id}", post(tasks::save))
        .route("/tasks/{id}/edit", get(tasks::edit))
        .route("/tasks/{id}/row", get(tasks::row))
        .route("/tasks/{id}/complete", post(tasks::complete))
        .route("/tasks/{id}/delete", post(tasks::delete))
        .route(
            "/tasks/{id}/move",
            get(projects::move_page).post(projects::move_task),
        )
        .route("/tasks/{id}/subtask", get(projects::subtask_page))
        .route("/tasks/{id}/comments", post(comments::add))
        .route("/comments/{id}", post(comments::edit))
        .route("/comments/{id}/delete", post(comments::delete))
        .route("/projects", post(projects::create))
        .route("/projects/new", get(projects::new_page))
        .route("/projects/{id}", get(projects::page).post(projects::update))
        .route("/projects/{id}/archive", post(projects::archive))
        .route("/projects/{id}/delete", post(projects::delete))
        .route("/projects/{id}/sections", post(projects::create_section))
        .route("/projects/{id}/activity", get(sharing::activity))
        .route("/projects/{id}/invitations", post(sharing::invite))
        .route(
            "/projects/{id}/invitations/{invitation_id}/cancel",
            post(sharing::cancel_invitation),
        )
        .route(
            "/projects/{id}/members/{member_id}",
            post(sharing::change_role),
        )
        .route(
            "/projects/{id}/members/{member_id}/remove",
            post(sharing::remove_member),
        )
        .route("/invitations", get(sharing::invitations_page))
        .route(
            "/invitations/verify-email",
            post(sharing::send_verification),
        )
        .route("/invitations/{id}/accept", post(sharing::accept))
        .route("/invitations/{id}/decline", post(sharing::decline))
        .route("/sections/{id}", post(projects::rename_section))
        .route("/sections/{id}/delete", post(projects::delete_section))
        .route("/settings", get(settings::page))
        .route("/assistant", get(settings::assistant))
        .route("/settings/profile", post(settings::profile))
        .route("/settings/notifications", post(settings::notifications))
        .route("/settings/password", post(settings::change_password))
        .route("/settings/sessions/{id}/end", post(settings::end_session))
        .route("/settings/delete-account", post(settings::delete_account))
        .route("/settings/tags", get(tags::page))
        .route("/settings/tags/{id}", post(tags::update))
        .route("/settings/tags/{id}/delete", post(tags::delete))
        .route("/settings/api-keys", post(settings::create_key))
        .route("/settings/api-keys/{id}/revoke", post(settings::revoke_key))
        .route(
            "/settings/connected-apps/{id}/revoke",
            post(settings::revoke_app),
        )
        .route("/assets/{file}", get(assets::serve))
        .route("/manifest.webmanifest", get(assets::manifest))
        .route("/sw.js", get(assets::service_worker))
        .route("/offline", get(assets::offline_page))
}

/// What every page's layout shows.
pub struct Layout {
    pub csrf: String,
    /// Whose page it is: the page script keeps its offline queue for this user only.
    pub user_id: String,
    pub asset_v: &'static str,
    pub user_name: String,
    /// The current section, for `aria-current` in the navigation.
    pub nav: &'static str,
    /// Inbox, Today, Upcoming and the projects, on the task pages.
    pub sidebar: Option<projects::Sidebar>,
}

/// A signed-in visitor of the pages (by the session cookie, or a Bearer token).
pub struct WebUser {
    pub principal: Principal,
    pub csrf: String,
}

impl WebUser {
    pub fn id(&self) -> &UserId {
        &self.principal.user_id
    }

    /// Refuses the form unless it carries this session's CSRF token and comes from this site.
    pub fn check_form(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        token: &str,
    ) -> Result<(), PageError> {
        let presented = headers
            .get(crate::auth::cookie::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or(Some(token).filter(|t| !t.is_empty()));
        check_csrf(state, &self.principal, headers, presented).map_err(PageError::Api)
    }

    pub fn layout(&self, user_name: String, nav: &'static str) -> Layout {
        Layout {
            csrf: self.csrf.clone(),
            user_id: self.id().to_string(),
            asset_v: assets::version(),
            user_name,
            nav,
            sidebar: None,
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::of(parts, state).await;
        match caller.outcome() {
            Some(Ok(principal)) => {
                // The same scope rule as the API: a read-only key may look, not change.
                let principal = crate::auth::authorize(parts, state, principal.clone())
                    .await
                    .map_err(IntoResponse::into_response)?;
                let csrf = match &principal.credential {
                    CredentialKind::Session(id) => state.auth.csrf().token(id),
                    _ => String::new(),
                };
                Ok(WebUser { principal, csrf })
            }
            _ if is_fragment(&parts.headers) => {
                Err(ApiError::unauthenticated("log in again").into_response())
            }
            _ => Err(Redirect::to(&login_then(parts)).into_response()),
        }
    }
}

/// The sign-in page, coming back afterwards to the page asked for (a GET of this site's own
/// path: `next` is checked again by [`safe_return`] when it is used).
fn login_then(parts: &Parts) -> String {
    let wanted = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    if parts.method != axum::http::Method::GET || wanted == "/" || safe_return(wanted) == "/" {
        return "/login".to_owned();
    }
    let query = serde_html_form::to_string([("next", wanted)]).unwrap_or_default();
    format!("/login?{query}")
}

/// How a page request fails: a problem the script can show, or a core error.
pub enum PageError {
    Api(ApiError),
    /// The caller's role in a project does not allow the action: a page that says so.
    Forbidden(String),
}

impl From<todo_core::Error> for PageError {
    fn from(err: todo_core::Error) -> Self {
        match err {
            todo_core::Error::InsufficientRole(detail) => PageError::Forbidden(detail),
            err => PageError::Api(err.into()),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        PageError::Api(err)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Api(err) => {
                let status = err.status();
                if status == StatusCode::NOT_FOUND {
                    // A plain page, not JSON, for a person who followed a stale link.
                    return (
                        status,
                        page_headers(),
                        axum::response::Html(format!(
                            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
                             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                             <title>Not found · todo</title>\
                             <link rel=\"stylesheet\" href=\"/assets/app.css?v={}\">\
                             <body class=\"auth\"><main id=\"main\" class=\"card\">\
                             <h1>Not found</h1><p>This page does not exist, or is not yours. \
                             <a href=\"/\">Back to your tasks</a></p></main></body></html>",
                            assets::version()
                        )),
                    )
                        .into_response();
                }
                err.into_response()
            }
            PageError::Forbidden(detail) => {
                let page = ForbiddenPage {
                    detail: &detail,
                    asset_v: assets::version(),
                };
                match render_with(StatusCode::FORBIDDEN, &page) {
                    Ok(response) => response,
                    Err(PageError::Api(err)) => err.into_response(),
                    Err(PageError::Forbidden(_)) => StatusCode::FORBIDDEN.into_response(),
                }
            }
        }
    }
}

/// The 403 page: a plain explanation, the detail escaped as every template's is.
#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage<'a> {
    detail: &'a str,
    asset_v: &'static str,
}

pub type PageResult = Result<Response, PageError>;

/// The page a person gets at a rate limit, in the app's style.
#[derive(Template)]
#[template(path = "limited.html")]
struct LimitedPage {
    asset_v: &'static str,
    /// Sign-in attempts (the `auth` policy), rather than reads or changes.
    signing_in: bool,
    /// A read: the page loads itself again when the time is up (`<meta http-equiv=refresh>`,
    /// no script). A refused form is not sent again on its own.
    reload: bool,
    seconds: u64,
}

/// Whether a refused request is a person's page load or form post (a browser asking for
/// HTML, outside the API and not the page script's fragment fetch): such a request is
/// answered with [`limited_page`] rather than a JSON problem.
pub(crate) fn wants_page(headers: &HeaderMap, route: Option<&str>) -> bool {
    let machine = [
        "/api/",
        "/mcp",
        "/dav",
        "/.well-known",
        "/oauth/token",
        "/oauth/register",
    ];
    let accepts_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    accepts_html
        && !is_fragment(headers)
        && !route.is_some_and(|r| machine.iter().any(|m| r.starts_with(m)))
}

/// 429 as a page: what happened, when to try again, with `Retry-After`.
pub(crate) fn limited_page(
    policy: crate::rate_limit::PolicyName,
    seconds: u64,
    reload: bool,
) -> Response {
    let page = LimitedPage {
        asset_v: assets::version(),
        signing_in: policy == crate::rate_limit::PolicyName::Auth,
        reload,
        seconds,
    };
    let mut response = match render_with(StatusCode::TOO_MANY_REQUESTS, &page) {
        Ok(response) => response,
        Err(_) => StatusCode::TOO_MANY_REQUESTS.into_response(),
    };
    if let Ok(value) = HeaderValue::try_from(seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn page_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// A rendered template with the pages' headers.
pub fn render(template: &impl Template) -> PageResult {
    render_with(StatusCode::OK, template)
}

pub fn render_with(status: StatusCode, template: &impl Template) -> PageResult {
    let html = template.render().map_err(|e| ApiError::internal(&e))?;
    Ok((status, page_headers(), axum::response::Html(html)).into_response())
}

pub fn is_fragment(headers: &HeaderMap) -> bool {
    headers.contains_key(FRAGMENT_HEADER)
}

/// Where a form says to go back to: a path on this site only (no open redirect). Control
/// characters are refused too: browsers drop tabs and newlines from URLs (`/\t/evil.example`
/// would become `//evil.example`), and a newline cannot go in a `Location` header at all.
pub fn safe_return(raw: &str) -> &str {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    if ok { raw } else { "/" }
}

/// 303 to `to` with a message for the page to show (used when there is no script).
pub fn redirect_with_error(to: &str, message: &str) -> Response {
    let separator = if to.contains('?') { '&' } else { '?' };
    let query = serde_html_form::to_string(&[("error", message)][..]).unwrap_or_default();
    Redirect::to(&format!("{to}{separator}{query}")).into_response()
}

/// A core error as a page shows it: the status and detail the JSON API would answer with
/// (validation messages field by field), or a plain apology where the detail is ours alone.
pub fn failure(err: todo_core::Error) -> (StatusCode, String) {
    let error = crate::error::ApiError::from(err);
    let message = error
        .detail()
        .unwrap_or("something went wrong; try again")
        .to_owned();
    (error.status(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_role_that_does_not_allow_it_gets_the_403_page_with_the_detail_escaped() {
        let err = todo_core::Error::InsufficientRole("a project's <viewer> may not".into());
        let response = PageError::from(err).into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let csp = response.headers().get(header::CONTENT_SECURITY_POLICY);
        assert_eq!(csp.and_then(|v| v.to_str().ok()), Some(PAGE_CSP));
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("a body");
        let page = String::from_utf8_lossy(&body);
        assert!(page.contains("<h1>Not allowed</h1>"), "{page}");
        assert!(page.contains("&#60;viewer&#62;"), "escaped: {page}");
    }

    #[test]
    fn other_core_errors_stay_problems() {
        let err = todo_core::Error::invalid("name", "must not be empty");
        assert!(matches!(PageError::from(err), PageError::Api(_)));
    }
}
