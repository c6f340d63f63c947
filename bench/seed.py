#!/usr/bin/env python3
"""Seeds a benchmark database: one user with N tasks among a million in all.

    seed.py sqlite PATH USER_ID [USER_TASKS] [TOTAL]
    seed.py postgres URL USER_ID [USER_TASKS] [TOTAL]

The data is random but seeded, so runs are comparable: three-word titles from a 200-word
vocabulary, descriptions on a third, all five priorities, due dates on half (timed and
all-day), a third completed, ten tags on the benchmark user's tasks.
"""
import datetime
import random
import subprocess
import sys

WORDS = (
    "report budget invoice meeting call email review plan draft design code test deploy fix bug "
    "release update write read book order pay rent buy milk bread coffee tea clean kitchen garden "
    "water plants walk dog feed cat gym run swim bike yoga doctor dentist school homework project "
    "client contract proposal slides notes agenda minutes sync standup retro sprint ticket issue "
    "backup server database migrate index query schema api docs website blog post video photo "
    "travel flight hotel visa passport ticket train car insurance tax bank loan card receipt "
    "birthday gift party dinner lunch breakfast recipe groceries laundry repair paint fence roof "
    "window door light bulb battery charger phone laptop monitor keyboard mouse printer paper "
    "shelf desk chair sofa bed pillow blanket towel soap shampoo toothpaste brush comb mirror "
    "letter package delivery return refund warranty manual guide course lesson exam grade thesis "
    "chapter page article paper review edit publish share print scan sign send reply forward "
    "archive delete sort file folder label tag color list board card column row cell sheet chart "
    "graph data model train evaluate tune monitor alert page oncall incident postmortem runbook"
).split()
TAGS = ["home", "work", "errands", "health", "family", "finance", "travel", "learning", "urgent-ish", "someday"]
NOW = datetime.datetime(2026, 11, 23, 12, 0, 0, tzinfo=datetime.timezone.utc)


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Builds from issue 20 on keep every task in a project: each user's Inbox, made with the account
# (users inserted by SQL get theirs here). Older builds have no projects table.
INBOXES = """
INSERT INTO projects (owner_id, name, inbox, created_at, updated_at)
    SELECT id, 'Inbox', TRUE, created_at, created_at FROM users u
    WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.owner_id = u.id AND p.inbox);
INSERT INTO project_members (project_id, user_id, role, position, created_at)
    SELECT id, owner_id, 'owner', 0, created_at FROM projects p
    WHERE NOT EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id);
"""


def rows(user_id, user_tasks, total):
    rng = random.Random(42)
    for n in range(1, total + 1):
        owner = user_id if n <= user_tasks else f"bench-{n % 900 + 1}"
        title = " ".join(rng.choice(WORDS) for _ in range(3)).capitalize()
        description = " ".join(rng.choice(WORDS) for _ in range(8)) if rng.random() < 0.33 else None
        completed = rng.random() < 0.33
        priority = rng.randrange(5)
        due_at = due_date = due_key = None
        r = rng.random()
        if r < 0.3:
            due_at = NOW + datetime.timedelta(minutes=rng.randrange(-60 * 24 * 60, 60 * 24 * 120))
            due_key = due_at
        elif r < 0.5:
            due_date = (NOW + datetime.timedelta(days=rng.randrange(-60, 120))).date()
            due_key = datetime.datetime.combine(due_date, datetime.time(23, 59, 59, 999999), datetime.timezone.utc)
        created = NOW - datetime.timedelta(seconds=total - n)
        yield (owner, title, description, completed, priority, due_at, due_date, due_key, n, created)


def seed_sqlite(path, user_id, user_tasks, total):
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    stamp = ts(NOW)
    db.executemany(
        "INSERT OR IGNORE INTO users (id, email, timezone, created_at, updated_at) VALUES (?, ?, 'UTC', ?, ?)",
        [(f"bench-{i}", f"bench-{i}@example.com", stamp, stamp) for i in range(1, 901)],
    )
    inbox = {}
    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'projects'").fetchone()[0]:
        db.executescript(INBOXES)
        inbox = dict(db.execute("SELECT owner_id, id FROM projects WHERE inbox"))
    db.executemany(
        "INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at, due_date, "
        "due_key, position, created_at, updated_at" + (", project_id" if inbox else "") + ") VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?" + (", ?" if inbox else "") + ")",
        (
            (o, t, d, int(c), ts(cr) if c else None, p, ts(da) if da else None, dd.isoformat() if dd else None,
             ts(dk) if dk else None, n, ts(cr), ts(cr)) + ((inbox[o],) if inbox else ())
            for (o, t, d, c, p, da, dd, dk, n, cr) in rows(user_id, user_tasks, total)
        ),
    )
    for tag in TAGS:
        db.execute(
            "INSERT INTO tags (user_id, name, name_key, created_at) VALUES (?, ?, ?, ?)", (user_id, tag, tag, stamp)
        )
    db.execute(
        "INSERT INTO task_tags (user_id, task_id, tag_id) SELECT t.user_id, t.id, g.id FROM tasks t "
        "JOIN tags g ON g.user_id = t.user_id AND g.id % 10 = t.id % 10 WHERE t.user_id = ? AND t.id % 3 = 0",
        (user_id,),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def seed_postgres(url, user_id, user_tasks, total):
    def sql_literal(value):
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")

    users = "".join(
        f"INSERT INTO users (id, email, timezone, created_at, updated_at) VALUES ('bench-{i}', "
        f"'bench-{i}@example.com', 'UTC', now(), now()) ON CONFLICT DO NOTHING;\n" for i in range(1, 901)
    )
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=users, text=True, check=True)
    has_projects = subprocess.run(["psql", url, "-Atc", "SELECT to_regclass('projects') IS NOT NULL"],
                                  text=True, check=True, capture_output=True).stdout.strip() == "t"
    inbox = {}
    if has_projects:
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=INBOXES, text=True, check=True)
        listing = subprocess.run(["psql", url, "-AtF", " ", "-c", "SELECT owner_id, id FROM projects WHERE inbox"],
                                 text=True, check=True, capture_output=True).stdout
        inbox = dict(line.split() for line in listing.splitlines())
    copy = subprocess.Popen(
        ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
         "COPY tasks (user_id, title, description, completed, completed_at, priority, due_at, due_date, due_key, "
         "position, created_at, updated_at" + (", project_id" if inbox else "") + ") FROM STDIN"],
        stdin=subprocess.PIPE, text=True,
    )
    for (o, t, d, c, p, da, dd, dk, n, cr) in rows(user_id, user_tasks, total):
        fields = [o, t, d, c, cr if c else None, p, da, dd, dk, n, cr, cr] + ([inbox[o]] if inbox else [])
        copy.stdin.write("\t".join(sql_literal(f) for f in fields) + "\n")
    copy.stdin.close()
    if copy.wait() != 0:
        sys.exit("COPY failed")
    tags = "".join(
        f"INSERT INTO tags (user_id, name, name_key, created_at) VALUES ('{user_id}', '{tag}', '{tag}', now());\n"
        for tag in TAGS
    )
    link = (
        "INSERT INTO task_tags (user_id, task_id, tag_id) SELECT t.user_id, t.id, g.id FROM tasks t "
        f"JOIN tags g ON g.user_id = t.user_id AND g.id % 10 = t.id % 10 WHERE t.user_id = '{user_id}' AND t.id % 3 = 0;\n"
        "VACUUM ANALYZE;\n"
    )
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=tags + link, text=True, check=True)


if __name__ == "__main__":
    kind, target, user = sys.argv[1:4]
    user_tasks = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    total = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000_000
    {"sqlite": seed_sqlite, "postgres": seed_postgres}[kind](target, user, user_tasks, total)
