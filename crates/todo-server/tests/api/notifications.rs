//! Channels (`GET|PUT /api/v1/me/notifications`), one-click unsubscribe links, and the jobs
//! behind reminder emails and the daily digest. The email itself is checked against a real
//! SMTP server in tests/mail.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{Duration, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::json;
use todo_core::Todo;
use todo_core::jobs::JobKind;
use todo_core::mail::{Mail, Mailer};
use todo_core::notify::{DigestHour, Unsubscribe, next_digest};
use todo_core::user::UserId;

use crate::helpers::{TestApp, TestResponse, TestUser};

const NOTIFICATIONS: &str = "/api/v1/me/notifications";

/// A mailer that is never reached: the jobs here only compose and queue.
struct Unused;

#[async_trait]
impl Mailer for Unused {
    async fn send(&self, _mail: &Mail) -> Result<(), String> {
        Err("not in these tests".into())
    }
}

/// The app's database as a server that sends email sees it.
fn mailing(app: &TestApp) -> Todo {
    Todo::new(app.db.store.clone())
        .with_mailer(Some(Arc::new(Unused)))
        .with_public_url(Some("https://todo.example"))
}

async fn unsubscribe(app: &TestApp, method: Method, token: &str) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(format!("/unsubscribe?token={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        // A mail program's one-click POST comes from no page of ours.
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .expect("request");
    app.raw(request).await
}

fn page(response: &TestResponse) -> &str {
    response.body.as_str().unwrap_or_default()
}

async fn put_ok(app: &TestApp, user: &TestUser, body: serde_json::Value) -> serde_json::Value {
    let response = app.put(NOTIFICATIONS, &user.token, body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body
}

#[tokio::test]
async fn every_channel_is_on_and_no_digest_by_default() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let response = app.get(NOTIFICATIONS, &ada.token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body,
        json!({
            "in_app": true, "email": true, "push": true, "digest_hour": null,
            "email_available": false, "push_available": false
        })
    );
    let by_user = app
        .get(&format!("/api/{}/me/notifications", ada.id), &ada.token)
        .await;
    assert_eq!(by_user.body, response.body);
}

#[tokio::test]
async fn a_put_changes_what_it_names_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let changed = put_ok(&app, &ada, json!({"email": false, "digest_hour": 7})).await;
    assert_eq!(changed["email"], false);
    assert_eq!(changed["digest_hour"], 7);
    assert_eq!(changed["in_app"], true);
    assert_eq!(changed["push"], true);

    let changed = put_ok(&app, &ada, json!({"push": false})).await;
    assert_eq!(
        (&changed["email"], &changed["push"], &changed["digest_hour"]),
        (&json!(false), &json!(false), &json!(7))
    );
    let changed = put_ok(&app, &ada, json!({"digest_hour": null, "in_app": false})).await;
    assert_eq!(changed["digest_hour"], json!(null));
    assert_eq!(changed["in_app"], false);
    assert_eq!(app.get(NOTIFICATIONS, &ada.token).await.body, changed);
}

#[tokio::test]
async fn an_hour_outside_0_to_23_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for hour in [json!(24), json!(-1)] {
        let response = app
            .put(NOTIFICATIONS, &ada.token, json!({ "digest_hour": hour }))
            .await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.invalid_fields(), ["digest_hour"], "{hour}");
    }
    app.put(NOTIFICATIONS, &ada.token, json!({"digest_hour": "8"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = app.get(NOTIFICATIONS, &ada.token).await;
    assert_eq!(unchanged.body["digest_hour"], json!(null));
}

#[tokio::test]
async fn channels_need_a_credential_and_a_read_only_key_cannot_change_them() {
    let app = TestApp::spawn().await;
    app.send(Method::GET, NOTIFICATIONS, None, None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.send(
        Method::PUT,
        NOTIFICATIONS,
        None,
        Some(json!({"email": false})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);

    let ada = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &ada.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let reader = created.body["secret"].as_str().expect("secret");
    assert_eq!(app.get(NOTIFICATIONS, reader).await.status, StatusCode::OK);
    let refused = app
        .put(NOTIFICATIONS, reader, json!({"email": false}))
        .await;
    assert_eq!(
        refused.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-scope"
    );
    assert_eq!(app.get(NOTIFICATIONS, &ada.token).await.body["email"], true);
}

#[tokio::test]
async fn a_one_click_post_turns_the_email_channel_off_and_a_get_changes_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let token = app
        .todo
        .unsubscribe_token(&Unsubscribe::Email(UserId::new(&ada.id)))
        .await
        .expect("token");

    let shown = unsubscribe(&app, Method::GET, &token).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(
        page(&shown).contains("Turn off reminder emails?"),
        "{}",
        page(&shown)
    );
    assert!(page(&shown).contains("method=\"post\""));
    assert_eq!(app.get(NOTIFICATIONS, &ada.token).await.body["email"], true);

    let done = unsubscribe(&app, Method::POST, &token).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        page(&done).contains("reminder emails are off"),
        "{}",
        page(&done)
    );
    let after = app.get(NOTIFICATIONS, &ada.token).await.body;
    assert_eq!(
        (&after["email"], &after["in_app"]),
        (&json!(false), &json!(true))
    );

    // Old mail's links keep working: again, it is still off.
    let again = unsubscribe(&app, Method::POST, &token).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn a_digest_link_turns_the_digest_off_and_a_forged_one_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    put_ok(&app, &ada, json!({"digest_hour": 9})).await;
    let ada_id = UserId::new(&ada.id);
    assert!(
        app.todo
            .digest_job_at(&ada_id)
            .await
            .expect("read")
            .is_some()
    );
    let token = app
        .todo
        .unsubscribe_token(&Unsubscribe::Digest(ada_id.clone()))
        .await
        .expect("token");

    // Someone else's account under Ada's signature.
    let (_, tag) = token.split_once('.').expect("two parts");
    let forged = format!("{}.{tag}", "ZGlnZXN0OnNvbWVvbmUgZWxzZQ");
    for bad in [forged.as_str(), "", "not-a-token"] {
        for method in [Method::GET, Method::POST] {
            let refused = unsubscribe(&app, method, bad).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                page(&refused).contains("does not work"),
                "{}",
                page(&refused)
            );
        }
    }
    assert_eq!(
        app.get(NOTIFICATIONS, &ada.token).await.body["digest_hour"],
        9
    );

    let done = unsubscribe(&app, Method::POST, &token).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let after = app.get(NOTIFICATIONS, &ada.token).await.body;
    assert_eq!(
        (&after["digest_hour"], &after["email"]),
        (&json!(null), &json!(true))
    );
    assert_eq!(app.todo.digest_job_at(&ada_id).await.expect("read"), None);
}

#[tokio::test]
async fn a_link_of_a_deleted_account_does_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let token = app
        .todo
        .unsubscribe_token(&Unsubscribe::Email(UserId::new(&ada.id)))
        .await
        .expect("token");
    let deleted = app
        .send(
            Method::DELETE,
            "/api/v1/me",
            Some(&ada.token),
            Some(json!({"password": "correct horse battery"})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(
        unsubscribe(&app, Method::POST, &token).await.status,
        StatusCode::OK
    );
}

/// An hour that is not under way now, in UTC or in Tokyo.
fn quiet_hour() -> DigestHour {
    let hour = (Utc::now().hour() + 2) % 24;
    DigestHour::new(i64::from(hour)).expect("hour")
}

#[tokio::test]
async fn setting_the_hour_or_changing_the_zone_reschedules_the_digest() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ada_id = UserId::new(&ada.id);
    let hour = quiet_hour();
    put_ok(&app, &ada, json!({"digest_hour": hour.get()})).await;
    let at = app.todo.digest_job_at(&ada_id).await.expect("read");
    assert_eq!(at, Some(next_digest(hour, Tz::UTC, Utc::now(), None)));

    let moved = app
        .patch("/api/v1/me", &ada.token, json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let tokyo: Tz = "Asia/Tokyo".parse().expect("zone");
    let at = app.todo.digest_job_at(&ada_id).await.expect("read");
    assert_eq!(at, Some(next_digest(hour, tokyo, Utc::now(), None)));

    put_ok(&app, &ada, json!({"digest_hour": null})).await;
    assert_eq!(app.todo.digest_job_at(&ada_id).await.expect("read"), None);
}

#[tokio::test]
async fn a_due_digest_queues_its_email_once_and_schedules_tomorrows() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ada_id = UserId::new(&ada.id);
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let task = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Water the plants", "due_date": today}),
        )
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    // The current hour in UTC (the profile's zone): due now.
    let hour = DigestHour::new(i64::from(Utc::now().hour())).expect("hour");
    put_ok(&app, &ada, json!({"digest_hour": hour.get()})).await;

    let todo = mailing(&app);
    let lease = Duration::seconds(60);
    let jobs = todo
        .claim_jobs(JobKind::Digest, lease, 10)
        .await
        .expect("claim");
    if jobs.is_empty() {
        // The hour ended between setting it and claiming: tomorrow's is scheduled instead.
        return;
    }
    assert_eq!(jobs.len(), 1);
    todo.run_digest(&jobs[0]).await.expect("run");
    // Ran once: the same job again (a replica whose lease ran out) does nothing more.
    todo.run_digest(&jobs[0]).await.expect("run again");

    let emails = todo
        .claim_jobs(JobKind::Email, lease, 10)
        .await
        .expect("claim");
    assert_eq!(emails.len(), 1, "one digest email");
    let mail = todo
        .mail_of(&emails[0])
        .await
        .expect("mail")
        .expect("a message");
    assert_eq!(mail.to, "ada@example.com");
    assert_eq!(mail.subject, "Today: 1 task");
    assert!(mail.text.contains("Water the plants"), "{}", mail.text);
    let id = task.body["id"].as_i64().expect("id");
    assert!(
        mail.text
            .contains(&format!("https://todo.example/tasks/{id}/edit"))
    );
    let link = mail.unsubscribe.expect("an unsubscribe link");
    assert!(
        link.starts_with("https://todo.example/unsubscribe?token="),
        "{link}"
    );

    let next = todo
        .digest_job_at(&ada_id)
        .await
        .expect("read")
        .expect("scheduled");
    assert!(next > Utc::now() + Duration::hours(22), "tomorrow: {next}");
    assert!(
        todo.claim_jobs(JobKind::Digest, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

#[tokio::test]
async fn a_reminder_email_is_composed_when_sent_and_not_after_the_channel_is_turned_off() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let todo = mailing(&app);
    let remind_at = (Utc::now() - Duration::seconds(1)).to_rfc3339();
    let mut ids = Vec::new();
    for title in ["Call Bob", "Call Carol"] {
        let task = app
            .post(
                "/api/v1/tasks",
                &ada.token,
                json!({"title": title, "reminders": [{"remind_at": remind_at}]}),
            )
            .await;
        assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
        ids.push(task.body["id"].as_i64().expect("id"));
    }
    let lease = Duration::seconds(60);
    for job in todo
        .claim_jobs(JobKind::Reminder, lease, 10)
        .await
        .expect("claim")
    {
        todo.fire_reminder(&job).await.expect("fire");
    }
    let emails = todo
        .claim_jobs(JobKind::Email, lease, 10)
        .await
        .expect("claim");
    assert_eq!(emails.len(), 2, "one email job per reminder");

    let mail = todo
        .mail_of(&emails[0])
        .await
        .expect("mail")
        .expect("a message");
    assert_eq!(mail.to, "ada@example.com");
    assert!(
        mail.subject.starts_with("Reminder: Call "),
        "{}",
        mail.subject
    );
    assert!(
        ids.iter().any(|id| mail
            .text
            .contains(&format!("https://todo.example/tasks/{id}/edit"))),
        "{}",
        mail.text
    );
    assert!(mail.unsubscribe.is_some());

    put_ok(&app, &ada, json!({"email": false})).await;
    assert_eq!(todo.mail_of(&emails[1]).await.expect("mail"), None);
}
