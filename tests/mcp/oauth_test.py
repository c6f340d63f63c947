"""OAuth 2.1 end to end: the official MCP Python SDK's OAuthClientProvider against the real binary.

Usage: oauth_test.py path/to/todo

Starts `todo serve` with PUBLIC_URL on loopback and a fresh SQLite database, creates a user with
the binary's own command, then lets the SDK connect to /mcp with no credential: it meets the 401,
discovers the protected-resource and authorization-server metadata, registers itself (RFC 7591),
and sends the user to /oauth/authorize. This test plays the user over HTTP: it signs in on the
web app's login page, reads the consent page and presses Allow, and hands the redirect's code,
state and iss back to the SDK, which exchanges the code (PKCE S256) for tokens. Then it lists the
tools, adds a task, and checks that the REST API (with the same access token) shows the task;
refreshes the token; checks that a read-only grant is refused the write tool with a 403
step-up challenge; and connects once more with a Client ID Metadata Document served on loopback
instead of registering (the server runs with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, which also
lets it take the document's http:// URL). Prints `oauth: N passed, M failed` last; exits non-zero on any failure.
"""

import asyncio
import html.parser
import http.server
import threading
import json
import sys
import tempfile
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

EMAIL = "ada@example.com"
PASSWORD = "a fine password"
results: list[tuple[str, str | None]] = []

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from todo_process import Todo, free_port  # noqa: E402


def oauth_todo(binary: str, workdir: str) -> Todo:
    """The binary with PUBLIC_URL set (its own address), one database, one running server."""
    todo = Todo(
        binary,
        workdir,
        # Lets the server fetch the test's Client ID Metadata Document from loopback (and
        # accept its http:// URL), as a development machine would.
        {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"},
    )
    todo.env["PUBLIC_URL"] = todo.base
    return todo



class Inputs(html.parser.HTMLParser):
    """The named inputs and buttons of the consent page's form."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        if tag == "button" and a.get("name"):
            self.buttons.append((a["name"], a.get("value") or ""))


class Person:
    """The user at the browser: signs in once, then answers consent pages over plain HTTP."""

    def __init__(self, todo: Todo, decision: str = "allow", grant: tuple[str, ...] = ("tasks:read", "tasks:write")):
        self.todo = todo
        self.decision = decision
        self.grant = grant
        self.http = httpx2.AsyncClient(base_url=todo.base, follow_redirects=False, timeout=30)
        self.result: AuthorizationCodeResult | None = None
        self.consent_html = ""

    async def sign_in(self) -> None:
        response = await self.http.post("/login", data={"email": EMAIL, "password": PASSWORD})
        assert response.status_code == 303, (response.status_code, response.text)
        assert "todo_session" in self.http.cookies, dict(self.http.cookies)

    async def visit(self, authorization_url: str) -> None:
        """The SDK's redirect handler: the browser opens the authorization URL."""
        url = urllib.parse.urlsplit(authorization_url)
        assert f"{url.scheme}://{url.netloc}" == self.todo.base, authorization_url
        page = await self.http.get(f"{url.path}?{url.query}")
        assert page.status_code == 200, (page.status_code, page.text)
        self.consent_html = page.text
        csp = page.headers.get("content-security-policy", "")
        assert "form-action 'self' http://127.0.0.1:" in csp, csp
        form = Inputs()
        form.feed(page.text)
        assert ("decision", "allow") in form.buttons and ("decision", "deny") in form.buttons, form.buttons
        assert form.fields.get("grant") in ("tasks:read", "tasks:write"), form.fields
        fields = [(k, v) for k, v in form.fields.items() if k != "grant"]
        fields += [("grant", scope) for scope in self.grant] + [("decision", self.decision)]
        answer = await self.http.post(
            "/oauth/authorize",
            content=urllib.parse.urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 303, (answer.status_code, answer.text)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["location"]).query)
        one = lambda key: query.get(key, [None])[0]  # noqa: E731
        self.result = AuthorizationCodeResult(code=one("code") or "", state=one("state"), iss=one("iss"))
        self.error = one("error")

    async def callback(self) -> AuthorizationCodeResult:
        """The SDK's callback handler: what came back to the redirect URI."""
        assert self.result is not None, "the consent page was never answered"
        return self.result


class Memory:
    """Token storage in memory (the SDK's TokenStorage protocol)."""

    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


def provider(todo: Todo, person: Person, storage: Memory, scope: str | None = None) -> OAuthClientProvider:
    metadata = OAuthClientMetadata(
        client_name="MCP SDK test",
        redirect_uris=[f"http://127.0.0.1:{free_port()}/callback"],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope=scope,
    )
    return OAuthClientProvider(
        server_url=f"{todo.base}/mcp",
        client_metadata=metadata,
        storage=storage,
        redirect_handler=person.visit,
        callback_handler=person.callback,
    )


class MetadataDocument:
    """A Client ID Metadata Document served on loopback: the app's id is this URL."""

    def __init__(self, redirect_uri: str):
        self.fetches = 0
        document = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                if self.path != "/oauth/client.json":
                    self.send_error(404)
                    return
                document.fetches += 1
                body = json.dumps(
                    {
                        "client_id": document.url,
                        "client_name": "MCP SDK via metadata document",
                        "redirect_uris": [redirect_uri],
                        "grant_types": ["authorization_code", "refresh_token"],
                        "response_types": ["code"],
                        "token_endpoint_auth_method": "none",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/client.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def transport(todo: Todo, auth: OAuthClientProvider):
    return streamable_http_client(f"{todo.base}/mcp", http_client=create_mcp_http_client(auth=auth))


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


def rest(todo: Todo, method: str, path: str, token: str, body=None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{todo.base}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


async def run_checks(todo: Todo) -> None:
    person = Person(todo)
    await person.sign_in()
    storage = Memory()

    @check("the SDK discovers, registers, gets consent and connects; the REST API shows its task")
    async def connects():
        async with Client(transport(todo, provider(todo, person, storage)), mode="legacy") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"add_task", "list_tasks"} <= names, names
            added = await client.call_tool("add_task", {"title": "Connected through OAuth"})
            assert not added.is_error, added
            task_id = added.structured_content["task_id"]
        assert storage.client is not None and storage.client.client_id.startswith("todo_client_"), storage.client
        assert "MCP SDK test" in person.consent_html and "tasks:write" in person.consent_html
        token = storage.tokens.access_token
        assert token.startswith("todo_at_"), token
        status, task = rest(todo, "GET", f"/api/v1/tasks/{task_id}", token)
        assert status == 200 and task["title"] == "Connected through OAuth", (status, task)
        status, me = rest(todo, "GET", "/api/v1/me", token)
        assert status == 200 and me["email"] == EMAIL, (status, me)

    @check("a refresh rotates the tokens; the spent refresh token then revokes the grant")
    async def refreshes():
        old = storage.tokens
        form = {"grant_type": "refresh_token", "refresh_token": old.refresh_token, "client_id": storage.client.client_id}
        async with httpx2.AsyncClient(base_url=todo.base) as http:
            fresh = await http.post("/oauth/token", data=form)
            assert fresh.status_code == 200, fresh.text
            new = fresh.json()
            assert new["refresh_token"] != old.refresh_token and new["access_token"] != old.access_token
            assert rest(todo, "GET", "/api/v1/tasks", new["access_token"])[0] == 200
            reused = await http.post("/oauth/token", data=form)
            assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant", reused.text
            assert rest(todo, "GET", "/api/v1/tasks", new["access_token"])[0] == 401, "family revoked"

    @check("a read-only grant gets a 403 insufficient_scope challenge for a write tool, and may read")
    async def read_only():
        reader = Person(todo, grant=("tasks:read",))
        await reader.sign_in()
        memory = Memory()
        auth = provider(todo, reader, memory)
        async with Client(transport(todo, auth), mode="legacy") as client:
            listed = await client.call_tool("list_tasks", {})
            assert not listed.is_error, listed
        token = memory.tokens.access_token
        assert memory.tokens.scope == "tasks:read", memory.tokens
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add_task", "arguments": {"title": "x"}}}
        async with httpx2.AsyncClient(base_url=todo.base) as http:
            refused = await http.post(
                "/mcp",
                json=call,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json, text/event-stream",
                    "MCP-Protocol-Version": "2025-11-25",
                },
            )
        assert refused.status_code == 403, (refused.status_code, refused.text)
        challenge = refused.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge and "tasks:write" in challenge, challenge
        assert rest(todo, "POST", "/api/v1/tasks", token, {"title": "x"})[0] == 403

    @check("no credential: 401 names the resource metadata and scopes; the documents agree")
    async def discovery():
        async with httpx2.AsyncClient(base_url=todo.base) as http:
            bare = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert bare.status_code == 401
            challenge = bare.headers["www-authenticate"]
            expected = f'resource_metadata="{todo.base}/.well-known/oauth-protected-resource/mcp"'
            assert expected in challenge and 'scope="tasks:read tasks:write"' in challenge, challenge
            prm = (await http.get("/.well-known/oauth-protected-resource/mcp")).json()
            assert prm["resource"] == f"{todo.base}/mcp" and prm["authorization_servers"] == [todo.base], prm
            asm = (await http.get("/.well-known/oauth-authorization-server")).json()
            assert asm["issuer"] == todo.base and asm["code_challenge_methods_supported"] == ["S256"], asm
            assert asm["authorization_response_iss_parameter_supported"] is True

    @check("a Client ID Metadata Document on loopback stands in for registration")
    async def metadata_document():
        person = Person(todo)
        await person.sign_in()
        memory = Memory()
        auth = provider(todo, person, memory)
        redirect = str(auth.context.client_metadata.redirect_uris[0])
        document = MetadataDocument(redirect)
        # The SDK takes only https document URLs; the server, with WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        # also takes http on loopback, which is what a test can serve.
        auth.context.client_metadata_url = document.url
        try:
            async with Client(transport(todo, auth), mode="legacy") as client:
                added = await client.call_tool("add_task", {"title": "Connected by its document"})
                assert not added.is_error, added
        finally:
            document.stop()
        assert memory.client.client_id == document.url, memory.client
        assert document.fetches == 1, document.fetches
        assert "MCP SDK via metadata document" in person.consent_html
        status, apps = rest(todo, "GET", "/api/v1/tasks", memory.tokens.access_token)
        assert status == 200 and any(t["title"] == "Connected by its document" for t in apps), apps

    for test in (connects, refreshes, read_only, discovery, metadata_document):
        await test()


async def main(binary: str) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        todo = oauth_todo(binary, workdir)
        todo.run("migrate")
        todo.run("user", "create", "--email", EMAIL, TODO_USER_PASSWORD=PASSWORD)
        todo.start()
        try:
            await run_checks(todo)
        finally:
            todo.stop()
    failed = [r for r in results if r[1] is not None]
    print(f"oauth: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1])))
