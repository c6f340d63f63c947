//! The connection bounds of `serve`, against a real listener on 127.0.0.1: clients that send
//! headers slowly, connections left idle, and the cap on open connections.

use std::net::SocketAddr;
use std::time::Duration;

use todo_server::hardening::HttpSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::helpers::TestApp;

const REQUEST: &[u8] = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// Longest any test waits for something that should happen after a one-second limit.
const PATIENCE: Duration = Duration::from_secs(10);

struct Served {
    addr: SocketAddr,
    shutdown: CancellationToken,
    _app: TestApp,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve(configure: impl FnOnce(&mut HttpSettings)) -> Served {
    let app = TestApp::spawn().await;
    let mut http = HttpSettings::default();
    configure(&mut http);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let (router, token) = (app.router.clone(), shutdown.clone());
    tokio::spawn(async move {
        todo_server::serve(listener, router, &http, token, Duration::from_secs(1)).await
    });
    Served {
        addr,
        shutdown,
        _app: app,
    }
}

/// Reads one response (headers and a `Content-Length` body) off a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut chunk))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "closed before a whole response: {text:?}");
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Waits for the server to close the connection; what it sent before, if anything.
async fn closed_by_server(stream: &mut TcpStream) -> String {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await;
    match read {
        Ok(Ok(_)) => String::from_utf8_lossy(&rest).into_owned(),
        // A reset is a close too.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => String::new(),
        Ok(Err(e)) => panic!("read failed: {e}"),
        Err(_) => panic!("the server kept the connection open"),
    }
}

async fn connect(served: &Served) -> TcpStream {
    TcpStream::connect(served.addr).await.expect("connect")
}

/// Slowloris: a request line and one header, then nothing. Without a limit the connection
/// (and its file descriptor) was held for ever.
#[tokio::test]
async fn a_client_that_stops_sending_its_headers_is_disconnected() {
    let served = serve(|http| {
        http.header_read_timeout = Duration::from_secs(1);
        http.idle_timeout = Duration::from_secs(300);
    })
    .await;
    let mut stream = connect(&served).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    let sent = closed_by_server(&mut stream).await;
    assert!(
        sent.is_empty() || sent.starts_with("HTTP/1.1 408"),
        "{sent:?}"
    );
}

/// hyper ≥ 1.6 runs the header limit while a kept-alive connection waits for its next request.
#[tokio::test]
async fn a_kept_alive_connection_that_sends_no_next_request_is_closed() {
    let served = serve(|http| {
        http.header_read_timeout = Duration::from_secs(1);
        http.idle_timeout = Duration::from_secs(300);
    })
    .await;
    let mut stream = connect(&served).await;
    stream.write_all(REQUEST).await.expect("write");
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let after = closed_by_server(&mut stream).await;
    assert!(after.is_empty(), "{after:?}");
}

/// With no byte moving either way the idle limit closes any connection: one that never sends
/// a thing, and an HTTP/2 one (whose preface is all it sends).
#[tokio::test]
async fn a_connection_on_which_nothing_moves_is_closed_after_the_idle_limit() {
    let served = serve(|http| {
        http.header_read_timeout = Duration::from_secs(300);
        http.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut silent = connect(&served).await;
    closed_by_server(&mut silent).await;

    let mut http2 = connect(&served).await;
    http2
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("write");
    closed_by_server(&mut http2).await;
}

/// At the cap, a third connection is not served while two are held open, and is served as
/// soon as one of them closes.
#[tokio::test]
async fn at_the_connection_cap_the_next_client_waits_for_a_free_place() {
    let served = serve(|http| {
        http.max_connections = 2;
        http.header_read_timeout = Duration::from_secs(300);
        http.idle_timeout = Duration::from_secs(300);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&served).await;
        stream.write_all(REQUEST).await.expect("write");
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }

    // The kernel completes the handshake (the backlog), but nobody reads the request.
    let mut third = connect(&served).await;
    third.write_all(REQUEST).await.expect("write");
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte)).await;
    assert!(early.is_err(), "served beyond the cap");

    drop(held.pop());
    let response = read_response(&mut third).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // The one still held is still served too.
    let mut first = held.pop().expect("held");
    first.write_all(REQUEST).await.expect("write");
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
}
