//! `/mcp`: the tool registry over Streamable HTTP, in-process. Each request stands alone (the
//! server is stateless), so a test sends JSON-RPC without a handshake. The full client story
//! with the official SDK, over HTTP and stdio, is `tests/mcp/client_test.py`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, TestUser};

/// Sends one JSON-RPC request to `/mcp` as a 2025-11-25 client would after its handshake.
async fn rpc(app: &TestApp, token: Option<&str>, method: &str, params: Value) -> TestResponse {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let mut request = Request::post("/mcp")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.raw(request.body(Body::from(body.to_string())).expect("request"))
        .await
}

/// Calls tool `name` and returns its `result`.
async fn call(app: &TestApp, token: &str, name: &str, arguments: Value) -> Value {
    let response = rpc(
        app,
        Some(token),
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["result"].clone()
}

fn error_text(result: &Value) -> &str {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_tools_are_listed_with_input_and_output_schemas() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let response = rpc(&app, Some(&user.token), "tools/list", json!({})).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let tools = response.body["result"]["tools"].as_array().expect("tools");
    let names: Vec<_> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for expected in [
        "add_task",
        "list_tasks",
        "complete_task",
        "update_task",
        "delete_task",
        "get_task",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        assert!(tool["description"].is_string(), "{tool}");
    }
}

/// What clients see of the tools: names, descriptions, schemas, annotations. A change here is a
/// change of the MCP API (and of what the chat's model is offered).
#[tokio::test]
async fn the_tool_list_is_locked_by_a_snapshot() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let response = rpc(&app, Some(&user.token), "tools/list", json!({})).await;

    insta::assert_json_snapshot!("mcp_tools", response.body["result"]["tools"]);
}

#[tokio::test]
async fn a_tool_call_changes_the_callers_tasks_and_reports_the_change() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let added = call(&app, &user.token, "add_task", json!({"title": "Buy milk"})).await;
    let created = &added["structuredContent"];
    assert_eq!(created["status"], "created");
    assert_eq!(created["title"], "Buy milk");
    let id = created["task_id"].as_i64().expect("task_id");

    let done = call(&app, &user.token, "complete_task", json!({"task_id": id})).await;
    assert_eq!(
        done["structuredContent"],
        json!({"task_id": id, "status": "completed", "title": "Buy milk"})
    );
    let rest = app.get(&format!("/api/v1/tasks/{id}"), &user.token).await;
    assert_eq!(
        rest.body["completed"], true,
        "the REST API sees the same task"
    );
}

#[tokio::test]
async fn update_task_takes_the_rest_patch_beside_the_task_id() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let task = app.task(&user, "Pay rent").await;
    let described = app
        .patch(
            &format!("/api/v1/tasks/{task}"),
            &user.token,
            json!({"description": "by transfer"}),
        )
        .await;
    assert_eq!(described.status, StatusCode::OK, "{}", described.body);

    let updated = call(
        &app,
        &user.token,
        "update_task",
        json!({"task_id": task, "description": null, "priority": "high"}),
    )
    .await;

    assert_eq!(
        updated["structuredContent"]["status"], "updated",
        "{updated}"
    );
    let rest = app.get(&format!("/api/v1/tasks/{task}"), &user.token).await;
    assert_eq!(rest.body["description"], Value::Null, "null clears");
    assert_eq!(rest.body["priority"], "high");
    assert_eq!(rest.body["title"], "Pay rent", "absent stays");
    let nothing = call(&app, &user.token, "update_task", json!({"task_id": task})).await;
    assert!(
        error_text(&nothing).contains("nothing to change"),
        "{nothing}"
    );
}

#[tokio::test]
async fn another_users_task_is_a_tool_error_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let task = app.task(&ada, "Ada's").await;

    let result = call(&app, &bob.token, "delete_task", json!({"task_id": task})).await;

    assert!(error_text(&result).contains("no task"), "{result}");
    let still = app.get(&format!("/api/v1/tasks/{task}"), &ada.token).await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn list_tasks_reads_as_the_briefs_array_and_its_structured_content_stays_an_object() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for title in ["Buy milk", "Call mom"] {
        call(&app, &ada.token, "add_task", json!({"title": title})).await;
    }

    let listed = call(&app, &ada.token, "list_tasks", json!({"sort": "title"})).await;

    assert_eq!(listed["isError"], false, "{listed}");
    let structured = &listed["structuredContent"];
    assert_eq!(structured["total"], 2, "{listed}");
    let text = listed["content"][0]["text"].as_str().expect("text content");
    let array: Value = serde_json::from_str(text).expect("the text is JSON");
    assert_eq!(
        &array, &structured["tasks"],
        "the text is the array of tasks"
    );
    let titles: Vec<&str> = array
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["Buy milk", "Call mom"]);
    let other = call(
        &app,
        &ada.token,
        "get_task",
        json!({"task_id": array[0]["id"]}),
    )
    .await;
    let text: Value =
        serde_json::from_str(other["content"][0]["text"].as_str().expect("text")).expect("JSON");
    assert_eq!(
        text, other["structuredContent"],
        "other tools' text is their object"
    );
}

#[tokio::test]
async fn a_user_id_other_than_the_callers_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;

    let own = call(&app, &ada.token, "list_tasks", json!({"user_id": ada.id})).await;
    assert_eq!(own["isError"], false, "{own}");
    let other = call(&app, &ada.token, "list_tasks", json!({"user_id": bob.id})).await;
    assert!(error_text(&other).contains("user_id"), "{other}");
}

#[tokio::test]
async fn bad_arguments_are_a_tool_error_that_names_the_field() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let empty = call(&app, &user.token, "add_task", json!({"title": "  "})).await;
    assert!(error_text(&empty).contains("title"), "{empty}");
    let typo = call(&app, &user.token, "add_task", json!({"titel": "x"})).await;
    assert!(error_text(&typo).contains("titel"), "{typo}");
}

#[tokio::test]
async fn a_read_only_key_cannot_call_a_write_tool() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let secret = created.body["secret"].as_str().expect("secret");

    let listed = call(&app, secret, "list_tasks", json!({})).await;
    assert_eq!(listed["isError"], false, "{listed}");
    let added = call(&app, secret, "add_task", json!({"title": "nope"})).await;
    assert!(error_text(&added).contains("write scope"), "{added}");
}

#[tokio::test]
async fn an_unknown_tool_is_a_protocol_error() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let response = rpc(
        &app,
        Some(&user.token),
        "tools/call",
        json!({"name": "launch_rockets", "arguments": {}}),
    )
    .await;

    assert_eq!(response.body["error"]["code"], -32602, "{}", response.body);
}

#[tokio::test]
async fn a_foreign_host_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});

    let response = app
        .raw(
            Request::post("/mcp")
                .header(header::HOST, "attacker.example")
                .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await;

    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn projects_and_sections_are_made_listed_and_archived_through_tools() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let created = call(
        &app,
        &user.token,
        "add_project",
        json!({"name": "Home", "color": "#336699"}),
    )
    .await;
    let project = created["structuredContent"]["id"].as_i64().expect("id");
    let section = call(
        &app,
        &user.token,
        "create_section",
        json!({"project_id": project, "name": "Kitchen"}),
    )
    .await;
    assert_eq!(
        section["structuredContent"]["project_id"], project,
        "{section}"
    );
    let sections = call(
        &app,
        &user.token,
        "list_sections",
        json!({"project_id": project}),
    )
    .await;
    let renamed = call(
        &app,
        &user.token,
        "update_project",
        json!({"project_id": project, "name": "House", "archived": true}),
    )
    .await;
    let listed = call(&app, &user.token, "list_projects", json!({})).await;

    assert_eq!(
        sections["structuredContent"]["sections"][0]["name"],
        "Kitchen"
    );
    assert_eq!(renamed["structuredContent"]["archived"], true, "{renamed}");
    let names: Vec<_> = listed["structuredContent"]["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["Inbox", "House"]);
}

#[tokio::test]
async fn project_tools_answer_unknown_and_foreign_projects_with_a_not_found_tool_error() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let created = call(&app, &ada.token, "add_project", json!({"name": "Ada's"})).await;
    let project = created["structuredContent"]["id"].as_i64().expect("id");

    let foreign = call(
        &app,
        &bob.token,
        "list_sections",
        json!({"project_id": project}),
    )
    .await;
    let rename = call(
        &app,
        &bob.token,
        "update_project",
        json!({"project_id": project, "name": "Mine"}),
    )
    .await;
    let into = call(
        &app,
        &bob.token,
        "add_task",
        json!({"title": "Sneak", "project_id": project}),
    )
    .await;
    let inbox = &call(&app, &ada.token, "list_projects", json!({})).await["structuredContent"]["projects"]
        [0];
    let archive_inbox = call(
        &app,
        &ada.token,
        "update_project",
        json!({"project_id": inbox["id"], "archived": true}),
    )
    .await;
    let bad_name = call(&app, &ada.token, "add_project", json!({"name": " "})).await;

    assert!(error_text(&foreign).contains("list_projects"), "{foreign}");
    assert!(error_text(&rename).contains("no project"), "{rename}");
    assert!(error_text(&into).contains("no such project"), "{into}");
    assert!(
        error_text(&archive_inbox).contains("archived"),
        "{archive_inbox}"
    );
    assert!(error_text(&bad_name).contains("name"), "{bad_name}");
}

#[tokio::test]
async fn tasks_are_added_into_sections_and_under_parents_moved_and_listed_by_place() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let project =
        call(&app, &user.token, "add_project", json!({"name": "Home"})).await["structuredContent"]
            ["id"]
            .clone();
    let section = call(
        &app,
        &user.token,
        "create_section",
        json!({"project_id": project, "name": "Kitchen"}),
    )
    .await["structuredContent"]["id"]
        .clone();
    let add = |args: Value| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let added = call(app, &token, "add_task", args).await;
            added["structuredContent"]["task_id"].clone()
        }
    };
    let parent = add(json!({"title": "Clean", "section_id": section})).await;
    let child = add(json!({"title": "Oven", "parent_id": parent})).await;
    let loose = add(json!({"title": "Loose"})).await;

    let top = call(
        &app,
        &user.token,
        "list_tasks",
        json!({"project_id": project, "parent_id": "none"}),
    )
    .await;
    let subtasks = call(
        &app,
        &user.token,
        "list_tasks",
        json!({"parent_id": parent}),
    )
    .await;
    let moved = call(
        &app,
        &user.token,
        "move_task",
        json!({"task_id": loose, "parent_id": parent, "position": 0}),
    )
    .await;
    let after = call(
        &app,
        &user.token,
        "list_tasks",
        json!({"parent_id": parent, "sort": "position"}),
    )
    .await;
    let updated = call(
        &app,
        &user.token,
        "update_task",
        json!({"task_id": loose, "project_id": project, "title": "Not loose"}),
    )
    .await;
    let in_section = call(
        &app,
        &user.token,
        "list_tasks",
        json!({"section_id": section}),
    )
    .await;
    let under_itself = call(
        &app,
        &user.token,
        "move_task",
        json!({"task_id": parent, "parent_id": child}),
    )
    .await;

    let titles = |result: &Value| -> Vec<String> {
        result["structuredContent"]["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(titles(&top), ["Clean"]);
    assert_eq!(top["structuredContent"]["tasks"][0]["section_id"], section);
    assert_eq!(titles(&subtasks), ["Oven"]);
    assert_eq!(moved["structuredContent"]["status"], "updated", "{moved}");
    assert_eq!(titles(&after), ["Loose", "Oven"], "position 0 is first");
    assert_eq!(
        updated["structuredContent"]["title"], "Not loose",
        "{updated}"
    );
    let task = app
        .get(&format!("/api/v1/tasks/{loose}"), &user.token)
        .await;
    assert_eq!(
        task.body["parent_id"],
        Value::Null,
        "moved to the project's top level"
    );
    assert_eq!(task.body["project_id"], project);
    assert_eq!(titles(&in_section), ["Clean", "Oven"]);
    assert!(
        error_text(&under_itself).contains("parent_id"),
        "{under_itself}"
    );
}

#[tokio::test]
async fn completing_a_recurring_task_says_it_moved_to_its_next_due() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let added = call(
        &app,
        &user.token,
        "add_task",
        json!({"title": "Water plants", "due_date": "2026-12-07", "recurrence": "FREQ=DAILY"}),
    )
    .await;
    let id = added["structuredContent"]["task_id"].clone();

    let done = call(&app, &user.token, "complete_task", json!({"task_id": id})).await;

    let result = &done["structuredContent"];
    assert_eq!(result["status"], "completed", "{done}");
    let message = result["message"].as_str().unwrap_or_default();
    assert!(message.contains("next due, 2026-12-08"), "{message}");
    let text = done["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("next due"),
        "the text result says so too: {text}"
    );
    let task = app.get(&format!("/api/v1/tasks/{id}"), &user.token).await;
    assert_eq!(task.body["completed"], false);
    assert_eq!(task.body["due_date"], "2026-12-08");
}

fn titles_in(result: &Value) -> Vec<String> {
    result["structuredContent"]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_does_every_good_item_and_reports_each_bad_one_in_its_place() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let bobs = app.task(&bob, "Bob's").await;

    let added = call(
        &app,
        &ada.token,
        "add_tasks",
        json!({"tasks": [
            {"title": "Buy milk", "priority": "high"},
            {"title": "   "},
            {"title": "Call mum", "colour": "red"},
            {"title": "Pay rent", "due_date": "2026-12-01"}
        ]}),
    )
    .await;
    let report = &added["structuredContent"];
    let ids: Vec<Value> = [0, 3]
        .iter()
        .map(|i| report["results"][i]["task_id"].clone())
        .collect();
    let completed = call(
        &app,
        &ada.token,
        "complete_tasks",
        json!({"task_ids": [ids[0], bobs, 999_999]}),
    )
    .await;
    let updated = call(
        &app,
        &ada.token,
        "update_tasks",
        json!({"tasks": [
            {"task_id": ids[1], "title": "Pay the rent"},
            {"task_id": ids[0]},
            {"title": "no id"}
        ]}),
    )
    .await;
    let too_many = call(
        &app,
        &ada.token,
        "complete_tasks",
        json!({"task_ids": vec![1; 101]}),
    )
    .await;

    assert_eq!(added["isError"], false, "{added}");
    assert_eq!(
        (report["succeeded"].clone(), report["failed"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(report["results"][0]["status"], "created");
    assert_eq!(report["results"][0]["title"], "Buy milk");
    assert_eq!(report["results"][1]["status"], "failed");
    assert!(
        report["results"][1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("title"),
        "{report}"
    );
    assert!(
        report["results"][2]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("colour"),
        "{report}"
    );
    assert_eq!(report["results"][3]["title"], "Pay rent");
    let listed = call(&app, &ada.token, "list_tasks", json!({"sort": "title"})).await;
    assert_eq!(titles_in(&listed), ["Buy milk", "Pay the rent"]);

    let done = &completed["structuredContent"];
    assert_eq!(done["results"][0]["status"], "completed", "{done}");
    assert_eq!(done["results"][1]["task_id"], bobs);
    assert_eq!(done["results"][1]["status"], "failed");
    assert!(
        done["results"][1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no task"),
        "another user's task is not found: {done}"
    );
    assert_eq!(done["results"][2]["status"], "failed");
    let still = app.get(&format!("/api/v1/tasks/{bobs}"), &bob.token).await;
    assert_eq!(still.body["completed"], false);

    let changes = &updated["structuredContent"];
    assert_eq!(changes["results"][0]["status"], "updated", "{changes}");
    assert!(
        changes["results"][1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("nothing to change"),
        "{changes}"
    );
    assert!(
        changes["results"][2]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("task_id"),
        "{changes}"
    );
    assert!(error_text(&too_many).contains("1 to 100"), "{too_many}");
}

#[tokio::test]
async fn reschedule_tasks_moves_dues_and_a_recurring_task_keeps_its_rule() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let weekly = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "Bins out", "due_date": "2026-12-07", "recurrence": "FREQ=WEEKLY"}),
        )
        .await;
    let weekly = weekly.body["id"].as_i64().expect("id");
    let undated = app.task(&user, "Someday").await;

    let shifted = call(
        &app,
        &user.token,
        "reschedule_tasks",
        json!({"task_ids": [weekly, undated], "days": 2}),
    )
    .await;
    let after_shift = app
        .get(&format!("/api/v1/tasks/{weekly}"), &user.token)
        .await;
    let done = call(
        &app,
        &user.token,
        "complete_task",
        json!({"task_id": weekly}),
    )
    .await;
    let after_done = app
        .get(&format!("/api/v1/tasks/{weekly}"), &user.token)
        .await;
    let dated = call(
        &app,
        &user.token,
        "reschedule_tasks",
        json!({"task_ids": [weekly, undated], "due_date": "2027-01-04"}),
    )
    .await;
    let both = call(
        &app,
        &user.token,
        "reschedule_tasks",
        json!({"task_ids": [weekly], "days": 1, "due_date": "2027-01-04"}),
    )
    .await;

    let report = &shifted["structuredContent"];
    assert_eq!(report["results"][0]["status"], "updated", "{report}");
    assert!(
        report["results"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2026-12-09"),
        "{report}"
    );
    assert!(
        report["results"][1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no due"),
        "{report}"
    );
    assert_eq!(after_shift.body["due_date"], "2026-12-09");
    assert_eq!(after_shift.body["recurrence"], "FREQ=WEEKLY");
    assert_eq!(done["structuredContent"]["status"], "completed", "{done}");
    assert_eq!(
        after_done.body["due_date"], "2026-12-16",
        "the next occurrence counts from the new due"
    );
    assert_eq!(after_done.body["recurrence"], "FREQ=WEEKLY");
    assert_eq!(dated["structuredContent"]["succeeded"], 2, "{dated}");
    let someday = app
        .get(&format!("/api/v1/tasks/{undated}"), &user.token)
        .await;
    assert_eq!(someday.body["due_date"], "2027-01-04");
    assert!(error_text(&both).contains("exactly one"), "{both}");
}

#[tokio::test]
async fn search_and_fetch_answer_as_chatgpt_connectors_expect_with_links_under_public_url() {
    let mut settings = todo_server::Settings::new(crate::helpers::auth_settings());
    settings.mcp.public_url = Some("https://todo.example.com".into());
    let app = TestApp::spawn_configured(settings).await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "Buy oat milk", "description": "the barista one", "tags": ["shop"],
                   "priority": "high", "due_date": "2026-12-24"}),
        )
        .await;
    let id = created.body["id"].as_i64().expect("id");
    app.task(&user, "Call the plumber").await;
    let commented = app
        .post(
            &format!("/api/v1/tasks/{id}/comments"),
            &user.token,
            json!({"body": "Two cartons"}),
        )
        .await;
    assert_eq!(commented.status, StatusCode::CREATED, "{}", commented.body);

    let found = call(&app, &user.token, "search", json!({"query": "milk"})).await;
    let fetched = call(&app, &user.token, "fetch", json!({"id": id.to_string()})).await;
    let unknown = call(&app, &user.token, "fetch", json!({"id": "999999"})).await;
    let malformed = call(&app, &user.token, "fetch", json!({"id": "task-x"})).await;

    let url = format!("https://todo.example.com/tasks/{id}/edit");
    assert_eq!(
        found["structuredContent"],
        json!({"results": [{"id": id.to_string(), "title": "Buy oat milk", "url": url}]})
    );
    let text = found["content"][0]["text"].as_str().unwrap_or_default();
    let from_text: Value = serde_json::from_str(text).expect("the text is the JSON too");
    assert_eq!(from_text, found["structuredContent"]);
    let document = &fetched["structuredContent"];
    assert_eq!(document["id"], id.to_string(), "{fetched}");
    assert_eq!(document["title"], "Buy oat milk");
    assert_eq!(document["url"], url);
    let body = document["text"].as_str().unwrap_or_default();
    for part in [
        "the barista one",
        "Due: 2026-12-24",
        "Priority: high",
        "Tags: shop",
        "Two cartons",
    ] {
        assert!(body.contains(part), "{part} missing from {body}");
    }
    assert_eq!(document["metadata"]["project"], "Inbox");
    assert_eq!(document["metadata"]["comments"], 1);
    assert_eq!(document["metadata"]["completed"], false);
    assert!(error_text(&unknown).contains("no task"), "{unknown}");
    assert!(error_text(&malformed).contains("search"), "{malformed}");
}

#[tokio::test]
async fn search_lists_the_newest_matches_first_and_without_public_url_no_link() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.task(&user, "Buy milk").await;
    app.task(&user, "Call the plumber").await;
    app.task(&user, "Milk for the party").await;

    let found = call(&app, &user.token, "search", json!({"query": "milk"})).await;
    let everything = call(&app, &user.token, "search", json!({"query": " "})).await;

    let results = &found["structuredContent"]["results"];
    let titles: Vec<_> = results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["title"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(titles, ["Milk for the party", "Buy milk"]);
    assert_eq!(results[0]["url"], Value::Null, "{found}");
    let all = everything["structuredContent"]["results"]
        .as_array()
        .map(Vec::len);
    assert_eq!(all, Some(3), "an empty query lists the latest tasks");
}

/// Alice's project "Home", shared with Carol as a viewer; Bob is no member.
async fn shared_home(app: &TestApp) -> (TestUser, TestUser, TestUser, i64) {
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let carol = app.signup("carol@example.com").await;
    let project = app
        .post("/api/v1/projects", &alice.token, json!({"name": "Home"}))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let invited = app
        .post(
            &format!("/api/v1/projects/{project}/invitations"),
            &alice.token,
            json!({"email": "carol@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let invitation = app.get("/api/v1/invitations", &carol.token).await.body[0]["id"].clone();
    let joined = app
        .post(
            &format!("/api/v1/invitations/{invitation}/accept"),
            &carol.token,
            json!({}),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    (alice, bob, carol, project)
}

#[tokio::test]
async fn a_viewer_comments_on_a_shared_task_but_adds_no_task_and_a_stranger_finds_neither() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol, project) = shared_home(&app).await;
    let task = call(
        &app,
        &alice.token,
        "add_task",
        json!({"title": "Fix the tap", "project_id": project}),
    )
    .await["structuredContent"]["task_id"]
        .clone();

    let comment = call(
        &app,
        &carol.token,
        "add_comment",
        json!({"task_id": task, "body": "  The kitchen one?  "}),
    )
    .await;
    let listed = call(
        &app,
        &alice.token,
        "list_comments",
        json!({"task_id": task}),
    )
    .await;
    let viewer_adds = call(
        &app,
        &carol.token,
        "add_task",
        json!({"title": "Sneak in", "project_id": project}),
    )
    .await;
    let viewer_batch = call(
        &app,
        &carol.token,
        "add_tasks",
        json!({"tasks": [{"title": "Sneak in", "project_id": project}]}),
    )
    .await;
    let stranger_comments = call(
        &app,
        &bob.token,
        "add_comment",
        json!({"task_id": task, "body": "hello"}),
    )
    .await;
    let stranger_lists = call(&app, &bob.token, "list_comments", json!({"task_id": task})).await;
    let empty = call(
        &app,
        &carol.token,
        "add_comment",
        json!({"task_id": task, "body": " "}),
    )
    .await;

    assert_eq!(comment["isError"], false, "{comment}");
    assert_eq!(comment["structuredContent"]["body"], "The kitchen one?");
    assert_eq!(comment["structuredContent"]["author_id"], carol.id.as_str());
    let comments = &listed["structuredContent"]["comments"];
    assert_eq!(comments.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(comments[0]["body"], "The kitchen one?");
    assert!(error_text(&viewer_adds).contains("viewer"), "{viewer_adds}");
    assert_eq!(
        viewer_batch["structuredContent"]["failed"], 1,
        "{viewer_batch}"
    );
    assert!(
        error_text(&stranger_comments).contains("no task"),
        "{stranger_comments}"
    );
    assert!(
        error_text(&stranger_lists).contains("no task"),
        "{stranger_lists}"
    );
    assert!(error_text(&empty).contains("body"), "{empty}");
    let tasks = call(
        &app,
        &alice.token,
        "list_tasks",
        json!({"project_id": project}),
    )
    .await;
    assert_eq!(titles_in(&tasks), ["Fix the tap"]);
}

#[tokio::test]
async fn list_tasks_filters_by_assignee() {
    let app = TestApp::spawn().await;
    let (alice, _bob, carol, project) = shared_home(&app).await;
    for (title, assignee) in [("Hers", Some(&carol.id)), ("Nobody's", None)] {
        let added = call(
            &app,
            &alice.token,
            "add_task",
            json!({"title": title, "project_id": project, "assignee_id": assignee}),
        )
        .await;
        assert_eq!(added["isError"], false, "{added}");
    }

    let mine = call(&app, &carol.token, "list_tasks", json!({"assignee": "me"})).await;
    let unassigned = call(
        &app,
        &alice.token,
        "list_tasks",
        json!({"assignee": "none"}),
    )
    .await;
    let by_id = call(
        &app,
        &alice.token,
        "list_tasks",
        json!({"assignee": carol.id}),
    )
    .await;
    let blank = call(&app, &alice.token, "list_tasks", json!({"assignee": " "})).await;

    assert_eq!(titles_in(&mine), ["Hers"]);
    assert_eq!(titles_in(&unassigned), ["Nobody's"]);
    assert_eq!(titles_in(&by_id), ["Hers"]);
    assert!(error_text(&blank).contains("assignee"), "{blank}");
}
