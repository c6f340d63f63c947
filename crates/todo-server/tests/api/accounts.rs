use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn signup_returns_the_user_and_a_working_token() {
    let app = TestApp::spawn().await;
    let body = json!({"email": " Ada@Example.COM ", "password": "correct horse", "name": "Ada"});
    let response = app
        .send(Method::POST, "/api/v1/auth/signup", None, Some(body))
        .await;

    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.body["user"]["email"], "ada@example.com");
    assert_eq!(response.body["user"]["name"], "Ada");
    assert_eq!(response.body["user"]["timezone"], "UTC");
    assert!(response.body["user"].get("password_hash").is_none());
    assert!(response.body["expires_at"].is_string());
    let token = response.body["token"].as_str().expect("token");
    let me = app.get("/api/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], response.body["user"]["id"]);
}

#[tokio::test]
async fn an_email_can_register_once_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.signup("grace@example.com").await;
    let again = json!({"email": "GRACE@example.com", "password": "another password"});
    let response = app
        .send(Method::POST, "/api/v1/auth/signup", None, Some(again))
        .await;
    response.problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn signup_reports_every_invalid_field() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "not-an-email", "password": "short", "name": "x".repeat(101)});
    let response = app
        .send(Method::POST, "/api/v1/auth/signup", None, Some(body))
        .await;
    assert_eq!(response.invalid_fields(), ["email", "password", "name"]);
}

#[tokio::test]
async fn login_accepts_the_right_password_only() {
    let app = TestApp::spawn().await;
    let user = app.signup("linus@example.com").await;

    let ok = json!({"email": "LINUS@example.com", "password": "correct horse battery"});
    let response = app
        .send(Method::POST, "/api/v1/auth/login", None, Some(ok))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["user"]["id"], user.id.as_str());
    assert_ne!(
        response.body["token"],
        user.token.as_str(),
        "each login is a new session"
    );

    for (email, password) in [
        ("linus@example.com", "wrong password"),
        ("nobody@example.com", "correct horse battery"),
    ] {
        let body = json!({"email": email, "password": password});
        let response = app
            .send(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await;
        let problem = response.problem(StatusCode::UNAUTHORIZED);
        assert_eq!(
            problem["detail"], "wrong email or password",
            "the same answer for both"
        );
    }
}

#[tokio::test]
async fn logout_ends_that_session_only() {
    let app = TestApp::spawn().await;
    let user = app.signup("ken@example.com").await;
    let login = json!({"email": "ken@example.com", "password": "correct horse battery"});
    let second = app
        .send(Method::POST, "/api/v1/auth/login", None, Some(login))
        .await;
    let second_token = second.body["token"].as_str().expect("token");

    let response = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&user.token), None)
        .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);

    app.get("/api/v1/me", &user.token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/me", second_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_replica_stops_accepting_a_logged_out_token_within_its_credential_memory() {
    let app = TestApp::spawn().await;
    let ttl = std::time::Duration::from_millis(300);
    let other = app.replica_with_own_credential_memory(ttl);
    let user = app.signup("ken@example.com").await;
    assert_eq!(
        other.get("/api/v1/me", &user.token).await.status,
        StatusCode::OK
    );

    let response = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&user.token), None)
        .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", &user.token)
        .await
        .problem(StatusCode::UNAUTHORIZED);

    tokio::time::sleep(ttl + std::time::Duration::from_millis(50)).await;
    other
        .get("/api/v1/me", &user.token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_profile_changes_name_and_time_zone() {
    let app = TestApp::spawn().await;
    let user = app.signup("barbara@example.com").await;

    let response = app
        .patch(
            "/api/v1/me",
            &user.token,
            json!({"name": "Barbara", "timezone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        (
            response.body["name"].as_str(),
            response.body["timezone"].as_str()
        ),
        (Some("Barbara"), Some("Europe/Paris"))
    );

    let response = app
        .patch("/api/v1/me", &user.token, json!({"name": null}))
        .await;
    assert_eq!(response.body["name"], serde_json::Value::Null);
    assert_eq!(response.body["timezone"], "Europe/Paris");

    let response = app
        .patch(
            "/api/v1/me",
            &user.token,
            json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["timezone"]);
}

#[tokio::test]
async fn a_forged_or_tampered_token_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("eve@example.com").await;
    let mut tampered = user.token.clone();
    tampered.pop();
    tampered.push('x');
    for token in [tampered.as_str(), "not.a.jwt", "todo_notakey"] {
        let response = app.get("/api/v1/me", token).await;
        response.problem(StatusCode::UNAUTHORIZED);
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> crate::helpers::TestResponse {
    let body = json!({"email": email, "password": password});
    app.send(Method::POST, "/api/v1/auth/login", None, Some(body))
        .await
}

#[tokio::test]
async fn a_password_change_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let here = app.signup("ada@example.com").await;
    let phone = login(&app, "ada@example.com", "correct horse battery").await;
    let phone = phone.body["token"].as_str().expect("token").to_owned();

    let sessions = app.get("/api/v1/sessions", &here.token).await;
    assert_eq!(sessions.status, StatusCode::OK, "{}", sessions.body);
    let listed = sessions.body.as_array().expect("sessions");
    assert_eq!(listed.len(), 2, "{}", sessions.body);
    assert_eq!(
        listed.iter().filter(|s| s["current"] == true).count(),
        1,
        "this request's session is marked: {}",
        sessions.body
    );

    let wrong = json!({"current_password": "not it at all", "new_password": "a new secret"});
    let refused = app.post("/api/v1/me/password", &here.token, wrong).await;
    assert_eq!(refused.invalid_fields(), ["current_password"]);
    let short = json!({"current_password": "correct horse battery", "new_password": "short"});
    let refused = app.post("/api/v1/me/password", &here.token, short).await;
    assert_eq!(refused.invalid_fields(), ["new_password"]);
    assert_eq!(
        app.get("/api/v1/me", &phone).await.status,
        StatusCode::OK,
        "a refused change ends nothing"
    );

    let change =
        json!({"current_password": "correct horse battery", "new_password": "a new secret"});
    let changed = app.post("/api/v1/me/password", &here.token, change).await;

    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    assert_eq!(
        app.get("/api/v1/me", &here.token).await.status,
        StatusCode::OK
    );
    app.get("/api/v1/me", &phone)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    login(&app, "ada@example.com", "correct horse battery")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&app, "ada@example.com", "a new secret").await.status,
        StatusCode::OK
    );
    let left = app.get("/api/v1/sessions", &here.token).await;
    assert_eq!(
        left.body.as_array().expect("sessions").len(),
        2,
        "this one and the new login"
    );
}

#[tokio::test]
async fn a_session_is_ended_by_its_owner_only() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let laptop = login(&app, "ada@example.com", "correct horse battery").await;
    let laptop = laptop.body["token"].as_str().expect("token").to_owned();
    let sessions = app.get("/api/v1/sessions", &ada.token).await;
    let other = sessions
        .body
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("the laptop's session")
        .to_owned();

    app.delete(&format!("/api/v1/sessions/{other}"), &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/me", &laptop).await.status, StatusCode::OK);
    let ended = app
        .delete(&format!("/api/v1/sessions/{other}"), &ada.token)
        .await;

    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    app.get("/api/v1/me", &laptop)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.delete(&format!("/api/v1/sessions/{other}"), &ada.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get("/api/v1/sessions", "not-a-token")
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_the_account_takes_its_password_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    app.task(&ada, "Water the plants").await;

    let wrong = app
        .send(
            Method::DELETE,
            "/api/v1/me",
            Some(&ada.token),
            Some(json!({"password": "guess"})),
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["password"]);
    app.send(
        Method::DELETE,
        "/api/v1/me",
        None,
        Some(json!({"password": "guess"})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    let deleted = app
        .send(
            Method::DELETE,
            "/api/v1/me",
            Some(&ada.token),
            Some(json!({"password": "correct horse battery"})),
        )
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    app.get("/api/v1/me", &ada.token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    login(&app, "ada@example.com", "correct horse battery")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let again = app.signup("ada@example.com").await;
    assert_eq!(
        app.get("/api/v1/tasks", &again.token)
            .await
            .header("x-total-count"),
        Some("0"),
        "a new account with the same email starts empty"
    );
}
