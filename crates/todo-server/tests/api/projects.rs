//! Projects, sections and subtasks through the REST API, in both route shapes; recurring
//! tasks as one task; wall-clock dues across a zone change; quick add's `#Project /Section`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

async fn project(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    let created = app
        .post("/api/v1/projects", &user.token, json!({"name": name}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_i64().expect("id")
}

async fn section(app: &TestApp, user: &TestUser, project: i64, name: &str) -> i64 {
    let created = app
        .post(
            &format!("/api/v1/projects/{project}/sections"),
            &user.token,
            json!({"name": name}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_i64().expect("id")
}

async fn add(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let created = app.post("/api/v1/tasks", &user.token, body.clone()).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{body}: {}",
        created.body
    );
    created.body
}

fn titles(listed: &Value) -> Vec<&str> {
    listed
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect()
}

#[tokio::test]
async fn every_account_has_an_inbox_that_stays_and_projects_around_it() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let listed = app.get("/api/v1/projects", &ada.token).await;
    assert_eq!(listed.status, StatusCode::OK);
    let inbox = &listed.body[0];
    assert_eq!(
        (inbox["name"].clone(), inbox["inbox"].clone()),
        (json!("Inbox"), json!(true))
    );
    assert_eq!(inbox["role"], "owner");
    let inbox_id = inbox["id"].as_i64().expect("id");
    let uri = format!("/api/v1/projects/{inbox_id}");
    let deleted = app.delete(&uri, &ada.token).await;
    assert_eq!(deleted.status, StatusCode::UNPROCESSABLE_ENTITY);
    let archived = app.patch(&uri, &ada.token, json!({"archived": true})).await;
    assert_eq!(archived.invalid_fields(), ["archived"]);

    // A task without a project goes to the Inbox.
    let task = add(&app, &ada, json!({"title": "Loose end"})).await;
    assert_eq!(task["project_id"], inbox_id);

    let home = project(&app, &ada, "Home").await;
    let work = project(&app, &ada, "Work").await;
    let listed = app.get("/api/v1/projects", &ada.token).await;
    let names: Vec<_> = listed
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Inbox"), json!("Home"), json!("Work")]);
    // Reorder: Work first after the Inbox.
    let moved = app
        .patch(
            &format!("/api/v1/projects/{work}"),
            &ada.token,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let listed = app
        .get(&format!("/api/{}/projects", ada.id), &ada.token)
        .await;
    let names: Vec<_> = listed
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Inbox"), json!("Work"), json!("Home")]);

    add(
        &app,
        &ada,
        json!({"title": "Fix the tap", "project_id": home}),
    )
    .await;
    let in_home = app
        .get(&format!("/api/v1/tasks?project={home}"), &ada.token)
        .await;
    assert_eq!(titles(&in_home.body), ["Fix the tap"]);
    assert_eq!(in_home.header("x-total-count"), Some("1"));
    let counted = app
        .get(&format!("/api/v1/projects/{home}"), &ada.token)
        .await;
    assert_eq!(counted.body["open_tasks"], 1);

    // Archived: out of the views, still there when asked for by id.
    let archived = app
        .patch(
            &format!("/api/v1/projects/{home}"),
            &ada.token,
            json!({"archived": true}),
        )
        .await;
    assert_eq!(archived.body["archived"], true);
    let all = app.get("/api/v1/tasks", &ada.token).await;
    assert_eq!(titles(&all.body), ["Loose end"]);
    let in_home = app
        .get(&format!("/api/v1/tasks?project={home}"), &ada.token)
        .await;
    assert_eq!(titles(&in_home.body), ["Fix the tap"]);
    let refused = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "project_id": home}),
        )
        .await;
    assert_eq!(refused.invalid_fields(), ["project_id"]);

    // Deleting a project deletes its tasks.
    let gone = app
        .delete(&format!("/api/v1/projects/{home}"), &ada.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let in_home = app
        .get(&format!("/api/v1/projects/{home}"), &ada.token)
        .await;
    assert_eq!(in_home.status, StatusCode::NOT_FOUND);

    // Someone else's project, section or task is not there for them.
    let bob = app.signup("bob@example.com").await;
    let shelf = section(&app, &ada, work, "Shelf").await;
    for uri in [
        format!("/api/v1/projects/{work}"),
        format!("/api/v1/projects/{work}/sections"),
        format!("/api/v1/tasks/{}", task["id"]),
    ] {
        assert_eq!(
            app.get(&uri, &bob.token).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let renamed = app
        .patch(
            &format!("/api/v1/sections/{shelf}"),
            &bob.token,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    let into_theirs = app
        .post(
            "/api/v1/tasks",
            &bob.token,
            json!({"title": "x", "project_id": work}),
        )
        .await;
    assert_eq!(
        into_theirs.invalid_fields(),
        ["project_id"],
        "no such project, for them"
    );
    let under_theirs = app
        .post(
            "/api/v1/tasks",
            &bob.token,
            json!({"title": "x", "parent_id": task["id"]}),
        )
        .await;
    assert_eq!(under_theirs.invalid_fields(), ["parent_id"]);
    let in_theirs = app
        .get(&format!("/api/v1/tasks?project={work}"), &bob.token)
        .await;
    assert_eq!(titles(&in_theirs.body), Vec::<&str>::new());
}

#[tokio::test]
async fn sections_and_subtasks_keep_to_their_project() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let home = project(&app, &ada, "Home").await;
    let work = project(&app, &ada, "Work").await;
    let kitchen = section(&app, &ada, home, "Kitchen").await;
    let garden = section(&app, &ada, home, "Garden").await;
    let first = section(&app, &ada, home, "Hall").await;
    // Hall to the front.
    let moved = app
        .patch(
            &format!("/api/v1/sections/{first}"),
            &ada.token,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let sections = app
        .get(&format!("/api/v1/projects/{home}/sections"), &ada.token)
        .await;
    let names: Vec<_> = sections
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("Hall"), json!("Kitchen"), json!("Garden")]);

    let wrong = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "project_id": work, "section_id": kitchen}),
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["section_id"]);

    let parent = add(&app, &ada, json!({"title": "Clean", "section_id": kitchen})).await;
    assert_eq!(parent["project_id"], home);
    let child = add(
        &app,
        &ada,
        json!({"title": "Oven", "parent_id": parent["id"]}),
    )
    .await;
    assert_eq!(
        (child["project_id"].clone(), child["section_id"].clone()),
        (json!(home), json!(kitchen))
    );
    let grandchild = add(
        &app,
        &ada,
        json!({"title": "Racks", "parent_id": child["id"]}),
    )
    .await;
    let elsewhere = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "parent_id": parent["id"], "project_id": work}),
        )
        .await;
    assert_eq!(elsewhere.invalid_fields(), ["parent_id"]);
    // Depth is bounded: five levels below a top-level task, no more.
    let mut deepest = grandchild["id"].clone();
    for level in 3..=5 {
        deepest = add(
            &app,
            &ada,
            json!({"title": format!("level {level}"), "parent_id": deepest}),
        )
        .await["id"]
            .clone();
    }
    let too_deep = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "parent_id": deepest}),
        )
        .await;
    assert_eq!(too_deep.invalid_fields(), ["parent_id"]);

    let top = app
        .get(
            &format!("/api/v1/tasks?project={home}&parent=none"),
            &ada.token,
        )
        .await;
    assert_eq!(titles(&top.body), ["Clean"]);
    let under = app
        .get(
            &format!("/api/v1/tasks?parent={}", parent["id"]),
            &ada.token,
        )
        .await;
    assert_eq!(titles(&under.body), ["Oven"]);
    let in_kitchen = app
        .get(
            &format!("/api/v1/tasks?section={kitchen}&sort=created_at"),
            &ada.token,
        )
        .await;
    assert_eq!(in_kitchen.header("x-total-count"), Some("6"));

    // A cycle is refused; moving the parent to another project takes its subtasks along.
    let cycle = app
        .post(
            &format!("/api/v1/tasks/{}/move", parent["id"]),
            &ada.token,
            json!({"parent_id": child["id"]}),
        )
        .await;
    assert_eq!(cycle.invalid_fields(), ["parent_id"]);
    let moved = app
        .post(
            &format!("/api/v1/tasks/{}/move", parent["id"]),
            &ada.token,
            json!({"project_id": work}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(
        (
            moved.body["project_id"].clone(),
            moved.body["section_id"].clone()
        ),
        (json!(work), Value::Null)
    );
    let carried = app
        .get(&format!("/api/v1/tasks/{}", grandchild["id"]), &ada.token)
        .await;
    assert_eq!(
        (
            carried.body["project_id"].clone(),
            carried.body["section_id"].clone()
        ),
        (json!(work), Value::Null)
    );
    let into_garden = app
        .post(
            &format!("/api/v1/tasks/{}/move", child["id"]),
            &ada.token,
            json!({"section_id": garden}),
        )
        .await;
    assert_eq!(
        (
            into_garden.body["project_id"].clone(),
            into_garden.body["parent_id"].clone()
        ),
        (json!(home), Value::Null),
        "{}",
        into_garden.body
    );

    // Completing a parent completes its open subtasks; deleting it deletes them.
    let done = app
        .patch(
            &format!("/api/v1/tasks/{}/complete", child["id"]),
            &ada.token,
            json!({"completed": true}),
        )
        .await;
    assert_eq!(done.body["completed"], true);
    let racks = app
        .get(&format!("/api/v1/tasks/{}", grandchild["id"]), &ada.token)
        .await;
    assert_eq!(racks.body["completed"], true);
    let deleted = app
        .delete(&format!("/api/v1/tasks/{}", child["id"]), &ada.token)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let racks = app
        .get(&format!("/api/v1/tasks/{}", grandchild["id"]), &ada.token)
        .await;
    assert_eq!(racks.status, StatusCode::NOT_FOUND);

    // Deleting a section deletes its tasks.
    let weed = add(&app, &ada, json!({"title": "Weed", "section_id": garden})).await;
    let gone = app
        .delete(&format!("/api/v1/sections/{garden}"), &ada.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let weed = app
        .get(&format!("/api/v1/tasks/{}", weed["id"]), &ada.token)
        .await;
    assert_eq!(weed.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_task_is_reordered_among_its_siblings() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ids: Vec<Value> = {
        let mut ids = Vec::new();
        for title in ["a", "b", "c"] {
            ids.push(add(&app, &ada, json!({"title": title})).await["id"].clone());
        }
        ids
    };
    let moved = app
        .post(
            &format!("/api/v1/tasks/{}/move", ids[2]),
            &ada.token,
            json!({"position": 0}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let listed = app.get("/api/v1/tasks?sort=position", &ada.token).await;
    assert_eq!(titles(&listed.body), ["c", "a", "b"]);
    app.post(
        &format!("/api/v1/tasks/{}/move", ids[0]),
        &ada.token,
        json!({}),
    )
    .await;
    let listed = app.get("/api/v1/tasks?sort=position", &ada.token).await;
    assert_eq!(
        titles(&listed.body),
        ["c", "a", "b"],
        "an empty move keeps the place"
    );
    app.post(
        &format!("/api/v1/tasks/{}/move", ids[0]),
        &ada.token,
        json!({"position": 9}),
    )
    .await;
    let listed = app.get("/api/v1/tasks?sort=position", &ada.token).await;
    assert_eq!(titles(&listed.body), ["c", "b", "a"], "past the end: last");
}

#[tokio::test]
async fn a_recurring_task_is_one_task_that_moves_on_and_back() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let task = add(
        &app,
        &ada,
        json!({"title": "Standup", "due_local": "2030-03-04T09:30", "recurrence": "FREQ=DAILY"}),
    )
    .await;
    let uri = format!("/api/v1/tasks/{}/complete", task["id"]);
    let done = app
        .patch(&uri, &ada.token, json!({"completed": true}))
        .await;
    assert_eq!(done.body["id"], task["id"]);
    assert_eq!(done.body["completed"], false, "{}", done.body);
    assert_eq!(done.body["due_local"], "2030-03-05T09:30:00");
    let undone = app
        .patch(&uri, &ada.token, json!({"completed": false}))
        .await;
    assert_eq!(
        undone.body["due_local"], "2030-03-04T09:30:00",
        "{}",
        undone.body
    );
    let again = app.patch(&uri, &ada.token, Value::Null).await;
    assert_eq!(
        again.body["due_local"], "2030-03-05T09:30:00",
        "a toggle completes it"
    );
    let all = app.get("/api/v1/tasks", &ada.token).await;
    assert_eq!(
        all.header("x-total-count"),
        Some("1"),
        "no second row, ever"
    );
    // Undo only right after: once changed, asking `false` changes nothing.
    app.patch(
        &format!("/api/v1/tasks/{}", task["id"]),
        &ada.token,
        json!({"title": "Daily standup"}),
    )
    .await;
    let kept = app
        .patch(&uri, &ada.token, json!({"completed": false}))
        .await;
    assert_eq!(kept.body["due_local"], "2030-03-05T09:30:00");
}

#[tokio::test]
async fn sign_up_takes_a_time_zone() {
    let app = TestApp::spawn().await;
    let signup = |email: &str, zone: &str| json!({"email": email, "password": "correct horse", "timezone": zone});
    let bad = app
        .send(
            axum::http::Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("a@example.com", "Mars/Base")),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["timezone"]);
    let good = app
        .send(
            axum::http::Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(signup("a@example.com", "Europe/Paris")),
        )
        .await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.body);
    assert_eq!(good.body["user"]["timezone"], "Europe/Paris");
}

#[tokio::test]
async fn a_zone_change_keeps_wall_clock_times_unless_pinned() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let zoned = app
        .patch(
            "/api/v1/me",
            &ada.token,
            json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(zoned.status, StatusCode::OK, "{}", zoned.body);
    let floating = add(
        &app,
        &ada,
        json!({"title": "Standup", "due_local": "2030-01-07T09:30"}),
    )
    .await;
    assert_eq!(floating["due_at"], "2030-01-07T08:30:00Z");
    assert_eq!(floating["due_timezone"], Value::Null);
    let by_moment = add(
        &app,
        &ada,
        json!({"title": "Call", "due_at": "2030-01-07T16:00:00Z"}),
    )
    .await;
    assert_eq!(
        by_moment["due_local"], "2030-01-07T17:00:00",
        "a moment is read on the owner's clock"
    );
    let pinned = add(
        &app,
        &ada,
        json!({"title": "NY call", "due_local": "2030-01-07T09:30", "due_timezone": "America/New_York"}),
    )
    .await;
    assert_eq!(pinned["due_at"], "2030-01-07T14:30:00Z");

    let moved = app
        .patch("/api/v1/me", &ada.token, json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    let standup = app
        .get(&format!("/api/v1/tasks/{}", floating["id"]), &ada.token)
        .await;
    assert_eq!(
        standup.body["due_local"], "2030-01-07T09:30:00",
        "09:30 stays 09:30"
    );
    assert_eq!(standup.body["due_at"], "2030-01-07T00:30:00Z");
    let ny = app
        .get(&format!("/api/v1/tasks/{}", pinned["id"]), &ada.token)
        .await;
    assert_eq!(
        ny.body["due_at"], "2030-01-07T14:30:00Z",
        "a pinned due stays where it is"
    );

    let both = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "due_local": "2030-01-07T09:30", "due_date": "2030-01-07"}),
        )
        .await;
    assert_eq!(both.invalid_fields(), ["due_local"]);
    let bad_zone = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "due_local": "2030-01-07T09:30", "due_timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(bad_zone.invalid_fields(), ["due_timezone"]);
}

#[tokio::test]
async fn a_list_refuses_a_parameter_it_does_not_know_and_reads_completed() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let open = app.task(&ada, "open").await;
    let done = app.task(&ada, "done").await;
    app.patch(
        &format!("/api/v1/tasks/{done}/complete"),
        &ada.token,
        Value::Null,
    )
    .await;
    let typo = app.get("/api/v1/tasks?completd=true", &ada.token).await;
    assert_eq!(typo.invalid_fields(), ["completd"]);
    let completed = app.get("/api/v1/tasks?completed=true", &ada.token).await;
    assert_eq!(titles(&completed.body), ["done"]);
    let pending = app
        .get(
            &format!("/api/{}/tasks?completed=false", ada.id),
            &ada.token,
        )
        .await;
    assert_eq!(pending.body[0]["id"], open);
    let both = app
        .get("/api/v1/tasks?completed=true&status=all", &ada.token)
        .await;
    assert_eq!(both.invalid_fields(), ["completed"]);
}

#[tokio::test]
async fn quick_add_picks_projects_and_sections_and_previews_without_adding() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let work = project(&app, &ada, "Work").await;
    let next = section(&app, &ada, work, "Next").await;
    let preview = app
        .post(
            "/api/v1/tasks/parse",
            &ada.token,
            json!({"text": "Call Bob #work /next p1 tomorrow 9am"}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.body["title"], "Call Bob");
    assert_eq!(preview.body["project"]["id"], work);
    assert_eq!(preview.body["section"]["id"], next);
    assert_eq!(preview.body["priority"], "urgent");
    assert_eq!(preview.body["problems"], json!([]));
    let none = app.get("/api/v1/tasks", &ada.token).await;
    assert_eq!(
        none.header("x-total-count"),
        Some("0"),
        "a preview adds nothing"
    );

    let added = app
        .post(
            "/api/v1/tasks/quick",
            &ada.token,
            json!({"text": "Call Bob #work /next p1 tomorrow 9am"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(
        (
            added.body["project_id"].clone(),
            added.body["section_id"].clone()
        ),
        (json!(work), json!(next))
    );
    assert!(
        added.body["due_local"]
            .as_str()
            .is_some_and(|d| d.ends_with("T09:00:00"))
    );
    // No such project: a tag, as before. No such section: refused, naming the text.
    let tagged = app
        .post(
            "/api/v1/tasks/quick",
            &ada.token,
            json!({"text": "Read #books"}),
        )
        .await;
    assert_eq!(tagged.body["tags"], json!(["books"]));
    let unknown = app
        .post(
            "/api/v1/tasks/quick",
            &ada.token,
            json!({"text": "Read #work /later"}),
        )
        .await;
    assert_eq!(unknown.invalid_fields(), ["text"]);
    // Into a place: under a task (its project and section), or a section given beside the text.
    let sub = app
        .post(
            "/api/v1/tasks/quick",
            &ada.token,
            json!({"text": "Dial in p2", "parent_id": added.body["id"]}),
        )
        .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
    assert_eq!(
        (
            sub.body["parent_id"].clone(),
            sub.body["project_id"].clone(),
            sub.body["section_id"].clone()
        ),
        (added.body["id"].clone(), json!(work), json!(next))
    );
    let placed = app
        .post(
            "/api/v1/tasks/quick",
            &ada.token,
            json!({"text": "Plan", "section_id": next}),
        )
        .await;
    assert_eq!(
        (
            placed.body["project_id"].clone(),
            placed.body["section_id"].clone()
        ),
        (json!(work), json!(next)),
        "{}",
        placed.body
    );
}

/// A task read back and sent whole again (PUT) keeps working: it carries both `due_at` and
/// `due_local`, and its place.
#[tokio::test]
async fn a_task_read_back_can_be_sent_whole_again() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    app.patch(
        "/api/v1/me",
        &ada.token,
        json!({"timezone": "Europe/Berlin"}),
    )
    .await;
    let home = project(&app, &ada, "Home").await;
    let task = add(
        &app,
        &ada,
        json!({"title": "Standup", "due_local": "2030-01-07T09:30", "project_id": home}),
    )
    .await;
    let uri = format!("/api/v1/tasks/{}", task["id"]);
    let mut body = task.clone();
    body["title"] = json!("Daily standup");
    let replaced = app.put(&uri, &ada.token, body).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["due_local"], "2030-01-07T09:30:00");
    assert_eq!(replaced.body["project_id"], home);
    let mut elsewhere = task.clone();
    elsewhere["project_id"] = json!(null);
    elsewhere["parent_id"] = json!(null);
    let inbox = app.get("/api/v1/projects", &ada.token).await.body[0]["id"].clone();
    elsewhere["project_id"] = inbox;
    let moved = app.put(&uri, &ada.token, elsewhere).await;
    assert_eq!(
        moved.invalid_fields(),
        ["project_id"],
        "a replace is no move"
    );
}

/// Undo puts the due back on the owner's clock, not UTC's; saving the profile with the same
/// zone leaves tasks alone; a recurring subtask closes with its parent.
#[tokio::test]
async fn undo_reads_the_owners_zone_and_a_parent_closes_its_recurring_subtasks() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    app.patch(
        "/api/v1/me",
        &ada.token,
        json!({"timezone": "America/New_York"}),
    )
    .await;
    let task = add(
        &app,
        &ada,
        json!({"title": "Standup", "due_local": "2030-01-07T09:30", "recurrence": "FREQ=DAILY"}),
    )
    .await;
    let uri = format!("/api/v1/tasks/{}", task["id"]);
    let done = app
        .patch(
            &format!("{uri}/complete"),
            &ada.token,
            json!({"completed": true}),
        )
        .await;
    assert_eq!(done.body["due_local"], "2030-01-08T09:30:00");
    let undone = app
        .patch(&uri, &ada.token, json!({"completed": false}))
        .await;
    assert_eq!(
        undone.body["due_local"], "2030-01-07T09:30:00",
        "{}",
        undone.body
    );
    assert_eq!(undone.body["due_at"], "2030-01-07T14:30:00Z");

    let before = app.get(&uri, &ada.token).await.body["updated_at"].clone();
    app.patch(
        "/api/v1/me",
        &ada.token,
        json!({"timezone": "America/New_York", "name": "Ada"}),
    )
    .await;
    let after = app.get(&uri, &ada.token).await.body["updated_at"].clone();
    assert_eq!(before, after, "the same zone moves nothing");

    let parent = add(&app, &ada, json!({"title": "Trip"})).await;
    let daily = add(
        &app,
        &ada,
        json!({"title": "Water", "parent_id": parent["id"], "due_date": "2030-01-07",
               "recurrence": "FREQ=DAILY"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/tasks/{}/complete", parent["id"]),
        &ada.token,
        json!({"completed": true}),
    )
    .await;
    let closed = app
        .get(&format!("/api/v1/tasks/{}", daily["id"]), &ada.token)
        .await;
    assert_eq!(closed.body["completed"], true, "{}", closed.body);
    assert_eq!(
        closed.body["due_date"], "2030-01-07",
        "closed, not moved on"
    );
}
