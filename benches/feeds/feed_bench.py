#!/usr/bin/env python3
"""Feed messages per second over HTTP (issue 24): POST /feeds/v1/messages on a running server.

Sends ISSUE messages of synthetic DV-110 orders (made-up names, one externalId each) in batches
of 1,000 and one at a time, then resends the 1,000-batches whole (every ack DUPLICATE), and prints
messages/s for each. Bounded: a fixed number of requests to a loopback address, then it stops.

    python3 benches/feeds/feed_bench.py --url http://127.0.0.1:8091 --token "$FEED_TOKEN" \
        --court SC19 --batches 5 --singles 300
"""
import argparse
import datetime as dt
import json
import time
import http.client
import random
import socket
import string
import urllib.parse
import uuid

LAST = ["Quintero Vale", "Okonkwo-Lind", "Abernathy", "Brightwater", "Tessaro", "Marlowe"]
FIRST = ["Ramiro", "Teodora", "Alden", "Corwin", "Dalia", "Fenna"]


def surname(i, k):
    """A made-up surname of the order's own: with a few shared names every order would conflict
    with every earlier one of its name, and the server's conflict checks after each batch would
    be what the bench measured."""
    r = random.Random(i * 2 + k)
    return LAST[(i + 3 * k) % 6].split()[0].split("-")[0] + "".join(
        r.choice(string.ascii_lowercase) for _ in range(4))


def dob(i):
    return (dt.date(1950, 1, 1) + dt.timedelta(days=random.Random(i).randrange(20000))).isoformat()


def order(i, court):
    issued = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    expires = issued + dt.timedelta(days=21)
    return {
        "courtCode": court,
        "caseNumber": f"26FL{i:07d}",
        "family": "DV",
        "formNumber": "DV-110",
        "issuedAt": issued.isoformat(),
        "expiresAt": expires.isoformat(),
        "hearingDate": expires.date().isoformat(),
        "judicialOfficer": "Hon. A. Synthetic",
        "conditions": {"pcoCodes": ["01", "04"], "contactLevel": "NO_CONTACT",
                       "stayAwayYards": 100, "firearmRelinquishment": True},
        "parties": [
            {"role": "RESTRAINED", "relationship": "former spouse",
             "person": {"lastName": surname(i, 0), "firstName": FIRST[(i // 6) % 6],
                        "dob": dob(i), "sex": "MALE", "race": "WHITE",
                        "heightInches": 70, "weightPounds": 180, "hair": "BLACK", "eye": "BROWN"}},
            {"role": "PROTECTED",
             "person": {"lastName": surname(i, 1), "firstName": FIRST[i % 6],
                        "estimatedAge": 35, "sex": "FEMALE"}},
        ],
    }


def message(run, i, court):
    return json.dumps({"messageId": f"{run}-{i}", "externalId": f"{run}-E{i}", "sequence": 1,
                       "action": "ISSUE", "order": order(i, court)})


_conn = None


def post(url, token, lines):
    """One request on a kept-alive connection with Nagle's algorithm off, as a CMS's HTTP client
    would send it. (urllib opened a connection per request and wrote the headers and the body
    in two sends, so each request waited ~40 ms for the server's delayed ACK: a batch of one
    measured the client, 24-41 requests/s, not the server.)"""
    global _conn
    u = urllib.parse.urlsplit(url)
    body = ("\n".join(lines) + "\n").encode()
    if _conn is None:
        _conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
        _conn.connect()
        _conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _conn.request("POST", u.path.rstrip("/") + "/feeds/v1/messages", body=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    resp = _conn.getresponse()
    text = resp.read().decode()
    if resp.status != 200:
        raise SystemExit(f"HTTP {resp.status}: {text[:200]}")
    acks = [json.loads(l) for l in text.splitlines() if l.strip()]
    return [a["status"] for a in acks]


def timed(label, url, token, batches, expect):
    n = sum(len(b) for b in batches)
    started = time.perf_counter()
    for b in batches:
        got = post(url, token, b)
        bad = [s for s in got if s != expect]
        if bad:
            raise SystemExit(f"{label}: expected {expect}, got {bad[:3]}")
    secs = time.perf_counter() - started
    print(f"{label}: {n} messages in {secs:.2f}s = {n / secs:.0f} messages/s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--court", default="SC19")
    p.add_argument("--batches", type=int, default=5)
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--singles", type=int, default=300)
    a = p.parse_args()
    run = uuid.uuid4().hex[:8]
    big = [[message(run, b * a.size + i, a.court) for i in range(a.size)] for b in range(a.batches)]
    base = a.batches * a.size
    singles = [[message(run, base + i, a.court)] for i in range(a.singles)]
    timed(f"batch {a.size}, new", a.url, a.token, big, "ACCEPTED")
    timed("batch 1, new", a.url, a.token, singles, "ACCEPTED")
    timed(f"batch {a.size}, resent (duplicates)", a.url, a.token, big, "DUPLICATE")
    timed("batch 1, resent (duplicates)", a.url, a.token, singles, "DUPLICATE")


if __name__ == "__main__":
    main()
