"""Writes the request bodies of the throughput benchmark, one JSON body per line, from a sample
of the seeded database: bench dashboards for random persons, LEA lookups by case number (as
persisted-query hashes), name + DOB searches with one typo in half the names, PostGraphile's
person-with-orders query, and personHistory with that same selection.

    python3 bodies.py <sqlite file | postgres URL> <manifest.json> <out dir> [sample size]
"""
import json
import base64
import random
import subprocess
import sqlite3
import sys

db, manifest_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
rng = random.Random(7)


def rows(sql):
    if db.startswith("postgres"):
        res = subprocess.run(["psql", db, "-tAF", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in res.splitlines() if line]
    con = sqlite3.connect(db)
    return [[str(c) for c in r] for r in con.execute(sql)]


def gid(kind, i):
    return base64.urlsafe_b64encode(f"{kind}:{i}".encode()).decode().rstrip("=")


manifest = json.load(open(manifest_path))
by_name = {op["name"]: (op["id"], op["body"]) for op in manifest["operations"]}

persons = rows(f"SELECT id FROM person ORDER BY random() LIMIT {n}")
cases = rows(f"SELECT case_number FROM protective_order ORDER BY random() LIMIT {n}")
named = rows("SELECT first_name, last_name, dob FROM person WHERE dob IS NOT NULL AND "
             f"first_name IS NOT NULL AND last_name IS NOT NULL ORDER BY random() LIMIT {n}")


def typo(s):
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def write(name, bodies):
    with open(f"{out}/{name}.jsonl", "w") as f:
        for b in bodies:
            f.write(json.dumps(b, separators=(",", ":")) + "\n")


_, dash = by_name["BenchDashboard"]
write("history", [{"query": dash, "operationName": "BenchDashboard",
                   "variables": {"personId": gid("Person", int(p[0]))}} for p in persons])
# The same person-with-orders selection as PostGraphile's query below, for a like-for-like row.
LEAN = ("query Lean($personId: ID!) { personHistory(personId: $personId) { person { id fullName dob } "
        "chains { roles orders { id caseNumber formNumber family issuedAt expiresAt } courts { name } } } }")
write("history_lean", [{"query": LEAN, "operationName": "Lean",
                        "variables": {"personId": gid("Person", int(p[0]))}} for p in persons])
lea_hash, _ = by_name["LeaCaseLookup"]
write("lea", [{"operationName": "LeaCaseLookup", "variables": {"caseNumber": c[0]},
               "extensions": {"persistedQuery": {"version": 1, "sha256Hash": lea_hash}}}
              for c in cases])
_, search = by_name["PersonSearch"]
write("search", [{"query": search, "operationName": "PersonSearch",
                  "variables": {"name": f"{f} {typo(l) if k % 2 else l}", "dob": d}}
                 for k, (f, l, d) in enumerate(named)])
PG = ("query($id: Int!) { personById(id: $id) { id lastName firstName dob "
      "orderPartiesByPersonId { nodes { role protectiveOrderByOrderId { id caseNumber formNumber "
      "family issuedAt expiresAt courtByCourtId { name } } } } } }")
write("postgraphile", [{"query": PG, "variables": {"id": int(p[0])}} for p in persons])
print(f"{len(persons)} persons, {len(cases)} case numbers, {len(named)} names")
