//! CalDAV at `/dav` (docs/caldav.md), spoken as the clients speak it: Basic with an API key,
//! PROPFIND, PUT with preconditions, REPORT (multiget, query, sync-collection); every write a
//! task write the REST API sees; roles and other people's calendars as on every door.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, TestUser};

/// A user with an API key, as a CalDAV client signs in.
struct Client {
    user: TestUser,
    email: String,
    key: String,
}

async fn client(app: &TestApp, email: &str) -> Client {
    let user = app.signup(email).await;
    let created = app
        .post("/api/v1/api-keys", &user.token, json!({"name": "phone"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.body["secret"].as_str().expect("secret").to_owned();
    Client {
        user,
        email: email.to_owned(),
        key,
    }
}

fn basic(email: &str, key: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{key}"));
    format!("Basic {pair}")
}

async fn dav(
    app: &TestApp,
    who: &Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, basic(&who.email, &who.key));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.raw(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

fn text(response: &TestResponse) -> &str {
    response.body.as_str().unwrap_or_default()
}

fn vtodo(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         SUMMARY:{summary}\r\n{extra}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

const PROPFIND_CALENDARS: &str = r#"<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><d:displayname/><d:resourcetype/><cs:getctag/><d:sync-token/>
  <c:supported-calendar-component-set/><d:current-user-privilege-set/><d:unknown-prop/></d:prop>
</d:propfind>"#;

async fn inbox_of(app: &TestApp, who: &Client) -> i64 {
    let projects = app.get("/api/v1/projects", &who.user.token).await;
    projects.body.as_array().expect("projects")[0]["id"]
        .as_i64()
        .expect("id")
}

#[tokio::test]
async fn a_client_discovers_the_calendars_from_the_well_known_address() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let well_known = dav(&app, &ada, "PROPFIND", "/.well-known/caldav", &[], "").await;
    assert_eq!(well_known.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(well_known.header("location"), Some("/dav/"));

    let root = dav(&app, &ada, "PROPFIND", "/dav/", &[("depth", "0")], "").await;
    assert_eq!(root.status, StatusCode::MULTI_STATUS, "{}", root.body);
    let principal = format!("/dav/principals/{}/", ada.user.id);
    assert!(text(&root).contains(&principal), "{}", text(&root));

    let found = dav(&app, &ada, "PROPFIND", &principal, &[("depth", "0")], "").await;
    let home = format!("/dav/calendars/{}/", ada.user.id);
    assert!(text(&found).contains(&format!("<c:calendar-home-set><d:href>{home}</d:href>")));

    let calendars = dav(
        &app,
        &ada,
        "PROPFIND",
        &home,
        &[("depth", "1")],
        PROPFIND_CALENDARS,
    )
    .await;
    assert_eq!(calendars.status, StatusCode::MULTI_STATUS);
    let xml = text(&calendars);
    let inbox = inbox_of(&app, &ada).await;
    assert!(
        xml.contains(&format!("<d:href>{home}{inbox}/</d:href>")),
        "{xml}"
    );
    assert!(
        xml.contains("<d:displayname>Inbox</d:displayname>"),
        "{xml}"
    );
    assert!(xml.contains("<c:comp name=\"VTODO\"/>"), "{xml}");
    assert!(
        xml.contains("<d:privilege><d:write/></d:privilege>"),
        "{xml}"
    );
    assert!(
        xml.contains("<x0:unknown-prop xmlns:x0=\"DAV:\"/>") && xml.contains("404 Not Found"),
        "an unknown property is answered 404 in its own propstat: {xml}"
    );
}

#[tokio::test]
async fn a_task_put_over_caldav_is_a_task_everywhere_and_keeps_what_the_client_wrote() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let calendar = format!("/dav/calendars/{}/{inbox}/", ada.user.id);
    let path = format!("{calendar}milk%20run.ics");
    let body = vtodo(
        "milk-1",
        "Buy milk",
        "DUE;VALUE=DATE:20261210\r\nPRIORITY:1\r\nCATEGORIES:shopping\r\nX-APPLE-SORT-ORDER:7\r\n",
    );

    let created = dav(&app, &ada, "PUT", &path, &[("if-none-match", "*")], &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let again = dav(&app, &ada, "PUT", &path, &[("if-none-match", "*")], &body).await;
    again.problem(StatusCode::PRECONDITION_FAILED);

    let tasks = app.get("/api/v1/tasks", &ada.user.token).await;
    let task = &tasks.body[0];
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["due_date"], "2026-12-10");
    assert_eq!(task["priority"], "urgent");
    assert_eq!(task["tags"], json!(["shopping"]));

    let read = dav(&app, &ada, "GET", &path, &[], "").await;
    assert_eq!(read.status, StatusCode::OK);
    let etag = read.header("etag").expect("an ETag").to_owned();
    let ics = text(&read);
    assert!(ics.contains("UID:milk-1\r\n"), "{ics}");
    assert!(ics.contains("X-APPLE-SORT-ORDER:7\r\n"), "kept: {ics}");

    // Changed elsewhere: the client's ETag is stale, its write refused, nothing lost.
    let id = task["id"].as_i64().expect("id");
    let renamed = app
        .patch(
            &format!("/api/v1/tasks/{id}"),
            &ada.user.token,
            json!({"title": "Buy oat milk"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let stale = vtodo("milk-1", "Buy milk and eggs", "");
    dav(&app, &ada, "PUT", &path, &[("if-match", &etag)], &stale)
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    let fresh = dav(&app, &ada, "GET", &path, &[], "").await;
    assert!(text(&fresh).contains("SUMMARY:Buy oat milk"));
    let current = fresh.header("etag").expect("etag").to_owned();
    let done = vtodo(
        "milk-1",
        "Buy oat milk",
        "STATUS:COMPLETED\r\nX-APPLE-SORT-ORDER:7\r\n",
    );
    let updated = dav(&app, &ada, "PUT", &path, &[("if-match", &current)], &done).await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT, "{}", updated.body);
    let task = app
        .get(&format!("/api/v1/tasks/{id}"), &ada.user.token)
        .await;
    assert_eq!(task.body["completed"], true);
    assert_eq!(task.body["tags"], json!([]), "a PUT is the whole task");

    // The same UID under another name is the same task: refused, no second task.
    let twin = dav(
        &app,
        &ada,
        "PUT",
        &format!("{calendar}twin.ics"),
        &[],
        &done,
    )
    .await;
    twin.problem(StatusCode::CONFLICT);
    let deleted = dav(&app, &ada, "DELETE", &path, &[], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/tasks/{id}"), &ada.user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    dav(&app, &ada, "GET", &path, &[], "")
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sync_token_gives_exactly_what_changed_deletions_included() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let calendar = format!("/dav/calendars/{}/{inbox}/", ada.user.id);
    let kept = app.task(&ada.user, "Kept").await;
    let changed = app.task(&ada.user, "Changed").await;
    let removed = app.task(&ada.user, "Removed").await;
    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
            <d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>
            <d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"#
        )
    };
    let first = dav(&app, &ada, "REPORT", &calendar, &[], &sync("")).await;
    assert_eq!(first.status, StatusCode::MULTI_STATUS, "{}", first.body);
    let xml = text(&first);
    for id in [kept, changed, removed] {
        assert!(xml.contains(&format!("task-{id}@todo.ics")), "{xml}");
    }
    let token = xml
        .split("<d:sync-token>")
        .nth(1)
        .and_then(|rest| rest.split("</d:sync-token>").next())
        .expect("a token")
        .to_owned();

    app.patch(
        &format!("/api/v1/tasks/{changed}"),
        &ada.user.token,
        json!({"title": "Changed again"}),
    )
    .await;
    app.delete(&format!("/api/v1/tasks/{removed}"), &ada.user.token)
        .await;
    let added = app.task(&ada.user, "Added").await;

    let next = dav(&app, &ada, "REPORT", &calendar, &[], &sync(&token)).await;
    let xml = text(&next);
    assert!(!xml.contains(&format!("task-{kept}@todo.ics")), "{xml}");
    assert!(xml.contains("SUMMARY:Changed again"), "{xml}");
    assert!(xml.contains(&format!("task-{added}@todo.ics")), "{xml}");
    let gone = format!(
        "<d:response><d:href>{calendar}task-{removed}@todo.ics</d:href>\
         <d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
    );
    assert!(xml.contains(&gone), "{xml}");

    let forged = dav(&app, &ada, "REPORT", &calendar, &[], &sync("http://x/1")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(text(&forged).contains("valid-sync-token"));
}

#[tokio::test]
async fn multiget_and_query_return_the_named_and_the_matching_tasks() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let calendar = format!("/dav/calendars/{}/{inbox}/", ada.user.id);
    let soon = app
        .post(
            "/api/v1/tasks",
            &ada.user.token,
            json!({"title": "Soon", "due_date": "2026-12-10"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let later = app
        .post(
            "/api/v1/tasks",
            &ada.user.token,
            json!({"title": "Later", "due_date": "2027-06-01"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
        <d:prop><d:getetag/><c:calendar-data/></d:prop>
        <d:href>{calendar}task-{soon}@todo.ics</d:href><d:href>{calendar}nothing.ics</d:href>
        </c:calendar-multiget>"#
    );
    let got = dav(&app, &ada, "REPORT", &calendar, &[], &multiget).await;
    let xml = text(&got);
    assert!(xml.contains("SUMMARY:Soon"), "{xml}");
    assert!(!xml.contains("SUMMARY:Later"), "{xml}");
    assert!(xml.contains(&format!(
        "<d:href>{calendar}nothing.ics</d:href><d:status>HTTP/1.1 404 Not Found"
    )));

    let query = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
        <d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR">
        <c:comp-filter name="VTODO"><c:time-range start="20261201T000000Z" end="20261231T000000Z"/>
        </c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#;
    let matched = dav(&app, &ada, "REPORT", &calendar, &[], query).await;
    let xml = text(&matched);
    assert!(xml.contains(&format!("task-{soon}@todo.ics")), "{xml}");
    assert!(!xml.contains(&format!("task-{later}@todo.ics")), "{xml}");
    assert!(
        !xml.contains("BEGIN:VTODO"),
        "calendar-data only when asked: {xml}"
    );
}

#[tokio::test]
async fn strangers_viewers_and_missing_credentials_are_refused_as_on_every_door() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let bob = client(&app, "bob@example.com").await;
    let carol = client(&app, "carol@example.com").await;
    let project = app
        .post("/api/v1/projects", &ada.user.token, json!({"name": "Home"}))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    let invited = app
        .post(
            &format!("/api/v1/projects/{project}/invitations"),
            &ada.user.token,
            json!({"email": "carol@example.com", "role": "viewer"}),
        )
        .await;
    let invitation = invited.body["id"].as_i64().expect("id");
    app.post(
        &format!("/api/v1/invitations/{invitation}/accept"),
        &carol.user.token,
        json!({}),
    )
    .await;
    let task = app
        .post(
            "/api/v1/tasks",
            &ada.user.token,
            json!({"title": "Shared", "project_id": project}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");

    // Nobody: 401 with the Basic challenge CalDAV clients answer.
    let anonymous = app
        .raw(
            Request::builder()
                .method("PROPFIND")
                .uri("/dav/")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    anonymous.problem(StatusCode::UNAUTHORIZED);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Basic"))
    );
    // The right key under another account's name, or the account's password: 401.
    let wrong_name = Client {
        user: ada.user.clone(),
        email: "bob@example.com".into(),
        key: ada.key.clone(),
    };
    dav(&app, &wrong_name, "PROPFIND", "/dav/", &[], "")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let password = Client {
        user: ada.user.clone(),
        email: ada.email.clone(),
        key: "correct horse battery".into(),
    };
    dav(&app, &password, "PROPFIND", "/dav/", &[], "")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // Basic is for /dav only: a browser that remembers it must not reach the API with it.
    let api = app
        .raw(
            Request::get("/api/v1/tasks")
                .header(header::AUTHORIZATION, basic(&ada.email, &ada.key))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    api.problem(StatusCode::UNAUTHORIZED);

    // Someone else's calendar, by their path or by ours: 404.
    let ada_calendar = format!("/dav/calendars/{}/{project}/", ada.user.id);
    dav(&app, &bob, "PROPFIND", &ada_calendar, &[], "")
        .await
        .problem(StatusCode::NOT_FOUND);
    let through_own = format!(
        "/dav/calendars/{}/{project}/task-{task}@todo.ics",
        bob.user.id
    );
    dav(&app, &bob, "GET", &through_own, &[], "")
        .await
        .problem(StatusCode::NOT_FOUND);

    // A viewer reads, and may not write.
    let carol_calendar = format!("/dav/calendars/{}/{project}/", carol.user.id);
    let listed = dav(
        &app,
        &carol,
        "PROPFIND",
        &carol_calendar,
        &[("depth", "1")],
        "",
    )
    .await;
    assert_eq!(listed.status, StatusCode::MULTI_STATUS);
    let xml = text(&listed);
    assert!(xml.contains(&format!("task-{task}@todo.ics")), "{xml}");
    assert!(!xml.contains("<d:write/>"), "read-only for a viewer: {xml}");
    let item = format!("{carol_calendar}task-{task}@todo.ics");
    assert_eq!(
        dav(&app, &carol, "GET", &item, &[], "").await.status,
        StatusCode::OK
    );
    dav(
        &app,
        &carol,
        "PUT",
        &item,
        &[],
        &vtodo(&format!("task-{task}@todo"), "Mine", ""),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    dav(&app, &carol, "DELETE", &item, &[], "")
        .await
        .problem(StatusCode::FORBIDDEN);
    let still = app
        .get(&format!("/api/v1/tasks/{task}"), &ada.user.token)
        .await;
    assert_eq!(still.body["title"], "Shared");
}

#[tokio::test]
async fn bad_bodies_are_clear_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let calendar = format!("/dav/calendars/{}/{inbox}/", ada.user.id);
    for body in [
        "not a calendar".to_owned(),
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".to_owned(),
        vtodo("x", &"t".repeat(300), ""),
    ] {
        dav(&app, &ada, "PUT", &format!("{calendar}x.ics"), &[], &body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let huge = vtodo(
        "big",
        "Big",
        &format!("X-BIG:{}\r\n", "x".repeat(300 * 1024)),
    );
    dav(&app, &ada, "PUT", &format!("{calendar}big.ics"), &[], &huge)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    dav(
        &app,
        &ada,
        "PROPFIND",
        &calendar,
        &[],
        "<d:propfind xmlns:d=\"DAV:\"><d:prop>",
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    dav(
        &app,
        &ada,
        "MKCALENDAR",
        &format!("{calendar}new/"),
        &[],
        "",
    )
    .await
    .problem(StatusCode::METHOD_NOT_ALLOWED);
    let tasks = app.get("/api/v1/tasks", &ada.user.token).await;
    assert_eq!(tasks.body, json!([]) as Value);
}

#[tokio::test]
async fn completing_a_recurring_task_from_a_client_moves_it_to_its_next_due() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let path = format!("/dav/calendars/{}/{inbox}/rent.ics", ada.user.id);
    let rule = "DUE;VALUE=DATE:20261201\r\nRRULE:FREQ=MONTHLY\r\n";
    let created = dav(
        &app,
        &ada,
        "PUT",
        &path,
        &[],
        &vtodo("rent", "Pay rent", rule),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let done = format!("{rule}STATUS:COMPLETED\r\nCOMPLETED:20261201T090000Z\r\n");
    let completed = dav(
        &app,
        &ada,
        "PUT",
        &path,
        &[],
        &vtodo("rent", "Pay rent", &done),
    )
    .await;

    assert_eq!(
        completed.status,
        StatusCode::NO_CONTENT,
        "{}",
        completed.body
    );
    let tasks = app.get("/api/v1/tasks", &ada.user.token).await;
    let rent = &tasks.body[0];
    assert_eq!(rent["completed"], false, "one open task per series: {rent}");
    assert_eq!(rent["due_date"], "2027-01-01");
    let read = dav(&app, &ada, "GET", &path, &[], "").await;
    assert!(
        text(&read).contains("DUE;VALUE=DATE:20270101"),
        "{}",
        text(&read)
    );
    assert!(text(&read).contains("RRULE:FREQ=MONTHLY"));
}

#[tokio::test]
async fn a_client_makes_a_calendar_at_the_path_it_chose_and_finds_it_there() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let home = format!("/dav/calendars/{}/", ada.user.id);
    let path = format!("{home}4F2B6C1E-AAAA-4BBB-8CCC-123456789ABC/");
    let mkcalendar = r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"
        xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Groceries</d:displayname>
        <a:calendar-color>#FF2968FF</a:calendar-color></d:prop></d:set></c:mkcalendar>"#;

    let made = dav(&app, &ada, "MKCALENDAR", &path, &[], mkcalendar).await;

    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let projects = app.get("/api/v1/projects", &ada.user.token).await;
    let groceries = projects
        .body
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["name"] == "Groceries")
        .expect("a project")
        .clone();
    assert_eq!(groceries["color"], "#ff2968");
    let found = dav(&app, &ada, "PROPFIND", &path, &[("depth", "0")], "").await;
    assert_eq!(found.status, StatusCode::MULTI_STATUS);
    assert!(
        text(&found).contains(&format!("<d:href>{path}</d:href>")),
        "{}",
        text(&found)
    );
    let listed = dav(&app, &ada, "PROPFIND", &home, &[("depth", "1")], "").await;
    assert!(
        text(&listed).contains(&format!("<d:href>{path}</d:href>")),
        "{}",
        text(&listed)
    );

    let put = dav(
        &app,
        &ada,
        "PUT",
        &format!("{path}eggs.ics"),
        &[],
        &vtodo("eggs", "Eggs", ""),
    )
    .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let tasks = app.get("/api/v1/tasks", &ada.user.token).await;
    assert_eq!(tasks.body[0]["project_id"], groceries["id"]);

    dav(&app, &ada, "MKCALENDAR", &path, &[], mkcalendar)
        .await
        .problem(StatusCode::CONFLICT);
    // Some clients (DAVx5, and what Tududi's users met) make a calendar with MKCOL.
    let mkcol = r#"<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>
        <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
        <d:displayname>Work</d:displayname></d:prop></d:set></d:mkcol>"#;
    let made = dav(&app, &ada, "MKCOL", &format!("{home}work/"), &[], mkcol).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let other = client(&app, "bob@example.com").await;
    let theirs = format!("/dav/calendars/{}/work/", other.user.id);
    dav(&app, &other, "PROPFIND", &theirs, &[], "")
        .await
        .problem(StatusCode::NOT_FOUND);
}

/// Every DAV method on a shared calendar and one of its tasks, for each kind of caller: what
/// each role may do, 404 for a stranger, 401 for nobody, 403 for a read-only key's write.
#[tokio::test]
async fn every_dav_method_answers_each_caller_as_its_role_allows() {
    let app = TestApp::spawn().await;
    let owner = client(&app, "owner@example.com").await;
    let editor = client(&app, "editor@example.com").await;
    let viewer = client(&app, "viewer@example.com").await;
    let stranger = client(&app, "stranger@example.com").await;
    let project = app
        .post(
            "/api/v1/projects",
            &owner.user.token,
            json!({"name": "Home"}),
        )
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    for (who, role) in [(&editor, "editor"), (&viewer, "viewer")] {
        let invited = app
            .post(
                &format!("/api/v1/projects/{project}/invitations"),
                &owner.user.token,
                json!({"email": who.email, "role": role}),
            )
            .await;
        let id = invited.body["id"].as_i64().expect("id");
        app.post(
            &format!("/api/v1/invitations/{id}/accept"),
            &who.user.token,
            json!({}),
        )
        .await;
    }
    let read_only = {
        let key = app
            .post(
                "/api/v1/api-keys",
                &editor.user.token,
                json!({"name": "ro", "scopes": ["read"]}),
            )
            .await;
        Client {
            user: editor.user.clone(),
            email: editor.email.clone(),
            key: key.body["secret"].as_str().expect("secret").to_owned(),
        }
    };
    let multiget = r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
        <d:prop><d:getetag/></d:prop></c:calendar-multiget>"#;
    let proppatch = r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>
        <d:displayname>Renamed</d:displayname></d:prop></d:set></d:propertyupdate>"#;
    // (caller, method, on the task?, body, expected)
    use StatusCode as S;
    let owner_put = vtodo("m-owner", "By the owner", "");
    let editor_put = vtodo("m-editor", "By the editor", "");
    let viewer_put = vtodo("m-viewer", "By the viewer", "");
    let cases: Vec<(&Client, &str, Option<&str>, &str, S)> = vec![
        (&owner, "PROPFIND", None, "", S::MULTI_STATUS),
        (&editor, "PROPFIND", None, "", S::MULTI_STATUS),
        (&viewer, "PROPFIND", None, "", S::MULTI_STATUS),
        (&stranger, "PROPFIND", None, "", S::NOT_FOUND),
        (&viewer, "REPORT", None, multiget, S::MULTI_STATUS),
        (&stranger, "REPORT", None, multiget, S::NOT_FOUND),
        (&owner, "PUT", Some("m-owner.ics"), &owner_put, S::CREATED),
        (
            &editor,
            "PUT",
            Some("m-editor.ics"),
            &editor_put,
            S::CREATED,
        ),
        (
            &viewer,
            "PUT",
            Some("m-viewer.ics"),
            &viewer_put,
            S::FORBIDDEN,
        ),
        (
            &read_only,
            "PUT",
            Some("m-ro.ics"),
            &viewer_put,
            S::FORBIDDEN,
        ),
        (&stranger, "PUT", Some("m-x.ics"), &viewer_put, S::NOT_FOUND),
        (&viewer, "GET", Some("m-owner.ics"), "", S::OK),
        (&stranger, "GET", Some("m-owner.ics"), "", S::NOT_FOUND),
        (&viewer, "DELETE", Some("m-owner.ics"), "", S::FORBIDDEN),
        (&stranger, "DELETE", Some("m-owner.ics"), "", S::NOT_FOUND),
        (&read_only, "DELETE", Some("m-owner.ics"), "", S::FORBIDDEN),
        (&editor, "DELETE", Some("m-owner.ics"), "", S::NO_CONTENT),
        (&editor, "PROPPATCH", None, proppatch, S::FORBIDDEN),
        (&viewer, "PROPPATCH", None, proppatch, S::FORBIDDEN),
        (&stranger, "PROPPATCH", None, proppatch, S::NOT_FOUND),
        (&owner, "PROPPATCH", None, proppatch, S::MULTI_STATUS),
        (&editor, "DELETE", None, "", S::FORBIDDEN),
        (&viewer, "DELETE", None, "", S::FORBIDDEN),
        (&stranger, "DELETE", None, "", S::NOT_FOUND),
    ];
    let mut wrong = Vec::new();
    for (who, method, item, body, expected) in cases {
        let path = format!(
            "/dav/calendars/{}/{project}/{}",
            who.user.id,
            item.unwrap_or_default()
        );
        let response = dav(&app, who, method, &path, &[], body).await;
        if response.status != expected {
            wrong.push(format!(
                "{} {method} {path}: {} (expected {expected}) {}",
                who.email, response.status, response.body
            ));
        }
    }
    for method in [
        "PROPFIND",
        "REPORT",
        "GET",
        "PUT",
        "DELETE",
        "PROPPATCH",
        "MKCALENDAR",
    ] {
        let anonymous = app
            .raw(
                Request::builder()
                    .method(method)
                    .uri(format!("/dav/calendars/{}/{project}/", owner.user.id))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        if anonymous.status != StatusCode::UNAUTHORIZED {
            wrong.push(format!("anonymous {method}: {}", anonymous.status));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let projects = app.get("/api/v1/projects", &owner.user.token).await;
    assert!(
        projects
            .body
            .as_array()
            .expect("projects")
            .iter()
            .any(|p| p["name"] == "Renamed"),
        "the owner's PROPPATCH renamed it"
    );
}

/// Bodies cut short or with a character swapped, at every method: a clear 4xx or a success,
/// never a 5xx.
#[tokio::test]
async fn malformed_bodies_at_every_method_never_fail_the_server() {
    let app = TestApp::spawn().await;
    let ada = client(&app, "ada@example.com").await;
    let inbox = inbox_of(&app, &ada).await;
    let calendar = format!("/dav/calendars/{}/{inbox}/", ada.user.id);
    let sample = vtodo(
        "fuzz",
        "Fuzz",
        "DUE;TZID=Europe/Paris:20261208T170000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n\
         CATEGORIES:a,b\\,c\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n",
    );
    let sync = r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
    let bodies: [(&str, String, &str); 4] = [
        ("PUT", format!("{calendar}fuzz.ics"), sample.as_str()),
        ("PROPFIND", calendar.clone(), PROPFIND_CALENDARS),
        ("REPORT", calendar.clone(), sync),
        (
            "MKCALENDAR",
            format!("{calendar}../fuzzed/"),
            "<c:mkcalendar xmlns:c=\"urn:ietf:params:xml:ns:caldav\"/>",
        ),
    ];
    let mut failures = Vec::new();
    let mut sent = 0;
    for (method, path, body) in &bodies {
        let step = (body.len() / 30).max(1);
        for cut in (0..body.len()).step_by(step) {
            let Some(short) = body.get(..cut) else {
                continue;
            };
            let swapped: String = body
                .char_indices()
                .map(|(i, c)| if i == cut { '<' } else { c })
                .collect();
            for variant in [short.to_owned(), swapped] {
                sent += 1;
                let response = dav(&app, &ada, method, path, &[], &variant).await;
                if response.status.is_server_error() {
                    failures.push(format!("{method} {path} {variant:?}: {}", response.status));
                }
            }
        }
    }
    assert!(sent > 100, "{sent}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
