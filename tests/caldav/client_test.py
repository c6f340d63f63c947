"""CalDAV of the real `todo` binary, driven by the `caldav` library (PyPI), as a phone or desktop
app drives it.

Usage: client_test.py path/to/todo

Starts `todo serve` on a free port with a fresh SQLite database, creates a user and an API key
with the binary's own commands, then: discovery from /.well-known/caldav, the calendars, a task
created, read, updated and completed through CalDAV and seen by the REST API, one made in the
REST API seen by CalDAV, a sync by token that reports exactly the change and the deletion, a
stale ETag refused, and a wrong app password refused. Prints `caldav: N passed, M failed` last
and exits non-zero on any failure.
"""

import datetime
import sys
import tempfile
import traceback
from pathlib import Path
from urllib.parse import unquote

import caldav
from caldav.lib import error as caldav_error

PASSWORD = "a fine password"
results: list[tuple[str, str | None]] = []

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from todo_process import Todo  # noqa: E402



def check(name: str, fn) -> None:
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
        results.append((name, traceback.format_exc()))
        print(f"FAIL {name}\n{traceback.format_exc()}")


def summary(todo) -> str:
    return str(todo.icalendar_component.get("summary"))


def main() -> int:
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as workdir:
        todo = Todo(binary, workdir)
        todo.run("migrate")
        todo.run("user", "create", "--email", "ada@example.com", TODO_USER_PASSWORD=PASSWORD)
        key = todo.run("api-key", "create", "--user", "ada@example.com")
        todo.start()
        try:
            client = caldav.DAVClient(
                url=f"{todo.base}/.well-known/caldav", username="ada@example.com", password=key
            )
            state: dict = {}

            def discovery():
                principal = client.principal()
                calendars = principal.calendars()
                names = [c.get_display_name() for c in calendars]
                assert names == ["Inbox"], names
                state["calendar"] = calendars[0]

            def create_and_read_back():
                calendar = state["calendar"]
                made = calendar.save_todo(
                    summary="Buy milk",
                    due=datetime.date(2026, 12, 10),
                    categories=["shopping"],
                    priority=1,
                )
                state["todo"] = made
                status, tasks = todo.api("GET", "/api/v1/tasks", key)
                assert status == 200, tasks
                assert [(t["title"], t["due_date"], t["tags"], t["priority"]) for t in tasks] == [
                    ("Buy milk", "2026-12-10", ["shopping"], "urgent")
                ], tasks
                state["task_id"] = tasks[0]["id"]
                assert [summary(t) for t in calendar.todos()] == ["Buy milk"]

            def made_in_the_api_seen_in_caldav():
                status, task = todo.api("POST", "/api/v1/tasks", key, {"title": "Call the plumber"})
                assert status == 201, task
                titles = sorted(summary(t) for t in state["calendar"].todos())
                assert titles == ["Buy milk", "Call the plumber"], titles
                state["plumber"] = task["id"]

            def update_and_complete():
                made = state["todo"]
                made.load()
                made.icalendar_component["summary"] = "Buy oat milk"
                made.save()
                status, task = todo.api("GET", f"/api/v1/tasks/{state['task_id']}", key)
                assert task["title"] == "Buy oat milk", task
                made.load()
                made.complete()
                status, task = todo.api("GET", f"/api/v1/tasks/{state['task_id']}", key)
                assert task["completed"] is True, task
                pending = [summary(t) for t in state["calendar"].todos()]
                assert pending == ["Call the plumber"], pending
                done = [summary(t) for t in state["calendar"].todos(include_completed=True)]
                assert sorted(done) == ["Buy oat milk", "Call the plumber"], done

            def sync_by_token():
                calendar = state["calendar"]
                first = calendar.objects_by_sync_token(load_objects=True)
                assert len(list(first)) == 2
                token = first.sync_token
                todo.api("PATCH", f"/api/v1/tasks/{state['plumber']}", key, {"title": "Call Bob"})
                todo.api("DELETE", f"/api/v1/tasks/{state['task_id']}", key)
                changed = calendar.objects_by_sync_token(sync_token=token, load_objects=False)
                hrefs = sorted(unquote(str(o.url).rsplit("/", 1)[-1]) for o in changed)
                assert hrefs == sorted(
                    [f"task-{state['plumber']}@todo.ics", unquote(str(state["todo"].url).rsplit("/", 1)[-1])]
                ), hrefs

            def a_stale_etag_is_refused():
                plumber = state["calendar"].todos()[0]
                url = str(plumber.url)
                read = client.request(url, "GET")
                etag = read.headers["etag"]
                todo.api("PATCH", f"/api/v1/tasks/{state['plumber']}", key, {"title": "Call Carol"})
                stale = read.raw.replace("Call Bob", "Call Dave")
                refused = client.request(
                    url, "PUT", stale, {"If-Match": etag, "Content-Type": "text/calendar"}
                )
                assert refused.status == 412, refused.status
                status, task = todo.api("GET", f"/api/v1/tasks/{state['plumber']}", key)
                assert task["title"] == "Call Carol", task

            def delete():
                plumber = state["calendar"].todos()[0]
                plumber.delete()
                status, _ = todo.api("GET", f"/api/v1/tasks/{state['plumber']}", key)
                assert status == 404, status

            def a_wrong_app_password_is_refused():
                stranger = caldav.DAVClient(
                    url=f"{todo.base}/dav/", username="ada@example.com", password=PASSWORD
                )
                try:
                    stranger.principal()
                except caldav_error.AuthorizationError:
                    return
                raise AssertionError("the account's password must not open CalDAV")

            check("discovery from /.well-known/caldav", discovery)
            check("a task made over CalDAV is a task in the API", create_and_read_back)
            check("a task made in the API is a VTODO", made_in_the_api_seen_in_caldav)
            check("update and complete over CalDAV", update_and_complete)
            check("sync by token: the change and the deletion", sync_by_token)
            check("a write over a stale copy is refused (412)", a_stale_etag_is_refused)
            check("delete over CalDAV", delete)
            check("a wrong app password is refused", a_wrong_app_password_is_refused)
        finally:
            todo.stop()
    failed = sum(1 for _, error in results if error)
    print(f"caldav: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
