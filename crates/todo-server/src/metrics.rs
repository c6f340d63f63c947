//! Prometheus metrics: the process-global recorder, the names we publish, the per-request
//! middleware, and `GET /metrics`. Every name is listed in `docs/operations.md`.

mod process;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

pub const HTTP_REQUESTS: &str = "todo_http_requests_total";
pub const HTTP_DURATION: &str = "todo_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "todo_http_requests_in_flight";
pub const DB_POOL_CONNECTIONS: &str = "todo_db_pool_connections";
pub const DB_POOL_IDLE: &str = "todo_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "todo_db_pool_max_connections";
pub const DB_PROBE: &str = "todo_db_probe_duration_seconds";
pub const RATE_LIMITED: &str = "todo_rate_limit_rejections_total";
pub const RATE_LIMIT_ERRORS: &str = "todo_rate_limit_backend_errors_total";
pub const AUTH_FAILURES: &str = "todo_auth_failures_total";

/// The route label of requests that matched no route: raw paths never become labels.
const UNMATCHED: &str = "unmatched";

/// Seconds; from a fast cached read to a request that hits the timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The recorder is process-global: the first call installs it, later calls (other apps in
/// the same test process) share it. `None` when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder);
    let handle = match recorder {
        Ok(handle) => handle,
        Err(e) => {
            tracing::error!(error = %e, "metrics recorder not installed; /metrics is disabled");
            return None;
        }
    };
    describe();
    // Without the exporter's HTTP listener nobody else drains histograms (crate docs).
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep thread not started");
    }
    Some(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from request to response head, by route template, method and status"
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being handled now");
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open database connections (idle and in use)"
    );
    describe_gauge!(DB_POOL_IDLE, "Open database connections not in use");
    describe_gauge!(DB_POOL_MAX, "The database pool's connection limit");
    describe_gauge!(
        DB_PROBE,
        Unit::Seconds,
        "Time to get a pooled connection and run a trivial query, measured at scrape; it grows \
         when requests wait for connections"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests answered 429 by a rate limit, by policy"
    );
    describe_counter!(
        RATE_LIMIT_ERRORS,
        "Rate-limit checks that could not reach Redis (answered by the fail mode)"
    );
    describe_counter!(
        AUTH_FAILURES,
        "Requests refused for their credential, by reason"
    );
    describe_counter!(
        todo_core::metrics::TASKS_CREATED,
        "Tasks created, by any interface"
    );
    describe_counter!(
        todo_core::metrics::TASKS_COMPLETED,
        "Tasks marked completed, by any interface"
    );
    describe_counter!(
        todo_core::metrics::CHAT_TURNS,
        "Chat turns that ended, by outcome"
    );
    describe_counter!(
        todo_core::metrics::CHAT_TOOL_CALLS,
        "Tools the chat agent ran, by tool and outcome"
    );
    describe_counter!(
        crate::jobs::REMINDERS_FIRED,
        "Reminders fired (each once, across replicas)"
    );
    describe_counter!(
        crate::jobs::WEBHOOK_DELIVERIES,
        "Webhook delivery attempts, by outcome"
    );
    describe_counter!(crate::jobs::EMAILS_SENT, "Email send attempts, by outcome");
}

/// Counts a refused credential. `reason` is one of a fixed set (see `docs/operations.md`).
pub fn auth_failure(reason: &'static str) {
    metrics::counter!(AUTH_FAILURES, "reason" => reason).increment(1);
}

/// Counts, times and tracks in-flight requests, labelled by route template.
pub async fn track(request: Request, next: Next) -> Response {
    let route = route_label(&request);
    let method = request.method().as_str().to_owned();
    let in_flight = metrics::gauge!(HTTP_IN_FLIGHT);
    in_flight.increment(1.0);
    let _done = DecrementOnDrop(in_flight);
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_str().to_owned()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed());
    response
}

/// Keeps the in-flight gauge right when a request is abandoned (client gone, shutdown).
struct DecrementOnDrop(metrics::Gauge);

impl Drop for DecrementOnDrop {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

pub fn route_label(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned())
}

/// Prometheus text format, version 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getMetrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return crate::error::ApiError::internal(&"the metrics recorder is not installed")
            .into_response();
    };
    let pool = state.todo.pool_stats();
    metrics::gauge!(DB_POOL_CONNECTIONS).set(pool.size);
    metrics::gauge!(DB_POOL_IDLE).set(pool.idle);
    metrics::gauge!(DB_POOL_MAX).set(pool.max);
    let started = Instant::now();
    if state.todo.ping().await.is_ok() {
        metrics::gauge!(DB_PROBE).set(started.elapsed());
    }
    let mut body = handle.render();
    process::render(&mut body);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
