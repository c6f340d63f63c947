//! `todo healthcheck`: one plain HTTP/1.1 request to the local `/health`, so a container image
//! needs neither curl nor a shell for its health check.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::HealthcheckArgs;

pub async fn check(args: &HealthcheckArgs) -> anyhow::Result<()> {
    // A server listening on every address is reached through loopback.
    let host = match args.host.as_str() {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" | "[::]" => "::1",
        other => other,
    };
    let request = async {
        let mut stream = TcpStream::connect((host, args.port))
            .await
            .with_context(|| format!("connecting to {host}:{}", args.port))?;
        let request = format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::new();
        stream.take(1024).read_to_end(&mut head).await?;
        Ok::<_, anyhow::Error>(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(args.timeout_secs), request)
        .await
        .context("no answer from /health in time")??;
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        bail!("/health answered {status_line:?}")
    }
}
