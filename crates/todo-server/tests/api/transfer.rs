use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use todo_server::Settings;

use crate::helpers::{TestApp, TestUser};

async fn import(
    app: &TestApp,
    user: &TestUser,
    content_type: &str,
    body: String,
) -> crate::helpers::TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/import")
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    app.raw(request).await
}

async fn total(app: &TestApp, user: &TestUser) -> String {
    app.get("/api/v1/tasks", &user.token)
        .await
        .header("x-total-count")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bulk_actions_report_each_id() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let (a, b) = (app.task(&alice, "a").await, app.task(&alice, "b").await);
    let bobs = app.task(&bob, "bob's").await;

    let done = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "complete", "ids": [a, b, bobs, a, 999_999]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        done.body,
        json!([
            {"id": a, "status": "completed"},
            {"id": b, "status": "completed"},
            {"id": bobs, "status": "not_found"},
            {"id": 999_999, "status": "not_found"},
        ])
    );
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{bobs}"), &bob.token)
            .await
            .body["completed"],
        false
    );

    let reopened = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "reopen", "ids": [a]}),
        )
        .await;
    assert_eq!(reopened.body[0]["status"], "reopened");
    let deleted = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "delete", "ids": [a, b]}),
        )
        .await;
    assert_eq!(deleted.body[1]["status"], "deleted");
    assert_eq!(total(&app, &alice).await, "0");

    app.post(
        "/api/v1/tasks/bulk",
        &alice.token,
        json!({"action": "delete", "ids": []}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let too_many: Vec<i64> = (1..=501).collect();
    let response = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "delete", "ids": too_many}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["ids"]);
    app.post(
        "/api/v1/tasks/bulk",
        &alice.token,
        json!({"action": "archive", "ids": [1]}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bulk_moves_to_a_project_and_reschedules_keeping_clock_times() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let errands = app
        .post("/api/v1/projects", &alice.token, json!({"name": "Errands"}))
        .await
        .body["id"]
        .clone();
    let timed = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "standup", "due_local": "2030-01-01T09:30"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let all_day = app
        .post(
            "/api/v1/tasks",
            &alice.token,
            json!({"title": "rent", "due_date": "2030-01-01"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let bobs = app.task(&bob, "bob's").await;

    let moved = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "move", "ids": [timed, all_day, bobs], "project_id": errands}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(
        moved.body,
        json!([
            {"id": timed, "status": "moved"},
            {"id": all_day, "status": "moved"},
            {"id": bobs, "status": "not_found"},
        ])
    );
    let task = app
        .get(&format!("/api/v1/tasks/{timed}"), &alice.token)
        .await;
    assert_eq!(task.body["project_id"], errands);

    let rescheduled = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "reschedule", "ids": [timed, all_day], "due_date": "2030-02-03"}),
        )
        .await;
    assert_eq!(
        rescheduled.body[0]["status"], "rescheduled",
        "{}",
        rescheduled.body
    );
    let task = app
        .get(&format!("/api/v1/tasks/{timed}"), &alice.token)
        .await;
    assert_eq!(task.body["due_local"], "2030-02-03T09:30:00");
    let task = app
        .get(&format!("/api/v1/tasks/{all_day}"), &alice.token)
        .await;
    assert_eq!(task.body["due_date"], "2030-02-03");

    let cleared = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "reschedule", "ids": [all_day], "due_date": null}),
        )
        .await;
    assert_eq!(cleared.body[0]["status"], "rescheduled", "{}", cleared.body);
    let task = app
        .get(&format!("/api/v1/tasks/{all_day}"), &alice.token)
        .await;
    assert_eq!(task.body["due_date"], Value::Null);

    // What an action needs is asked for by name.
    let response = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "move", "ids": [timed]}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["project_id"]);
    let response = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "reschedule", "ids": [timed]}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["due_date"]);
    // Another user's project is not a destination.
    let bobs_project = app
        .post("/api/v1/projects", &bob.token, json!({"name": "Bob's"}))
        .await
        .body["id"]
        .clone();
    let response = app
        .post(
            "/api/v1/tasks/bulk",
            &alice.token,
            json!({"action": "move", "ids": [timed], "project_id": bobs_project}),
        )
        .await;
    assert_ne!(response.status, StatusCode::OK, "{}", response.body);
    let task = app
        .get(&format!("/api/v1/tasks/{timed}"), &alice.token)
        .await;
    assert_eq!(task.body["project_id"], errands);
}

#[tokio::test]
async fn an_export_imports_into_another_account_once() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    app.post(
        "/api/v1/tags",
        &alice.token,
        json!({"name": "home", "color": "#112233"}),
    )
    .await;
    app.post("/api/v1/tasks", &alice.token, json!({"title": "Pay rent", "tags": ["home"], "due_date": "2030-01-01", "recurrence": "FREQ=MONTHLY"})).await;
    let done = app.task(&alice, "Done already").await;
    app.patch(
        &format!("/api/v1/tasks/{done}/complete"),
        &alice.token,
        json!({"completed": true}),
    )
    .await;

    let export = app.get("/api/v1/export", &alice.token).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(
        export.header("content-disposition"),
        Some("attachment; filename=\"todo-export.json\"")
    );
    assert_eq!(export.body["format"], "todo-export");
    assert_eq!(export.body["user"]["email"], "alice@example.com");
    assert_eq!(export.body["tasks"].as_array().map(Vec::len), Some(2));

    let bob = app.signup("bob@example.com").await;
    let first = import(&app, &bob, "application/json", export.body.to_string()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body, json!({"created": 2, "skipped": 0}));
    let again = import(&app, &bob, "application/json", export.body.to_string()).await;
    assert_eq!(again.body, json!({"created": 0, "skipped": 2}));

    let bobs = app.get("/api/v1/tasks?sort=title", &bob.token).await.body;
    assert_eq!(bobs[1]["title"], "Pay rent");
    assert_eq!(bobs[1]["tags"], json!(["home"]));
    assert_eq!(bobs[1]["recurrence"], "FREQ=MONTHLY");
    assert_eq!(bobs[0]["completed"], true);
    assert_eq!(
        app.get("/api/v1/tags", &bob.token).await.body[0]["color"],
        "#112233"
    );

    let back_home = import(&app, &alice, "application/json", export.body.to_string()).await;
    assert_eq!(
        back_home.body,
        json!({"created": 0, "skipped": 2}),
        "an account's own export adds nothing"
    );
}

#[tokio::test]
async fn an_import_with_a_bad_row_stores_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let document = json!({"tasks": [{"title": "fine"}, {"title": "  "}, {"title": "x", "recurrence": "FREQ=SOMETIMES"}]});
    let response = import(&app, &user, "application/json", document.to_string()).await;
    assert_eq!(
        response.invalid_fields(),
        ["tasks[1].title", "tasks[2].recurrence"]
    );
    assert_eq!(total(&app, &user).await, "0");
}

#[tokio::test]
async fn a_todoist_csv_imports_once() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let csv = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n\
               task,Pay rent @bills,,1,1,Ada (1),,every month on the 1st,en,UTC\n\
               task,Buy milk,,4,1,Ada (1),,,en,UTC\n\
               task,Buy milk,,4,1,Ada (1),,,en,UTC\n";
    let first = import(&app, &user, "text/csv; charset=utf-8", csv.to_owned()).await;
    assert_eq!(
        first.body,
        json!({"created": 3, "skipped": 0}),
        "identical rows are distinct tasks"
    );
    let again = import(&app, &user, "text/csv", csv.to_owned()).await;
    assert_eq!(again.body, json!({"created": 0, "skipped": 3}));

    let rent = app.get("/api/v1/tasks?tag=bills", &user.token).await.body;
    assert_eq!(rent[0]["title"], "Pay rent");
    assert_eq!(rent[0]["priority"], "urgent");
    assert_eq!(rent[0]["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
}

/// POSTs a CSV with extra headers to `uri`.
async fn import_csv(
    app: &TestApp,
    user: &TestUser,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> crate::helpers::TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header(header::CONTENT_TYPE, "text/csv");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.raw(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

/// The user's projects as `(id, name)`, through the core (the REST routes for projects are
/// another change's).
async fn projects(app: &TestApp, user: &TestUser) -> Vec<(i64, String)> {
    app.todo
        .list_projects(&user.id.as_str().into())
        .await
        .expect("projects")
        .into_iter()
        .map(|p| (p.id.get(), p.name))
        .collect()
}

const HOME_CSV: &str = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n\
    task,Loose end,,4,1,Ada (1),,,en,UTC\n\
    section,Kitchen,,,,,,,,\n\
    task,Clean @chores,,2,1,Ada (1),,every saturday,en,UTC\n\
    task,Oven,,4,2,Ada (1),,,en,UTC\n\
    task,Racks,,4,3,Ada (1),,,en,UTC\n\
    section,Garden,,,,,,,,\n\
    task,Mow,,3,1,Ada (1),,,en,UTC\n";

#[tokio::test]
async fn a_todoist_csv_becomes_a_project_named_after_its_file_with_sections_and_subtasks() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let first = import_csv(
        &app,
        &user,
        "/api/v1/import",
        &[("content-disposition", "attachment; filename=\"Home.csv\"")],
        HOME_CSV,
    )
    .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body, json!({"created": 5, "skipped": 0}));
    let all = projects(&app, &user).await;
    let (id, _) = all
        .iter()
        .find(|(_, name)| name == "Home")
        .unwrap_or_else(|| panic!("no Home in {all:?}"));
    let tasks = app
        .get(
            &format!("/api/v1/tasks?project={id}&sort=position&limit=50"),
            &user.token,
        )
        .await
        .body;
    let by_title = |title: &str| {
        tasks
            .as_array()
            .and_then(|all| all.iter().find(|t| t["title"] == title))
            .cloned()
            .unwrap_or_else(|| panic!("no {title} in {tasks}"))
    };
    let (clean, oven, racks) = (by_title("Clean"), by_title("Oven"), by_title("Racks"));
    assert_eq!(oven["parent_id"], clean["id"]);
    assert_eq!(racks["parent_id"], oven["id"]);
    assert_eq!(clean["section_id"], oven["section_id"]);
    assert!(clean["section_id"].is_i64());
    assert_ne!(by_title("Mow")["section_id"], clean["section_id"]);
    assert_eq!(by_title("Loose end")["section_id"], serde_json::Value::Null);
    assert_eq!(clean["priority"], "high", "Todoist's p2");
    assert_eq!(clean["tags"], json!(["chores"]));
    assert_eq!(clean["recurrence"], "FREQ=WEEKLY;BYDAY=SA");

    // The same file again adds nothing; into another project it is new.
    let again = import_csv(&app, &user, "/api/v1/import?project=Home", &[], HOME_CSV).await;
    assert_eq!(again.body, json!({"created": 0, "skipped": 5}));
    let cabin = import_csv(&app, &user, "/api/v1/import?project=Cabin", &[], HOME_CSV).await;
    assert_eq!(cabin.body, json!({"created": 5, "skipped": 0}));
    let names: Vec<_> = projects(&app, &user)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["Inbox", "Home", "Cabin"]);
}

#[tokio::test]
async fn a_todoist_csv_without_a_name_goes_to_a_todoist_project_and_a_bad_name_is_422() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let unnamed = import_csv(&app, &user, "/api/v1/import", &[], HOME_CSV).await;
    let blank = import_csv(&app, &user, "/api/v1/import?project=%20", &[], HOME_CSV).await;
    let unknown = import_csv(&app, &user, "/api/v1/import?projekt=x", &[], HOME_CSV).await;

    assert_eq!(unnamed.status, StatusCode::OK, "{}", unnamed.body);
    assert_eq!(projects(&app, &user).await[1].1, "Todoist");
    assert_eq!(blank.invalid_fields(), ["project"]);
    assert_eq!(unknown.status.as_u16() / 100, 4, "{}", unknown.body);
}

#[tokio::test]
async fn imports_need_a_known_format() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    import(&app, &user, "text/plain", "hello".into())
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    import(&app, &user, "application/json", "{".into())
        .await
        .problem(StatusCode::BAD_REQUEST);
    import(&app, &user, "text/csv", "a,b\n1,2\n".into())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

const TODOIST_HEADER: &str =
    "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n";

/// A Todoist CSV of `rows` distinct tasks (lines 2 to `rows + 1`).
fn todoist_csv(rows: usize) -> String {
    let mut csv = String::from(TODOIST_HEADER);
    for i in 0..rows {
        csv.push_str(&format!("task,Task number {i},,4,1,Ada (1),,,en,UTC\n"));
    }
    csv
}

#[tokio::test]
async fn a_csv_whose_last_line_is_bad_stores_nothing_and_names_the_line() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.task(&user, "already there").await;
    let mut csv = todoist_csv(1_200);
    // Line 1 202: a task without a title.
    csv.push_str("task,,,4,1,Ada (1),,,en,UTC\n");
    let response = import(&app, &user, "text/csv", csv).await;
    assert_eq!(response.invalid_fields(), ["line[1202].title"]);
    assert_eq!(
        total(&app, &user).await,
        "1",
        "nothing of the file was stored"
    );
}

#[tokio::test]
async fn a_file_over_the_row_limit_is_refused_naming_the_limit() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let response = import(&app, &user, "text/csv", todoist_csv(50_001)).await;
    assert_eq!(response.invalid_fields(), ["tasks"]);
    let message = response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("50000"), "{message}");
    assert_eq!(total(&app, &user).await, "0");

    let tasks: Vec<_> = (0..50_001)
        .map(|i| json!({"title": format!("t{i}")}))
        .collect();
    let response = import(
        &app,
        &user,
        "application/json",
        json!({ "tasks": tasks }).to_string(),
    )
    .await;
    assert_eq!(response.invalid_fields(), ["tasks"]);
    assert_eq!(total(&app, &user).await, "0");
}

/// The request timeout cuts an import short: the client gets its 503 and nothing of the file
/// is stored (before, each batch of 500 committed on its own and the rest was lost).
#[tokio::test]
async fn an_import_cut_short_by_the_request_timeout_stores_nothing() {
    let app = TestApp::spawn().await;
    let mut settings = Settings::new(crate::helpers::auth_settings());
    settings.http.request_timeout = std::time::Duration::from_millis(1_500);
    let hurried = app.replica(&settings);
    let user = app.signup("ada@example.com").await;
    let response = import(&hurried, &user, "text/csv", todoist_csv(40_000)).await;
    response.problem(StatusCode::SERVICE_UNAVAILABLE);
    // A write of the same user queues behind the import's transaction, so once it is done
    // the import has rolled back (or, had it finished, committed whole).
    app.task(&user, "marker").await;
    assert_eq!(total(&app, &user).await, "1", "only the marker");
}

/// What an export says of the account's structure, ids aside: projects with their sections,
/// tasks by project and title with their place named, completions by task title.
fn structure(export: &serde_json::Value) -> serde_json::Value {
    let empty = Vec::new();
    let list = |key: &str| export[key].as_array().unwrap_or(&empty).clone();
    let projects = list("projects");
    let tasks = list("tasks");
    let project_name = |id: &serde_json::Value| {
        projects
            .iter()
            .find(|p| &p["id"] == id)
            .map(|p| p["name"].clone())
            .unwrap_or_default()
    };
    let section_name = |id: &serde_json::Value| {
        projects
            .iter()
            .flat_map(|p| p["sections"].as_array().cloned().unwrap_or_default())
            .find(|s| &s["id"] == id)
            .map(|s| s["name"].clone())
            .unwrap_or_default()
    };
    let title = |id: &serde_json::Value| {
        tasks
            .iter()
            .find(|t| &t["id"] == id)
            .map(|t| t["title"].clone())
            .unwrap_or_default()
    };
    let projects_seen: Vec<_> = projects
        .iter()
        .map(|p| {
            let sections: Vec<_> = p["sections"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|s| s["name"].clone())
                .collect();
            json!([p["name"], p["color"], p["archived"], p["inbox"], sections])
        })
        .collect();
    let mut tasks_seen: Vec<_> = tasks
        .iter()
        .map(|t| {
            json!({
                "project": project_name(&t["project_id"]),
                "section": section_name(&t["section_id"]),
                "parent": title(&t["parent_id"]),
                "title": t["title"], "description": t["description"], "priority": t["priority"],
                "completed": t["completed"], "completed_at": t["completed_at"],
                "due_at": t["due_at"], "due_local": t["due_local"],
                "due_timezone": t["due_timezone"], "due_date": t["due_date"],
                "recurrence": t["recurrence"], "recurrence_mode": t["recurrence_mode"],
                "position": t["position"], "tags": t["tags"],
            })
        })
        .collect();
    tasks_seen.sort_by_key(|t| format!("{}/{}", t["project"], t["title"]));
    let mut completions: Vec<_> = list("completions")
        .iter()
        .map(|c| {
            json!([
                title(&c["task_id"]),
                c["completed_at"],
                c["due_at"],
                c["due_date"],
                c["due_local"],
                c["due_timezone"],
                c["recurrence"]
            ])
        })
        .collect();
    completions.sort_by_key(ToString::to_string);
    json!({"projects": projects_seen, "tasks": tasks_seen, "completions": completions})
}

#[tokio::test]
async fn an_export_with_projects_imports_into_a_fresh_account_as_the_same_structure() {
    use todo_core::placement::MoveInput;
    use todo_core::project::{ProjectInput, ProjectPatchInput, SectionInput};

    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let owner = alice.id.as_str().into();
    let todo = &app.todo;
    let project = |name: &str, color: Option<&str>| ProjectInput {
        name: name.into(),
        color: color.map(str::to_owned),
    };
    let section = |name: &str| SectionInput {
        name: name.into(),
        position: None,
    };
    let home = todo
        .create_project(&owner, project("Home", Some("#336699")))
        .await
        .expect("home");
    let old = todo
        .create_project(&owner, project("Old", None))
        .await
        .expect("old");
    let kitchen = todo
        .create_section(&owner, home.id, section("Kitchen"))
        .await
        .expect("kitchen");
    todo.create_section(&owner, home.id, section("Garden"))
        .await
        .expect("garden");
    let add = |body: serde_json::Value| {
        let (app, token) = (&app, alice.token.clone());
        async move {
            let created = app.post("/api/v1/tasks", &token, body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            created.body["id"].as_i64().expect("id")
        }
    };
    add(json!({"title": "Floating", "due_local": "2026-12-09T09:30:00"})).await;
    let clean = add(json!({"title": "Clean", "section_id": kitchen.id,
        "due_local": "2026-12-10T08:00:00", "due_timezone": "America/New_York",
        "recurrence": "FREQ=DAILY", "tags": ["chores"], "priority": "high"}))
    .await;
    let oven = add(json!({"title": "Oven", "parent_id": clean})).await;
    add(json!({"title": "Racks", "parent_id": oven})).await;
    let loose =
        add(json!({"title": "Loose", "project_id": home.id, "due_date": "2026-12-24"})).await;
    add(json!({"title": "Mow", "project_id": home.id})).await;
    add(json!({"title": "Archived thing", "project_id": old.id})).await;
    let done = add(json!({"title": "Done"})).await;
    for id in [clean, done] {
        let completed = app
            .patch(
                &format!("/api/v1/tasks/{id}/complete"),
                &alice.token,
                json!({"completed": true}),
            )
            .await;
        assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    }
    let to_front = MoveInput {
        position: Some(0),
        ..MoveInput::default()
    };
    todo.move_task(&owner, todo_core::task::TaskId::new(loose), to_front)
        .await
        .expect("reorder");
    let archive = ProjectPatchInput {
        archived: Some(true).into(),
        ..ProjectPatchInput::default()
    };
    todo.update_project(&owner, old.id, archive)
        .await
        .expect("archive");

    let first = app.get("/api/v1/export", &alice.token).await;
    assert_eq!(first.body["version"], 2);
    let bob = app.signup("bob@example.com").await;
    let imported = import(&app, &bob, "application/json", first.body.to_string()).await;
    let second = app.get("/api/v1/export", &bob.token).await;
    let again = import(&app, &bob, "application/json", second.body.to_string()).await;

    assert_eq!(
        imported.body,
        json!({"created": 8, "skipped": 0}),
        "{}",
        imported.body
    );
    let before = structure(&first.body);
    assert_eq!(
        before["completions"].as_array().map(Vec::len),
        Some(2),
        "{before}"
    );
    assert_eq!(structure(&second.body), before);
    assert_eq!(
        again.body,
        json!({"created": 0, "skipped": 8}),
        "its own export adds nothing"
    );
    let projects = projects(&app, &bob).await;
    assert_eq!(projects.len(), 3, "no second Home: {projects:?}");
}

#[tokio::test]
async fn a_version_1_export_still_imports_into_the_inbox_and_bad_references_are_named() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let v1 = json!({"format": "todo-export", "version": 1, "tags": [],
        "tasks": [{"id": 4, "title": "Old one", "project_id": 77, "due_at": "2026-12-01T10:00:00Z"}]});
    let broken = json!({"version": 2,
        "projects": [{"id": 1, "name": "Home", "sections": [{"id": 5, "name": "Kitchen"}]}],
        "tasks": [
            {"id": 10, "title": "a", "project_id": 2},
            {"id": 11, "title": "b", "project_id": 1, "section_id": 6},
            {"id": 12, "title": "c", "parent_id": 99},
            {"id": 13, "title": "d", "parent_id": 14},
            {"id": 14, "title": "e", "parent_id": 13}],
        "completions": [{"task_id": 98, "completed_at": "2026-12-01T10:00:00Z"}]});
    let future = json!({"version": 99, "tasks": []});

    let old = import(&app, &user, "application/json", v1.to_string()).await;
    let bad = import(&app, &user, "application/json", broken.to_string()).await;
    let newer = import(&app, &user, "application/json", future.to_string()).await;

    assert_eq!(
        old.body,
        json!({"created": 1, "skipped": 0}),
        "{}",
        old.body
    );
    let tasks = app.get("/api/v1/tasks", &user.token).await.body;
    let inbox = projects(&app, &user).await[0].0;
    assert_eq!(tasks[0]["project_id"], inbox);
    assert_eq!(
        bad.invalid_fields(),
        [
            "tasks[0].project_id",
            "tasks[1].section_id",
            "tasks[2].parent_id",
            "completions[0].task_id",
            "tasks[3].parent_id",
            "tasks[4].parent_id",
        ]
    );
    assert_eq!(newer.invalid_fields(), ["version"]);
    assert_eq!(total(&app, &user).await, "1", "nothing of the bad files");
}
