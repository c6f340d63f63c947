//! `GET /metrics`: parsed as Prometheus text, named by the conventions, documented.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricFamily, MetricsExposition, PrometheusType, PrometheusValue};
use serde_json::json;
use todo_server::Settings;

use crate::helpers::{TestApp, auth_settings};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;
type Family = MetricFamily<PrometheusType, PrometheusValue>;

async fn scrape(app: &TestApp) -> Exposition {
    let response = app.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4"))
    );
    let text = response.body.as_str().expect("text body");
    parse_prometheus(text).expect("Prometheus text format")
}

fn family<'a>(exposition: &'a Exposition, name: &str) -> &'a Family {
    exposition
        .families
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

/// The values of `label` across a family's series.
fn label_values(family: &Family, label: &str) -> HashSet<String> {
    family
        .iter_samples()
        .filter_map(|s| Some(s.get_labelset().ok()?.get_label_value(label)?.to_owned()))
        .collect()
}

/// The sum of a counter family's series where `label` is `value`.
fn counted(family: &Family, label: &str, value: &str) -> f64 {
    family
        .iter_samples()
        .filter(|s| {
            s.get_labelset()
                .is_ok_and(|l| l.get_label_value(label) == Some(value))
        })
        .map(|s| match &s.value {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_cover_requests_database_auth_limits_business_and_process() {
    let mut settings = Settings::new(auth_settings());
    settings.rate_limit.auth_per_minute = 2;
    let app = TestApp::spawn_configured(settings).await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "count me").await;
    let done = app
        .send(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}/complete"),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    app.get("/api/v1/me", "not-a-token").await;
    for _ in 0..2 {
        app.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@example.com", "password": "wrong password"})),
        )
        .await;
    }

    let metrics = scrape(&app).await;
    for name in [
        "todo_http_requests_total",
        "todo_http_request_duration_seconds",
        "todo_http_requests_in_flight",
        "todo_db_pool_connections",
        "todo_db_pool_idle_connections",
        "todo_db_pool_max_connections",
        "todo_db_probe_duration_seconds",
        "todo_tasks_created_total",
        "todo_tasks_completed_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        family(&metrics, name);
    }
    let rejected = family(&metrics, "todo_rate_limit_rejections_total");
    assert!(counted(rejected, "policy", "auth") >= 1.0);
    let reasons = label_values(family(&metrics, "todo_auth_failures_total"), "reason");
    for reason in ["invalid_credential", "wrong_password"] {
        assert!(reasons.contains(reason), "{reasons:?}");
    }
    assert!(matches!(
        family(&metrics, "todo_http_request_duration_seconds").family_type,
        PrometheusType::Histogram
    ));
}

#[tokio::test]
async fn route_labels_are_templates_never_raw_paths() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.get("/api/v1/tasks/987654", &user.token).await;
    app.get(&format!("/api/{}/tasks/987654", user.id), &user.token)
        .await;
    app.get("/no/such/route/987654", &user.token).await;

    let metrics = scrape(&app).await;
    let routes = label_values(family(&metrics, "todo_http_requests_total"), "route");
    for expected in [
        "/api/v1/tasks/{id}",
        "/api/{user_id}/tasks/{id}",
        "unmatched",
    ] {
        assert!(routes.contains(expected), "{expected} not in {routes:?}");
    }
    assert!(
        routes
            .iter()
            .all(|r| !r.contains("987654") && !r.contains(&user.id)),
        "{routes:?}"
    );
    let latency = label_values(
        family(&metrics, "todo_http_request_duration_seconds"),
        "route",
    );
    assert!(latency.contains("/api/v1/tasks/{id}"), "{latency:?}");
}

/// Prometheus conventions: snake_case, a `todo_` or standard `process_` prefix, counters end in
/// `_total`, units in the name; and every name is explained in docs/operations.md.
#[tokio::test]
async fn metric_names_follow_prometheus_conventions_and_are_documented() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.task(&user, "one").await;
    let metrics = scrape(&app).await;
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .expect("docs/operations.md");

    for (name, family) in &metrics.families {
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name} is not snake_case"
        );
        assert!(
            name.starts_with("todo_") || name.starts_with("process_"),
            "{name} lacks the todo_ prefix"
        );
        let is_counter = matches!(family.family_type, PrometheusType::Counter);
        assert_eq!(
            name.ends_with("_total"),
            is_counter,
            "{name}: counters, and only counters, end in _total"
        );
        if matches!(family.family_type, PrometheusType::Histogram) {
            assert!(
                name.ends_with("_seconds"),
                "{name}: histograms here measure time"
            );
        }
        assert!(!family.help.is_empty(), "{name} has no HELP");
        assert!(
            docs.contains(&format!("`{name}`")),
            "{name} is not documented in docs/operations.md"
        );
    }
}
