#!/usr/bin/env python3
"""Person search through the server, as a court's client meets it (BENCHMARKS.md, issue 21).

The in-process bench (`cargo bench --bench search`) dumps its population and development set
with CCPOR_BENCH_DUMP=DIR (persons.tsv, cases.tsv). This script turns the population into import
lines, two persons an order, and asks every case through `searchPersons` over HTTP, one request
at a time on one kept-alive connection, the DOB as the client typed it (`dobText`).

    search_http.py orders DIR > orders.ndjson
    search_http.py query DIR URL TOKEN [--warm N]

Recall counts a case found when one of the first 10 persons has the target's surname, given
name, middle name and DOB (ids differ between the dump and the database). Prints markdown.
"""
import collections
import datetime
import http.client
import json
import sys
import time
import urllib.parse

QUERY = """query($last: String, $first: String, $dobText: String) {
  searchPersons(lastName: $last, firstName: $first, dobText: $dobText, first: 10) {
    edges { node { person { lastName firstName middleName dob } } }
  }
}"""


def persons(d):
    with open(f"{d}/persons.tsv", encoding="utf-8") as f:
        for line in f:
            pid, last, first, dob, middle = line.rstrip("\n").split("\t")
            yield int(pid), last, first, dob, middle


def orders(d):
    now = datetime.datetime.now(datetime.timezone.utc)
    issued = (now - datetime.timedelta(days=2)).isoformat()
    expires = (now + datetime.timedelta(days=19)).isoformat()
    hearing = (now + datetime.timedelta(days=19)).date().isoformat()
    pair = []
    n = 0
    out = sys.stdout
    for p in persons(d):
        pair.append(p)
        if len(pair) < 2:
            continue
        parties = []
        for role, (_, last, first, dob, middle) in zip(("RESTRAINED", "PROTECTED"), pair):
            person = {"lastName": last, "firstName": first}
            if dob:
                person["dob"] = dob
            if middle:
                person["middleName"] = middle
            parties.append({"role": role, "person": person})
        out.write(json.dumps({
            "courtCode": "SC19", "caseNumber": f"26FL{n:08d}", "family": "DV",
            "formNumber": "DV-110", "issuedAt": issued, "expiresAt": expires,
            "hearingDate": hearing, "judicialOfficer": "Hon. A. Synthetic",
            "conditions": {"contactLevel": "NO_CONTACT"}, "parties": parties,
        }, ensure_ascii=False) + "\n")
        pair = []
        n += 1


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def query(d, url, token, warm):
    who = {}
    for pid, last, first, dob, middle in persons(d):
        who[pid] = (last, first, middle or None, dob)
    cases = []
    with open(f"{d}/cases.tsv", encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            kind, target, last, first, typed = c[0], int(c[1]), c[2], c[3], c[7]
            if target in who:
                cases.append((kind, target, last or None, first or None, typed or None))
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    refused = collections.Counter()

    def ask(last, first, typed):
        body = json.dumps({"query": QUERY, "variables": {"last": last, "first": first, "dobText": typed}})
        t = time.perf_counter()
        conn.request("POST", u.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t) * 1000
        doc = json.loads(data)
        errors = doc.get("errors") or []
        code = errors[0].get("extensions", {}).get("code") if errors else None
        if r.status != 200 or (errors and code != "VALIDATION"):
            raise SystemExit(f"request failed ({r.status}): {data[:300]!r}")
        if errors:
            # A query the server refuses (a DOB it cannot read) finds nobody: a miss, counted.
            refused[code] += 1
            return ms, []
        edges = doc["data"]["searchPersons"]["edges"]
        return ms, [(e["node"]["person"]["lastName"], e["node"]["person"]["firstName"],
                     e["node"]["person"]["middleName"], e["node"]["person"]["dob"]) for e in edges]

    # Warm the server's pages with other persons' exact names (never a measured query).
    for pid in list(who)[:: max(1, len(who) // max(1, warm))][:warm]:
        last, first, _, dob = who[pid]
        ask(last, first, dob)
    lat, by_kind = [], collections.defaultdict(lambda: [0, 0])
    groups = collections.defaultdict(lambda: [0, 0])
    for kind, target, last, first, typed in cases:
        ms, hits = ask(last, first, typed)
        lat.append(ms)
        found = who[target] in hits[:10]
        by_kind[kind][0] += 1
        by_kind[kind][1] += found
        g = "noisy set, with DOB" if kind.endswith(", with DOB") else \
            "noisy set, name-only" if kind.endswith(", name-only") else "original set"
        groups[g][0] += 1
        groups[g][1] += found
    print(f"| HTTP searchPersons, {len(lat)} queries, one at a time | p50 {pct(lat, .5):.2f} ms "
          f"| p99 {pct(lat, .99):.2f} ms | max {max(lat):.2f} ms |\n|---|---|---|---|")
    if refused:
        print(f"\nrefused (counted as misses): {dict(refused)}")
    print("\n| set (HTTP) | queries | recall@10 |\n|---|---:|---:|")
    for k in sorted(by_kind):
        n, f = by_kind[k]
        print(f"| {k} | {n} | {f / n:.3f} |")
    print("\n| group (HTTP) | queries | recall@10 |\n|---|---:|---:|")
    for g in ("noisy set, with DOB", "noisy set, name-only", "original set"):
        n, f = groups[g]
        print(f"| {g} | {n} | {f / max(n, 1):.3f} |")


if __name__ == "__main__":
    if sys.argv[1] == "orders":
        orders(sys.argv[2])
    elif sys.argv[1] == "query":
        warm = int(sys.argv[sys.argv.index("--warm") + 1]) if "--warm" in sys.argv else 500
        query(sys.argv[2], sys.argv[3], sys.argv[4], warm)
    else:
        raise SystemExit(__doc__)
