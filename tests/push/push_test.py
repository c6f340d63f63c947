"""Web Push of the real `todo` binary, received by a push service on loopback that plays the
browser's part with independent implementations: `cryptography` (P-256, ES256) and `http_ece`
(RFC 8291 aes128gcm).

Usage: push_test.py path/to/todo

Starts a push service on a free loopback port and `todo serve` (SQLite in a scratch folder,
WEBHOOK_ALLOW_PRIVATE_NETWORKS=true so an http endpoint on loopback is allowed), makes a browser
key pair and authentication secret, subscribes, and adds a task with a reminder due now. The
push service checks the request: `Authorization: vapid t=<JWT>, k=<key>` with the key the API
publishes, the token's ES256 signature, its audience (the service's origin), expiry (future,
at most 24 h) and subject; `Content-Encoding: aes128gcm`; the body decrypts to JSON naming the
task. It answers 410 to the next reminder, and the subscription is dropped. Also: the generated
key survives a restart, VAPID_PRIVATE_KEY is used when set, and a bad one refuses to start.
Prints `push: N passed, M failed` last and exits non-zero on any failure.
"""

import base64
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from todo_process import Todo  # noqa: E402

PASSWORD = "a fine password"
SENDER = "push-test@example.com"
results: list[tuple[str, str | None]] = []


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on loopback: records each request and answers the next status queued
    (201 when none is)."""

    def __init__(self):
        self.requests: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:
                    status = service.answers.get_nowait()
                except queue.Empty:
                    status = 201
                service.requests.put((self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # noqa: ANN002 - quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_request(self, timeout: float = 20.0):
        try:
            return self.requests.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no push within {timeout} s") from None

    def stop(self) -> None:
        self.server.shutdown()


class Browser:
    """What a browser keeps for a subscription: its P-256 key pair and auth secret."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )


def check(name: str, fn) -> None:
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
        results.append((name, traceback.format_exc()))
        print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)


def verify_vapid(authorization: str, public_key: str, audience: str) -> dict:
    """The claims of a `vapid t=…, k=…` header whose token verifies with `public_key`."""
    assert authorization.startswith("vapid "), authorization
    params = dict(
        part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(",")
    )
    assert params.get("k") == public_key, (params.get("k"), public_key)
    header_b64, claims_b64, signature_b64 = params["t"].split(".")
    header = json.loads(unb64url(header_b64))
    assert header["alg"] == "ES256", header
    signature = unb64url(signature_b64)
    assert len(signature) == 64, len(signature)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    # Raises InvalidSignature when it does not verify.
    key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience, (claims["aud"], audience)
    now = time.time()
    assert now < claims["exp"] <= now + 24 * 3600, (claims["exp"], now)
    assert claims.get("sub"), claims
    return claims


def signup(todo: Todo, address: str) -> str:
    status, _, raw = todo.http("POST", "/api/v1/auth/signup", {"email": address, "password": PASSWORD})
    assert status == 201, (status, raw)
    return json.loads(raw)["token"]


def public_key(todo: Todo, token: str) -> str:
    status, body = todo.api("GET", "/api/v1/push/vapid-public-key", token)
    assert status == 200, (status, body)
    return body["public_key"]


def remind_now(todo: Todo, token: str, title: str) -> int:
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    body = {"title": title, "reminders": [{"remind_at": now}]}
    status, task = todo.api("POST", "/api/v1/tasks", token, body)
    assert status == 201, (status, task)
    return task["id"]


def run(todo: Todo, service: PushService) -> None:
    token = signup(todo, "ada@example.com")
    browser = Browser()
    state: dict = {}

    def the_key_is_a_p256_point_and_survives_a_restart():
        key = public_key(todo, token)
        point = unb64url(key)
        assert len(point) == 65 and point[0] == 4, key
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        todo.stop()
        todo.start()
        assert public_key(todo, token) == key, "a new key after a restart"
        state["key"] = key

    def a_subscription_is_stored():
        body = {"endpoint": f"{service.origin}/push/ada", "keys": browser.keys()}
        status, created = todo.api("POST", "/api/v1/push/subscriptions", token, body)
        assert status == 201, (status, created)
        assert created["endpoint"] == body["endpoint"], created
        assert "keys" not in created, created
        status, listed = todo.api("GET", "/api/v1/push/subscriptions", token)
        assert status == 200 and [s["id"] for s in listed] == [created["id"]], listed

    def a_reminder_arrives_vapid_signed_and_encrypted_to_the_browser():
        task_id = remind_now(todo, token, "Water the ferns")
        path, headers, body, status = service.next_request()
        assert status == 201
        assert path == "/push/ada", path
        headers = {k.lower(): v for k, v in headers.items()}
        assert headers.get("content-encoding") == "aes128gcm", headers
        assert headers.get("content-type") == "application/octet-stream", headers
        assert int(headers.get("ttl", "0")) > 0, headers
        claims = verify_vapid(headers["authorization"], state["key"], service.origin)
        assert claims["sub"] == f"mailto:{SENDER}", claims
        payload = json.loads(browser.decrypt(body))
        assert payload["task_id"] == task_id, payload
        assert payload["title"] == "Water the ferns", payload
        assert isinstance(payload.get("body"), str) and payload["body"], payload

    def a_410_from_the_push_service_drops_the_subscription():
        service.answers.put(410)
        remind_now(todo, token, "Second")
        _, _, _, status = service.next_request()
        assert status == 410
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status, listed = todo.api("GET", "/api/v1/push/subscriptions", token)
            if status == 200 and listed == []:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"still subscribed: {listed}")
        time.sleep(1)
        assert service.requests.empty(), "the gone subscription was pushed to again"

    check("the generated VAPID key is a P-256 point and survives a restart", the_key_is_a_p256_point_and_survives_a_restart)
    check("a subscription is stored without echoing its keys", a_subscription_is_stored)
    check("a reminder arrives VAPID-signed and encrypted to the browser", a_reminder_arrives_vapid_signed_and_encrypted_to_the_browser)
    check("a 410 from the push service drops the subscription", a_410_from_the_push_service_drops_the_subscription)


def configured_key(binary: str) -> None:
    """VAPID_PRIVATE_KEY is the key the server publishes; a bad one refuses to start, named."""
    private = ec.generate_private_key(ec.SECP256R1())
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    expected = b64url(
        private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    with tempfile.TemporaryDirectory() as workdir:
        env = {"VAPID_PRIVATE_KEY": b64url(scalar), "PUBLIC_URL": "http://localhost:1"}
        todo = Todo(binary, workdir, env)
        todo.start()
        try:
            assert public_key(todo, signup(todo, "bob@example.com")) == expected
        finally:
            todo.stop()
    with tempfile.TemporaryDirectory() as workdir:
        todo = Todo(binary, workdir)
        out = subprocess.run(
            [binary, "serve", "--port", str(todo.port)],
            env=todo.env | {"VAPID_PRIVATE_KEY": "not-a-key"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0, "started with a bad VAPID_PRIVATE_KEY"
        assert "VAPID_PRIVATE_KEY" in out.stderr, out.stderr


def main() -> int:
    binary = sys.argv[1]
    service = PushService()
    with tempfile.TemporaryDirectory() as workdir:
        todo = Todo(
            binary,
            workdir,
            {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "MAIL_FROM": f"Todo <{SENDER}>"},
        )
        todo.start()
        try:
            run(todo, service)
        finally:
            todo.stop()
            service.stop()
    check("VAPID_PRIVATE_KEY is used and a bad one refuses to start", lambda: configured_key(binary))
    failed = [name for name, error in results if error]
    print(f"push: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
