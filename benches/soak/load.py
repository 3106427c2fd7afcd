#!/usr/bin/env python3
"""Mixed load for the soak run (benches/soak/soak.sh): persisted-query GETs (the patrol-car
lookup by case number, by hash) and createOrder POSTs, at a fixed rate, from a few threads.

    load.py URL TOKEN HASH SECONDS RATE WRITE_SHARE
    load.py lines                         (the orders the GETs look up, as NDJSON for
                                           `ccpor import`, which soak.sh seeds with)
    load.py URL TOKEN HASH seed 0 0      (the same orders by createOrder POSTs)

Prints one summary line (JSON) at the end: requests, errors by kind. Synthetic data only."""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# How many orders the GETs look up (seeded first); CCPOR_SOAK_SEEDED.
SEEDED = int(os.environ.get("CCPOR_SOAK_SEEDED", "500"))
if sys.argv[1:] == ["lines"]:
    lines_only = True
else:
    lines_only = False
    url, token, op_hash, seconds, rate, write_share = sys.argv[1:7]
    seeding = seconds == "seed"
    seconds = 0.0 if seeding else float(seconds)
    rate, write_share = float(rate), float(write_share)
THREADS = 4
counts = {"get": 0, "post": 0, "errors": 0}
lock = threading.Lock()
stop_at = time.time() + (0 if lines_only else seconds)


# Made-up name parts: 85 surnames (some compound) and 40 given names, so the persons of a
# two-hour run are mostly distinct, as a registry's are.
SURNAMES = [a + b for a in ("Quin", "Oko", "Vale", "Ardo", "Belm", "Corv", "Dun", "Esq", "Fal",
                            "Gar", "Hol", "Ibar", "Jun", "Kel", "Lor", "Mend")
            for b in ("tero", "nkwo", "sby")] + [
    a + " " + b for a in ("Ruiz", "Paz", "Soto", "Lind") for b in ("Vale", "Ortega", "Marin", "Okafor")
    ] + ["Synth-" + c for c in "ABCDEFGHIJKLMNOPQRSTU"]
GIVEN = ["Ramiro", "Teodora", "Anselm", "Brisa", "Casimir", "Dalia", "Efrain", "Fenna", "Gideon",
         "Hilde", "Ivo", "Jacinta", "Koa", "Liesel", "Matteo", "Nerea", "Osric", "Paloma", "Quill",
         "Rosalind", "Saul", "Tamsin", "Ulises", "Vesna", "Wim", "Xiomara", "Yusuf", "Zinnia",
         "Amparo", "Bram", "Celeste", "Dorian", "Esme", "Florian", "Greta", "Hugo", "Ines", "Jory",
         "Karsten", "Leocadia"]
SEXES = ("MALE", "FEMALE")


def person(k, restrained):
    """Made-up person number `k`: a name, a DOB and (for the restrained party) descriptors. Each
    number is one person; order n names persons n and n // 4, so a person comes back in a few
    orders (identities of a handful of records) and never in thousands."""
    last = SURNAMES[k % len(SURNAMES)]
    first = GIVEN[(k // len(SURNAMES)) % len(GIVEN)]
    dob = time.strftime("%Y-%m-%d", time.gmtime(-315619200 + 86400 * ((k * 7919) % 14600)))
    p = {"lastName": last, "firstName": first, "dob": dob, "sex": SEXES[k % 2]}
    if restrained:
        p.update({"race": "WHITE", "heightInches": 60 + k % 18, "weightPounds": 120 + k % 90,
                  "hair": "BLACK", "eye": "BROWN"})
    return p


def order(case, k, days_ago=2):
    """A DV-110 input like the tests' `dv_tro`: made-up persons 2k+1 (restrained) and the
    protected person k // 4 of an earlier order, so some persons come back."""
    issued = time.time() - days_ago * 86400
    expires = issued + 21 * 86400
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    return {
        "courtCode": "SC19", "caseNumber": case, "family": "DV", "formNumber": "DV-110",
        "issuedAt": iso(issued), "expiresAt": iso(expires),
        "hearingDate": time.strftime("%Y-%m-%d", time.gmtime(expires)),
        "judicialOfficer": "Hon. A. Synthetic",
        "conditions": {"pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT",
                       "stayAwayYards": 100, "firearmRelinquishment": True},
        "parties": [
            {"role": "RESTRAINED", "relationship": "former spouse", "person": person(2 * k + 1, True)},
            {"role": "PROTECTED", "person": person(2 * (k // 4), False)},
        ],
    }


def get(case):
    q = urllib.parse.urlencode({
        "variables": json.dumps({"caseNumber": case}),
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": op_hash}}),
    })
    req = urllib.request.Request(f"{url}/graphql?{q}", headers={"authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def post(body):
    req = urllib.request.Request(
        f"{url}/graphql", data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def worker(n, create_doc):
    i = 0
    interval = THREADS / rate
    next_at = time.time()
    while time.time() < stop_at:
        i += 1
        writing = (i * 7919 + n) % 1000 < write_share * 1000
        try:
            if writing:
                case = f"26SK{n + 1}{i % 100000:05d}"
                k = SEEDED + (n + 1) * 1_000_000 + i
                body = post({"query": create_doc, "variables": {"i": order(case, k)}})
                kind = "post"
            else:
                body = get(f"26SK0{(i * 31) % SEEDED:05d}")
                kind = "get"
            ok = "errors" not in body
        except (urllib.error.URLError, OSError, ValueError):
            ok, kind = False, "get"
        with lock:
            counts[kind] += 1
            if not ok:
                counts["errors"] += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.time()))


CREATE = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }"
if lines_only:
    # The orders the GETs look up, 26SK000000, 26SK000001, …: one import is seconds where
    # one POST after another took about a second each in a debug build.
    for k in range(SEEDED):
        print(json.dumps(order(f"26SK0{k:05d}", k)))
    sys.exit(0)
if seeding:
    # The orders the GETs look up: 26SK000000, 26SK000001, …
    for k in range(SEEDED):
        body = post({"query": CREATE, "variables": {"i": order(f"26SK0{k:05d}", k)}})
        if "errors" in body:
            sys.exit(f"seeding: {body}")
    sys.exit(0)
threads = [threading.Thread(target=worker, args=(n, CREATE)) for n in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(counts))
