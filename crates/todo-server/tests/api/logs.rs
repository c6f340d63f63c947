//! The request log: one structured line per request, with what an operator needs and no
//! secret.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::TestApp;

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

impl Captured {
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// Every log line of this test process, as `LOG_FORMAT=json` writes them. Global: a
/// thread-local subscriber misses events when tests run in parallel (tokio-rs/tracing#2874).
pub fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        captured
    })
}

#[tokio::test]
async fn every_request_is_logged_once_with_id_route_status_latency_and_user_but_no_secret() {
    let captured = captured();
    let app = TestApp::spawn().await;
    let password = "correct horse battery";
    let user = app.signup("ada@example.com").await;
    let request = Request::builder()
        .uri("/api/v1/tasks/424242?token=query-secret")
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header("x-request-id", "log-test-1")
        .body(Body::empty())
        .expect("request");
    app.raw(request).await;

    let text = captured.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let ours: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["request_id"] == "log-test-1")
        .collect();
    assert_eq!(ours.len(), 1, "one line per request: {text}");
    let fields = &ours[0]["fields"];
    assert_eq!(fields["message"], "request");
    assert_eq!(fields["route"], "/api/v1/tasks/{id}");
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["status"], json!(404));
    assert_eq!(fields["user_id"], user.id.as_str());
    assert!(fields["latency_ms"].is_f64());
    for secret in [user.token.as_str(), "query-secret", password] {
        assert!(!text.contains(secret), "{secret:?} was logged: {text}");
    }
    // The path's id only in our line: the capture is the whole process's, where another
    // test's latency can read 0.424242.
    let ours = ours[0].to_string();
    assert!(!ours.contains("424242"), "the raw path was logged: {ours}");
}
