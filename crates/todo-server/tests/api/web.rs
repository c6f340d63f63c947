//! The web app's pages in-process: the session cookie, CSRF refusals, logout, headers. The
//! flows themselves run in a real browser (tests/web).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, TestResponse};

/// A browser's view of a signed-in user: the cookie and the page's CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn form(uri: &str, cookie: Option<&str>) -> axum::http::request::Builder {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "todo.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request
}

async fn post_form(app: &TestApp, uri: &str, cookie: Option<&str>, body: &str) -> TestResponse {
    app.raw(
        form(uri, cookie)
            .body(Body::from(body.to_owned()))
            .expect("request"),
    )
    .await
}

async fn get_page(app: &TestApp, uri: &str, cookie: &str) -> TestResponse {
    app.raw(
        Request::builder()
            .uri(uri)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

/// The sign-in page that comes back to `uri` afterwards.
fn login_then(uri: &str) -> String {
    format!("/login?next={}", uri.replace('/', "%2F"))
}

fn page_text(response: &TestResponse) -> &str {
    response.body.as_str().expect("an HTML page")
}

fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf-token" content=""#)
        .expect("csrf meta")
        + r#"name="csrf-token" content=""#.len();
    page[start..].split('"').next().expect("token").to_owned()
}

async fn sign_up(app: &TestApp, email: &str) -> Browser {
    sign_up_as(app, email, "Robin").await
}

async fn sign_up_as(app: &TestApp, email: &str, name: &str) -> Browser {
    let body = format!("email={email}&password=correct+horse+battery&name={name}");
    let response = post_form(app, "/signup", None, &body).await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        response.body
    );
    assert_eq!(response.header("location"), Some("/"));
    let set_cookie = response.header("set-cookie").expect("a session cookie");
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let page = get_page(app, "/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    Browser {
        csrf: csrf_of(page_text(&page)),
        cookie,
    }
}

#[tokio::test]
async fn pages_without_a_session_send_the_visitor_to_log_in() {
    let app = TestApp::spawn().await;
    for (uri, login) in [
        ("/", "/login"),
        ("/settings", "/login?next=%2Fsettings"),
        ("/tasks/1/edit", "/login?next=%2Ftasks%2F1%2Fedit"),
    ] {
        let response = app
            .raw(Request::get(uri).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(response.header("location"), Some(login), "{uri}");
    }
    let login = app
        .raw(Request::get("/login").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(page_text(&login).contains("<form method=\"post\" action=\"/login\""));
}

#[tokio::test]
async fn signing_up_sets_an_http_only_same_site_cookie_that_is_secure_behind_https() {
    let app = TestApp::spawn().await;
    let response = post_form(
        &app,
        "/signup",
        None,
        "email=a%40example.com&password=correct+horse+battery",
    )
    .await;
    let cookie = response.header("set-cookie").expect("cookie");
    assert!(cookie.starts_with("todo_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let https = app
        .raw(
            form("/login", None)
                .header("x-forwarded-proto", "https")
                .body(Body::from(
                    "email=a%40example.com&password=correct+horse+battery",
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(https.status, StatusCode::SEE_OTHER);
    assert!(
        https
            .header("set-cookie")
            .expect("cookie")
            .contains("; Secure")
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_an_error() {
    let app = TestApp::spawn().await;
    sign_up(&app, "b%40example.com").await;
    let response = post_form(
        &app,
        "/login",
        None,
        "email=b%40example.com&password=nope-nope",
    )
    .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.header("set-cookie").is_none());
    assert!(page_text(&response).contains("role=\"alert\""));
}

#[tokio::test]
async fn the_cookie_reads_the_api_but_unsafe_api_calls_also_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "c%40example.com").await;
    let read = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    assert_eq!(read.status, StatusCode::OK);

    let create = |token: Option<&str>, origin: Option<&str>| {
        let mut request = Request::post("/api/v1/tasks")
            .header(header::HOST, "todo.test")
            .header(header::COOKIE, &browser.cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request
            .body(Body::from(json!({"title": "From the page"}).to_string()))
            .expect("request")
    };
    let without = app.raw(create(None, None)).await;
    assert_eq!(
        without.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:csrf"
    );
    let forged = app.raw(create(Some("bm90LXRoZS10b2tlbg"), None)).await;
    forged.problem(StatusCode::FORBIDDEN);
    let cross_site = app
        .raw(create(Some(&browser.csrf), Some("https://evil.example")))
        .await;
    cross_site.problem(StatusCode::FORBIDDEN);
    let same_site = app
        .raw(create(Some(&browser.csrf), Some("http://todo.test")))
        .await;
    assert_eq!(same_site.status, StatusCode::CREATED, "{}", same_site.body);
}

#[tokio::test]
async fn bearer_requests_need_no_csrf_token() {
    let app = TestApp::spawn().await;
    let user = app.signup("d@example.com").await;
    let response = app
        .post("/api/v1/tasks", &user.token, json!({"title": "API"}))
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
}

#[tokio::test]
async fn page_forms_refuse_a_missing_or_another_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    let alice = sign_up(&app, "e%40example.com").await;
    let mallory = sign_up(&app, "f%40example.com").await;

    let missing = post_form(&app, "/tasks", Some(&alice.cookie), "text=Buy+milk").await;
    missing.problem(StatusCode::FORBIDDEN);
    let foreign = format!("text=Buy+milk&_csrf={}", mallory.csrf);
    let response = post_form(&app, "/tasks", Some(&alice.cookie), &foreign).await;
    response.problem(StatusCode::FORBIDDEN);

    let ok = format!(
        "text=Buy+milk+%23errands&_csrf={}&return_to=%2F",
        alice.csrf
    );
    let added = post_form(&app, "/tasks", Some(&alice.cookie), &ok).await;
    assert_eq!(
        added.status,
        StatusCode::SEE_OTHER,
        "without script: back to the list"
    );
    assert_eq!(added.header("location"), Some("/"));
    let list = get_page(&app, "/", &alice.cookie).await;
    assert!(page_text(&list).contains("Buy milk"));
    assert!(page_text(&list).contains("#errands"));
}

#[tokio::test]
async fn a_read_only_key_cannot_change_anything_through_the_page_forms() {
    let app = TestApp::spawn().await;
    let user = app.signup("ro@example.com").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let secret = created.body["secret"].as_str().expect("secret");
    let refused = app
        .raw(
            form("/tasks", None)
                .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                .body(Body::from("text=Sneaky"))
                .expect("request"),
        )
        .await;
    assert_eq!(
        refused.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-scope"
    );
    let tasks = app.get("/api/v1/tasks", &user.token).await;
    assert_eq!(tasks.body, json!([]), "nothing was added");
}

#[tokio::test]
async fn a_return_address_with_control_characters_goes_home_instead() {
    let app = TestApp::spawn().await;
    let alice = sign_up(&app, "rt%40example.com").await;
    // Browsers drop the tab (`//evil.example`); a newline cannot be in a Location header.
    for sneaky in ["%2F%09%2Fevil.example", "%2F%0A"] {
        let body = format!("text=Buy+milk&_csrf={}&return_to={sneaky}", alice.csrf);
        let added = post_form(&app, "/tasks", Some(&alice.cookie), &body).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{sneaky}");
        assert_eq!(added.header("location"), Some("/"), "{sneaky}");
    }
}

#[tokio::test]
async fn a_form_cannot_touch_another_users_task() {
    let app = TestApp::spawn().await;
    let alice = sign_up(&app, "g%40example.com").await;
    let bob = sign_up(&app, "h%40example.com").await;
    let body = format!("text=Secret&_csrf={}", alice.csrf);
    post_form(&app, "/tasks", Some(&alice.cookie), &body).await;
    let tasks = get_page(&app, "/api/v1/tasks", &alice.cookie).await;
    let id = tasks.body[0]["id"].as_i64().expect("id");

    let body = format!("_csrf={}", bob.csrf);
    for action in ["complete", "delete"] {
        let uri = format!("/tasks/{id}/{action}");
        let response = post_form(&app, &uri, Some(&bob.cookie), &body).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{action}");
    }
    let edit = get_page(&app, &format!("/tasks/{id}/edit"), &bob.cookie).await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    let still = get_page(&app, &format!("/api/v1/tasks/{id}"), &alice.cookie).await;
    assert_eq!(still.body["completed"], false);
}

#[tokio::test]
async fn a_fragment_request_gets_the_row_and_the_edit_form_changes_only_what_it_sends() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "i%40example.com").await;
    let added = app
        .raw(
            form("/tasks", Some(&browser.cookie))
                .header("x-fragment", "1")
                .body(Body::from(format!(
                    "text=Pay+rent+on+the+1st+every+month+!high+%23home&_csrf={}",
                    browser.csrf
                )))
                .expect("request"),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let row = page_text(&added);
    assert!(row.starts_with("<li class=\"task"), "{row}");
    assert!(row.contains("every month on the 1st"), "{row}");
    let tasks = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    let id = tasks.body[0]["id"].as_i64().expect("id");

    let body = format!("title=Pay+the+rent&_csrf={}", browser.csrf);
    let saved = post_form(&app, &format!("/tasks/{id}"), Some(&browser.cookie), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let task = get_page(&app, &format!("/api/v1/tasks/{id}"), &browser.cookie).await;
    assert_eq!(task.body["title"], "Pay the rent");
    assert_eq!(task.body["priority"], "high", "fields not sent are kept");
    assert_eq!(task.body["tags"], json!(["home"]));
    assert_eq!(task.body["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
}

#[tokio::test]
async fn logging_out_ends_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "j%40example.com").await;
    let refused = post_form(&app, "/logout", Some(&browser.cookie), "").await;
    refused.problem(StatusCode::FORBIDDEN);

    let body = format!("_csrf={}", browser.csrf);
    let response = post_form(&app, "/logout", Some(&browser.cookie), &body).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), Some("/login"));
    assert!(
        response
            .header("set-cookie")
            .expect("cleared")
            .contains("Max-Age=0")
    );

    let page = get_page(&app, "/", &browser.cookie).await;
    assert_eq!(page.header("location"), Some("/login"));
    let api = get_page(&app, "/api/v1/me", &browser.cookie).await;
    api.problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logging_in_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    sign_up(&app, "k%40example.com").await;
    let response = app
        .raw(
            form("/login", None)
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::from(
                    "email=k%40example.com&password=correct+horse+battery",
                ))
                .expect("request"),
        )
        .await;
    response.problem(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_allow_nothing_from_elsewhere_and_assets_are_cached_for_good() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "l%40example.com").await;
    let page = get_page(&app, "/", &browser.cookie).await;
    let csp = page.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let html = page_text(&page);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external URL in the page"
    );
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline script or style"
    );

    let script = app
        .raw(
            Request::get("/assets/app.js?v=1")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        script
            .header("cache-control")
            .expect("cache")
            .contains("immutable")
    );
    let missing = app
        .raw(
            Request::get("/assets/nope.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// `Origin: null` is what a sandboxed frame or a `data:` page sends: a sign-in form posted
/// from one is refused, unless the browser also says the post came from this very origin
/// (as it does for our own pages, which send `Referrer-Policy: no-referrer`).
#[tokio::test]
async fn a_sign_in_form_from_origin_null_needs_sec_fetch_site_same_origin() {
    let app = TestApp::spawn().await;
    sign_up(&app, "m%40example.com").await;
    let post = |uri: &'static str, body: &'static str, same_origin: bool| {
        let mut request = form(uri, None).header(header::ORIGIN, "null");
        if same_origin {
            request = request.header("sec-fetch-site", "same-origin");
        }
        app.raw(request.body(Body::from(body)).expect("request"))
    };
    let login = "email=m%40example.com&password=correct+horse+battery";
    let signup = "email=n%40example.com&password=correct+horse+battery";

    let refused = post("/login", login, false).await;
    assert_eq!(
        refused.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:csrf"
    );
    assert!(refused.header("set-cookie").is_none());
    post("/signup", signup, false)
        .await
        .problem(StatusCode::FORBIDDEN);

    let logged_in = post("/login", login, true).await;
    assert_eq!(logged_in.status, StatusCode::SEE_OTHER);
    assert!(logged_in.header("set-cookie").is_some());
    let signed_up = post("/signup", signup, true).await;
    assert_eq!(signed_up.status, StatusCode::SEE_OTHER);
}

/// The number after `prefix` in the `Location` of a redirect.
fn id_in_location(response: &TestResponse, prefix: &str) -> i64 {
    let location = response.header("location").expect("a redirect");
    let rest = location
        .split_once(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {location}"))
        .1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("an id")
}

/// A project made with the sidebar's form, and a section in it: (project, section).
async fn project_with_section(app: &TestApp, browser: &Browser) -> (i64, i64) {
    let body = format!("name=Secret+plans&color=%234073ff&_csrf={}", browser.csrf);
    let created = post_form(app, "/projects", Some(&browser.cookie), &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{:?}", created.body);
    let project = id_in_location(&created, "/projects/");
    let body = format!("name=Later&_csrf={}", browser.csrf);
    let uri = format!("/projects/{project}/sections");
    let section = post_form(app, &uri, Some(&browser.cookie), &body).await;
    assert_eq!(section.status, StatusCode::SEE_OTHER, "{:?}", section.body);
    (project, id_in_location(&section, "#section-"))
}

#[tokio::test]
async fn project_pages_need_a_session_and_their_forms_the_csrf_token() {
    let app = TestApp::spawn().await;
    for uri in [
        "/projects/1",
        "/tasks/1/move",
        "/tasks/1/subtask",
        "/projects/new",
    ] {
        let response = app
            .raw(Request::get(uri).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(
            response.header("location"),
            Some(login_then(uri).as_str()),
            "{uri}"
        );
    }
    let anonymous = post_form(&app, "/projects", None, "name=Mine").await;
    assert_eq!(anonymous.header("location"), Some("/login"));

    let browser = sign_up(&app, "p1%40example.com").await;
    let (project, section) = project_with_section(&app, &browser).await;
    let forged = [
        "/projects".to_owned(),
        format!("/projects/{project}"),
        format!("/projects/{project}/archive"),
        format!("/projects/{project}/delete"),
        format!("/projects/{project}/sections"),
        format!("/sections/{section}"),
        format!("/sections/{section}/delete"),
    ];
    for uri in forged {
        let response = post_form(&app, &uri, Some(&browser.cookie), "name=Forged").await;
        response.problem(StatusCode::FORBIDDEN);
    }
    let page = get_page(&app, &format!("/projects/{project}"), &browser.cookie).await;
    assert!(page_text(&page).contains("Secret plans"));
    assert!(page_text(&page).contains("Later"));
}

#[tokio::test]
async fn another_users_project_section_and_task_are_not_found_on_every_project_route() {
    let app = TestApp::spawn().await;
    let alice = sign_up(&app, "p2%40example.com").await;
    let bob = sign_up(&app, "p3%40example.com").await;
    let (project, section) = project_with_section(&app, &alice).await;
    let body = format!(
        "text=Hidden+tomorrow&section_id={section}&return_to=%2Fprojects%2F{project}&_csrf={}",
        alice.csrf
    );
    let added = post_form(&app, "/tasks", Some(&alice.cookie), &body).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{:?}", added.body);
    assert_eq!(
        added.header("location"),
        Some(format!("/projects/{project}").as_str())
    );
    let tasks = get_page(&app, "/api/v1/tasks", &alice.cookie).await;
    let task = tasks.body[0]["id"].as_i64().expect("id");
    assert_eq!(
        tasks.body[0]["section_id"], section,
        "added into the section"
    );
    assert_eq!(tasks.body[0]["project_id"], project);

    for uri in [
        format!("/projects/{project}"),
        format!("/tasks/{task}/move"),
        format!("/tasks/{task}/subtask"),
    ] {
        let page = get_page(&app, &uri, &bob.cookie).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {uri}");
    }
    let forms = [
        (format!("/projects/{project}"), "name=Mine".to_owned()),
        (
            format!("/projects/{project}/archive"),
            "archived=true".into(),
        ),
        (format!("/projects/{project}/delete"), String::new()),
        (format!("/projects/{project}/sections"), "name=Mine".into()),
        (format!("/sections/{section}"), "name=Mine".into()),
        (format!("/sections/{section}/delete"), String::new()),
        (format!("/tasks/{task}/move"), "position=0".into()),
        (
            format!("/tasks/{task}/move"),
            format!("to=section:{section}"),
        ),
    ];
    for (uri, fields) in forms {
        let body = format!("{fields}&_csrf={}", bob.csrf);
        let response = post_form(&app, &uri, Some(&bob.cookie), &body).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "POST {uri} {fields}"
        );
    }
    // Named as a destination, someone else's project, section or task is no such thing: the
    // form comes back saying so (as a 422), and nothing is added.
    let destinations = [
        format!("text=Intruder&section_id={section}"),
        format!("text=Intruder&project_id={project}"),
    ];
    for fields in destinations {
        let body = format!("{fields}&_csrf={}", bob.csrf);
        let response = post_form(&app, "/tasks", Some(&bob.cookie), &body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "POST /tasks {fields}"
        );
        assert!(page_text(&response).contains("no such"), "{fields}");
    }
    // Under someone else's task: the form to come back to is that task's, which is not there.
    let body = format!("text=Intruder&parent_id={task}&_csrf={}", bob.csrf);
    let response = post_form(&app, "/tasks", Some(&bob.cookie), &body).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    // Bob's own task cannot be moved into Alice's project either.
    let body = format!("text=Mine&_csrf={}", bob.csrf);
    post_form(&app, "/tasks", Some(&bob.cookie), &body).await;
    let mine = get_page(&app, "/api/v1/tasks", &bob.cookie).await;
    let mine = mine.body[0]["id"].as_i64().expect("id");
    let body = format!("to=project:{project}&_csrf={}", bob.csrf);
    let response = post_form(
        &app,
        &format!("/tasks/{mine}/move"),
        Some(&bob.cookie),
        &body,
    )
    .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);

    let page = get_page(&app, &format!("/projects/{project}"), &alice.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page_text(&page).contains("Secret plans"));
    assert!(page_text(&page).contains("Hidden"));
    assert!(!page_text(&page).contains("Intruder"));
}

#[tokio::test]
async fn a_refused_form_comes_back_with_the_message_and_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "p4%40example.com").await;
    let body = format!("name=+++&color=%23ABCDEF&_csrf={}", browser.csrf);
    let refused = post_form(&app, "/projects", Some(&browser.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = page_text(&refused);
    assert!(page.contains("name: must not be empty"), "{page}");
    assert!(
        page.contains(r#"value="   ""#),
        "the typed name is kept: {page}"
    );

    let (project, _) = project_with_section(&app, &browser).await;
    let body = format!(
        "text=%3Cb%3E+!high&project_id={project}&return_to=%2Fprojects%2F{project}&_csrf={}",
        browser.csrf
    );
    let added = post_form(&app, "/tasks", Some(&browser.cookie), &body).await;
    assert_eq!(
        added.status,
        StatusCode::SEE_OTHER,
        "a title of markup is a title"
    );
    let body = format!(
        "text=+!high&project_id={project}&return_to=%2Fprojects%2F{project}&_csrf={}",
        browser.csrf
    );
    let refused = post_form(&app, "/tasks", Some(&browser.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = page_text(&refused);
    assert!(page.contains("needs a title"), "{page}");
    assert!(page.contains(r#"value=" !high""#), "{page}");
    assert!(page.contains(&format!(r#"name="project_id" value="{project}""#)));
    let tree = get_page(&app, &format!("/projects/{project}"), &browser.cookie).await;
    assert!(
        page_text(&tree).contains("&#60;b&#62;") && !page_text(&tree).contains("<b>"),
        "titles stay escaped"
    );

    let tasks = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    let task = tasks.body[0]["id"].as_i64().expect("id");
    let body = format!("to=somewhere:1&_csrf={}", browser.csrf);
    let refused = post_form(
        &app,
        &format!("/tasks/{task}/move"),
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(&refused).contains("to: choose a project, section or task"));
    let body = format!("to=parent:{task}&_csrf={}", browser.csrf);
    let refused = post_form(
        &app,
        &format!("/tasks/{task}/move"),
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "under itself"
    );
    assert!(page_text(&refused).contains("parent_id"));
}

#[tokio::test]
async fn the_inbox_cannot_be_renamed_archived_or_deleted_from_its_page() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "p5%40example.com").await;
    let home = get_page(&app, "/", &browser.cookie).await;
    let home = page_text(&home);
    let start = home.find(r#"href="/projects/"#).expect("the Inbox link") + 16;
    let inbox: String = home[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let inbox_page = get_page(&app, &format!("/projects/{inbox}"), &browser.cookie).await;
    let text = page_text(&inbox_page);
    assert!(text.contains("<h1>Inbox"), "{text}");
    assert!(!text.contains("Archive project") && !text.contains("Delete project"));

    for (uri, fields) in [
        (format!("/projects/{inbox}/delete"), ""),
        (format!("/projects/{inbox}/archive"), "archived=true"),
    ] {
        let body = format!("{fields}&_csrf={}", browser.csrf);
        let refused = post_form(&app, &uri, Some(&browser.cookie), &body).await;
        assert_eq!(refused.status, StatusCode::SEE_OTHER, "{uri}");
        let location = refused.header("location").expect("back to the page");
        assert!(
            location.starts_with(&format!("/projects/{inbox}?error=")),
            "{location}"
        );
    }
    let body = format!("name=Mine&_csrf={}", browser.csrf);
    let uri = format!("/projects/{inbox}");
    let refused = post_form(&app, &uri, Some(&browser.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(&refused).contains("cannot be renamed"));
    let still = get_page(&app, &uri, &browser.cookie).await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn a_zone_change_is_asked_about_before_it_is_made() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "p6%40example.com").await;
    let body = format!("text=Standup+tomorrow+9:30&_csrf={}", browser.csrf);
    post_form(&app, "/tasks", Some(&browser.cookie), &body).await;
    let body = format!("name=Robin&timezone=Asia%2FTokyo&_csrf={}", browser.csrf);
    let asked = post_form(&app, "/settings/profile", Some(&browser.cookie), &body).await;
    assert_eq!(asked.status, StatusCode::OK);
    let text = page_text(&asked);
    assert!(text.contains("“Standup” at 09:30 stays at 09:30"), "{text}");
    let me = get_page(&app, "/api/v1/me", &browser.cookie).await;
    assert_ne!(me.body["timezone"], "Asia/Tokyo", "not changed yet");

    let body = format!("{body}&confirm_zone=yes");
    let saved = post_form(&app, "/settings/profile", Some(&browser.cookie), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let me = get_page(&app, "/api/v1/me", &browser.cookie).await;
    assert_eq!(me.body["timezone"], "Asia/Tokyo");
    let tasks = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    let local = tasks.body[0]["due_local"].as_str().expect("a floating due");
    assert!(local.contains("T09:30"), "{local}");
}

/// Settings → Notifications without a script: every box as it was left, the digest hour or
/// none; a bad hour and a missing CSRF token are refused and change nothing.
#[tokio::test]
async fn the_notifications_form_saves_every_channel_as_left() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "channels%40example.com").await;
    let page = get_page(&app, "/settings", &browser.cookie).await;
    let text = page_text(&page);
    assert!(text.contains("id=\"notifications\""), "{text}");
    assert!(text.contains("This server sends no email"), "{text}");

    // Only "push" ticked, the digest at 07:00.
    let body = format!("push=1&digest_hour=7&_csrf={}", browser.csrf);
    let saved = post_form(
        &app,
        "/settings/notifications",
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let location = saved.header("location").expect("back to settings");
    assert!(location.starts_with("/settings?notice="), "{location}");
    let channels = get_page(&app, "/api/v1/me/notifications", &browser.cookie).await;
    assert_eq!(channels.body["in_app"], false);
    assert_eq!(channels.body["email"], false);
    assert_eq!(channels.body["push"], true);
    assert_eq!(channels.body["digest_hour"], 7);
    let page = get_page(&app, "/settings", &browser.cookie).await;
    assert!(page_text(&page).contains("<option value=\"7\" selected>07:00</option>"));

    let refused = [
        format!("in_app=1&digest_hour=24&_csrf={}", browser.csrf),
        format!("in_app=1&digest_hour=soon&_csrf={}", browser.csrf),
    ];
    for body in refused {
        let answer = post_form(
            &app,
            "/settings/notifications",
            Some(&browser.cookie),
            &body,
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{body}");
        let location = answer.header("location").expect("back with the reason");
        assert!(location.starts_with("/settings?error="), "{location}");
    }
    let forged = post_form(
        &app,
        "/settings/notifications",
        Some(&browser.cookie),
        "in_app=1&digest_hour=",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unchanged = get_page(&app, "/api/v1/me/notifications", &browser.cookie).await;
    assert_eq!(unchanged.body, channels.body, "nothing refused was saved");

    // Empty: no digest.
    let body = format!("in_app=1&digest_hour=&_csrf={}", browser.csrf);
    post_form(
        &app,
        "/settings/notifications",
        Some(&browser.cookie),
        &body,
    )
    .await;
    let channels = get_page(&app, "/api/v1/me/notifications", &browser.cookie).await;
    assert_eq!(channels.body["digest_hour"], serde_json::Value::Null);
    assert_eq!(channels.body["in_app"], true);
}

/// The Done view lists the earlier occurrences of recurring tasks: a recurring task stays one
/// open task, and what was done is its completions.
#[tokio::test]
async fn the_done_view_lists_what_recurring_tasks_had_done() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "done%40example.com").await;
    let users = app.todo.list_users().await.expect("users");
    let user = users
        .iter()
        .find(|u| u.email.as_deref() == Some("done@example.com"))
        .expect("the account")
        .id
        .clone();
    let input = todo_core::task::TaskInput {
        title: "Water <the> plants".into(),
        due_date: chrono::NaiveDate::from_ymd_opt(2030, 1, 7),
        recurrence: Some("FREQ=DAILY".into()),
        ..todo_core::task::TaskInput::default()
    };
    let task = app.todo.create_task(&user, input).await.expect("create");
    let moved = app
        .todo
        .complete_task(&user, task.id, Some(true))
        .await
        .expect("complete");
    assert!(!moved.completed);

    let done = get_page(&app, "/?view=completed", &browser.cookie).await;
    let text = page_text(&done);
    assert!(text.contains("Recurring tasks done"), "{text}");
    assert!(
        text.contains("Water &#60;the&#62; plants"),
        "escaped: {text}"
    );
    assert!(text.contains("done Today, was due"), "{text}");
    let open = get_page(&app, "/", &browser.cookie).await;
    assert!(!page_text(&open).contains("Recurring tasks done"));
}

// --- sharing -----------------------------------------------------------------------------

/// A project "Household" of Olive's, shared with Eddie (editor) and Vera (viewer) through the
/// pages' own forms, with one task in it.
struct Household {
    owner: Browser,
    editor: Browser,
    viewer: Browser,
    project: i64,
    task: i64,
}

async fn accept_invitation(app: &TestApp, browser: &Browser) {
    let waiting = get_page(app, "/api/v1/invitations", &browser.cookie).await;
    let id = waiting.body[0]["id"].as_i64().expect("an invitation");
    let page = get_page(app, "/invitations", &browser.cookie).await;
    assert!(
        page_text(&page).contains("invited you to <strong>Household</strong>"),
        "{:?}",
        page.body
    );
    let body = format!("_csrf={}", browser.csrf);
    let uri = format!("/invitations/{id}/accept");
    let accepted = post_form(app, &uri, Some(&browser.cookie), &body).await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        accepted.body
    );
}

async fn household(app: &TestApp) -> Household {
    let owner = sign_up_as(app, "olive%40example.com", "Olive+Owner").await;
    let editor = sign_up_as(app, "eddie%40example.com", "Eddie+Editor").await;
    let viewer = sign_up_as(app, "vera%40example.com", "Vera+Viewer").await;
    let body = format!("name=Household&_csrf={}", owner.csrf);
    let created = post_form(app, "/projects", Some(&owner.cookie), &body).await;
    let project = id_in_location(&created, "/projects/");
    for (email, role) in [
        ("eddie%40example.com", "editor"),
        ("vera%40example.com", "viewer"),
    ] {
        let body = format!("email={email}&role={role}&_csrf={}", owner.csrf);
        let uri = format!("/projects/{project}/invitations");
        let invited = post_form(app, &uri, Some(&owner.cookie), &body).await;
        assert_eq!(invited.status, StatusCode::SEE_OTHER, "{:?}", invited.body);
        assert_eq!(
            invited.header("location"),
            Some(format!("/projects/{project}?share=open#share").as_str())
        );
    }
    accept_invitation(app, &editor).await;
    accept_invitation(app, &viewer).await;
    let body = format!(
        "text=Buy+bread&project_id={project}&return_to=%2Fprojects%2F{project}&_csrf={}",
        owner.csrf
    );
    post_form(app, "/tasks", Some(&owner.cookie), &body).await;
    let tasks = get_page(
        app,
        &format!("/api/v1/tasks?project={project}"),
        &owner.cookie,
    )
    .await;
    let task = tasks.body[0]["id"].as_i64().expect("the task");
    Household {
        owner,
        editor,
        viewer,
        project,
        task,
    }
}

#[tokio::test]
async fn a_shared_projects_pages_render_for_owner_editor_and_viewer_as_their_roles_allow() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let project = format!("/projects/{}", h.project);

    let owner = get_page(&app, &project, &h.owner.cookie).await;
    assert_eq!(owner.status, StatusCode::OK);
    let text = page_text(&owner);
    for expected in [
        "Invite by email",
        "Eddie Editor",
        "Vera Viewer",
        "Make Eddie Editor the owner",
        "Remove Vera Viewer",
        "shared-mark",
        "/activity\">Activity</a>",
        "id=\"project-add\"",
    ] {
        assert!(text.contains(expected), "owner page lacks {expected}");
    }

    let editor = get_page(&app, &project, &h.editor.cookie).await;
    assert_eq!(editor.status, StatusCode::OK);
    let text = page_text(&editor);
    assert!(text.contains("Olive Owner") && text.contains("Leave project…"));
    assert!(text.contains("id=\"project-add\""), "an editor adds tasks");
    assert!(!text.contains("Invite by email") && !text.contains("Change role"));
    assert!(!text.contains("data-readonly"));

    let viewer = get_page(&app, &project, &h.viewer.cookie).await;
    assert_eq!(viewer.status, StatusCode::OK);
    let text = page_text(&viewer);
    assert!(text.contains("Buy bread") && text.contains("data-readonly"));
    assert!(
        !text.contains("id=\"project-add\""),
        "a viewer adds nothing"
    );
    assert!(!text.contains("/delete\" class=\"del\""), "nor deletes");
    assert!(!text.contains("Invite by email"));

    let task_page = format!("/tasks/{}/edit", h.task);
    let read_only = get_page(&app, &task_page, &h.viewer.cookie).await;
    assert_eq!(read_only.status, StatusCode::OK);
    let text = page_text(&read_only);
    assert!(text.contains("readonly-note") && text.contains("Add a comment"));
    assert!(!text.contains("id=\"edit-form\""));
    let editable = get_page(&app, &task_page, &h.editor.cookie).await;
    let text = page_text(&editable);
    assert!(text.contains("id=\"edit-form\"") && text.contains("Assigned to"));

    for browser in [&h.owner, &h.editor, &h.viewer] {
        let activity = get_page(&app, &format!("{project}/activity"), &browser.cookie).await;
        assert_eq!(activity.status, StatusCode::OK);
        assert!(page_text(&activity).contains("Olive Owner</strong> added"));
    }
}

#[tokio::test]
async fn someone_outside_a_shared_project_gets_404_on_every_sharing_page_and_form() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let outsider = sign_up(&app, "nosy%40example.com").await;
    let (p, t) = (h.project, h.task);
    for uri in [
        format!("/projects/{p}"),
        format!("/projects/{p}/activity"),
        format!("/tasks/{t}/edit"),
        format!("/tasks/{t}/row"),
    ] {
        let page = get_page(&app, &uri, &outsider.cookie).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {uri}");
    }
    let comment = h.comment_by_viewer(&app, "Seen").await;
    let members = get_page(
        &app,
        &format!("/api/v1/projects/{p}/members"),
        &h.owner.cookie,
    )
    .await;
    let member = members.body[1]["user_id"]
        .as_str()
        .expect("a member")
        .to_owned();
    let forms = [
        (
            format!("/projects/{p}/invitations"),
            "email=x%40example.com",
        ),
        (format!("/projects/{p}/members/{member}"), "role=viewer"),
        (format!("/projects/{p}/members/{member}/remove"), ""),
        (format!("/projects/{p}/invitations/1/cancel"), ""),
        (format!("/tasks/{t}/comments"), "body=Hello"),
        (format!("/comments/{comment}"), "body=Changed"),
        (format!("/comments/{comment}/delete"), ""),
        (format!("/tasks/{t}"), "title=Mine"),
    ];
    for (uri, fields) in forms {
        let body = format!("{fields}&_csrf={}", outsider.csrf);
        let response = post_form(&app, &uri, Some(&outsider.cookie), &body).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "POST {uri}");
    }
    let body = format!("_csrf={}", outsider.csrf);
    let waiting = get_page(&app, "/api/v1/invitations", &h.owner.cookie).await;
    assert_eq!(waiting.body, serde_json::json!([]));
    let stolen = post_form(&app, "/invitations/1/accept", Some(&outsider.cookie), &body).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let sidebar = get_page(&app, "/", &outsider.cookie).await;
    assert!(!page_text(&sidebar).contains("Household"));
}

impl Household {
    /// Vera's comment on the task, posted with the task page's form; its id.
    async fn comment_by_viewer(&self, app: &TestApp, body: &str) -> i64 {
        let form = format!(
            "body={body}&return_to=%2Fprojects%2F{}&_csrf={}",
            self.project, self.viewer.csrf
        );
        let uri = format!("/tasks/{}/comments", self.task);
        let posted = post_form(app, &uri, Some(&self.viewer.cookie), &form).await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{:?}", posted.body);
        id_in_location(&posted, "#comment-")
    }
}

#[tokio::test]
async fn a_viewers_edit_form_gets_the_403_page_and_an_editors_owner_form_too() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let t = h.task;
    for (uri, fields) in [
        (format!("/tasks/{t}"), "title=Vera+was+here"),
        (format!("/tasks/{t}/complete"), ""),
        (format!("/tasks/{t}/delete"), ""),
        (format!("/tasks/{t}/move"), "position=0"),
    ] {
        let body = format!("{fields}&return_to=%2F&_csrf={}", h.viewer.csrf);
        let response = post_form(&app, &uri, Some(&h.viewer.cookie), &body).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "POST {uri}");
        assert!(
            page_text(&response).contains("<h1>Not allowed</h1>"),
            "{uri}"
        );
    }
    for uri in [format!("/tasks/{t}/move"), format!("/tasks/{t}/subtask")] {
        let page = get_page(&app, &uri, &h.viewer.cookie).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {uri}");
        assert!(page_text(&page).contains("Not allowed"));
        let page = get_page(&app, &uri, &h.editor.cookie).await;
        assert_eq!(page.status, StatusCode::OK, "GET {uri} as the editor");
    }
    let p = h.project;
    let members = get_page(
        &app,
        &format!("/api/v1/projects/{p}/members"),
        &h.owner.cookie,
    )
    .await;
    let viewer_id = members.body[2]["user_id"]
        .as_str()
        .expect("viewer")
        .to_owned();
    for (uri, fields) in [
        (
            format!("/projects/{p}/invitations"),
            "email=x%40example.com",
        ),
        (format!("/projects/{p}/members/{viewer_id}"), "role=editor"),
        (format!("/projects/{p}/members/{viewer_id}/remove"), ""),
    ] {
        let body = format!("{fields}&_csrf={}", h.editor.csrf);
        let response = post_form(&app, &uri, Some(&h.editor.cookie), &body).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "POST {uri}");
        assert!(page_text(&response).contains("Not allowed"));
    }
    let task = get_page(&app, &format!("/api/v1/tasks/{t}"), &h.owner.cookie).await;
    assert_eq!(task.body["title"], "Buy bread", "nothing changed");
}

#[tokio::test]
async fn comments_posted_with_the_form_appear_for_every_member_and_only_their_author_edits_them() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let comment = h.comment_by_viewer(&app, "Wholemeal+%3Cplease%3E").await;
    let page = format!("/tasks/{}/edit", h.task);
    for browser in [&h.owner, &h.editor, &h.viewer] {
        let text = get_page(&app, &page, &browser.cookie).await;
        let text = page_text(&text);
        assert!(
            text.contains("Wholemeal &#60;please&#62;"),
            "escaped: {text}"
        );
        assert!(text.contains("Vera Viewer"));
    }
    // An empty comment comes back with the message, what was typed kept.
    let body = format!("body=+++&_csrf={}", h.viewer.csrf);
    let uri = format!("/tasks/{}/comments", h.task);
    let refused = post_form(&app, &uri, Some(&h.viewer.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(&refused).contains("id=\"comment-error\""));

    // The author edits; another member may not, and only the owner deletes someone else's.
    let edit = format!("/comments/{comment}");
    let body = format!("body=Rye&task_id={}&_csrf={}", h.task, h.viewer.csrf);
    let edited = post_form(&app, &edit, Some(&h.viewer.cookie), &body).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    let body = format!("body=Mine&task_id={}&_csrf={}", h.task, h.editor.csrf);
    let not_theirs = post_form(&app, &edit, Some(&h.editor.cookie), &body).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
    let delete = format!("/comments/{comment}/delete");
    let body = format!("task_id={}&_csrf={}", h.task, h.editor.csrf);
    let refused = post_form(&app, &delete, Some(&h.editor.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let text = get_page(&app, &page, &h.owner.cookie).await;
    assert!(page_text(&text).contains("Rye") && page_text(&text).contains("edited"));

    let body = format!("task_id={}&_csrf={}", h.task, h.owner.csrf);
    let deleted = post_form(&app, &delete, Some(&h.owner.cookie), &body).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let text = get_page(&app, &page, &h.viewer.cookie).await;
    assert!(!page_text(&text).contains("Rye"));
    let activity = format!("/projects/{}/activity", h.project);
    let text = get_page(&app, &activity, &h.owner.cookie).await;
    assert!(page_text(&text).contains("Vera Viewer</strong> commented on"));
}

#[tokio::test]
async fn an_editor_assigns_a_task_to_themselves_and_finds_it_under_assigned_to_me() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let members = get_page(
        &app,
        &format!("/api/v1/projects/{}/members", h.project),
        &h.owner.cookie,
    )
    .await;
    let eddie = members.body[1]["user_id"]
        .as_str()
        .expect("editor")
        .to_owned();
    let body = format!("assignee_id={eddie}&return_to=%2F&_csrf={}", h.editor.csrf);
    let saved = post_form(
        &app,
        &format!("/tasks/{}", h.task),
        Some(&h.editor.cookie),
        &body,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{:?}", saved.body);

    let mine = get_page(&app, "/?view=assigned", &h.editor.cookie).await;
    let text = page_text(&mine);
    assert!(text.contains("Buy bread") && text.contains("Assigned to Eddie Editor"));
    assert!(text.contains(">EE<"), "initials on the row");
    let theirs = get_page(&app, "/?view=assigned", &h.owner.cookie).await;
    assert!(!page_text(&theirs).contains("Buy bread"));
    assert!(page_text(&theirs).contains("No open task is assigned to you"));
    let project = get_page(&app, &format!("/projects/{}", h.project), &h.viewer.cookie).await;
    assert!(page_text(&project).contains("Assigned to Eddie Editor"));

    // A viewer's assignment is refused like any change; someone not a member is a message.
    let body = format!("assignee_id={eddie}&_csrf={}", h.viewer.csrf);
    let refused = post_form(
        &app,
        &format!("/tasks/{}", h.task),
        Some(&h.viewer.cookie),
        &body,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let body = format!("assignee_id=nobody-here&_csrf={}", h.editor.csrf);
    let wrong = post_form(
        &app,
        &format!("/tasks/{}", h.task),
        Some(&h.editor.cookie),
        &body,
    )
    .await;
    // The edit form again, with the message (and what was typed, see
    // a_refused_edit_shows_the_form_again_with_every_field_as_typed).
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(&wrong).contains(r#"class="error" role="alert""#));
}

#[tokio::test]
async fn the_owner_manages_members_and_invitations_and_a_member_leaves() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let p = h.project;
    // A refused invitation (an address already a member) comes back in the open panel.
    let body = format!("email=eddie%40example.com&_csrf={}", h.owner.csrf);
    let uri = format!("/projects/{p}/invitations");
    let twice = post_form(&app, &uri, Some(&h.owner.cookie), &body).await;
    let location = twice.header("location").expect("back to the panel");
    assert!(
        location.contains("share=open") && location.contains("error="),
        "{location}"
    );
    let panel = get_page(&app, location, &h.owner.cookie).await;
    let text = page_text(&panel);
    assert!(text.contains("id=\"share\" open") && text.contains("id=\"share-error\""));
    assert!(
        text.contains("value=\"eddie@example.com\""),
        "typed address kept"
    );

    // A pending invitation is listed and withdrawn.
    let body = format!(
        "email=later%40example.com&role=viewer&_csrf={}",
        h.owner.csrf
    );
    post_form(&app, &uri, Some(&h.owner.cookie), &body).await;
    let pending = get_page(
        &app,
        &format!("/api/v1/projects/{p}/invitations"),
        &h.owner.cookie,
    )
    .await;
    let invitation = pending.body[0]["id"].as_i64().expect("pending");
    let page = get_page(&app, &format!("/projects/{p}"), &h.owner.cookie).await;
    assert!(page_text(&page).contains("later@example.com"));
    let body = format!("_csrf={}", h.owner.csrf);
    let cancel = format!("/projects/{p}/invitations/{invitation}/cancel");
    post_form(&app, &cancel, Some(&h.owner.cookie), &body).await;
    let pending = get_page(
        &app,
        &format!("/api/v1/projects/{p}/invitations"),
        &h.owner.cookie,
    )
    .await;
    assert_eq!(pending.body, serde_json::json!([]));

    // Roles change; the viewer leaves and loses the project at once.
    let members = get_page(
        &app,
        &format!("/api/v1/projects/{p}/members"),
        &h.owner.cookie,
    )
    .await;
    let vera = members.body[2]["user_id"]
        .as_str()
        .expect("viewer")
        .to_owned();
    let eddie = members.body[1]["user_id"]
        .as_str()
        .expect("editor")
        .to_owned();
    let body = format!("role=editor&_csrf={}", h.owner.csrf);
    let promoted = post_form(
        &app,
        &format!("/projects/{p}/members/{vera}"),
        Some(&h.owner.cookie),
        &body,
    )
    .await;
    assert_eq!(promoted.status, StatusCode::SEE_OTHER);
    let page = get_page(&app, &format!("/projects/{p}"), &h.viewer.cookie).await;
    assert!(
        page_text(&page).contains("id=\"project-add\""),
        "now an editor"
    );
    let body = format!("_csrf={}", h.viewer.csrf);
    let left = post_form(
        &app,
        &format!("/projects/{p}/members/{vera}/remove"),
        Some(&h.viewer.cookie),
        &body,
    )
    .await;
    assert_eq!(left.header("location"), Some("/"));
    let gone = get_page(&app, &format!("/projects/{p}"), &h.viewer.cookie).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // The owner hands the project over and becomes an editor; the owner cannot leave.
    let body = format!("_csrf={}", h.owner.csrf);
    let me = members.body[0]["user_id"]
        .as_str()
        .expect("owner")
        .to_owned();
    let stays = post_form(
        &app,
        &format!("/projects/{p}/members/{me}/remove"),
        Some(&h.owner.cookie),
        &body,
    )
    .await;
    assert!(
        stays
            .header("location")
            .is_some_and(|l| l.contains("error="))
    );
    let body = format!("role=owner&_csrf={}", h.owner.csrf);
    post_form(
        &app,
        &format!("/projects/{p}/members/{eddie}"),
        Some(&h.owner.cookie),
        &body,
    )
    .await;
    let page = get_page(&app, &format!("/projects/{p}"), &h.editor.cookie).await;
    assert!(
        page_text(&page).contains("Invite by email"),
        "Eddie owns it now"
    );
    let page = get_page(&app, &format!("/projects/{p}"), &h.owner.cookie).await;
    assert!(page_text(&page).contains("Leave project…"));
}

#[tokio::test]
async fn an_invitation_is_declined_from_the_invitations_page_and_the_sidebar_counts_them() {
    let app = TestApp::spawn().await;
    let owner = sign_up_as(&app, "host%40example.com", "Hosting+Person").await;
    let guest = sign_up(&app, "guest%40example.com").await;
    let body = format!("name=Party&_csrf={}", owner.csrf);
    let created = post_form(&app, "/projects", Some(&owner.cookie), &body).await;
    let project = id_in_location(&created, "/projects/");
    let body = format!("email=guest%40example.com&_csrf={}", owner.csrf);
    post_form(
        &app,
        &format!("/projects/{project}/invitations"),
        Some(&owner.cookie),
        &body,
    )
    .await;

    let home = get_page(&app, "/", &guest.cookie).await;
    assert!(
        page_text(&home).contains("href=\"/invitations\""),
        "the sidebar says so"
    );
    let page = get_page(&app, "/invitations", &guest.cookie).await;
    let text = page_text(&page);
    assert!(text.contains("Hosting Person") && text.contains("host@example.com"));
    assert!(text.contains("as editor"));
    let waiting = get_page(&app, "/api/v1/invitations", &guest.cookie).await;
    let id = waiting.body[0]["id"].as_i64().expect("an invitation");
    let body = format!("_csrf={}", guest.csrf);
    let declined = post_form(
        &app,
        &format!("/invitations/{id}/decline"),
        Some(&guest.cookie),
        &body,
    )
    .await;
    assert_eq!(declined.header("location"), Some("/invitations"));
    let home = get_page(&app, "/", &guest.cookie).await;
    assert!(!page_text(&home).contains("href=\"/invitations\""));
    let again = post_form(
        &app,
        &format!("/invitations/{id}/accept"),
        Some(&guest.cookie),
        &body,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    for uri in ["/invitations", "/projects/1/activity"] {
        let response = app
            .raw(Request::get(uri).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(
            response.header("location"),
            Some(login_then(uri).as_str()),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn the_sharing_forms_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let (p, t) = (h.project, h.task);
    let comment = h.comment_by_viewer(&app, "Hi").await;
    for uri in [
        format!("/projects/{p}/invitations"),
        format!("/projects/{p}/invitations/1/cancel"),
        format!("/projects/{p}/members/someone"),
        format!("/projects/{p}/members/someone/remove"),
        "/invitations/1/accept".to_owned(),
        "/invitations/1/decline".to_owned(),
        format!("/tasks/{t}/comments"),
        format!("/comments/{comment}"),
        format!("/comments/{comment}/delete"),
    ] {
        let response = post_form(&app, &uri, Some(&h.owner.cookie), "body=Forged").await;
        assert_eq!(
            response.problem(StatusCode::FORBIDDEN)["type"],
            "urn:todo:problem:csrf",
            "{uri}"
        );
    }
}

/// Logs in again as a second device of the same account: its cookie.
async fn log_in(app: &TestApp, email: &str, password: &str) -> String {
    let body = format!("email={email}&password={password}");
    let response = post_form(app, "/login", None, &body).await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{:?}",
        response.body
    );
    let set_cookie = response.header("set-cookie").expect("a session cookie");
    set_cookie.split(';').next().expect("name=value").to_owned()
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_devices_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let laptop = sign_up(&app, "pw%40example.com").await;
    let phone = log_in(&app, "pw%40example.com", "correct+horse+battery").await;

    let settings = get_page(&app, "/settings", &laptop.cookie).await;
    let page = page_text(&settings);
    assert!(page.contains("This browser"), "{page}");
    assert_eq!(
        page.matches("/settings/sessions/").count(),
        1,
        "one other: {page}"
    );

    let wrong = format!(
        "_csrf={}&current_password=nope-nope-nope&new_password=another+long+one",
        laptop.csrf
    );
    let refused = post_form(&app, "/settings/password", Some(&laptop.cookie), &wrong).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let back = refused.header("location").expect("back to settings");
    assert!(
        back.starts_with("/settings?error=Current+password"),
        "{back}"
    );
    assert!(!back.contains("nope"), "no password in the URL: {back}");
    let short = format!(
        "_csrf={}&current_password=correct+horse+battery&new_password=short",
        laptop.csrf
    );
    let refused = post_form(&app, "/settings/password", Some(&laptop.cookie), &short).await;
    let back = refused.header("location").expect("back to settings");
    assert!(back.starts_with("/settings?error=New+password"), "{back}");
    assert_eq!(get_page(&app, "/", &phone).await.status, StatusCode::OK);

    let ok = format!(
        "_csrf={}&current_password=correct+horse+battery&new_password=another+long+one",
        laptop.csrf
    );
    let changed = post_form(&app, "/settings/password", Some(&laptop.cookie), &ok).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let notice = changed.header("location").expect("a notice");
    assert!(notice.contains("other+devices+were+signed+out"), "{notice}");
    let shown = get_page(&app, notice, &laptop.cookie).await;
    assert!(page_text(&shown).contains("Your other devices were signed out"));
    assert_eq!(
        get_page(&app, "/", &phone).await.header("location"),
        Some("/login"),
        "the phone is signed out"
    );
    log_in(&app, "pw%40example.com", "another+long+one").await;
}

#[tokio::test]
async fn another_session_is_signed_out_from_the_list_and_a_strangers_is_not_found() {
    let app = TestApp::spawn().await;
    let laptop = sign_up(&app, "ses%40example.com").await;
    let phone = log_in(&app, "ses%40example.com", "correct+horse+battery").await;
    let stranger = sign_up(&app, "stranger%40example.com").await;

    let settings = get_page(&app, "/settings", &laptop.cookie).await;
    let page = page_text(&settings);
    let start = page.find("/settings/sessions/").expect("the phone's row");
    let action = page[start..].split('"').next().expect("action").to_owned();

    let forged = post_form(&app, &action, Some(&laptop.cookie), "").await;
    assert_eq!(
        forged.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:csrf"
    );
    let theirs = format!("_csrf={}", stranger.csrf);
    let refused = post_form(&app, &action, Some(&stranger.cookie), &theirs).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "not the stranger's");
    assert!(page_text(&refused).contains("Not found"));
    assert_eq!(get_page(&app, "/", &phone).await.status, StatusCode::OK);

    let body = format!("_csrf={}", laptop.csrf);
    let ended = post_form(&app, &action, Some(&laptop.cookie), &body).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(
        ended
            .header("location")
            .expect("back")
            .starts_with("/settings?notice=")
    );
    assert_eq!(
        get_page(&app, "/", &phone).await.header("location"),
        Some("/login")
    );
    assert_eq!(
        get_page(&app, "/", &laptop.cookie).await.status,
        StatusCode::OK
    );
    let settings = get_page(&app, "/settings", &laptop.cookie).await;
    assert_eq!(
        page_text(&settings).matches("/settings/sessions/").count(),
        0
    );

    let unsigned = app
        .raw(
            form(&action, None)
                .body(Body::from("_csrf=x"))
                .expect("request"),
        )
        .await;
    assert_eq!(unsigned.header("location"), Some("/login"));
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_then_signs_out_to_the_login_page() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "gone%40example.com").await;
    let body = format!("text=Secret+plan&_csrf={}", browser.csrf);
    post_form(&app, "/tasks", Some(&browser.cookie), &body).await;

    let forged = post_form(
        &app,
        "/settings/delete-account",
        Some(&browser.cookie),
        "password=correct+horse+battery",
    )
    .await;
    forged.problem(StatusCode::FORBIDDEN);
    let wrong = format!("_csrf={}&password=nope-nope-nope", browser.csrf);
    let refused = post_form(
        &app,
        "/settings/delete-account",
        Some(&browser.cookie),
        &wrong,
    )
    .await;
    let back = refused.header("location").expect("back to settings");
    assert!(back.starts_with("/settings?error=Password"), "{back}");
    assert_eq!(
        get_page(&app, "/", &browser.cookie).await.status,
        StatusCode::OK
    );

    let ok = format!("_csrf={}&password=correct+horse+battery", browser.csrf);
    let deleted = post_form(&app, "/settings/delete-account", Some(&browser.cookie), &ok).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.header("location"), Some("/login?deleted=1"));
    assert!(
        deleted
            .header("set-cookie")
            .expect("cleared")
            .contains("Max-Age=0")
    );
    let login = app
        .raw(
            Request::get("/login?deleted=1")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(page_text(&login).contains("Your account and its data were deleted."));
    assert_eq!(
        get_page(&app, "/", &browser.cookie)
            .await
            .header("location"),
        Some("/login")
    );
    let again = post_form(
        &app,
        "/login",
        None,
        "email=gone%40example.com&password=correct+horse+battery",
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "the account is gone"
    );
}

#[tokio::test]
async fn a_read_only_key_cannot_change_the_password_or_delete_the_account_by_form() {
    let app = TestApp::spawn().await;
    let user = app.signup("rokey@example.com").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let secret = created.body["secret"].as_str().expect("secret");
    for uri in ["/settings/password", "/settings/delete-account"] {
        let refused = app
            .raw(
                form(uri, None)
                    .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                    .body(Body::from("password=x&current_password=x&new_password=y"))
                    .expect("request"),
            )
            .await;
        assert_eq!(
            refused.problem(StatusCode::FORBIDDEN)["type"],
            "urn:todo:problem:insufficient-scope",
            "{uri}"
        );
    }
}

/// A task made through the API with the page's cookie and token; its id.
async fn api_task(app: &TestApp, browser: &Browser, body: serde_json::Value) -> i64 {
    let response = app
        .raw(
            Request::post("/api/v1/tasks")
                .header(header::HOST, "todo.test")
                .header(header::COOKIE, &browser.cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-csrf-token", &browser.csrf)
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body["id"].as_i64().expect("an id")
}

fn day(offset: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(offset)
}

#[tokio::test]
async fn today_shows_an_overdue_section_above_todays_tasks_and_reschedules_it_to_today() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "plan%40example.com").await;
    let old = api_task(
        &app,
        &browser,
        json!({"title": "Old bill", "due_date": day(-40)}),
    )
    .await;
    let timed = format!("{}T09:30:00", day(-1));
    let standup = api_task(
        &app,
        &browser,
        json!({"title": "Standup", "due_local": timed}),
    )
    .await;
    api_task(
        &app,
        &browser,
        json!({"title": "Due now", "due_date": day(0)}),
    )
    .await;
    api_task(
        &app,
        &browser,
        json!({"title": "Later on", "due_date": day(1)}),
    )
    .await;

    let page = get_page(&app, "/?view=today", &browser.cookie).await;
    let html = page_text(&page);
    let overdue = html.find("id=\"overdue\"").expect("an Overdue section");
    let due_today = html.find("id=\"today-head\"").expect("a Due today heading");
    assert!(
        html.contains("Overdue <span class=\"meta\">(2)</span>"),
        "{html}"
    );
    let (old_row, standup_row) = (
        format!("id=\"task-{old}\""),
        format!("id=\"task-{standup}\""),
    );
    let at = |needle: &str| html.find(needle).expect(needle);
    assert!(overdue < at(&old_row) && at(&old_row) < at(&standup_row));
    assert!(
        at(&standup_row) < due_today && due_today < at("Due now"),
        "{html}"
    );
    assert!(!html.contains("Later on"), "tomorrow is not today");
    assert!(
        html.contains("<option value=\"due_at\" selected>Due date</option>"),
        "the sort says due date"
    );
    assert!(html.contains("1 task<"), "the count is today's: {html}");

    let forged = post_form(&app, "/today/reschedule-overdue", Some(&browser.cookie), "").await;
    forged.problem(StatusCode::FORBIDDEN);
    let body = format!("_csrf={}", browser.csrf);
    let moved = post_form(
        &app,
        "/today/reschedule-overdue",
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let back = moved.header("location").expect("back to Today");
    assert!(
        back.starts_with("/?view=today&notice=Moved+2+tasks"),
        "{back}"
    );
    let page = get_page(&app, back, &browser.cookie).await;
    let html = page_text(&page);
    assert!(html.contains("Moved 2 tasks to today."));
    assert!(!html.contains("id=\"overdue\""), "nothing overdue is left");
    assert!(html.contains("Old bill") && html.contains("Standup") && html.contains("3 tasks<"));
    let task = get_page(&app, &format!("/api/v1/tasks/{standup}"), &browser.cookie).await;
    assert_eq!(
        task.body["due_local"],
        format!("{}T09:30:00", day(0)),
        "the time is kept"
    );
    let task = get_page(&app, &format!("/api/v1/tasks/{old}"), &browser.cookie).await;
    assert_eq!(task.body["due_date"], day(0).to_string());

    let unsigned = post_form(&app, "/today/reschedule-overdue", None, "").await;
    assert_eq!(unsigned.header("location"), Some("/login"));
}

#[tokio::test]
async fn only_the_first_five_overdue_tasks_show_so_todays_tasks_stay_on_screen() {
    let mut settings = todo_server::Settings::new(crate::helpers::auth_settings());
    settings.rate_limit.enabled = false;
    let app = TestApp::spawn_configured(settings).await;
    let browser = sign_up(&app, "many%40example.com").await;
    for n in 0..55 {
        api_task(
            &app,
            &browser,
            json!({"title": format!("Late {n}"), "due_date": day(-3)}),
        )
        .await;
    }
    api_task(
        &app,
        &browser,
        json!({"title": "Due now", "due_date": day(0)}),
    )
    .await;
    let page = get_page(&app, "/?view=today", &browser.cookie).await;
    let html = page_text(&page);
    assert!(html.contains("Overdue <span class=\"meta\">(55)</span>"));
    assert_eq!(
        html.matches("class=\"task overdue").count(),
        5,
        "the first five"
    );
    assert!(html.contains("Show all 55 overdue tasks"));
    assert!(html.contains("Due now"));
    assert!(!html.contains("Load more"), "today's own list is complete");
}

#[tokio::test]
async fn upcoming_is_grouped_by_day_and_the_sort_control_names_the_real_order() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "soon%40example.com").await;
    for (title, offset) in [("Far", 9), ("Next A", 1), ("Mid", 3), ("Next B", 1)] {
        api_task(
            &app,
            &browser,
            json!({"title": title, "due_date": day(offset)}),
        )
        .await;
    }
    let page = get_page(&app, "/?view=upcoming", &browser.cookie).await;
    let html = page_text(&page);
    assert_eq!(html.matches("class=\"day-head\"").count(), 3, "{html}");
    let at = |needle: &str| html.find(needle).expect(needle);
    let tomorrow = format!("Tomorrow · {}", day(1).format("%a %-d %b"));
    assert!(at(&tomorrow) < at("Next A") && at("Next B") < at(&format!("data-day=\"{}\"", day(3))));
    assert!(at(&format!("data-day=\"{}\"", day(3))) < at("Mid") && at("Mid") < at("Far"));
    assert!(html.contains("<option value=\"due_at\" selected>Due date</option>"));

    let by_title = get_page(&app, "/?view=upcoming&sort=title", &browser.cookie).await;
    let html = page_text(&by_title);
    assert_eq!(
        html.matches("class=\"day-head\"").count(),
        0,
        "not by day when sorted by title"
    );
    assert!(html.contains("<option value=\"title\" selected>Title</option>"));
    let open = get_page(&app, "/", &browser.cookie).await;
    assert!(
        page_text(&open).contains("<option value=\"created_at\" selected>Oldest first</option>")
    );
}

#[tokio::test]
async fn a_viewers_reschedule_leaves_the_shared_projects_overdue_tasks_as_they_were() {
    let app = TestApp::spawn().await;
    let h = household(&app).await;
    let past = day(-2);
    let body = format!("due_date={past}&_csrf={}", h.owner.csrf);
    let saved = post_form(
        &app,
        &format!("/tasks/{}", h.task),
        Some(&h.owner.cookie),
        &body,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{:?}", saved.body);
    let own = api_task(
        &app,
        &h.viewer,
        json!({"title": "Mine", "due_date": day(-1)}),
    )
    .await;

    let page = get_page(&app, "/?view=today", &h.viewer.cookie).await;
    assert!(page_text(&page).contains("Overdue <span class=\"meta\">(2)</span>"));
    let body = format!("_csrf={}", h.viewer.csrf);
    let moved = post_form(
        &app,
        "/today/reschedule-overdue",
        Some(&h.viewer.cookie),
        &body,
    )
    .await;
    let back = moved.header("location").expect("back to Today");
    assert!(back.contains("Moved+1+task+to+today."), "{back}");
    assert!(
        back.contains("1+task+in+projects+you+may+only+view"),
        "{back}"
    );
    let shared = get_page(&app, &format!("/api/v1/tasks/{}", h.task), &h.owner.cookie).await;
    assert_eq!(
        shared.body["due_date"],
        past.to_string(),
        "the owner's task stayed"
    );
    let mine = get_page(&app, &format!("/api/v1/tasks/{own}"), &h.viewer.cookie).await;
    assert_eq!(mine.body["due_date"], day(0).to_string());
}

fn page_request(uri: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .uri(uri)
        .header(header::HOST, "todo.test")
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
}

#[tokio::test]
async fn the_web_apps_own_page_and_row_loads_do_not_trip_the_read_limit_at_its_defaults() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "busy%40example.com").await;
    let task = api_task(&app, &browser, json!({"title": "Busy", "due_date": day(0)})).await;
    let views = [
        "/",
        "/?view=today",
        "/?view=upcoming",
        "/?view=completed",
        "/settings",
    ];
    for n in 0..40 {
        let uri = views[n % views.len()];
        let page = app
            .raw(
                page_request(uri, &browser.cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "view switch {n}: {uri}");
    }
    for n in 0..120 {
        let row = app
            .raw(
                page_request(&format!("/tasks/{task}/row"), &browser.cookie)
                    .header("x-fragment", "1")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(row.status, StatusCode::OK, "row refresh {n}");
    }
    // The page script's API reads (the event stream, features) share that budget.
    for n in 0..60 {
        let read = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
        assert_eq!(read.status, StatusCode::OK, "the script's read {n}");
    }
    // A Bearer client keeps the API's own budget.
    let user = app.signup("bearer-busy@example.com").await;
    let mut last = StatusCode::OK;
    for _ in 0..101 {
        last = app.get("/api/v1/tasks", &user.token).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_limit_reached_in_the_browser_is_a_page_in_the_apps_style_not_json() {
    let mut settings = todo_server::Settings::new(crate::helpers::auth_settings());
    settings.rate_limit.reads_per_minute = 1;
    settings.rate_limit.writes_per_minute = 1;
    settings.rate_limit.auth_per_minute = 2;
    let app = TestApp::spawn_configured(settings).await;
    let browser = sign_up(&app, "slow%40example.com").await;

    let mut page = None;
    for _ in 0..11 {
        let response = app
            .raw(
                page_request("/", &browser.cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            page = Some(response);
            break;
        }
    }
    let page = page.expect("ten page loads a minute with a read limit of one");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(page.header("retry-after").is_some());
    assert!(page.header("content-security-policy").is_some());
    let html = page_text(&page);
    assert!(html.contains("<h1>Slow down a moment</h1>"), "{html}");
    assert!(
        html.contains("http-equiv=\"refresh\""),
        "a read loads again by itself"
    );

    let fragment = app
        .raw(
            page_request("/", &browser.cookie)
                .header("x-fragment", "1")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        fragment.problem(StatusCode::TOO_MANY_REQUESTS)["type"],
        "urn:todo:problem:rate-limited",
        "the page script reads the problem and shows a toast"
    );

    let post = |text: &str| {
        form("/tasks", Some(&browser.cookie))
            .header(header::ACCEPT, "text/html")
            .body(Body::from(format!("text={text}&_csrf={}", browser.csrf)))
            .expect("request")
    };
    assert_eq!(app.raw(post("One")).await.status, StatusCode::SEE_OTHER);
    let refused = app.raw(post("Two")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let html = page_text(&refused);
    assert!(html.contains("this one was not saved"), "{html}");
    assert!(
        !html.contains("http-equiv"),
        "a form is not sent again by itself"
    );

    let login = || {
        form("/login", None)
            .header(header::ACCEPT, "text/html")
            .body(Body::from(
                "email=slow%40example.com&password=nope-nope-nope",
            ))
            .expect("request")
    };
    let mut last = app.raw(login()).await;
    for _ in 0..2 {
        if last.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        last = app.raw(login()).await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page_text(&last).contains("too many sign-in attempts"));
}

#[tokio::test]
async fn a_cookie_that_signs_no_one_in_gets_no_larger_read_budget() {
    let mut settings = todo_server::Settings::new(crate::helpers::auth_settings());
    settings.rate_limit.reads_per_minute = 2;
    let app = TestApp::spawn_configured(settings).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = app
            .raw(
                page_request("/login", "todo_session=not-a-session")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        statuses.push(response.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "the address's own two reads"
    );
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_and_never_to_another_site() {
    let app = TestApp::spawn().await;
    let anonymous = app
        .raw(
            Request::get("/?view=today&q=milk")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.header("location"),
        Some("/login?next=%2F%3Fview%3Dtoday%26q%3Dmilk")
    );
    let page = app
        .raw(
            Request::get("/login?next=%2Fprojects%2F3")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(page_text(&page).contains(r#"name="next" value="/projects/3""#));

    sign_up(&app, "back%40example.com").await;
    let log_in = |next: &'static str| {
        let body = format!(
            "email=back%40example.com&password=correct+horse+battery&next={}",
            urlencoding(next)
        );
        let app = &app;
        async move { post_form(app, "/login", None, &body).await }
    };
    let accepted = log_in("/?view=today&q=milk").await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert_eq!(accepted.header("location"), Some("/?view=today&q=milk"));
    // Another site, however it is spelled, is refused: home instead.
    for evil in [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "/\t/evil.com",
        "evil.com",
    ] {
        let refused = log_in(evil).await;
        assert_eq!(refused.status, StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(refused.header("location"), Some("/"), "{evil}");
        let page = app
            .raw(
                Request::get(format!("/login?next={}", urlencoding(evil)))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert!(!page_text(&page).contains("evil.com"), "{evil}");
    }
}

fn urlencoding(raw: &str) -> String {
    serde_html_form::to_string([("v", raw)]).expect("encoded")[2..].to_owned()
}

#[tokio::test]
async fn a_refused_edit_shows_the_form_again_with_every_field_as_typed() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "typed%40example.com").await;
    let id = api_task(&app, &browser, json!({"title": "Water plants"})).await;

    // A blank title is refused; the notes, priority, date, rule and tags typed beside it stay.
    let body = format!(
        "_csrf={}&return_to=%2F&title=+++&description=Use+the+rain+water&priority=high\
         &due_date=2031-05-04&due_time=07%3A15&recurrence=FREQ%3DWEEKLY&tags=garden%2C+home",
        browser.csrf
    );
    let refused = post_form(&app, &format!("/tasks/{id}"), Some(&browser.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = page_text(&refused);
    assert!(page.contains(r#"role="alert""#), "the message is shown");
    assert!(page.contains("title"), "it names the field");
    assert!(page.contains(">Use the rain water</textarea>"), "{page}");
    assert!(page.contains(r#"<option value="high" selected>"#));
    assert!(page.contains(r#"value="2031-05-04""#));
    assert!(page.contains(r#"value="07:15""#));
    assert!(page.contains(r#"<option value="FREQ=WEEKLY" selected>"#));
    assert!(page.contains(r#"value="garden, home""#));
    // Nothing was saved.
    let task = get_page(&app, &format!("/api/v1/tasks/{id}"), &browser.cookie).await;
    assert_eq!(task.body["title"], "Water plants");
    assert_eq!(task.body["priority"], "none");
    assert!(task.body["description"].is_null());
}

#[tokio::test]
async fn an_inline_edit_reads_the_title_as_quick_add_does() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "inline%40example.com").await;
    let body = format!("name=Home&_csrf={}", browser.csrf);
    let project = post_form(&app, "/projects", Some(&browser.cookie), &body).await;
    let home = id_in_location(&project, "/projects/");
    let id = api_task(
        &app,
        &browser,
        json!({"title": "Call mum", "tags": ["family"]}),
    )
    .await;

    let body = format!(
        "_csrf={}&return_to=%2F&text=Call+mum+tomorrow+%23Home+p1+%40phone",
        browser.csrf
    );
    let saved = post_form(&app, &format!("/tasks/{id}"), Some(&browser.cookie), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let task = get_page(&app, &format!("/api/v1/tasks/{id}"), &browser.cookie).await;
    assert_eq!(task.body["title"], "Call mum");
    assert_eq!(task.body["priority"], "urgent");
    assert_eq!(task.body["project_id"], home);
    assert_eq!(task.body["tags"], json!(["family", "phone"]));
    assert!(task.body["due_date"].is_string(), "{:?}", task.body);

    // The full form's title is taken as typed.
    let body = format!("_csrf={}&return_to=%2F&title=Call+mum+p2", browser.csrf);
    post_form(&app, &format!("/tasks/{id}"), Some(&browser.cookie), &body).await;
    let task = get_page(&app, &format!("/api/v1/tasks/{id}"), &browser.cookie).await;
    assert_eq!(task.body["title"], "Call mum p2");
    assert_eq!(task.body["priority"], "urgent");

    // Only a date, tags and a priority: refused, nothing changes.
    let body = format!("_csrf={}&return_to=%2F&text=tomorrow+p3", browser.csrf);
    let refused = app
        .raw(
            form(&format!("/tasks/{id}"), Some(&browser.cookie))
                .header("x-fragment", "1")
                .header("x-csrf-token", &browser.csrf)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);

    // A title too long is refused before the move it asks for: nothing half done.
    let body = format!("name=Work&_csrf={}", browser.csrf);
    post_form(&app, "/projects", Some(&browser.cookie), &body).await;
    let long = "a".repeat(201);
    let body = format!("_csrf={}&return_to=%2F&text={long}+%23Work", browser.csrf);
    let refused = app
        .raw(
            form(&format!("/tasks/{id}"), Some(&browser.cookie))
                .header("x-fragment", "1")
                .header("x-csrf-token", &browser.csrf)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let task = get_page(&app, &format!("/api/v1/tasks/{id}"), &browser.cookie).await;
    assert_eq!(task.body["project_id"], home, "not moved");
    assert_eq!(task.body["title"], "Call mum p2");
}

#[tokio::test]
async fn the_quick_add_preview_and_the_assistant_status_answer_the_page() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "preview%40example.com").await;
    let preview = app
        .raw(
            Request::post("/api/v1/tasks/parse")
                .header(header::COOKIE, &browser.cookie)
                .header("x-csrf-token", &browser.csrf)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"text":"Buy milk tomorrow p1 every week @shop"}"#,
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.body["title"], "Buy milk");
    assert_eq!(preview.body["priority"], "urgent");
    assert_eq!(preview.body["tags"], json!(["shop"]));
    // No model in the test server: the page is told to hide the chat, and settings say so in
    // words, naming no setting.
    let status = get_page(&app, "/assistant", &browser.cookie).await;
    assert_eq!(status.body["chat"], false);
    let settings = get_page(&app, "/settings", &browser.cookie).await;
    let text = page_text(&settings);
    assert!(text.contains("The assistant is not available on this server"));
    assert!(!text.contains("LLM_"));
    assert!(!text.contains("TODO_ENCRYPTION_KEY"));
}

#[tokio::test]
async fn done_lists_the_latest_completion_first_and_says_so() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "done%40example.com").await;
    let a = api_task(&app, &browser, json!({"title": "Task A"})).await;
    let b = api_task(&app, &browser, json!({"title": "Task B"})).await;
    for id in [a, b] {
        let body = format!("_csrf={}", browser.csrf);
        let done = post_form(
            &app,
            &format!("/tasks/{id}/complete"),
            Some(&browser.cookie),
            &body,
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{:?}", done.body);
    }
    let page = get_page(&app, "/?view=completed", &browser.cookie).await;
    let html = page_text(&page);
    let at = |title: &str| html.find(title).expect(title);
    assert!(at("Task B") < at("Task A"), "the latest completion first");
    assert!(html.contains("<option value=\"-completed_at\" selected>Recently completed</option>"));
    // Other views do not offer an order that means nothing there.
    let open = get_page(&app, "/", &browser.cookie).await;
    assert!(!page_text(&open).contains("completed_at"));
}

#[tokio::test]
async fn a_refresh_reads_back_the_rows_load_more_showed_and_links_never_carry_it() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "many%40example.com").await;
    // One import, not 62 writes (the write limit is on).
    let tasks: Vec<_> = (0..62)
        .map(|n| json!({"title": format!("Row {n:02}")}))
        .collect();
    let imported = app
        .raw(
            Request::post("/api/v1/import")
                .header(header::HOST, "todo.test")
                .header(header::COOKIE, &browser.cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-csrf-token", &browser.csrf)
                .body(Body::from(json!({ "tasks": tasks }).to_string()))
                .expect("request"),
        )
        .await;
    assert!(imported.status.is_success(), "{}", imported.body);
    let first = get_page(&app, "/", &browser.cookie).await;
    assert_eq!(page_text(&first).matches("class=\"task\"").count(), 50);
    let shown = get_page(&app, "/?shown=60", &browser.cookie).await;
    let html = page_text(&shown);
    assert_eq!(html.matches("class=\"task\"").count(), 60);
    assert!(html.contains("Row 59") && !html.contains("Row 60"));
    assert!(
        html.contains("data-more"),
        "Load more goes on after the 60th"
    );
    assert!(!html.contains("shown="), "never in a link or return_to");
    // Bounded both ways: fewer than a page is a page; a huge number is at most 500.
    let small = get_page(&app, "/?shown=3", &browser.cookie).await;
    assert_eq!(page_text(&small).matches("class=\"task\"").count(), 50);
    let huge = get_page(&app, "/?shown=100000", &browser.cookie).await;
    assert_eq!(huge.status, StatusCode::OK);
    assert_eq!(page_text(&huge).matches("class=\"task\"").count(), 62);
}

/// The id of the user's tag of that name, from the API.
async fn tag_id(app: &TestApp, browser: &Browser, name: &str) -> i64 {
    let tags = get_page(app, "/api/v1/tags", &browser.cookie).await;
    tags.body
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["id"].as_i64())
        .expect("the tag")
}

#[tokio::test]
async fn the_tags_page_renames_recolours_and_deletes_and_refuses_a_clash_with_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "t1%40example.com").await;
    api_task(
        &app,
        &browser,
        json!({"title": "Milk", "tags": ["errands"]}),
    )
    .await;
    api_task(
        &app,
        &browser,
        json!({"title": "Call", "tags": ["calls", "<b>x</b>"]}),
    )
    .await;
    let errands = tag_id(&app, &browser, "errands").await;
    let calls = tag_id(&app, &browser, "calls").await;

    let page = get_page(&app, "/settings/tags", &browser.cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page_text(&page);
    assert!(text.contains("<h1>Tags</h1>"), "{text}");
    assert!(
        text.contains("#&#60;b&#62;x&#60;/b&#62;") || text.contains("#&lt;b&gt;x&lt;/b&gt;"),
        "escaped: {text}"
    );
    assert!(!text.contains("<b>x</b>"));

    // Rename and colour: the API shows both, and the rows' chips carry the colour's class.
    let body = format!("name=shopping&color=%23ff9933&_csrf={}", browser.csrf);
    let saved = post_form(
        &app,
        &format!("/settings/tags/{errands}"),
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let tags = get_page(&app, "/api/v1/tags", &browser.cookie).await;
    let tag = tags
        .body
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["id"] == errands)
        .expect("tag")
        .clone();
    assert_eq!(tag["name"], "shopping");
    assert_eq!(tag["color"], "#ff9933");
    let list = get_page(&app, "/", &browser.cookie).await;
    assert!(
        page_text(&list).contains(r#"class="tag tag-c-orange" href="/?tag=shopping""#),
        "{}",
        page_text(&list)
    );

    // A rename onto another tag's name (in another case): 422, the message, the typed values.
    let body = format!("name=Shopping&color=%23884dff&_csrf={}", browser.csrf);
    let refused = post_form(
        &app,
        &format!("/settings/tags/{calls}"),
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = page_text(&refused);
    assert!(
        text.contains("You already have a tag “#Shopping”"),
        "{text}"
    );
    assert!(text.contains(r#"value="Shopping""#), "{text}");
    assert!(
        text.contains(r##"<option value="#884dff" selected>Violet</option>"##),
        "{text}"
    );
    assert_eq!(tag_id(&app, &browser, "calls").await, calls, "unchanged");

    // Delete: the tag comes off the task, the task stays.
    let body = format!("_csrf={}", browser.csrf);
    let deleted = post_form(
        &app,
        &format!("/settings/tags/{calls}/delete"),
        Some(&browser.cookie),
        &body,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let tasks = get_page(&app, "/api/v1/tasks?q=Call", &browser.cookie).await;
    assert_eq!(tasks.body[0]["title"], "Call");
    assert_eq!(tasks.body[0]["tags"], json!(["<b>x</b>"]));
}

#[tokio::test]
async fn the_tags_forms_need_a_session_and_the_csrf_token_and_another_users_tag_is_not_found() {
    let app = TestApp::spawn().await;
    let owner = sign_up(&app, "t2%40example.com").await;
    api_task(&app, &owner, json!({"title": "Milk", "tags": ["errands"]})).await;
    let errands = tag_id(&app, &owner, "errands").await;
    let stranger = sign_up(&app, "t3%40example.com").await;

    let anonymous = app
        .raw(
            Request::get("/settings/tags")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.header("location"),
        Some("/login?next=%2Fsettings%2Ftags")
    );

    let uri = format!("/settings/tags/{errands}");
    let no_token = post_form(&app, &uri, Some(&owner.cookie), "name=x").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let body = format!("_csrf={}", owner.csrf);
    let no_token = post_form(&app, &format!("{uri}/delete"), Some(&owner.cookie), "").await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);

    let body_s = format!("name=mine&_csrf={}", stranger.csrf);
    let theirs = post_form(&app, &uri, Some(&stranger.cookie), &body_s).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let body_s = format!("_csrf={}", stranger.csrf);
    let theirs = post_form(
        &app,
        &format!("{uri}/delete"),
        Some(&stranger.cookie),
        &body_s,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        tag_id(&app, &owner, "errands").await,
        errands,
        "still there"
    );
    let kept = post_form(&app, &format!("{uri}/delete"), Some(&owner.cookie), &body).await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_zone_is_found_by_its_city_and_an_unknown_one_is_refused_with_what_was_typed() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "z1%40example.com").await;
    let body = format!("name=Sam&timezone=Atlantis&_csrf={}", browser.csrf);
    let refused = post_form(&app, "/settings/profile", Some(&browser.cookie), &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = page_text(&refused);
    assert!(text.contains("“Atlantis” is not a time zone"), "{text}");
    assert!(
        text.contains(r#"value="Atlantis""#) && text.contains(r#"value="Sam""#),
        "{text}"
    );
    let me = get_page(&app, "/api/v1/me", &browser.cookie).await;
    assert_ne!(me.body["name"], "Sam", "nothing saved");

    let body = format!(
        "name=Sam&timezone=new+york&confirm_zone=yes&_csrf={}",
        browser.csrf
    );
    let saved = post_form(&app, "/settings/profile", Some(&browser.cookie), &body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let me = get_page(&app, "/api/v1/me", &browser.cookie).await;
    assert_eq!(me.body["timezone"], "America/New_York");
}

async fn get_plain(app: &TestApp, uri: &str, if_none_match: Option<&str>) -> TestResponse {
    let mut request = Request::get(uri);
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    app.raw(request.body(Body::empty()).expect("request")).await
}

/// The installable app's manifest, service worker and offline page: public (nothing of anyone
/// in them), revalidated rather than kept for good (their URLs carry no version), and the
/// worker and the offline page under the pages' own same-origin policy.
#[tokio::test]
async fn the_manifest_the_service_worker_and_the_offline_page_are_served_from_the_root() {
    let app = TestApp::spawn().await;
    let manifest = get_plain(&app, "/manifest.webmanifest", None).await;
    assert_eq!(manifest.status, StatusCode::OK);
    assert_eq!(
        manifest.header("content-type"),
        Some("application/manifest+json")
    );
    assert_eq!(manifest.header("cache-control"), Some("no-cache"));
    assert_eq!(manifest.body["start_url"], "/");
    assert_eq!(manifest.body["display"], "standalone");
    let icons = manifest.body["icons"].as_array().expect("icons");
    let maskable = icons
        .iter()
        .find(|i| i["purpose"] == "maskable")
        .expect("a maskable icon");
    let src = maskable["src"].as_str().expect("src");
    let icon = get_plain(&app, src, None).await;
    assert_eq!(icon.status, StatusCode::OK, "{src}");
    assert_eq!(icon.header("content-type"), Some("image/png"));
    assert!(
        icon.header("cache-control")
            .expect("cache")
            .contains("immutable")
    );

    let worker = get_plain(&app, "/sw.js", None).await;
    assert_eq!(worker.status, StatusCode::OK);
    assert_eq!(
        worker.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(worker.header("cache-control"), Some("no-cache"));
    let csp = worker.header("content-security-policy").expect("CSP");
    assert!(csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"));
    assert!(!csp.contains("unsafe"), "{csp}");
    let script = worker.body.as_str().expect("a script");
    assert!(
        !script.contains("__ASSETS_VERSION__"),
        "the assets' hash is written in"
    );
    // The worker's caches are named after the same hash the pages' asset links carry.
    let etag = worker.header("etag").expect("an ETag").to_owned();
    let version = etag.trim_matches('"');
    assert!(
        script.contains(&format!("const VERSION = \"{version}\"")),
        "{etag}"
    );
    let again = get_plain(&app, "/sw.js", Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let offline = get_plain(&app, "/offline", None).await;
    assert_eq!(offline.status, StatusCode::OK);
    assert!(
        offline
            .header("content-type")
            .expect("type")
            .starts_with("text/html")
    );
    let csp = offline.header("content-security-policy").expect("CSP");
    assert!(!csp.contains("unsafe"), "{csp}");
    let page = page_text(&offline);
    assert!(page.contains("<h1>Offline</h1>"), "{page}");
    assert!(
        page.contains(&format!("/assets/app.css?v={version}")),
        "{page}"
    );
}

#[tokio::test]
async fn the_pages_link_the_manifest_and_name_their_user_for_the_offline_queue() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "pwa%40example.com").await;
    let page = get_page(&app, "/", &browser.cookie).await;
    let html = page_text(&page);
    assert!(html.contains(r#"<link rel="manifest" href="/manifest.webmanifest">"#));
    let me = get_page(&app, "/api/v1/me", &browser.cookie).await;
    let id = me.body["id"]
        .as_str()
        .map_or_else(|| me.body["id"].to_string(), str::to_owned);
    assert!(
        html.contains(&format!(r#"<meta name="todo-user" content="{id}">"#)),
        "{id}"
    );
}

/// The offline queue sends an add again when its answer was lost: with the same client key it
/// is saved once; a key that is not a short token is refused as the form's error.
#[tokio::test]
async fn a_quick_add_sent_again_with_its_client_key_is_saved_once() {
    let app = TestApp::spawn().await;
    let browser = sign_up(&app, "once%40example.com").await;
    let add = |key: &str| {
        form("/tasks", Some(&browser.cookie))
            .header("x-fragment", "1")
            .body(Body::from(format!(
                "text=Call+the+plumber&client_key={key}&_csrf={}",
                browser.csrf
            )))
            .expect("request")
    };
    let key = "0f8e2c1a-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
    let first = app.raw(add(key)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app.raw(add(key)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.header("x-already-saved"), Some("1"));
    let another = app.raw(add("a-different-key")).await;
    assert_eq!(another.status, StatusCode::CREATED);
    let tasks = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    let titles = tasks.body.as_array().expect("tasks");
    assert_eq!(titles.len(), 2, "{titles:?}");

    let bad = app.raw(add("not%20a%20key")).await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Without a page script (no fragment): the list again, nothing added twice.
    let body = format!(
        "text=Call+the+plumber&client_key={key}&_csrf={}",
        browser.csrf
    );
    let plain = post_form(&app, "/tasks", Some(&browser.cookie), &body).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
    let tasks = get_page(&app, "/api/v1/tasks", &browser.cookie).await;
    assert_eq!(tasks.body.as_array().expect("tasks").len(), 2);
}

/// Each user's client keys are their own: the same key from someone else adds their task.
#[tokio::test]
async fn client_keys_are_per_user() {
    let app = TestApp::spawn().await;
    let key = "shared-key-1";
    for email in ["ck1%40example.com", "ck2%40example.com"] {
        let browser = sign_up(&app, email).await;
        let body = format!("text=Mine&client_key={key}&_csrf={}", browser.csrf);
        let added = app
            .raw(
                form("/tasks", Some(&browser.cookie))
                    .header("x-fragment", "1")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{email}");
    }
}
