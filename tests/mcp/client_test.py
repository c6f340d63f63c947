"""The MCP server of the real `todo` binary, driven by the official MCP Python SDK.

Usage: client_test.py path/to/todo

Starts `todo serve` on a free port with a fresh SQLite database, creates a user and API keys
with the binary's own commands, then checks over Streamable HTTP (handshake protocol and the
stateless 2026-07-28 protocol) and over stdio (`todo mcp`) that the tools are listed and that
add -> list -> complete -> update -> delete works, that an unknown id is a tool error, and that
requests without a key, with a revoked key or from a foreign Origin are refused. Prints
`mcp: N passed, M failed` last and exits non-zero on any failure.
"""

import asyncio
import json
import sys
import tempfile
import traceback

from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

TOOLS = {
    "add_task",
    "list_tasks",
    "complete_task",
    "update_task",
    "delete_task",
    "get_task",
    "move_task",
    "list_projects",
    "add_project",
    "update_project",
    "list_sections",
    "create_section",
    "add_tasks",
    "complete_tasks",
    "update_tasks",
    "reschedule_tasks",
    "list_comments",
    "add_comment",
    "search",
    "fetch",
}
PASSWORD = "a fine password"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}

results: list[tuple[str, str | None]] = []

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from todo_process import Todo  # noqa: E402


def check(name: str):
    def wrap(fn):
        async def run(*args):
            try:
                await fn(*args)
                results.append((name, None))
                print(f"ok   {name}")
            except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
                results.append((name, f"{type(e).__name__}: {e}"))
                print(f"FAIL {name}: {type(e).__name__}: {e}")
                traceback.print_exc()

        return run

    return wrap


def http_transport(todo: Todo, key: str):
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    return streamable_http_client(f"{todo.base}/mcp", http_client=client)


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def story(client: Client, user_id: str) -> None:
    """add -> list -> complete -> update -> delete, then the error cases."""
    tools = await client.list_tools()
    names = {t.name for t in tools.tools}
    assert TOOLS <= names, f"missing tools: {TOOLS - names}"
    for tool in tools.tools:
        assert tool.description, f"{tool.name} has no description"
        assert tool.input_schema.get("type") == "object", tool.name

    added = await client.call_tool(
        "add_task", {"title": "Buy milk", "priority": "high", "tags": ["shop"], "user_id": user_id}
    )
    assert not added.is_error, text_of(added)
    created = added.structured_content
    assert created["status"] == "created" and created["title"] == "Buy milk", created
    task_id = created["task_id"]

    listed = await client.call_tool("list_tasks", {"status": "pending", "tag": "shop", "search": "milk"})
    assert not listed.is_error, text_of(listed)
    assert [t["id"] for t in listed.structured_content["tasks"]] == [task_id], listed.structured_content

    done = await client.call_tool("complete_task", {"task_id": task_id})
    assert done.structured_content == {"task_id": task_id, "status": "completed", "title": "Buy milk"}

    updated = await client.call_tool("update_task", {"task_id": task_id, "title": "Buy oat milk"})
    assert updated.structured_content["status"] == "updated", updated.structured_content
    got = await client.call_tool("get_task", {"task_id": task_id})
    assert got.structured_content["title"] == "Buy oat milk" and got.structured_content["completed"]

    deleted = await client.call_tool("delete_task", {"task_id": task_id})
    assert deleted.structured_content == {"task_id": task_id, "status": "deleted", "title": "Buy oat milk"}

    missing = await client.call_tool("complete_task", {"task_id": task_id})
    assert missing.is_error and "list_tasks" in text_of(missing), text_of(missing)

    bad = await client.call_tool("add_task", {"title": ""})
    assert bad.is_error and "title" in text_of(bad), text_of(bad)

    other = await client.call_tool("list_tasks", {"user_id": "someone-else"})
    assert other.is_error and "user_id" in text_of(other), text_of(other)

    project = await client.call_tool("add_project", {"name": "Home"})
    assert not project.is_error, text_of(project)
    project_id = project.structured_content["id"]
    section = await client.call_tool("create_section", {"project_id": project_id, "name": "Kitchen"})
    section_id = section.structured_content["id"]
    parent = await client.call_tool("add_task", {"title": "Clean", "section_id": section_id})
    parent_id = parent.structured_content["task_id"]
    child = await client.call_tool("add_task", {"title": "Oven", "parent_id": parent_id})
    assert not child.is_error, text_of(child)
    top = await client.call_tool("list_tasks", {"project_id": project_id, "parent_id": "none"})
    assert [t["title"] for t in top.structured_content["tasks"]] == ["Clean"], top.structured_content
    moved = await client.call_tool("move_task", {"task_id": child.structured_content["task_id"], "project_id": project_id})
    assert moved.structured_content["status"] == "updated", text_of(moved)

    # The SDK checks each structured result against the tool's output schema, so these also
    # prove the schemas of the batch, search and fetch results describe what the server sends.
    batch = await client.call_tool(
        "add_tasks", {"tasks": [{"title": "Pay rent", "due_date": "2026-12-01"}, {"title": " "}]}
    )
    assert not batch.is_error, text_of(batch)
    report = batch.structured_content
    assert (report["succeeded"], report["failed"]) == (1, 1), report
    assert report["results"][1]["status"] == "failed" and "title" in report["results"][1]["error"], report
    rent = report["results"][0]["task_id"]
    moved_on = await client.call_tool("reschedule_tasks", {"task_ids": [rent, 999999], "days": 7})
    assert [r["status"] for r in moved_on.structured_content["results"]] == ["updated", "failed"], text_of(moved_on)
    commented = await client.call_tool("add_comment", {"task_id": rent, "body": "By transfer"})
    assert commented.structured_content["body"] == "By transfer", text_of(commented)
    found = await client.call_tool("search", {"query": "rent"})
    assert [r["id"] for r in found.structured_content["results"]] == [str(rent)], text_of(found)
    fetched = await client.call_tool("fetch", {"id": str(rent)})
    assert "Due: 2026-12-08" in fetched.structured_content["text"], text_of(fetched)
    assert "By transfer" in fetched.structured_content["text"], text_of(fetched)
    done = await client.call_tool("complete_tasks", {"task_ids": [rent]})
    assert done.structured_content["results"][0]["status"] == "completed", text_of(done)
    await client.call_tool("delete_task", {"task_id": rent})


async def main(binary: str) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        todo = Todo(binary, workdir)
        todo.run("migrate")
        user = json.loads(todo.run("user", "create", "--email", "ada@example.com", TODO_USER_PASSWORD=PASSWORD))
        user_id = user["id"]
        key = todo.run("api-key", "create", "--user", "ada@example.com", "--name", "mcp")
        revoked = todo.run("api-key", "create", "--user", "ada@example.com", "--name", "old")
        todo.start()
        try:
            await run_checks(todo, user_id, key, revoked)
        finally:
            todo.stop()

    failed = [r for r in results if r[1] is not None]
    print(f"mcp: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


async def run_checks(todo: Todo, user_id: str, key: str, revoked: str) -> None:
    @check("http: 2025-11-25 handshake, the whole story")
    async def http_legacy():
        async with Client(http_transport(todo, key), mode="legacy") as client:
            # The server's instructions come with the handshake.
            assert client.instructions and "add_tasks" in client.instructions, client.instructions
            await story(client, user_id)

    @check("http: stateless 2026-07-28, the whole story")
    async def http_modern():
        async with Client(http_transport(todo, key), mode="2026-07-28") as client:
            await story(client, user_id)

    @check("stdio: todo mcp with TODO_API_KEY, the whole story")
    async def stdio_key():
        params = StdioServerParameters(command=todo.binary, args=["mcp"], env=todo.env | {"TODO_API_KEY": key})
        async with Client(params, mode="legacy") as client:
            await story(client, user_id)

    @check("stdio: todo mcp --user lists the tools; fetch links into PUBLIC_URL")
    async def stdio_user():
        env = todo.env | {"PUBLIC_URL": "https://todo.example.com"}
        params = StdioServerParameters(command=todo.binary, args=["mcp", "--user", "ada@example.com"], env=env)
        async with Client(params, mode="legacy") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert TOOLS <= names, names
            added = await client.call_tool("add_task", {"title": "Linked"})
            task_id = added.structured_content["task_id"]
            fetched = await client.call_tool("fetch", {"id": str(task_id)})
            url = fetched.structured_content["url"]
            assert url == f"https://todo.example.com/tasks/{task_id}/edit", text_of(fetched)
            await client.call_tool("delete_task", {"task_id": task_id})

    @check("http: no key is 401; without PUBLIC_URL OAuth is off and its metadata says so")
    async def no_key():
        status, headers, _ = todo.http("POST", "/mcp", INITIALIZE)
        assert status == 401, status
        challenge = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
        assert challenge == "Bearer", challenge
        status, _, body = todo.http("GET", "/.well-known/oauth-protected-resource")
        assert status == 404, status
        assert "PUBLIC_URL" in json.loads(body)["detail"], body

    @check("http: a revoked key is 401")
    async def revoked_key():
        auth = {"Authorization": f"Bearer {revoked}"}
        status, _, body = todo.http("GET", "/api/v1/api-keys", headers=auth)
        assert status == 200, (status, body)
        keys = json.loads(body)
        items = keys["items"] if isinstance(keys, dict) else keys
        old = next(k for k in items if k["name"] == "old")
        status, _, body = todo.http("DELETE", f"/api/v1/api-keys/{old['id']}", headers=auth)
        assert status == 204, (status, body)
        status, _, _ = todo.http("POST", "/mcp", INITIALIZE, headers=auth)
        assert status == 401, status

    @check("http: a foreign Origin is refused")
    async def foreign_origin():
        auth = {"Authorization": f"Bearer {key}"}
        status, _, _ = todo.http("POST", "/mcp", INITIALIZE, headers=auth | {"Origin": "https://evil.example"})
        assert status == 403, status
        status, _, _ = todo.http("POST", "/mcp", INITIALIZE, headers=auth)
        assert status == 200, status

    for test in (http_legacy, http_modern, stdio_key, stdio_user, no_key, revoked_key, foreign_origin):
        await test()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1])))
