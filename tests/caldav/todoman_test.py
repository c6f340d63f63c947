"""A round trip with vdirsyncer + todoman (PyPI), the command-line pair people sync tasks with,
against the real `todo` binary.

Usage: todoman_test.py path/to/todo

vdirsyncer syncs the user's calendars (discovered from /dav/) into a folder that todoman reads
and writes. Checks: a task made in todoman appears in the REST API after a sync; one completed
in the API (as the web app does) is done in todoman after the next sync; when both sides edit
the same task before a sync, vdirsyncer sees the conflict and the pair converges on the
server's version (`conflict_resolution = "b wins"`). Prints `todoman: N passed, M failed` last
and exits non-zero on any failure.
"""

import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from client_test import PASSWORD, Todo, check, results  # noqa: E402

BIN = Path(sys.executable).parent


def main() -> int:
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        todo = Todo(binary, workdir)
        todo.run("migrate")
        todo.run("user", "create", "--email", "ada@example.com", TODO_USER_PASSWORD=PASSWORD)
        key = todo.run("api-key", "create", "--user", "ada@example.com")
        status, projects = 0, None
        todo.start()
        try:
            status, projects = todo.api("GET", "/api/v1/projects", key)
            inbox = str(projects[0]["id"])
            (work / "vdirsyncer.conf").write_text(
                f"""[general]
status_path = "{work}/status/"

[pair todo]
a = "local"
b = "remote"
collections = ["from b"]
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "{work}/tasks/"
fileext = ".ics"

[storage remote]
type = "caldav"
url = "{todo.base}/dav/"
username = "ada@example.com"
password = "{key}"
item_types = ["VTODO"]
"""
            )
            (work / "todoman.py").write_text(
                f'path = "{work}/tasks/*"\ndate_format = "%Y-%m-%d"\n'
                f'time_format = "%H:%M"\ndefault_list = "{inbox}"\n'
            )

            def vdirsyncer(*args: str) -> str:
                out = subprocess.run(
                    [str(BIN / "vdirsyncer"), "-c", str(work / "vdirsyncer.conf"), *args],
                    input="y\n" * 10,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
                )
                assert out.returncode == 0, out.stderr + out.stdout
                return out.stderr + out.stdout

            def todoman(*args: str):
                out = subprocess.run(
                    [str(BIN / "todo"), "--config", str(work / "todoman.py"), *args],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "TZ": "UTC"},
                )
                assert out.returncode == 0, out.stderr + out.stdout
                return json.loads(out.stdout) if args[0] == "--porcelain" else out.stdout

            def tasks():
                status, listed = todo.api("GET", "/api/v1/tasks", key)
                assert status == 200, listed
                return {t["title"]: t for t in listed}

            def made_in_todoman():
                vdirsyncer("discover")
                vdirsyncer("sync")
                todoman("new", "-l", inbox, "Buy milk", "--due", "2026-12-10")
                vdirsyncer("sync")
                milk = tasks()["Buy milk"]
                assert milk["due_date"] == "2026-12-10", milk

            def completed_in_the_app():
                milk = tasks()["Buy milk"]
                status, _ = todo.api("PATCH", f"/api/v1/tasks/{milk['id']}/complete", key)
                assert status == 200, status
                vdirsyncer("sync")
                listed = todoman("--porcelain", "list", "--status", "ANY")
                done = {t["summary"]: t["completed"] for t in listed}
                assert done == {"Buy milk": True}, listed

            def a_conflict_converges():
                status, made = todo.api("POST", "/api/v1/tasks", key, {"title": "Call mom"})
                assert status == 201, made
                vdirsyncer("sync")
                local = {t["summary"]: t for t in todoman("--porcelain", "list")}
                todoman("edit", str(local["Call mom"]["id"]), "--priority", "high")
                todo.api("PATCH", f"/api/v1/tasks/{made['id']}", key, {"title": "Call mom today"})
                vdirsyncer("sync")
                vdirsyncer("sync")
                titles = sorted(t["summary"] for t in todoman("--porcelain", "list"))
                assert titles == ["Call mom today"], titles
                assert "Call mom today" in tasks()

            check("a task made in todoman is in the API after a sync", made_in_todoman)
            check("a task completed in the app is done in todoman", completed_in_the_app)
            check("both sides edit: the pair converges on the server's", a_conflict_converges)
        except Exception:  # noqa: BLE001
            results.append(("setup", traceback.format_exc()))
            print(traceback.format_exc())
        finally:
            todo.stop()
    failed = sum(1 for _, error in results if error)
    print(f"todoman: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
