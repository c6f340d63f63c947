#!/usr/bin/env python3
"""Helpers of bench/side-by-side: seeding many users identically into todo's schema and the
peer's, holding event streams open, and printing the tables.

    side_by_side.py signup PORT COUNT PREFIX [CONCURRENCY]
        Signs COUNT users up through the API (<PREFIX>-<n>@example.com), CONCURRENCY at a
        time (default 16); prints "<user id> <token>" per user, in order.
    side_by_side.py tasks todo|peer URL USERS PER_USER OUT
        Inserts PER_USER tasks for each user of USERS (lines "<user id> <token>") with SQL and
        writes OUT, lines "<token> <first task id> <task count>" for bench/load.lua's USERS.
    side_by_side.py filler todo|peer URL FROM COUNT PER_USER
        Creates COUNT users that never sign in (filler-<FROM>, …) with PER_USER tasks each.
    side_by_side.py sse PORT USERS READY
        Opens GET /api/v1/events for every token of USERS (first field of each line), touches
        READY when all answered 200, and reads until SIGTERM or READY is removed; then prints
        "<streams> <events received>".
    side_by_side.py report RESULTS MEMORY
        Prints the markdown tables from the files bench/side-by-side writes.

The tasks of a user depend only on the user's place in the list and the task's number, never
on the system or its ids: every system gets the same titles, descriptions, priorities, due
moments, completion and creation times (pseudo-random from PostgreSQL's hashint8).
"""
import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import INBOXES, WORDS  # noqa: E402  (bench/seed.py's vocabulary and Inboxes)

PASSWORD = "benchmark password"


def signup(port, count, prefix, concurrency=16):
    def one(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        body = json.dumps({"email": f"{prefix}-{n}@example.com", "password": PASSWORD})
        for _ in range(100):
            conn.request("POST", "/api/v1/auth/signup", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status == 503:  # todo's hashing queue is full: wait as it asks
                time.sleep(float(response.getheader("Retry-After", "1")))
                continue
            assert response.status in (200, 201), (response.status, data)
            reply = json.loads(data)
            conn.close()
            return f"{reply['user']['id']} {reply['token']}"
        sys.exit("signup kept answering 503")

    with ThreadPoolExecutor(concurrency) as pool:
        for line in pool.map(one, range(1, count + 1)):
            print(line)


def psql(url, script):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=script, text=True,
                   check=True, stdout=subprocess.DEVNULL)


def has_projects(url):
    """Whether the schema keeps tasks in projects (todo from issue 20 on)."""
    answer = subprocess.run(["psql", url, "-Atc", "SELECT to_regclass('projects') IS NOT NULL"],
                            text=True, check=True, capture_output=True).stdout.strip()
    return answer == "t"


def task_rows_sql(schema, per_user, projects=False):
    """INSERT … SELECT of PER_USER tasks for every row (ord, id) of the temporary bench_owner."""
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    pick = f"({words})[1 + ((hashint8(k * 16 + %d) %% {len(WORDS)}) + {len(WORDS)}) %% {len(WORDS)}]"
    title = " || ' ' || ".join(pick % i for i in range(3))
    title = f"initcap({title})"
    description = " || ' ' || ".join(pick % i for i in range(3, 9))
    h = "((hashint8(k * 16 + {i}) % {m}) + {m}) % {m}"
    now = "timestamptz '2026-11-23 12:00:00+00'"
    computed = f"""
        SELECT {title} AS title,
               CASE WHEN {h.format(i=9, m=3)} = 0 THEN {description} END AS description,
               {h.format(i=10, m=3)} = 0 AS completed,
               {h.format(i=11, m=5)}::int AS priority,
               CASE WHEN {h.format(i=12, m=10)} < 3
                    THEN {now} + make_interval(mins => ({h.format(i=13, m=259200)})::int - 86400) END AS due_at,
               {now} - make_interval(secs => (({per_user} - g.n) * 60 + o.ord % 60)) AS created"""
    if schema == "todo":
        columns = ("user_id, title, description, completed, completed_at, priority, due_at, due_key, "
                   "position, created_at, updated_at")
        values = ("o.id, t.title, t.description, t.completed, CASE WHEN t.completed THEN t.created END, "
                  "t.priority, t.due_at, t.due_at, g.n, t.created, t.created")
        if projects:
            columns += ", project_id"
            values += ", (SELECT p.id FROM projects p WHERE p.owner_id = o.id AND p.inbox)"
    else:
        columns = "user_id, title, description, completed, completed_at, priority, due_at, created_at, updated_at"
        values = ("o.id, t.title, t.description, t.completed, CASE WHEN t.completed THEN t.created END, "
                  "(ARRAY['none','low','medium','high','urgent'])[t.priority + 1], t.due_at, t.created, t.created")
    return f"""
INSERT INTO tasks ({columns})
SELECT {values}
FROM bench_owner o CROSS JOIN generate_series(1, {per_user}) AS g(n)
CROSS JOIN LATERAL (SELECT o.ord::bigint * 100000 + g.n AS k) AS key
CROSS JOIN LATERAL ({computed}) AS t
ORDER BY o.ord, g.n;
"""


def owners_sql(owners):
    rows = "".join(f"{ord_}\t{user_id}\n" for ord_, user_id in owners)
    return ("CREATE TEMP TABLE bench_owner (ord int, id text) ON COMMIT DROP;\n"
            f"COPY bench_owner FROM STDIN;\n{rows}\\.\n")


def tasks(schema, url, users_file, per_user, out):
    users = [line.split() for line in open(users_file) if line.strip()]
    owners = [(n, user_id) for n, (user_id, _) in enumerate(users, start=1)]
    projects = schema == "todo" and has_projects(url)
    psql(url, "BEGIN;\n" + owners_sql(owners) + task_rows_sql(schema, per_user, projects) + "COMMIT;\n")
    # A checkpoint too, so that writing out the seed does not fall into the measurement.
    psql(url, "VACUUM ANALYZE;\nCHECKPOINT;\n")
    query = ("SELECT user_id, min(id), max(id), count(*) FROM tasks GROUP BY user_id")
    ranges = {}
    listing = subprocess.run(["psql", url, "-AtF", " ", "-c", query], text=True, check=True,
                             capture_output=True).stdout
    for line in listing.splitlines():
        user_id, first, last, count = line.split()
        ranges[user_id] = (int(first), int(last), int(count))
    with open(out, "w") as f:
        for user_id, token in users:
            first, last, count = ranges[user_id]
            assert last - first + 1 == count, f"the tasks of {user_id} are not consecutive"
            f.write(f"{token} {first} {count}\n")


def filler(schema, url, start, count, per_user):
    owners = [(n, f"filler-{n}") for n in range(start, start + count)]
    if schema == "todo":
        users = ("INSERT INTO users (id, email, timezone, created_at, updated_at) "
                 "SELECT id, id || '@example.com', 'UTC', now(), now() FROM bench_owner;\n")
    else:
        users = ("INSERT INTO users (id, email, password_hash) "
                 "SELECT id, id || '@example.com', 'never signs in' FROM bench_owner;\n")
    projects = schema == "todo" and has_projects(url)
    inboxes = INBOXES if projects else ""
    psql(url, "BEGIN;\n" + owners_sql(owners) + users + inboxes + task_rows_sql(schema, per_user, projects)
         + "COMMIT;\n")
    # A checkpoint too, so that writing out the seed does not fall into the measurement.
    psql(url, "VACUUM ANALYZE;\nCHECKPOINT;\n")


async def subscribe(port, users_file, ready):
    tokens = [line.split()[0] for line in open(users_file) if line.strip()]
    received = 0
    opened = 0
    gate = asyncio.Semaphore(32)

    async def one(token):
        nonlocal received, opened
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
            status = await reader.readline()
            assert b" 200 " in status, status
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
        opened += 1
        while line := await reader.readline():
            if line.startswith(b"id:"):
                received += 1

    readers = [asyncio.ensure_future(one(token)) for token in tokens]
    while opened < len(tokens):
        failed = [r for r in readers if r.done() and r.exception()]
        if failed:
            raise failed[0].exception()
        await asyncio.sleep(0.1)
    open(ready, "w").close()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    while not stop.is_set() and os.path.exists(ready):
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            pass
    print(opened, received, flush=True)
    os._exit(0)


def signed(n):
    return f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "0"


def report(results_file, memory_file):
    results = [line.rstrip("\n").split("\t") for line in open(results_file) if line.strip()]
    groups = {}
    for group, scenario, system, requests, seconds, p50, p99, non2xx, socket in results:
        groups.setdefault((group, scenario), {})[system] = {
            "rps": int(requests) / float(seconds), "p50": int(p50) / 1000, "p99": int(p99) / 1000,
            "non2xx": int(non2xx), "socket": int(socket)}
    order = ["one", "multi", "sse", "big"]
    for (group, scenario), systems in sorted(groups.items(), key=lambda item: order.index(item[0][0])):
        print(f"\n#### {scenario}\n")
        multi = group == "multi"
        print("| system | req/s | p50 ms | p99 ms | non-2xx | socket errors | req/s ÷ peer | p99 ÷ peer "
              "| req/s vs before |" + (" target met |" if multi else ""))
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" --- |" if multi else ""))
        peer, before = systems.get("peer"), systems.get("before")
        for system, r in systems.items():
            over_peer = f"{r['rps'] / peer['rps']:.1f}×" if peer and system != "peer" else "–"
            p99_peer = f"{r['p99'] / peer['p99']:.2f}" if peer and system != "peer" and peer["p99"] else "–"
            vs_before = (signed(round((r["rps"] / before["rps"] - 1) * 100)) + " %"
                         if before and system == "after" else "–")
            met = ""
            if multi:
                if system == "after" and peer and before:
                    ok = (r["rps"] >= 10 * peer["rps"] and r["p99"] <= peer["p99"] / 5
                          and r["rps"] >= 0.9 * before["rps"] and r["non2xx"] + r["socket"] == 0)
                    met = " yes |" if ok else " no |"
                else:
                    met = " – |"
            print(f"| {system} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['non2xx']} | "
                  f"{r['socket']} | {over_peer} | {p99_peer} | {vs_before} |{met}")
    if os.path.exists(memory_file):
        mib = lambda kib: f"{int(kib) / 1024:.1f}" if kib != "-" else "–"  # noqa: E731
        print("\n#### Memory (MiB): anonymous RSS / PSS, the whole process tree\n")
        print("| phase | system | idle | peak under load | at the end |")
        print("| --- | --- | ---: | ---: | ---: |")
        for line in open(memory_file):
            phase, system, ia, ip, pa, pp, ea, ep = line.rstrip("\n").split("\t")
            print(f"| {phase} | {system} | {mib(ia)} / {mib(ip)} | {mib(pa)} / {mib(pp)} | {mib(ea)} / {mib(ep)} |")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "signup":
        signup(int(args[0]), int(args[1]), args[2], int(args[3]) if len(args) > 3 else 16)
    elif command == "tasks":
        tasks(args[0], args[1], args[2], int(args[3]), args[4])
    elif command == "filler":
        filler(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    elif command == "sse":
        asyncio.run(subscribe(int(args[0]), args[1], args[2]))
    elif command == "report":
        report(args[0], args[1])
    else:
        sys.exit(__doc__)
