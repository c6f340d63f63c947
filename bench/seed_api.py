#!/usr/bin/env python3
"""Signs a benchmark user up and seeds 1 000 tasks through the API of a running server, over one
keep-alive connection (bench/load, bench/instructions).

    seed_api.py PORT [jwt|api-key]

Prints "<credential> <first task id> <task count>": the login token (jwt, the default) or a
read+write API key, and the seeded ids, which are consecutive.
"""
import http.client
import json
import sys

port = int(sys.argv[1])
credential = sys.argv[2] if len(sys.argv) > 2 else "jwt"
conn = http.client.HTTPConnection("127.0.0.1", port)


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    assert 200 <= response.status < 300, (method, path, response.status, data)
    return json.loads(data) if data else None


token = call("POST", "/api/v1/auth/signup",
             {"email": "load@example.com", "password": "benchmark password"})["token"]
if credential == "api-key":
    token = call("POST", "/api/v1/api-keys", {"name": "load", "scopes": ["read", "write"]},
                 token)["secret"]
elif credential != "jwt":
    sys.exit(f"the credential must be jwt or api-key, not {credential}")
priorities = ["none", "low", "medium", "high", "urgent"]
ids = [call("POST", "/api/v1/tasks",
            {"title": f"Seeded task {n}", "priority": priorities[n % 5]}, token)["id"]
       for n in range(1000)]
assert ids == list(range(ids[0], ids[0] + 1000)), "seeded ids are not consecutive"
print(token, ids[0], len(ids))
