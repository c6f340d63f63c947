"""schemathesis hooks for tests/fuzz/fuzz.sh: the credential, and the caller's own id in the
`/api/{user_id}/…` route shape (a random id only ever meets the 403 for another user's path, so
the operations behind it would go untested in that shape).

The fuzzer calls every operation, DELETE /api/v1/api-keys/{id} included, so sooner or later it
revokes the very key it is using. This provider logs in (FUZZ_BASE, FUZZ_EMAIL,
FUZZ_PASSWORD) and makes a fresh read+write API key; schemathesis asks it again after a 401.
"""
import json
import os
import urllib.request

import schemathesis


def _post(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        os.environ["FUZZ_BASE"] + path, json.dumps(body).encode(), headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


_user_id = None


def _own_user_id():
    global _user_id
    if _user_id is None:
        _user_id = _post(
            "/api/v1/auth/login",
            {"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]},
        )["user"]["id"]
    return _user_id


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if path_parameters and "user_id" in path_parameters:
        path_parameters["user_id"] = _own_user_id()
    return path_parameters


@schemathesis.auth()
class FreshApiKey:
    def get(self, case, ctx):
        token = _post(
            "/api/v1/auth/login",
            {"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]},
        )["token"]
        key = _post("/api/v1/api-keys", {"name": "fuzz", "scopes": ["read", "write"]}, token)
        return key["secret"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
