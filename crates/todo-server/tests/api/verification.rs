//! Confirming an email address: while the server sends mail, accepting an invitation needs a
//! confirmed address (else whoever signs up first with an address takes what it is invited
//! to). The confirmation email is read from the job queue here (composed, not sent); its
//! delivery over SMTP is checked in tests/mail.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::json;
use todo_core::Todo;
use todo_core::api_key::hash_secret;
use todo_core::jobs::JobKind;
use todo_core::mail::{Mail, Mailer};
use todo_server::{AppState, Settings};

use crate::helpers::{TestApp, TestResponse, TestUser, auth_settings};

/// A mailer that is never reached: messages are read from the queue.
struct Unused;

#[async_trait]
impl Mailer for Unused {
    async fn send(&self, _mail: &Mail) -> Result<(), String> {
        Err("not in these tests".into())
    }
}

/// A server that sends email (a mailer and a public URL), on a fresh database.
async fn mailing_app() -> TestApp {
    let plain = TestApp::spawn().await;
    let todo = Todo::new(plain.db.store.clone())
        .with_mailer(Some(Arc::new(Unused)))
        .with_public_url(Some("https://todo.example"));
    let mut settings = Settings::new(auth_settings());
    // The server's public URL is the settings' (it replaces the one given to `Todo`).
    settings.mcp.public_url = Some("https://todo.example".into());
    let state = AppState::new(todo.clone(), &settings).expect("state");
    TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: plain.db.clone(),
    }
}

/// The messages queued since the last call.
async fn queued(app: &TestApp) -> Vec<Mail> {
    let jobs = app
        .todo
        .claim_jobs(JobKind::Email, Duration::seconds(60), 50)
        .await
        .expect("claim");
    let mut mails = Vec::new();
    for job in &jobs {
        if let Some(mail) = app.todo.mail_of(job).await.expect("mail") {
            mails.push(mail);
        }
    }
    mails
}

/// The token of the one confirmation message queued for `to` (others queued are dropped).
async fn confirmation_token(app: &TestApp, to: &str) -> String {
    let mails: Vec<Mail> = queued(app)
        .await
        .into_iter()
        .filter(|m| m.subject == "Confirm your email address" && m.to == to)
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let start = mails[0]
        .text
        .find("https://todo.example/verify-email?token=")
        .expect("the link")
        + "https://todo.example/verify-email?token=".len();
    mails[0].text[start..]
        .split_whitespace()
        .next()
        .expect("token")
        .to_owned()
}

async fn verify(app: &TestApp, token: &str) -> TestResponse {
    app.send(
        Method::POST,
        "/api/v1/auth/verify-email",
        None,
        Some(json!({ "token": token })),
    )
    .await
}

async fn verified(app: &TestApp, user: &TestUser) -> bool {
    let me = app.get("/api/v1/me", &user.token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    me.body["email_verified"].as_bool().expect("email_verified")
}

/// Ada's project, with an invitation to `email`; the invitation's id as its invitee sees it.
async fn invite(app: &TestApp, ada: &TestUser, email: &str) -> i64 {
    let project = app
        .post("/api/v1/projects", &ada.token, json!({"name": "Garden"}))
        .await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
    let id = project.body["id"].as_i64().expect("id");
    let invited = app
        .post(
            &format!("/api/v1/projects/{id}/invitations"),
            &ada.token,
            json!({ "email": email }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    invited.body["id"].as_i64().expect("invitation id")
}

async fn accept(app: &TestApp, user: &TestUser, id: i64) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/api/v1/invitations/{id}/accept"),
        Some(&user.token),
        None,
    )
    .await
}

#[tokio::test]
async fn sign_up_queues_a_confirmation_whose_token_confirms_once() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    assert!(!verified(&app, &ada).await);
    let token = confirmation_token(&app, "ada@example.com").await;

    let response = verify(&app, &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["id"], json!(ada.id));
    assert_eq!(response.body["email_verified"], json!(true));
    assert!(verified(&app, &ada).await);

    let again = verify(&app, &token).await;
    again.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.invalid_fields(), ["token"]);
    for bad in ["never-issued", "", &"x".repeat(500)] {
        let response = verify(&app, bad).await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn an_expired_token_and_a_reset_token_confirm_nothing() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    queued(&app).await;
    let now = Utc::now();
    let store = &app.db.store;
    store
        .insert_email_verification(
            &hash_secret("old-link"),
            &ada.id.clone().into(),
            "ada@example.com",
            now - Duration::days(8),
            now - Duration::days(1),
            3,
        )
        .await
        .expect("insert");
    store
        .insert_password_reset(
            &hash_secret("reset-link"),
            &ada.id.clone().into(),
            now,
            now + Duration::hours(1),
        )
        .await
        .expect("insert");
    for token in ["old-link", "reset-link"] {
        verify(&app, token)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(!verified(&app, &ada).await);
    // Nor does a confirmation token set a password.
    store
        .insert_email_verification(
            &hash_secret("confirm-link"),
            &ada.id.clone().into(),
            "ada@example.com",
            now,
            now + Duration::days(7),
            3,
        )
        .await
        .expect("insert");
    let body = json!({"token": "confirm-link", "new_password": "a brand new password"});
    app.send(
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        None,
        Some(body),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_unconfirmed_address_cannot_accept_but_can_decline() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let first = invite(&app, &ada, "bob@example.com").await;
    let second = invite(&app, &ada, "bob@example.com").await;
    let token = confirmation_token(&app, "bob@example.com").await;

    let refused = accept(&app, &bob, first).await;
    let problem = refused.problem(StatusCode::FORBIDDEN);
    assert_eq!(problem["type"], "urn:todo:problem:email-unverified");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("Confirm your email address first: we sent a link to bob@example.com"),
        "{detail}"
    );
    assert_eq!(
        app.get("/api/v1/invitations", &bob.token)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(2),
        "nothing was accepted"
    );

    let declined = app
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{second}/decline"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT, "{}", declined.body);

    assert_eq!(verify(&app, &token).await.status, StatusCode::OK);
    let accepted = accept(&app, &bob, first).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["name"], "Garden");
}

#[tokio::test]
async fn another_users_token_confirms_only_their_address() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let mallory = app.signup("mallory@example.com").await;
    let mails = queued(&app).await;
    let token_of = |to: &str| {
        let mail = mails.iter().find(|m| m.to == to).expect("a message");
        let start = mail.text.find("token=").expect("link") + "token=".len();
        mail.text[start..]
            .split_whitespace()
            .next()
            .expect("token")
            .to_owned()
    };
    let response = verify(&app, &token_of("mallory@example.com")).await;
    assert_eq!(response.body["id"], json!(mallory.id));
    assert!(verified(&app, &mallory).await);
    assert!(!verified(&app, &ada).await, "Mallory's token is hers only");
    // Signed in as Ada makes no difference: the token names its account.
    let body = json!({ "token": token_of("ada@example.com") });
    let by_ada = app
        .send(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(&mallory.token),
            Some(body),
        )
        .await;
    assert_eq!(by_ada.body["id"], json!(ada.id));
    assert!(verified(&app, &ada).await);
}

#[tokio::test]
async fn a_password_reset_confirms_the_address() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let now = Utc::now();
    app.db
        .store
        .insert_password_reset(
            &hash_secret("reset-1"),
            &ada.id.clone().into(),
            now,
            now + Duration::hours(1),
        )
        .await
        .expect("insert");
    let body = json!({"token": "reset-1", "new_password": "a brand new password"});
    let reset = app
        .send(
            Method::POST,
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(body),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
    let login = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@example.com", "password": "a brand new password"})),
        )
        .await;
    assert_eq!(login.body["user"]["email_verified"], json!(true));
}

#[tokio::test]
async fn a_new_link_is_sent_on_request_until_the_address_is_confirmed() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let first = confirmation_token(&app, "ada@example.com").await;
    let resend = app
        .send(
            Method::POST,
            "/api/v1/me/email-verification",
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(resend.status, StatusCode::ACCEPTED, "{}", resend.body);
    let second = confirmation_token(&app, "ada@example.com").await;
    assert_ne!(first, second);
    assert_eq!(verify(&app, &second).await.status, StatusCode::OK);
    // The earlier link finds the address confirmed already: harmless.
    let again = app
        .send(
            Method::POST,
            "/api/v1/me/email-verification",
            Some(&ada.token),
            None,
        )
        .await;
    again.problem(StatusCode::CONFLICT);
    assert!(queued(&app).await.is_empty(), "nothing more is sent");

    let anonymous = app
        .send(Method::POST, "/api/v1/me/email-verification", None, None)
        .await;
    anonymous.problem(StatusCode::UNAUTHORIZED);
}

/// An account made with someone else's address cannot flood their inbox: three links an
/// hour at most (sign-up's included), refused plainly after that.
#[tokio::test]
async fn at_most_three_links_an_hour_go_to_an_address() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    confirmation_token(&app, "ada@example.com").await;
    let resend = || {
        app.send(
            Method::POST,
            "/api/v1/me/email-verification",
            Some(&ada.token),
            None,
        )
    };
    for _ in 0..2 {
        assert_eq!(resend().await.status, StatusCode::ACCEPTED);
        confirmation_token(&app, "ada@example.com").await;
    }
    let refused = resend().await;
    let problem = refused.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("in the last hour")),
        "{problem}"
    );
    assert!(queued(&app).await.is_empty(), "no fourth link");
}

#[tokio::test]
async fn without_mail_nothing_is_queued_and_accepting_works_as_before() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    assert!(queued(&app).await.is_empty());
    assert!(!verified(&app, &bob).await);
    let id = invite(&app, &ada, "bob@example.com").await;
    let accepted = accept(&app, &bob, id).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    // Nothing to confirm without mail.
    app.send(
        Method::POST,
        "/api/v1/me/email-verification",
        Some(&bob.token),
        None,
    )
    .await
    .problem(StatusCode::CONFLICT);
}

// The web app.

fn form(uri: &str, cookie: Option<&str>, body: String) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "todo.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body)).expect("request")
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

fn text(response: &TestResponse) -> &str {
    response.body.as_str().unwrap_or_default()
}

/// Signs up in the browser; its cookie and CSRF token.
async fn browser_sign_up(app: &TestApp, email: &str) -> (String, String) {
    let body = format!("email={email}&password=correct+horse+battery");
    let response = app.raw(form("/signup", None, body)).await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        response.body
    );
    let cookie = response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_owned();
    let page = app.raw(get("/", Some(&cookie))).await;
    let page = text(&page);
    let start = page.find(r#"name="csrf-token" content=""#).expect("csrf")
        + r#"name="csrf-token" content=""#.len();
    let csrf = page[start..].split('"').next().expect("token").to_owned();
    (cookie, csrf)
}

#[tokio::test]
async fn the_link_opens_a_page_whose_button_confirms() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let token = confirmation_token(&app, "ada@example.com").await;

    // Following the link (as a mail scanner does) changes nothing.
    let page = app
        .raw(get(&format!("/verify-email?token={token}"), None))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains(r#"<form method="post" action="/verify-email""#));
    assert!(text(&page).contains(&format!(r#"value="{token}""#)));
    assert!(!verified(&app, &ada).await);

    let done = app
        .raw(form("/verify-email", None, format!("token={token}")))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert!(text(&done).contains("Email address confirmed"));
    assert!(verified(&app, &ada).await);

    let again = app
        .raw(form("/verify-email", None, format!("token={token}")))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&again).contains("was used already or has expired"));
}

#[tokio::test]
async fn the_invitations_page_asks_to_confirm_first_and_a_refused_accept_says_why() {
    let app = mailing_app().await;
    let ada = app.signup("ada@example.com").await;
    let (cookie, csrf) = browser_sign_up(&app, "bob%40example.com").await;
    let id = invite(&app, &ada, "bob@example.com").await;
    queued(&app).await;

    let page = app.raw(get("/invitations", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = text(&page);
    assert!(html.contains("Confirm your email address to accept invitations"));
    assert!(html.contains(r#"action="/invitations/verify-email""#));
    assert!(
        html.contains(r#"aria-describedby="confirm-email""#),
        "Accept is off"
    );

    // A forged or stale accept is answered with the reason, never a 500.
    let refused = app
        .raw(form(
            &format!("/invitations/{id}/accept"),
            Some(&cookie),
            format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let to = refused.header("location").expect("location").to_owned();
    assert!(to.starts_with("/invitations?error="), "{to}");
    let shown = app.raw(get(&to, Some(&cookie))).await;
    assert!(text(&shown).contains("Confirm your email address first"));

    // "Send the link again" needs the form's CSRF token, and queues a new link.
    let forged = app
        .raw(form(
            "/invitations/verify-email",
            Some(&cookie),
            "_csrf=wrong".into(),
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(queued(&app).await.is_empty());
    let resent = app
        .raw(form(
            "/invitations/verify-email",
            Some(&cookie),
            format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);
    assert_eq!(resent.header("location"), Some("/invitations?sent=1"));
    let token = confirmation_token(&app, "bob@example.com").await;
    let page = app.raw(get("/invitations?sent=1", Some(&cookie))).await;
    assert!(text(&page).contains("A new link is on its way"));

    app.raw(form("/verify-email", None, format!("token={token}")))
        .await;
    let page = app.raw(get("/invitations", Some(&cookie))).await;
    assert!(!text(&page).contains("Confirm your email address to accept invitations"));
    let accepted = app
        .raw(form(
            &format!("/invitations/{id}/accept"),
            Some(&cookie),
            format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    let to = accepted.header("location").expect("location");
    assert!(to.starts_with("/projects/"), "{to}");
}
