"""The REST API of the real `todo` binary, driven by a client that openapi-python-client
generated from the binary's own /openapi.json (tests/openapi/check.sh generates it as the
package `todo_client` and puts it on PYTHONPATH).

Usage: client_test.py BASE_URL

Signs up, then creates, lists, patches and completes a task (a toggle: no body), in both route
shapes, and reads a problem back as the document's Problem. Prints `client: N passed, M failed`
last and exits non-zero on any failure.
"""

import sys
import traceback
import uuid

from todo_client import AuthenticatedClient, Client
from todo_client.api.accounts import get_me_for_user, signup
from todo_client.api.tasks import (
    complete_task,
    create_task,
    create_task_for_user,
    get_task,
    list_tasks,
    list_tasks_for_user,
    update_task,
)
from todo_client.models import (
    AuthResponse,
    Priority,
    Problem,
    SignupInput,
    Task,
    TaskInput,
    TaskPatchInput,
    User,
)

results: list[tuple[str, str | None]] = []


def check(name):
    def run(test):
        try:
            test()
            results.append((name, None))
        except Exception:  # noqa: BLE001 - every failure is reported, then the next test runs
            results.append((name, traceback.format_exc()))
        return test

    return run


def main(base: str) -> int:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    email = f"client-{uuid.uuid4().hex[:8]}@example.com"
    account = signup.sync(
        client=anonymous,
        body=SignupInput(email=email, password="a fine password", name="Client"),
    )
    assert isinstance(account, AuthResponse), account
    client = AuthenticatedClient(base_url=base, token=account.token, raise_on_unexpected_status=True)
    user_id = account.user.id
    made: dict[str, Task] = {}

    @check("sign up gives a user and a token")
    def _():
        assert account.user.email == email
        me = get_me_for_user.sync(client=client, user_id=user_id)
        assert isinstance(me, User) and me.id == user_id, me

    @check("create a task")
    def _():
        task = create_task.sync(
            client=client,
            body=TaskInput(title="Pay rent", priority=Priority.HIGH, due_date="2030-01-01"),
        )
        assert isinstance(task, Task), task
        assert task.title == "Pay rent" and task.priority == Priority.HIGH and not task.completed
        made["task"] = task

    @check("list tasks, with the brief's filter and sort aliases")
    def _():
        tasks = list_tasks.sync(client=client)
        assert [t.title for t in tasks] == ["Pay rent"], tasks
        pending = list_tasks.sync(client=client, completed="false", sort="due_date")
        assert [t.id for t in pending] == [made["task"].id], pending

    @check("patch a task")
    def _():
        task = update_task.sync(
            client=client, id=made["task"].id, body=TaskPatchInput(title="Pay the rent")
        )
        assert isinstance(task, Task) and task.title == "Pay the rent", task

    @check("complete a task by toggling it, without a body")
    def _():
        task = complete_task.sync(client=client, id=made["task"].id)
        assert isinstance(task, Task) and task.completed, task
        again = get_task.sync(client=client, id=made["task"].id)
        assert again.completed and again.completed_at, again
        done = list_tasks.sync(client=client, completed="true")
        assert [t.id for t in done] == [made["task"].id], done
        reopened = complete_task.sync(client=client, id=made["task"].id)
        assert isinstance(reopened, Task) and not reopened.completed, reopened

    @check("the /api/{user_id} shape serves the same tasks")
    def _():
        task = create_task_for_user.sync(
            client=client, user_id=user_id, body=TaskInput(title="Buy milk")
        )
        assert isinstance(task, Task), task
        titles = [t.title for t in list_tasks_for_user.sync(client=client, user_id=user_id, sort="title")]
        assert titles == ["Buy milk", "Pay the rent"], titles

    @check("another user's id in the path is a 403 problem")
    def _():
        lenient = AuthenticatedClient(base_url=base, token=account.token)
        problem = list_tasks_for_user.sync(client=lenient, user_id="someone-else")
        assert isinstance(problem, Problem) and problem.status == 403, problem
        assert problem.type_ == "urn:todo:problem:wrong-user", problem

    @check("an unknown query parameter is a 422 problem that names it")
    def _():
        response = client.get_httpx_client().get("/api/v1/tasks", params={"completd": "true"})
        assert response.status_code == 422, response.text
        problem = Problem.from_dict(response.json())
        assert [e.field for e in problem.errors] == ["completd"], problem

    failed = [(name, error) for name, error in results if error]
    for name, error in results:
        print(("ok   " if error is None else "FAIL ") + name)
        if error:
            print(error)
    print(f"client: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
