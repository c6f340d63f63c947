"""The real `todo` binary as the Python client tests run it: one SQLite database in a scratch
folder, the binary's own commands, one server on a free loopback port. Standard library only,
so that each test's own virtualenv (MCP SDK, caldav, …) can import it.
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Todo:
    """The binary, one database, one running server; `env` adds or overrides configuration."""

    def __init__(self, binary: str, workdir: str, env: dict[str, str] | None = None):
        self.binary = binary
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": f"sqlite://{workdir}/todo.db?mode=rwc",
            "RUST_LOG": "warn",
            "RATE_LIMIT_ENABLED": "false",
        } | (env or {})
        self.server: subprocess.Popen | None = None

    def run(self, *args: str, **env: str) -> str:
        out = subprocess.run(
            [self.binary, *args], env=self.env | env, capture_output=True, text=True, timeout=60
        )
        if out.returncode != 0:
            raise RuntimeError(f"todo {' '.join(args)} failed: {out.stderr}")
        return out.stdout.strip()

    def start(self) -> None:
        self.server = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port)], env=self.env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError("the server did not answer /health within 30 s")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def http(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        """A JSON request; the status, headers and raw body whatever the status."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json, text/event-stream")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def api(self, method: str, path: str, key: str, body=None):
        """A REST call with a bearer key: the status and the parsed JSON body (or None)."""
        status, _, raw = self.http(method, path, body, {"Authorization": f"Bearer {key}"})
        return status, json.loads(raw) if raw else None
