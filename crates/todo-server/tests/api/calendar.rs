//! The iCalendar feed: open tasks as VTODOs, for a calendar app holding a read-only key.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

async fn read_key(app: &TestApp, user: &TestUser) -> String {
    let created = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "calendar", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["secret"].as_str().expect("secret").to_owned()
}

fn feed_text(body: &serde_json::Value) -> &str {
    body.as_str().expect("the feed is text")
}

#[tokio::test]
async fn a_calendar_app_with_a_key_in_the_url_gets_the_open_tasks_only() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let rent = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Pay rent", "due_date": "2026-12-01", "priority": "high",
               "tags": ["home"], "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1"}),
        )
        .await;
    assert_eq!(rent.status, StatusCode::CREATED, "{}", rent.body);
    let done = app.task(&ada, "Already done").await;
    let completed = app
        .patch(
            &format!("/api/v1/tasks/{done}/complete"),
            &ada.token,
            json!({"completed": true}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let key = read_key(&app, &ada).await;

    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/calendar.ics?token={key}"),
            None,
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert_eq!(response.header("cache-control"), Some("private, no-store"));
    let ics = feed_text(&response.body);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("SUMMARY:Pay rent\r\n"), "{ics}");
    assert!(ics.contains("DUE;VALUE=DATE:20261201\r\n"), "{ics}");
    assert!(ics.contains("RRULE:FREQ=MONTHLY;BYMONTHDAY=1\r\n"), "{ics}");
    assert!(ics.contains("CATEGORIES:home\r\n"), "{ics}");
    assert!(
        !ics.contains("Already done"),
        "completed tasks stay out: {ics}"
    );

    // The Authorization header works as on every other route, in both route shapes.
    let by_header = app.get("/api/v1/calendar.ics", &ada.token).await;
    assert_eq!(feed_text(&by_header.body), ics);
    let by_path = app
        .get(&format!("/api/{}/calendar.ics", ada.id), &ada.token)
        .await;
    assert_eq!(by_path.status, StatusCode::OK);
}

#[tokio::test]
async fn the_feed_refuses_bad_keys_login_tokens_in_the_url_and_other_users() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    app.task(&bob, "Bob's secret plan").await;
    let ada_key = read_key(&app, &ada).await;

    for uri in [
        "/api/v1/calendar.ics".to_owned(),
        "/api/v1/calendar.ics?token=todo_not-a-key".to_owned(),
        // A login token is not taken from a URL.
        format!("/api/v1/calendar.ics?token={}", ada.token),
    ] {
        let response = app.send(Method::GET, &uri, None, None).await;
        response.problem(StatusCode::UNAUTHORIZED);
        assert!(response.header("www-authenticate").is_some(), "{uri}");
    }
    let other = app
        .send(
            Method::GET,
            &format!("/api/{}/calendar.ics?token={ada_key}", bob.id),
            None,
            None,
        )
        .await;
    other.problem(StatusCode::FORBIDDEN);
    let own = app
        .send(
            Method::GET,
            &format!("/api/v1/calendar.ics?token={ada_key}"),
            None,
            None,
        )
        .await;
    assert!(!feed_text(&own.body).contains("Bob"), "{}", own.body);

    // A revoked key stops the feed at once.
    let keys = app.get("/api/v1/api-keys", &ada.token).await;
    let id = keys.body[0]["id"].as_str().expect("key id");
    app.delete(&format!("/api/v1/api-keys/{id}"), &ada.token)
        .await;
    app.send(
        Method::GET,
        &format!("/api/v1/calendar.ics?token={ada_key}"),
        None,
        None,
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_projects_feed_has_its_tasks_zones_alarms_and_subtasks_only() {
    use todo_core::project::ProjectInput;

    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let owner = ada.id.as_str().into();
    let work = app
        .todo
        .create_project(
            &owner,
            ProjectInput {
                name: "Work".into(),
                color: None,
            },
        )
        .await
        .expect("project");
    let standup = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Standup", "project_id": work.id, "due_local": "2026-07-06T09:00:00",
               "due_timezone": "America/New_York", "reminders": [{"minutes_before": 15}]}),
        )
        .await;
    assert_eq!(standup.status, StatusCode::CREATED, "{}", standup.body);
    let parent = standup.body["id"].clone();
    let notes = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Notes", "parent_id": parent, "due_local": "2026-07-06T10:00:00"}),
        )
        .await;
    assert_eq!(notes.status, StatusCode::CREATED, "{}", notes.body);
    app.task(&ada, "Inbox chore").await;
    let key = read_key(&app, &ada).await;
    let bob = app.signup("bob@example.com").await;

    let feed = app
        .send(
            Method::GET,
            &format!("/api/v1/calendar.ics?token={key}&project={}", work.id),
            None,
            None,
        )
        .await;
    let all = app.get("/api/v1/calendar.ics", &ada.token).await;
    let foreign = app
        .get(
            &format!("/api/v1/calendar.ics?project={}", work.id),
            &bob.token,
        )
        .await;
    let bad = app
        .get("/api/v1/calendar.ics?project=work", &ada.token)
        .await;

    assert_eq!(feed.status, StatusCode::OK);
    let ics = feed_text(&feed.body);
    assert!(ics.contains("X-WR-CALNAME:todo: Work\r\n"), "{ics}");
    assert!(
        ics.contains("DUE;TZID=America/New_York:20260706T090000\r\n"),
        "{ics}"
    );
    assert!(
        ics.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"),
        "{ics}"
    );
    assert!(ics.contains("TRIGGER;RELATED=END:-PT900S\r\n"), "{ics}");
    assert!(ics.contains("DUE:20260706T100000\r\n"), "floating: {ics}");
    assert!(
        ics.contains(&format!("RELATED-TO;RELTYPE=PARENT:task-{parent}@todo\r\n")),
        "{ics}"
    );
    assert!(!ics.contains("Inbox chore"), "{ics}");
    assert!(feed_text(&all.body).contains("Inbox chore"));
    foreign.problem(StatusCode::NOT_FOUND);
    assert_eq!(bad.invalid_fields(), ["project"]);
}
