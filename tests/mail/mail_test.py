"""Email of the real `todo` binary, received by a real SMTP server (aiosmtpd) on loopback.

Usage: mail_test.py path/to/todo

Starts an SMTP server on a free port and `todo serve` with SMTP_URL pointing at it, then: a
password reset email arrives with the right recipient, subject, plain-text and HTML parts and a
PUBLIC_URL link; the link's token sets a new password once (a second use is refused); every
session of the account has ended; an unknown address gets 202 and no email; an invitation to a
shared project arrives naming the project and who invited. Prints `mail: N passed, M failed`
last and exits non-zero on any failure.
"""

import email
import email.policy
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from todo_process import Todo, free_port  # noqa: E402

PASSWORD = "a fine password"
results: list[tuple[str, str | None]] = []


class Inbox:
    """Every message the SMTP server accepted, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 15.0) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if to in str(message["To"]):
                        self.messages.remove(message)
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} within {timeout} s")

    def none_for(self, to: str, wait: float) -> None:
        time.sleep(wait)
        with self.lock:
            assert not any(to in str(m["To"]) for m in self.messages), "an email was sent"


def check(name: str, fn) -> None:
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
        results.append((name, traceback.format_exc()))
        print(f"FAIL {name}\n{traceback.format_exc()}")


def main() -> int:
    binary = sys.argv[1]
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with tempfile.TemporaryDirectory() as workdir:
        todo = Todo(binary, workdir)
        public = f"http://localhost:{todo.port}"
        todo.env |= {
            "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "MAIL_FROM": "Todo <todo@example.com>",
            "PUBLIC_URL": public,
        }
        todo.start()
        try:
            run(todo, inbox, public)
        finally:
            todo.stop()
            controller.stop()
    with tempfile.TemporaryDirectory() as workdir:
        check("SMTP_URL without MAIL_FROM or PUBLIC_URL refuses to start", lambda: refuses(binary, workdir))
    failed = [name for name, error in results if error]
    print(f"mail: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def refuses(binary: str, workdir: str) -> None:
    """Mail misconfigured is a refusal to start that names the setting, not a silent no-op."""
    todo = Todo(binary, workdir)
    cases = [
        ({"SMTP_URL": "smtp://127.0.0.1:1", "PUBLIC_URL": "http://localhost:1"}, "MAIL_FROM"),
        ({"SMTP_URL": "smtp://127.0.0.1:1", "MAIL_FROM": "todo@example.com"}, "PUBLIC_URL"),
        (
            {"SMTP_URL": "imap://h", "MAIL_FROM": "todo@example.com", "PUBLIC_URL": "http://localhost:1"},
            "SMTP_URL",
        ),
    ]
    for env, named in cases:
        out = subprocess.run(
            [binary, "serve", "--port", str(todo.port)],
            env=todo.env | env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0, f"started with {env}"
        assert named in out.stderr, out.stderr


def signup(todo: Todo, address: str) -> str:
    status, _, raw = todo.http(
        "POST", "/api/v1/auth/signup", {"email": address, "password": PASSWORD}
    )
    assert status == 201, (status, raw)
    return json.loads(raw)["token"]


def login(todo: Todo, address: str, password: str) -> int:
    status, _, _ = todo.http(
        "POST", "/api/v1/auth/login", {"email": address, "password": password}
    )
    return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def form(todo: Todo, path: str, fields: dict[str, str]) -> tuple[int, dict, bytes]:
    """A form post as the browser makes it from the page, redirects not followed."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"{todo.base}{path}", data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("Origin", todo.base)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def run(todo: Todo, inbox: Inbox, public: str) -> None:
    ada = "ada@example.com"
    first = signup(todo, ada)
    status, _, _ = todo.http("POST", "/api/v1/auth/login", {"email": ada, "password": PASSWORD})
    assert status == 200
    state: dict = {}

    def reset_email_arrives():
        status, _, _ = todo.http("POST", "/api/v1/auth/password-reset", {"email": ada})
        assert status == 202, status
        message = inbox.wait_for(ada)
        assert message["To"] == ada, message["To"]
        assert "todo@example.com" in str(message["From"])
        assert message["Subject"] == "Reset your password", message["Subject"]
        assert message.is_multipart()
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        found = re.search(re.escape(public) + r"/reset\?token=([A-Za-z0-9_-]+)", text)
        assert found, text
        assert f'href="{found.group(0)}"' in html, html
        state["token"] = found.group(1)

    def the_link_sets_a_new_password_once_and_ends_every_session():
        body = {"token": state["token"], "new_password": "another fine password"}
        status, _, raw = todo.http("POST", "/api/v1/auth/password-reset/confirm", body)
        assert status == 204, (status, raw)
        status, _, _ = todo.http("GET", "/api/v1/me", headers={"Authorization": f"Bearer {first}"})
        assert status == 401, f"an old session still works: {status}"
        assert login(todo, ada, "another fine password") == 200
        assert login(todo, ada, PASSWORD) == 401
        body = {"token": state["token"], "new_password": "a third fine password"}
        status, headers, raw = todo.http("POST", "/api/v1/auth/password-reset/confirm", body)
        assert status == 422, (status, raw)
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        assert content_type.startswith("application/problem+json"), content_type

    def an_unknown_address_gets_202_and_no_email():
        status, _, _ = todo.http(
            "POST", "/api/v1/auth/password-reset", {"email": "nobody@example.com"}
        )
        assert status == 202, status
        inbox.none_for("nobody@example.com", 2.0)

    def an_invitation_email_arrives():
        token = todo.http(
            "POST", "/api/v1/auth/login", {"email": ada, "password": "another fine password"}
        )
        token = json.loads(token[2])["token"]
        status, project = todo.api("POST", "/api/v1/projects", token, {"name": "Garden"})
        assert status == 201, (status, project)
        status, body = todo.api(
            "POST",
            f"/api/v1/projects/{project['id']}/invitations",
            token,
            {"email": "bob@example.com", "role": "editor"},
        )
        assert status == 201, (status, body)
        message = inbox.wait_for("bob@example.com")
        assert message["Subject"] == f'{ada} invited you to "Garden"', message["Subject"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert f"{public}/signup" in text, text
        assert "Garden" in text and "editor" in text, text

    def the_web_pages_reset_a_password():
        status, _, page = todo.http("GET", "/login")
        assert status == 200 and b'href="/forgot-password"' in page, page
        status, _, page = form(todo, "/forgot-password", {"email": ada})
        assert status == 200 and b"Check your email" in page, (status, page)
        message = inbox.wait_for(ada)
        text = message.get_body(preferencelist=("plain",)).get_content()
        link = re.search(re.escape(public) + r"(/reset\?token=([A-Za-z0-9_-]+))", text)
        assert link, text
        status, _, page = todo.http("GET", link.group(1))
        assert status == 200 and b'name="new_password"' in page, page
        fields = {"token": link.group(2), "new_password": "a web fine password"}
        status, headers, _ = form(todo, "/reset", fields)
        location = {k.lower(): v for k, v in headers.items()}.get("location")
        assert status == 303 and location == "/login?reset=1", (status, headers)
        status, _, page = todo.http("GET", "/login?reset=1")
        assert b"Your password was changed" in page, page
        assert login(todo, ada, "a web fine password") == 200
        status, _, page = form(todo, "/reset", fields)
        assert status == 422 and b"ask for a new one" in page, (status, page)

    check("a reset email arrives with its link", reset_email_arrives)
    check(
        "the link sets a new password once and ends every session",
        the_link_sets_a_new_password_once_and_ends_every_session,
    )
    check("an unknown address gets 202 and no email", an_unknown_address_gets_202_and_no_email)
    check("an invitation email arrives", an_invitation_email_arrives)
    check("the web pages reset a password", the_web_pages_reset_a_password)


if __name__ == "__main__":
    sys.exit(main())
