"""Email of the real `todo` binary, received by a real SMTP server (aiosmtpd) on loopback.

Usage: mail_test.py path/to/todo

Starts an SMTP server on a free port and `todo serve` with SMTP_URL pointing at it, then: a
confirmation email arrives at sign-up with its PUBLIC_URL/verify-email link; a password reset
email arrives with the right recipient, subject, plain-text and HTML parts and a PUBLIC_URL
link (and no List-Unsubscribe); the link's token sets a new password once (a second use is
refused); every session of the account has ended; an unknown address gets 202 and no email; an
invitation to a shared project arrives naming the project and who invited, with a one-click
List-Unsubscribe that stops invitation emails to that address; the invitee signs up, is refused
accepting (403 email-unverified) until the confirmation link's button confirms the address,
then accepts; a reminder email arrives with the task's title and link and List-Unsubscribe +
List-Unsubscribe-Post, and a one-click POST to it turns the email channel off (the next
reminder sends none); a digest arrives at the chosen hour with today's and overdue tasks, once
a day, and none when there is nothing to say. Then two `todo serve` processes on one PostgreSQL
database (a fresh schema at TODO_TEST_POSTGRES_URL) send each of a handful of reminders exactly
once (skipped with a message when PostgreSQL is unreachable, unless CI=true). Prints `mail: N
passed, M failed` last and exits non-zero on any failure.
"""

import datetime
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
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

    def take_all(self, to: str) -> list[email.message.EmailMessage]:
        """Every message to `to` received so far, removed from the inbox."""
        with self.lock:
            taken = [m for m in self.messages if to in str(m["To"])]
            self.messages = [m for m in self.messages if m not in taken]
        return taken


def check(name: str, fn) -> None:
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
        results.append((name, traceback.format_exc()))
        print(f"FAIL {name}\n{traceback.format_exc()}")


def main() -> int:
    global INBOX
    binary = sys.argv[1]
    inbox = Inbox()
    INBOX = inbox
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
    with tempfile.TemporaryDirectory() as workdir:
        check("SMTP_URL without MAIL_FROM or PUBLIC_URL refuses to start", lambda: refuses(binary, workdir))
    two_replicas(binary, smtp_port, inbox)
    controller.stop()
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


# The inbox every server here sends to (set by main), and the confirmation message each
# sign-up was sent, by address.
INBOX: "Inbox | None" = None
CONFIRMATIONS: dict[str, email.message.EmailMessage] = {}


def signup(todo: Todo, address: str) -> str:
    """Signs up; the "Confirm your email address" message it sends is taken out of the inbox
    (into CONFIRMATIONS), so that the next message to the address is what a check expects."""
    status, _, raw = todo.http(
        "POST", "/api/v1/auth/signup", {"email": address, "password": PASSWORD}
    )
    assert status == 201, (status, raw)
    assert INBOX is not None
    message = INBOX.wait_for(address)
    assert message["Subject"] == "Confirm your email address", message["Subject"]
    CONFIRMATIONS[address] = message
    return json.loads(raw)["token"]


def confirmation_link(address: str, public: str) -> re.Match:
    """The link of the confirmation message `address` was sent: group 1 the path, 2 the token."""
    message = CONFIRMATIONS[address]
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(re.escape(public) + r"(/verify-email\?token=([A-Za-z0-9_-]+))", text)
    assert found, text
    return found


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

    def a_confirmation_email_arrives_at_sign_up_with_its_link():
        message = CONFIRMATIONS[ada]
        assert message["To"] == ada, message["To"]
        assert "todo@example.com" in str(message["From"])
        assert message["List-Unsubscribe"] is None, "a confirmation is not something to unsubscribe from"
        assert message.is_multipart()
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        link = confirmation_link(ada, public)
        assert f'href="{link.group(0)}"' in html, html
        assert "within 7 days" in text, text
        status, me = todo.api("GET", "/api/v1/me", first)
        assert status == 200 and me["email_verified"] is False, (status, me)

    def reset_email_arrives():
        status, _, _ = todo.http("POST", "/api/v1/auth/password-reset", {"email": ada})
        assert status == 202, status
        message = inbox.wait_for(ada)
        assert message["To"] == ada, message["To"]
        assert "todo@example.com" in str(message["From"])
        assert message["Subject"] == "Reset your password", message["Subject"]
        assert message["List-Unsubscribe"] is None, "a reset is not something to unsubscribe from"
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
        url = unsubscribe_url(message, public)
        assert unsubscribe_url_in_text(url, text), text
        status, _, page = one_click(todo, public, url)
        assert status == 200 and b"invitation emails to bob@example.com are off" in page, (status, page)
        status, shed = todo.api("POST", "/api/v1/projects", token, {"name": "Shed"})
        assert status == 201, (status, shed)
        status, body = todo.api(
            "POST",
            f"/api/v1/projects/{shed['id']}/invitations",
            token,
            {"email": "bob@example.com", "role": "viewer"},
        )
        assert status == 201, (status, body)
        inbox.none_for("bob@example.com", 2.0)

    def an_invitation_is_accepted_once_the_address_is_confirmed():
        bob = "bob@example.com"
        bob_token = signup(todo, bob)
        status, waiting = todo.api("GET", "/api/v1/invitations", bob_token)
        assert status == 200 and len(waiting) == 2, (status, waiting)
        garden = next(i for i in waiting if i["project_name"] == "Garden")
        accept = f"/api/v1/invitations/{garden['id']}/accept"
        status, problem = todo.api("POST", accept, bob_token)
        assert status == 403, (status, problem)
        assert problem["type"] == "urn:todo:problem:email-unverified", problem
        assert f"we sent a link to {bob}" in problem["detail"], problem
        link = confirmation_link(bob, public)
        # Opening the link (as a mail scanner would) confirms nothing; its button does.
        status, _, page = todo.http("GET", link.group(1))
        assert status == 200 and b'action="/verify-email"' in page, (status, page)
        status, me = todo.api("GET", "/api/v1/me", bob_token)
        assert me["email_verified"] is False, me
        status, _, page = form(todo, "/verify-email", {"token": link.group(2)})
        assert status == 200 and b"Email address confirmed" in page, (status, page)
        status, me = todo.api("GET", "/api/v1/me", bob_token)
        assert me["email_verified"] is True, me
        status, project = todo.api("POST", accept, bob_token)
        assert status == 200 and project["name"] == "Garden", (status, project)
        status, _, page = form(todo, "/verify-email", {"token": link.group(2)})
        assert status == 422, (status, page)

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

    check(
        "a confirmation email arrives at sign-up with its link",
        a_confirmation_email_arrives_at_sign_up_with_its_link,
    )
    check("a reset email arrives with its link", reset_email_arrives)
    check(
        "the link sets a new password once and ends every session",
        the_link_sets_a_new_password_once_and_ends_every_session,
    )
    check("an unknown address gets 202 and no email", an_unknown_address_gets_202_and_no_email)
    check("an invitation email arrives", an_invitation_email_arrives)
    check(
        "an invitation is accepted once the address is confirmed (the emailed link's button)",
        an_invitation_is_accepted_once_the_address_is_confirmed,
    )
    check("the web pages reset a password", the_web_pages_reset_a_password)
    reminders_and_digests(todo, inbox, public)


def unsubscribe_url(message: email.message.EmailMessage, public: str) -> str:
    """The one-click link of a message's List-Unsubscribe (RFC 2369 + RFC 8058)."""
    header = message["List-Unsubscribe"]
    assert header is not None, "no List-Unsubscribe"
    found = re.fullmatch(r"<(" + re.escape(public) + r"/unsubscribe\?token=[A-Za-z0-9_.-]+)>", str(header))
    assert found, header
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click", message["List-Unsubscribe-Post"]
    return found.group(1)


def unsubscribe_url_in_text(url: str, text: str) -> bool:
    return url in text


def one_click(todo: Todo, public: str, url: str) -> tuple[int, dict, bytes]:
    """The POST a mail program makes for one click (RFC 8058): no cookie, no Origin, no CSRF."""
    path = url.removeprefix(public)
    request = urllib.request.Request(
        f"{todo.base}{path}", data=b"List-Unsubscribe=One-Click", method="POST"
    )
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def soon(seconds: float = 1.5) -> str:
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds")


def reminded_task(todo: Todo, token: str, title: str, seconds: float = 1.5) -> int:
    status, task = todo.api(
        "POST", "/api/v1/tasks", token, {"title": title, "reminders": [{"remind_at": soon(seconds)}]}
    )
    assert status == 201, (status, task)
    return task["id"]


def wait_until_fired(todo: Todo, token: str, task_id: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, task = todo.api("GET", f"/api/v1/tasks/{task_id}", token)
        assert status == 200, (status, task)
        if all(r["sent_at"] for r in task["reminders"]):
            return
        time.sleep(0.2)
    raise AssertionError(f"the reminder of task {task_id} did not fire within {timeout} s")


def this_hour_for_a_while() -> datetime.datetime:
    """Now in UTC, past the last minute of an hour: a digest set to this hour goes now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.minute == 59:
        time.sleep(61 - now.second)
        now = datetime.datetime.now(datetime.timezone.utc)
    return now


def reminders_and_digests(todo: Todo, inbox: Inbox, public: str) -> None:
    cleo = "cleo@example.com"
    cleo_token = signup(todo, cleo)
    state: dict = {}

    def a_reminder_email_arrives_with_its_link_and_unsubscribe_headers():
        task_id = reminded_task(todo, cleo_token, "Water the <ferns>")
        message = inbox.wait_for(cleo)
        assert message["To"] == cleo, message["To"]
        assert "todo@example.com" in str(message["From"])
        assert message["Subject"] == "Reminder: Water the <ferns>", message["Subject"]
        assert message.is_multipart()
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        link = f"{public}/tasks/{task_id}/edit"
        assert link in text, text
        assert f'href="{link}"' in html, html
        assert "Water the &lt;ferns&gt;" in html, html
        state["url"] = unsubscribe_url(message, public)
        assert state["url"] in text, text

    def a_one_click_post_turns_the_email_channel_off():
        status, _, page = one_click(todo, public, state["url"])
        assert status == 200 and b"reminder emails are off" in page, (status, page)
        status, settings = todo.api("GET", "/api/v1/me/notifications", cleo_token)
        assert status == 200, (status, settings)
        assert settings["email"] is False and settings["in_app"] is True, settings
        assert settings["email_available"] is True, settings
        task_id = reminded_task(todo, cleo_token, "Water the roses")
        wait_until_fired(todo, cleo_token, task_id)
        inbox.none_for(cleo, 2.0)

    dan = "dan@example.com"
    dan_token = signup(todo, dan)

    def a_digest_arrives_at_the_chosen_hour_with_todays_and_overdue_tasks():
        now = this_hour_for_a_while()
        status, _ = todo.api("PATCH", "/api/v1/me", dan_token, {"timezone": "UTC"})
        assert status == 200, status
        today = now.date()
        days = {
            "Pay the rent": today - datetime.timedelta(days=1),
            "Buy bread": today,
            "Plan the trip": today + datetime.timedelta(days=1),
        }
        ids = {}
        for title, day in days.items():
            status, task = todo.api(
                "POST", "/api/v1/tasks", dan_token, {"title": title, "due_date": day.isoformat()}
            )
            assert status == 201, (status, task)
            ids[title] = task["id"]
        status, settings = todo.api(
            "PUT", "/api/v1/me/notifications", dan_token, {"digest_hour": now.hour}
        )
        assert status == 200 and settings["digest_hour"] == now.hour, (status, settings)
        message = inbox.wait_for(dan, timeout=20.0)
        assert message["To"] == dan, message["To"]
        assert message["Subject"] == "Today: 2 tasks, 1 overdue", message["Subject"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "Pay the rent (overdue" in text and "Buy bread" in text, text
        assert "Plan the trip" not in text, text
        for title in ("Pay the rent", "Buy bread"):
            link = f"{public}/tasks/{ids[title]}/edit"
            assert link in text and f'href="{link}"' in html, (link, text)
        assert f"{public}/?view=today" in text, text
        url = unsubscribe_url(message, public)
        assert url != state.get("url"), "the digest's link turns the digest off, not reminders"
        state["digest_url"] = url
        # Once a day: setting the hour again does not send it again.
        status, _ = todo.api("PUT", "/api/v1/me/notifications", dan_token, {"digest_hour": now.hour})
        assert status == 200, status
        inbox.none_for(dan, 2.0)
        status, _, page = one_click(todo, public, url)
        assert status == 200 and b"the daily digest email is off" in page, (status, page)
        status, settings = todo.api("GET", "/api/v1/me/notifications", dan_token)
        assert settings["digest_hour"] is None and settings["email"] is True, settings

    def no_digest_when_there_is_nothing_to_say():
        eve = "eve@example.com"
        eve_token = signup(todo, eve)
        now = this_hour_for_a_while()
        tomorrow = (now.date() + datetime.timedelta(days=1)).isoformat()
        status, task = todo.api(
            "POST", "/api/v1/tasks", eve_token, {"title": "Later", "due_date": tomorrow}
        )
        assert status == 201, (status, task)
        status, _ = todo.api("PUT", "/api/v1/me/notifications", eve_token, {"digest_hour": now.hour})
        assert status == 200, status
        inbox.none_for(eve, 3.0)

    check(
        "a reminder email arrives with its link and unsubscribe headers",
        a_reminder_email_arrives_with_its_link_and_unsubscribe_headers,
    )
    check(
        "a one-click POST turns the email channel off; the next reminder sends none",
        a_one_click_post_turns_the_email_channel_off,
    )
    check(
        "a digest arrives at the chosen hour with today's and overdue tasks, once",
        a_digest_arrives_at_the_chosen_hour_with_todays_and_overdue_tasks,
    )
    check("no digest when there is nothing to say", no_digest_when_there_is_nothing_to_say)


POSTGRES_URL = os.environ.get("TODO_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def psql(sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", POSTGRES_URL, "-Atqc", sql], capture_output=True, text=True, timeout=30
    )


def two_replicas(binary: str, smtp_port: int, inbox: Inbox) -> None:
    """Two servers on one PostgreSQL database, one SMTP server: each reminder is mailed once."""
    name = "with two replicas on PostgreSQL each reminder is sent once"
    try:
        reachable = psql("SELECT 1").returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        reachable = False
    if not reachable:
        if os.environ.get("CI") == "true":
            results.append((name, f"PostgreSQL is unreachable at {POSTGRES_URL} (psql) and CI=true"))
            print(f"FAIL {name}: PostgreSQL is unreachable at {POSTGRES_URL} and CI=true")
        else:
            print(f"skip {name}: PostgreSQL is unreachable at {POSTGRES_URL}")
        return
    # A schema of its own (scripts/test drops leftover todo_test_ schemas).
    schema = f"todo_test_mail_{uuid.uuid4().hex}"
    created = psql(f"CREATE SCHEMA {schema}")
    assert created.returncode == 0, created.stderr
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-c%20search_path%3D{schema}"
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first = Todo(binary, one, {"DATABASE_URL": url})
        second = Todo(binary, two, {"DATABASE_URL": url})
        public = f"http://localhost:{first.port}"
        for replica in (first, second):
            replica.env |= {
                "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "MAIL_FROM": "Todo <todo@example.com>",
                "PUBLIC_URL": public,
            }
        try:
            first.start()
            second.start()
            check(name, lambda: each_reminder_once(first, second, inbox))
        finally:
            first.stop()
            second.stop()
            psql(f"DROP SCHEMA {schema} CASCADE")


def each_reminder_once(first: Todo, second: Todo, inbox: Inbox) -> None:
    rita = "rita@example.com"
    token = signup(first, rita)
    titles = [f"Errand {n}" for n in range(6)]
    ids = []
    for n, title in enumerate(titles):
        # Alternating replicas, all due within the same second or two.
        ids.append(reminded_task(first if n % 2 else second, token, title, seconds=2.0))
    for task_id in ids:
        wait_until_fired(first, token, task_id)
    deadline = time.monotonic() + 15
    received: list[email.message.EmailMessage] = []
    while time.monotonic() < deadline and len(received) < len(titles):
        received += inbox.take_all(rita)
        time.sleep(0.2)
    # Room for a duplicate to arrive, were there one.
    time.sleep(3.0)
    received += inbox.take_all(rita)
    subjects = sorted(str(m["Subject"]) for m in received)
    assert subjects == sorted(f"Reminder: {t}" for t in titles), subjects


if __name__ == "__main__":
    sys.exit(main())
