//! Sign up, log in and log out: forms that set and clear the session cookie.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use todo_core::accounts::{CredentialKind, LoginInput, ProfileInput, Session, SignupInput};

use super::{PageError, PageResult, WebUser, assets, failure, render, render_with};
use crate::AppState;
use crate::auth::cookie;
use crate::extract::Query;
use crate::rate_limit;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    asset_v: &'static str,
    email: String,
    error: Option<String>,
    /// Where to go once signed in (a path on this site: an app's consent page).
    next: String,
    /// Said above the form after the account was deleted or the password reset (a fixed
    /// text, never from the URL).
    notice: Option<&'static str>,
    /// Whether to offer "Forgot password?" (email is sent).
    forgot: bool,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    asset_v: &'static str,
    email: String,
    sends_mail: bool,
    /// The request was made: "check your email".
    sent: bool,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    asset_v: &'static str,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize, Default)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    asset_v: &'static str,
    email: String,
    name: String,
    error: Option<String>,
    /// Where to go once signed up (as for [`LoginPage`]).
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    /// `1` after deleting the account.
    #[serde(default)]
    deleted: String,
    /// `1` after a password reset.
    #[serde(default)]
    reset: String,
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    /// Filled in by the page script from the browser's time zone.
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> PageResult {
    let notice = if query.deleted == "1" {
        Some("Your account and its data were deleted.")
    } else if query.reset == "1" {
        Some("Your password was changed and every device signed out. Log in with the new one.")
    } else {
        None
    };
    render(&LoginPage {
        asset_v: assets::version(),
        email: String::new(),
        error: None,
        next: super::safe_return(&query.next).to_owned(),
        notice,
        forgot: state.todo.sends_mail(),
    })
}

/// "Forgot password?": the form, or (without email) why there is none.
pub async fn forgot_page(State(state): State<AppState>) -> PageResult {
    render(&ForgotPage {
        asset_v: assets::version(),
        email: String::new(),
        sends_mail: state.todo.sends_mail(),
        sent: false,
    })
}

/// Sends the link (off the request, as the API does) and says "check your email" whatever
/// the address: the page tells no one who has an account.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> PageResult {
    refuse_cross_site(&headers)?;
    rate_limit::check_login_target(&state, &form.email).await?;
    crate::api::accounts::request_reset(&state, form.email.clone());
    render(&ForgotPage {
        asset_v: assets::version(),
        email: form.email.trim().to_owned(),
        sends_mail: state.todo.sends_mail(),
        sent: true,
    })
}

/// The page a reset link opens: a new password for the token in the link.
pub async fn reset_page(Query(query): Query<ResetQuery>) -> PageResult {
    render(&ResetPage {
        asset_v: assets::version(),
        token: query.token,
        error: None,
    })
}

/// Sets the new password; back to the login page with a message, or the form again with
/// what was wrong.
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> PageResult {
    refuse_cross_site(&headers)?;
    match state
        .todo
        .confirm_password_reset(&form.token, form.new_password)
        .await
    {
        Ok(()) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(err) => {
            let (status, message) = match err {
                todo_core::Error::Validation(errors) => {
                    let message = errors
                        .iter()
                        .map(|e| match e.field.as_str() {
                            "new_password" => format!("The new password {}.", e.message),
                            _ => format!("{}: ask for a new one.", capitalized(&e.message)),
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, message)
                }
                other => failure(other),
            };
            render_with(
                status,
                &ResetPage {
                    asset_v: assets::version(),
                    token: form.token,
                    error: Some(message),
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyEmailPage {
    asset_v: &'static str,
    token: String,
    /// The address is confirmed (after the button).
    done: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct VerifyEmailForm {
    #[serde(default)]
    token: String,
}

/// The page a confirmation link opens: a button that confirms. The GET changes nothing (mail
/// scanners follow links).
pub async fn verify_email_page(Query(query): Query<ResetQuery>) -> PageResult {
    render(&VerifyEmailPage {
        asset_v: assets::version(),
        token: query.token,
        done: false,
        error: None,
    })
}

/// Confirms the address; says so, or why the link does not work. Needs no session (the link
/// may be opened on another device): the token is the proof.
pub async fn verify_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<VerifyEmailForm>,
) -> PageResult {
    refuse_cross_site(&headers)?;
    let (status, done, error) = match state.todo.verify_email(&form.token).await {
        Ok(_) => (axum::http::StatusCode::OK, true, None),
        Err(todo_core::Error::Validation(errors)) => {
            let message = errors
                .first()
                .map(|e| format!("{}.", capitalized(&e.message)))
                .unwrap_or_default();
            (
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                false,
                Some(message),
            )
        }
        Err(err) => return Err(err.into()),
    };
    render_with(
        status,
        &VerifyEmailPage {
            asset_v: assets::version(),
            token: form.token,
            done,
            error,
        },
    )
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

pub async fn signup_page(Query(query): Query<LoginQuery>) -> PageResult {
    render(&SignupPage {
        asset_v: assets::version(),
        email: String::new(),
        name: String::new(),
        error: None,
        next: super::safe_return(&query.next).to_owned(),
    })
}

/// Logging in from another site's form would sign the visitor into someone else's account.
fn refuse_cross_site(headers: &HeaderMap) -> Result<(), PageError> {
    if cookie::is_cross_site_sign_in(headers) {
        return Err(PageError::Api(crate::error::ApiError::forbidden(
            "csrf",
            "log in from this site's own page",
        )));
    }
    Ok(())
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    refuse_cross_site(&headers)?;
    rate_limit::check_login_target(&state, &form.email).await?;
    let input = LoginInput {
        email: form.email.clone(),
        password: form.password,
    };
    match state.todo.login(input).await {
        Ok((_, session)) => signed_in(&state, &headers, &session, &form.next),
        Err(err) => {
            if matches!(err, todo_core::Error::Unauthenticated(_)) {
                crate::metrics::auth_failure("wrong_password");
            }
            let busy = is_busy(&err);
            let (status, message) = failure(err);
            let page = render_with(
                status,
                &LoginPage {
                    asset_v: assets::version(),
                    email: form.email,
                    error: Some(message),
                    next: super::safe_return(&form.next).to_owned(),
                    notice: None,
                    forgot: state.todo.sends_mail(),
                },
            );
            retry_soon_if(busy, page)
        }
    }
}

pub async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignupForm>,
) -> PageResult {
    refuse_cross_site(&headers)?;
    let name = Some(form.name.clone()).filter(|n| !n.trim().is_empty());
    let input = SignupInput {
        email: form.email.clone(),
        password: form.password,
        name,
        // Set below through the profile, so a zone the browser reports wrong never blocks
        // a sign-up.
        timezone: None,
    };
    match state.todo.signup(input).await {
        Ok((user, session)) => {
            if !form.timezone.is_empty() && form.timezone != user.timezone {
                let profile = ProfileInput {
                    timezone: Some(form.timezone),
                    ..ProfileInput::default()
                };
                // An unknown zone from an odd browser is not worth failing the signup for.
                if let Err(e) = state.todo.update_profile(&user.id, profile).await {
                    tracing::debug!(error = %e, "browser time zone not accepted at signup");
                }
            }
            signed_in(&state, &headers, &session, &form.next)
        }
        Err(err) => {
            let busy = is_busy(&err);
            let (status, message) = failure(err);
            let page = render_with(
                status,
                &SignupPage {
                    asset_v: assets::version(),
                    email: form.email,
                    name: form.name,
                    error: Some(message),
                    next: super::safe_return(&form.next).to_owned(),
                },
            );
            retry_soon_if(busy, page)
        }
    }
}

fn is_busy(err: &todo_core::Error) -> bool {
    matches!(err, todo_core::Error::Busy(_))
}

/// Every password thread and its queue were taken: the form comes back (503, from
/// [`failure`]) with `Retry-After`, as the API's problem does.
fn retry_soon_if(busy: bool, page: PageResult) -> PageResult {
    page.map(|mut response| {
        if busy {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    })
}

/// Sets the session cookie and goes on to `next` (a path on this site, else the task list).
fn signed_in(state: &AppState, headers: &HeaderMap, session: &Session, next: &str) -> PageResult {
    let issued = state.auth.keys().issue(session)?;
    let next = match super::safe_return(next) {
        "" => "/",
        path => path,
    };
    let mut response = Redirect::to(next).into_response();
    if let Some(value) =
        cookie::set_session(&issued.token, issued.expires_at, cookie::is_https(headers))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: WebUser,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_form(&state, &headers, &form.csrf)?;
    if let CredentialKind::Session(id) = &user.principal.credential {
        state.todo.logout(id).await?;
    }
    let mut response: Response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie::clear_session(cookie::is_https(&headers)),
    );
    Ok(response)
}
