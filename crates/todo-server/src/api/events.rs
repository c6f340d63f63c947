//! `GET /events`: the caller's events as Server-Sent Events, from whichever replica wrote
//! them. The stream reads the events table by id; wake-ups only say when to read again, so a
//! client that reconnects with `Last-Event-ID` misses nothing the retention period kept.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use todo_core::Todo;
use todo_core::error::Error;
use todo_core::events::{Event, EventId, Signal};
use todo_core::ids::UserId;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::Query;

/// How often an idle stream sends a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest wait between reads of the table when no wake-up comes (one might have been lost).
const RESCAN: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Start after this event id, like the `Last-Event-ID` header (which wins when both are
    /// given). Without either, the stream starts with the next event.
    pub last_event_id: Option<EventId>,
}

/// The caller's task changes and reminders as they happen (Server-Sent Events).
///
/// Each message's `id` is the event id and its `data` the event as JSON. Reconnect with
/// `Last-Event-ID` to receive what was missed. A comment line is sent every 15 s.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "streamEvents",
    tag = "events",
    security(("bearer" = [])),
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id"),
    ),
    responses(
        (status = 200, description = "A stream of events, one `data:` line each", content_type = "text/event-stream", body = Event,
            description = "A stream of `id: <event id>` / `data: <event JSON>` messages"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    Auth(principal): Auth,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let from_header = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<EventId>().ok())
                .filter(|id| *id >= 0)
                .ok_or_else(|| Error::invalid("Last-Event-ID", "must be an event id"))?,
        ),
        None => None,
    };
    // The header wins; a query value it overrides is not judged.
    if from_header.is_none() && query.last_event_id.is_some_and(|id| id < 0) {
        return Err(Error::invalid("last_event_id", "must be an event id").into());
    }
    // Subscribe before reading, so nothing committed in between goes unnoticed.
    let signals = state.todo.signals();
    let user_id = principal.user_id;
    let last = match from_header.or(query.last_event_id) {
        Some(id) => id,
        None => state.todo.last_event_id(&user_id).await?,
    };
    let reader = Reader {
        todo: state.todo.clone(),
        user_id,
        last,
        pending: VecDeque::new(),
        signals,
        shutdown: state.shutdown.clone(),
    };
    let stream = futures_util::stream::unfold(reader, |mut reader| async move {
        let event = reader.next().await?;
        let message = SseEvent::default()
            .id(event.id.to_string())
            .data(serde_json::to_string(&event).unwrap_or_default());
        Some((Ok(message), reader))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct Reader {
    todo: Todo,
    user_id: UserId,
    last: EventId,
    pending: VecDeque<Event>,
    signals: broadcast::Receiver<Signal>,
    shutdown: CancellationToken,
}

impl Reader {
    /// The next event, waiting for it; `None` ends the stream (the server is shutting down).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last = event.id;
                return Some(event);
            }
            match self.todo.events_after(&self.user_id, self.last).await {
                Ok(events) if !events.is_empty() => {
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading events failed"),
            }
            tokio::select! {
                () = self.shutdown.cancelled() => return None,
                () = tokio::time::sleep(RESCAN) => {}
                () = wake_for(&mut self.signals, &self.user_id) => {}
            }
        }
    }
}

/// Returns when the user may have new events.
async fn wake_for(signals: &mut broadcast::Receiver<Signal>, user_id: &UserId) {
    loop {
        match signals.recv().await {
            Ok(Signal::Events { user_id: who }) if &who == user_id => return,
            Ok(Signal::Resync) | Err(RecvError::Lagged(_)) => return,
            Ok(_) => {}
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}
