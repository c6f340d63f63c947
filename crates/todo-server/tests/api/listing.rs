//! Filters, search and sort orders over HTTP (the storage contract covers them in depth).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

fn titles(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("array")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn seed(app: &TestApp) -> TestUser {
    let user = app.signup("ada@example.com").await;
    for task in [
        json!({"title": "Pay rent", "priority": "high", "due_date": "2030-01-01", "tags": ["home", "bills"]}),
        json!({"title": "Buy milk", "tags": ["home"]}),
        json!({"title": "Call mom", "description": "about the holidays", "priority": "medium", "due_at": "2020-01-01T10:00:00Z"}),
        json!({"title": "Write report", "priority": "urgent", "due_at": "2030-01-05T09:00:00Z", "tags": ["work"]}),
    ] {
        let response = app.post("/api/v1/tasks", &user.token, task).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    }
    user
}

#[tokio::test]
async fn filters_arrive_as_query_parameters_and_repeat() {
    let app = TestApp::spawn().await;
    let user = seed(&app).await;
    let list = |query: &'static str| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let response = app.get(&format!("/api/v1/tasks?{query}"), &token).await;
            assert_eq!(
                response.status,
                StatusCode::OK,
                "{query}: {}",
                response.body
            );
            let total: usize = response
                .header("x-total-count")
                .and_then(|v| v.parse().ok())
                .expect("total");
            let titles = titles(&response.body);
            assert_eq!(total, titles.len(), "{query}");
            titles
        }
    };
    assert_eq!(list("tag=home&sort=title").await, ["Buy milk", "Pay rent"]);
    assert_eq!(list("tag=home&tag=bills").await, ["Pay rent"]);
    assert_eq!(
        list("priority=high&priority=urgent&sort=-priority").await,
        ["Write report", "Pay rent"]
    );
    assert_eq!(
        list("priority=high,urgent&sort=priority").await,
        ["Pay rent", "Write report"]
    );
    assert_eq!(list("q=holiday").await, ["Call mom"]);
    assert_eq!(list("q=rep").await, ["Write report"]);
    assert_eq!(list("overdue=true").await, ["Call mom"]);
    assert_eq!(
        list("due_after=2029-12-31&due_before=2030-01-02").await,
        ["Pay rent"]
    );
    assert_eq!(
        list("due_before=2030-01-05T10:00:00%2B01:00&sort=due_at").await,
        ["Call mom", "Pay rent"]
    );
    assert_eq!(
        list("sort=due_at").await,
        ["Call mom", "Pay rent", "Write report", "Buy milk"]
    );
    assert_eq!(
        list("sort=-title").await,
        ["Write report", "Pay rent", "Call mom", "Buy milk"]
    );
    assert_eq!(
        list("sort=position").await,
        ["Pay rent", "Buy milk", "Call mom", "Write report"]
    );
}

#[tokio::test]
async fn all_day_dates_follow_the_users_time_zone() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.post(
        "/api/v1/tasks",
        &user.token,
        json!({"title": "all day", "due_date": "2030-06-01"}),
    )
    .await;
    // In UTC the day ends at 2030-06-01T23:59:59.999999Z.
    let due_by = |at: &str| format!("/api/v1/tasks?due_before={at}");
    assert!(
        titles(
            &app.get(&due_by("2030-06-01T23:00:00Z"), &user.token)
                .await
                .body
        )
        .is_empty()
    );
    // In Tokyo (UTC+9) it ends at 14:59:59.999999Z, so the task moves with the zone.
    let response = app
        .patch("/api/v1/me", &user.token, json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        titles(
            &app.get(&due_by("2030-06-01T23:00:00Z"), &user.token)
                .await
                .body
        ),
        ["all day"]
    );
    assert!(
        titles(
            &app.get(&due_by("2030-06-01T14:00:00Z"), &user.token)
                .await
                .body
        )
        .is_empty()
    );
}

#[tokio::test]
async fn pages_follow_every_sort_through_the_link_header() {
    let app = TestApp::spawn().await;
    let user = seed(&app).await;
    for sort in ["title", "-due_at", "priority", "-position"] {
        let everything = titles(
            &app.get(&format!("/api/v1/tasks?sort={sort}"), &user.token)
                .await
                .body,
        );
        let mut uri = Some(format!("/api/v1/tasks?sort={sort}&limit=1"));
        let mut paged = Vec::new();
        while let Some(next) = uri {
            let page = app.get(&next, &user.token).await;
            paged.extend(titles(&page.body));
            uri = page
                .header("link")
                .and_then(|l| l.trim_start_matches('<').split('>').next())
                .map(str::to_owned);
        }
        assert_eq!(paged, everything, "sort {sort}");
    }
}

#[tokio::test]
async fn completed_at_sorts_by_completion_time_and_pages() {
    let app = TestApp::spawn().await;
    let user = seed(&app).await;
    let all = app.get("/api/v1/tasks?sort=title", &user.token).await.body;
    let id = |title: &str| {
        all.as_array()
            .expect("array")
            .iter()
            .find(|t| t["title"] == title)
            .expect("task")["id"]
            .as_i64()
            .expect("id")
    };
    // Completed in another order than they were made.
    for title in ["Buy milk", "Pay rent", "Call mom"] {
        let done = app
            .patch(
                &format!("/api/v1/tasks/{}", id(title)),
                &user.token,
                json!({"completed": true}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    }
    let list = |query: String| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let response = app.get(&format!("/api/v1/tasks?{query}"), &token).await;
            assert_eq!(
                response.status,
                StatusCode::OK,
                "{query}: {}",
                response.body
            );
            titles(&response.body)
        }
    };
    let newest = ["Call mom", "Pay rent", "Buy milk"];
    assert_eq!(
        list("status=completed&sort=-completed_at".into()).await,
        newest
    );
    assert_eq!(
        list("status=completed&sort=-completed".into()).await,
        newest
    );
    // Open tasks come after every completion.
    assert_eq!(
        list("sort=completed_at".into()).await,
        ["Buy milk", "Pay rent", "Call mom", "Write report"]
    );
    let mut uri = Some("/api/v1/tasks?status=completed&sort=-completed_at&limit=1".to_owned());
    let mut paged = Vec::new();
    while let Some(next) = uri {
        let page = app.get(&next, &user.token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        paged.extend(titles(&page.body));
        uri = page
            .header("link")
            .and_then(|l| l.trim_start_matches('<').split('>').next())
            .map(str::to_owned);
    }
    assert_eq!(paged, newest);
    let refused = app
        .get("/api/v1/tasks?sort=completed_on", &user.token)
        .await;
    assert_eq!(refused.invalid_fields(), ["sort"]);
}

#[tokio::test]
async fn bad_filters_are_client_errors() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for query in [
        "priority=asap",
        "tag=two%20words",
        "due_before=yesterday",
        "due_after=2030-13-01",
        "sort=-colour",
    ] {
        let response = app
            .get(&format!("/api/v1/tasks?{query}"), &user.token)
            .await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    app.get("/api/v1/tasks?overdue=maybe", &user.token)
        .await
        .problem(StatusCode::BAD_REQUEST);
    let title_cursor = {
        app.post("/api/v1/tasks", &user.token, json!({"title": "a"}))
            .await;
        app.post("/api/v1/tasks", &user.token, json!({"title": "b"}))
            .await;
        let page = app
            .get("/api/v1/tasks?sort=title&limit=1", &user.token)
            .await;
        page.header("link")
            .expect("link")
            .split("cursor=")
            .nth(1)
            .expect("cursor")
            .split('>')
            .next()
            .expect("end")
            .to_owned()
    };
    let response = app
        .get(
            &format!("/api/v1/tasks?sort=priority&cursor={title_cursor}"),
            &user.token,
        )
        .await;
    response.problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_briefs_sort_names_order_as_the_fields_they_alias() {
    let app = TestApp::spawn().await;
    let user = seed(&app).await;
    for (alias, field) in [
        ("created", "created_at"),
        ("-created", "-created_at"),
        ("title", "title"),
        ("due_date", "due_at"),
        ("-due_date", "-due_at"),
    ] {
        for prefix in ["/api/v1".to_owned(), format!("/api/{}", user.id)] {
            let by_alias = app
                .get(&format!("{prefix}/tasks?sort={alias}"), &user.token)
                .await;
            assert_eq!(
                by_alias.status,
                StatusCode::OK,
                "{alias}: {}",
                by_alias.body
            );
            let by_field = app
                .get(&format!("{prefix}/tasks?sort={field}"), &user.token)
                .await;
            assert_eq!(titles(&by_alias.body), titles(&by_field.body), "{alias}");
        }
    }
    let by_due = app.get("/api/v1/tasks?sort=due_date", &user.token).await;
    assert_eq!(
        titles(&by_due.body),
        ["Call mom", "Pay rent", "Write report", "Buy milk"]
    );
    // A page's cursor carries the canonical name, so the next link works with either.
    let page = app
        .get("/api/v1/tasks?sort=due_date&limit=2", &user.token)
        .await;
    let next = page
        .header("link")
        .and_then(|l| l.trim_start_matches('<').split('>').next())
        .map(str::to_owned)
        .expect("a next link");
    let rest = app.get(&next, &user.token).await;
    assert_eq!(titles(&rest.body), ["Write report", "Buy milk"], "{next}");
}

#[tokio::test]
async fn completed_true_or_false_filters_as_status_does_in_both_shapes() {
    let app = TestApp::spawn().await;
    let user = seed(&app).await;
    let listed = app.get("/api/v1/tasks?q=milk", &user.token).await;
    let milk = listed.body[0]["id"].as_i64().expect("id");
    app.patch(
        &format!("/api/v1/tasks/{milk}/complete"),
        &user.token,
        Value::Null,
    )
    .await;
    for prefix in ["/api/v1".to_owned(), format!("/api/{}", user.id)] {
        let list = |query: &'static str| {
            let (app, token, prefix) = (&app, user.token.clone(), prefix.clone());
            async move {
                let response = app.get(&format!("{prefix}/tasks?{query}"), &token).await;
                assert_eq!(
                    response.status,
                    StatusCode::OK,
                    "{query}: {}",
                    response.body
                );
                titles(&response.body)
            }
        };
        assert_eq!(list("completed=true").await, ["Buy milk"]);
        assert_eq!(list("completed=true").await, list("status=completed").await);
        assert_eq!(list("completed=false").await, list("status=pending").await);
        assert_eq!(
            list("completed=false&sort=title").await,
            ["Call mom", "Pay rent", "Write report"]
        );
        for wrong in ["completed=yes", "completed=true&status=all"] {
            let response = app
                .get(&format!("{prefix}/tasks?{wrong}"), &user.token)
                .await;
            let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["errors"][0]["field"], "completed", "{wrong}");
        }
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_on_a_list_route_is_a_422_that_names_it_in_both_shapes() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let task = app
        .post("/api/v1/tasks", &user.token, json!({"title": "a"}))
        .await;
    let task = task.body["id"].as_i64().expect("id");
    let project = app.get("/api/v1/projects", &user.token).await.body[0]["id"]
        .as_i64()
        .expect("inbox");
    let lists = [
        "/tasks".to_owned(),
        "/projects".to_owned(),
        format!("/projects/{project}/sections"),
        format!("/projects/{project}/members"),
        format!("/projects/{project}/invitations"),
        format!("/projects/{project}/activity"),
        format!("/tasks/{task}/comments"),
        "/invitations".to_owned(),
        "/tags".to_owned(),
        "/api-keys".to_owned(),
        "/connected-apps".to_owned(),
        "/webhooks".to_owned(),
        "/conversations".to_owned(),
    ];
    for list in &lists {
        for prefix in ["/api/v1".to_owned(), format!("/api/{}", user.id)] {
            let uri = format!("{prefix}{list}?completd=true");
            let response = app.get(&uri, &user.token).await;
            let problem = response.problem(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["type"], "urn:todo:problem:validation", "{uri}");
            assert_eq!(problem["errors"][0]["field"], "completd", "{uri}");
            assert!(
                problem["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("completd")),
                "{uri}: {problem}"
            );
            let known = app.get(&format!("{prefix}{list}"), &user.token).await;
            assert_eq!(
                known.status,
                StatusCode::OK,
                "{prefix}{list}: {}",
                known.body
            );
        }
    }
}
