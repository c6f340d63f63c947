//! Settings: name and time zone, API keys (the secret shown once), apps connected with OAuth,
//! export and import, and the account: password, sessions, deleting it.
//! Export and import are links to the JSON API (the session cookie authenticates them).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use todo_core::accounts::{
    AccountDeletionInput, ApiKeyInput, CredentialKind, PasswordChangeInput, ProfileInput,
};
use todo_core::api_key::Scope;
use todo_core::ids::ApiKeyId;
use todo_core::notify::{NotificationSettings, NotificationsInput};
use todo_core::page::ListTasksRequest;
use todo_core::patch::Patch;
use todo_core::time::now;
use todo_core::user::find_timezone;

use super::view::moment_label;
use super::{Layout, PageResult, WebUser, failure, redirect_with_error, render, render_with};
use crate::AppState;
use crate::auth::cookie;
use crate::extract::{Path, Query};

struct AppView {
    id: String,
    name: String,
    client_id: String,
    scopes: String,
    connected: String,
    last_used: String,
}

/// One of the user's logins, as the Account section lists it.
struct SessionView {
    id: String,
    started: String,
    expires: String,
    current: bool,
}

struct KeyView {
    id: ApiKeyId,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    name: String,
    email: String,
    timezone: String,
    zones: Vec<&'static str>,
    keys: Vec<KeyView>,
    apps: Vec<AppView>,
    sessions: Vec<SessionView>,
    new_key: Option<(String, String)>,
    csrf: String,
    notice: String,
    error: String,
    /// What the server's chat offers: the LLM-key section says plainly when it cannot be used.
    llm: todo_core::chat::agent::Availability,
    /// Where reminders go; none for an app's OAuth token (the account's business, not an app's).
    channels: Option<NotificationSettings>,
}

#[derive(Deserialize, Default)]
pub struct Notices {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
}

async fn settings_page(
    state: &AppState,
    user: &WebUser,
    notices: Notices,
    new_key: Option<(String, String)>,
    typed: Option<Typed>,
) -> PageResult {
    let me = state.todo.me(user.id()).await?;
    let tz: chrono_tz::Tz = me.timezone.parse().unwrap_or(chrono_tz::UTC);
    let at = now();
    let when = |t| moment_label(t, tz, at);
    let keys = state
        .todo
        .list_api_keys(user.id())
        .await?
        .into_iter()
        .map(|k| KeyView {
            scopes: k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: when(k.created_at),
            last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            id: k.id,
            name: k.name,
            prefix: k.prefix,
        })
        .collect();
    let apps = state
        .todo
        .connected_apps(user.id())
        .await?
        .into_iter()
        .map(|a| AppView {
            scopes: a.scopes.join(", "),
            connected: when(a.created_at),
            last_used: a.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            id: a.id,
            name: a.client_name,
            client_id: a.client_id,
        })
        .collect();
    // An app's OAuth token may read this page but not the account's sessions: none listed.
    let sessions = match state.todo.sessions(&user.principal).await {
        Ok(sessions) => sessions,
        Err(todo_core::Error::Forbidden(_)) => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    let mut sessions = sessions;
    // This browser first, then the newest.
    sessions.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then(b.created_at.cmp(&a.created_at))
    });
    let sessions: Vec<SessionView> = sessions
        .into_iter()
        .map(|s| SessionView {
            started: when(s.created_at),
            expires: when(s.expires_at),
            id: s.id,
            current: s.current,
        })
        .collect();
    let channels = match state.todo.notifications(&user.principal).await {
        Ok(channels) => Some(channels),
        Err(todo_core::Error::Forbidden(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let display = me.name.clone().or(me.email.clone()).unwrap_or_default();
    let status = if typed.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (name, timezone) = match typed {
        Some(typed) => (typed.name, typed.timezone),
        None => (me.name.unwrap_or_default(), me.timezone),
    };
    render_with(
        status,
        &SettingsPage {
            layout: user.layout(display, "settings"),
            name,
            email: me.email.unwrap_or_default(),
            timezone,
            zones: zone_names(),
            keys,
            apps,
            sessions,
            new_key,
            csrf: user.csrf.clone(),
            notice: notices.notice,
            error: notices.error,
            llm: state.chat.availability(),
            channels,
        },
    )
}

/// What the page script needs to know about the assistant: whether to offer the chat at all
/// (a server without a language model hides it rather than failing each message).
pub async fn assistant(
    State(state): State<AppState>,
    _user: WebUser,
) -> axum::Json<serde_json::Value> {
    let offer = state.chat.availability();
    axum::Json(serde_json::json!({
        "chat": offer.endpoint,
        "default_model": offer.default_model,
        "own_keys": offer.own_keys,
    }))
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Query(notices): Query<Notices>,
) -> PageResult {
    settings_page(&state, &user, notices, None, None).await
}

/// A profile form refused for what was typed: shown again as typed, with the message.
struct Typed {
    name: String,
    timezone: String,
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    timezone: String,
    /// Set by the confirmation page: the zone change was asked about and agreed to.
    #[serde(default)]
    confirm_zone: String,
}

/// Asked before a zone change: what happens to the user's timed tasks, with one of theirs.
#[derive(Template)]
#[template(path = "zone.html")]
struct ZonePage {
    layout: Layout,
    name: String,
    from: String,
    to: String,
    zones: Vec<&'static str>,
    /// A task of the user's with a floating time: (title, "09:30").
    example: Option<(String, String)>,
    csrf: String,
}

/// Every IANA zone, for the pickers' `<datalist>`.
fn zone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// One open task whose time floats with the zone, to name in the question.
async fn floating_example(
    state: &AppState,
    user: &WebUser,
) -> Result<Option<(String, String)>, todo_core::Error> {
    let request = ListTasksRequest {
        status: Some("pending".into()),
        sort: Some("due_at".into()),
        limit: Some(50),
        ..ListTasksRequest::default()
    };
    let page = state.todo.list_tasks(user.id(), &request).await?;
    Ok(page
        .items
        .into_iter()
        .find_map(|task| match (task.due_local, &task.due_timezone) {
            (Some(local), None) => Some((task.title, local.format("%H:%M").to_string())),
            _ => None,
        }))
}

pub async fn profile(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let me = state.todo.me(user.id()).await?;
    let typed = form.timezone.trim();
    // The picker finds a zone by its name or its city ("Paris"); an unknown one is refused
    // with what was typed kept.
    let zone = match find_timezone(typed) {
        Some(zone) => zone,
        None if typed.is_empty() => me.timezone.as_str(),
        None => {
            let notices = Notices {
                notice: String::new(),
                error: format!(
                    "“{typed}” is not a time zone: type a city (Paris) or a zone (Europe/Paris) and pick it from the list."
                ),
            };
            let typed = Typed {
                name: form.name,
                timezone: form.timezone,
            };
            return settings_page(&state, &user, notices, None, Some(typed)).await;
        }
    }
    .to_owned();
    if zone != me.timezone && form.confirm_zone != "yes" {
        // A zone change moves the moment of every floating due: ask first, saying what stays.
        let display = me.name.clone().or(me.email.clone()).unwrap_or_default();
        return render(&ZonePage {
            layout: user.layout(display, "settings"),
            name: form.name,
            from: me.timezone,
            zones: zone_names(),
            to: zone,
            example: floating_example(&state, &user).await?,
            csrf: user.csrf.clone(),
        });
    }
    let input = ProfileInput {
        name: if form.name.trim().is_empty() {
            Patch::Null
        } else {
            Patch::Value(form.name)
        },
        timezone: Some(zone),
    };
    match state.todo.update_profile(user.id(), input).await {
        Ok(_) => Ok(Redirect::to("/settings?notice=Profile+saved").into_response()),
        Err(err) => Ok(redirect_with_error("/settings", &failure(err).1)),
    }
}

#[derive(Deserialize)]
pub struct NotificationsForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    /// Checkboxes: absent when unticked.
    in_app: Option<String>,
    email: Option<String>,
    push: Option<String>,
    /// An hour, or empty for no digest.
    #[serde(default)]
    digest_hour: String,
}

/// Saves the channels form: every box as it was left, the digest hour or none.
pub async fn notifications(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<NotificationsForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let digest_hour = match form.digest_hour.trim() {
        "" => Patch::Null,
        hour => match hour.parse::<i64>() {
            Ok(hour) => Patch::Value(hour),
            Err(_) => {
                let message = "Pick the digest's hour from the list.";
                return Ok(redirect_with_error("/settings", message));
            }
        },
    };
    let input = NotificationsInput {
        in_app: Some(form.in_app.is_some()),
        email: Some(form.email.is_some()),
        push: Some(form.push.is_some()),
        digest_hour,
    };
    match state
        .todo
        .update_notifications(&user.principal, input)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to("/settings?notice=Notifications+saved#notifications").into_response())
        }
        Err(err) => Ok(redirect_with_error("/settings", &failure(err).1)),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    /// Checkbox: absent when unticked.
    write: Option<String>,
}

/// Creates a key and shows its secret on this one page; it is never shown again.
pub async fn create_key(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let scopes = if form.write.is_some() {
        vec![Scope::Read, Scope::Write]
    } else {
        vec![Scope::Read]
    };
    let input = ApiKeyInput {
        name: form.name,
        scopes: Some(scopes),
        expires_at: None,
    };
    match state.todo.create_api_key(&user.principal, input).await {
        Ok(created) => {
            let new_key = Some((created.key.name, created.secret));
            settings_page(&state, &user, Notices::default(), new_key, None).await
        }
        Err(err) => Ok(redirect_with_error("/settings", &failure(err).1)),
    }
}

#[derive(Deserialize)]
pub struct KeyPath {
    id: ApiKeyId,
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn revoke_key(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(KeyPath { id }): Path<KeyPath>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    state.todo.revoke_api_key(&user.principal, &id).await?;
    Ok(Redirect::to("/settings?notice=Key+revoked").into_response())
}

#[derive(Deserialize)]
pub struct AppPath {
    id: String,
}

/// Disconnects an app connected with OAuth: its tokens stop working at once.
pub async fn revoke_app(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(AppPath { id }): Path<AppPath>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    state
        .todo
        .revoke_connected_app(&user.principal, &id)
        .await?;
    Ok(Redirect::to("/settings?notice=App+disconnected").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the password; every other session ends (`Todo::change_password`), this one stays.
pub async fn change_password(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let input = PasswordChangeInput {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match state.todo.change_password(&user.principal, input).await {
        Ok(()) => Ok(Redirect::to(
            "/settings?notice=Password+changed.+Your+other+devices+were+signed+out.#account",
        )
        .into_response()),
        Err(err) => Ok(redirect_with_error(
            "/settings",
            &password_message(failure(err).1),
        )),
    }
}

/// The core names the form field (`current_password: …`); the page says it in words.
fn password_message(detail: String) -> String {
    for (field, words) in [
        ("current_password: ", "Current password "),
        ("new_password: ", "New password "),
        ("password: ", "Password "),
    ] {
        if let Some(rest) = detail.strip_prefix(field) {
            return format!("{words}{rest}");
        }
    }
    detail
}

#[derive(Deserialize)]
pub struct SessionPath {
    id: String,
}

/// Signs out one of the user's other logins (another's is the 404 page, from the core). Ending
/// this one is logging out.
pub async fn end_session(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(SessionPath { id }): Path<SessionPath>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    state.todo.end_session(&user.principal, &id).await?;
    if matches!(&user.principal.credential, CredentialKind::Session(current) if *current == id) {
        return Ok(signed_out(&headers, "/login"));
    }
    Ok(Redirect::to("/settings?notice=Signed+out+that+session#account").into_response())
}

#[derive(Deserialize)]
pub struct DeleteAccountForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// Deletes the account and its data, the password confirming it; then the login page.
pub async fn delete_account(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<DeleteAccountForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    let input = AccountDeletionInput {
        password: form.password,
    };
    match state.todo.delete_account(&user.principal, input).await {
        Ok(()) => Ok(signed_out(&headers, "/login?deleted=1")),
        Err(err) => Ok(redirect_with_error(
            "/settings",
            &password_message(failure(err).1),
        )),
    }
}

/// To `to` with the session cookie cleared.
fn signed_out(headers: &HeaderMap, to: &str) -> axum::response::Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(
        axum::http::header::SET_COOKIE,
        cookie::clear_session(cookie::is_https(headers)),
    );
    response
}
