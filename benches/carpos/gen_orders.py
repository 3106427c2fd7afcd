#!/usr/bin/env python3
"""Synthetic DV-110 import lines for the CARPOS transmission figures in BENCHMARKS.md: N orders of
court SC19, each with a restrained person carrying all of the Protection Order File's mandatory
data (so every entry goes out, none is held) and a protected person. Made-up names; names take no
digits, so surnames are made distinct with letters.

    python3 benches/carpos/gen_orders.py 20000 > orders.ndjson
    python3 benches/carpos/gen_orders.py 1000000 --random > orders1m.ndjson

`--random` gives every person a random six-letter surname and date of birth and every order a
random case number (seeded, so the file is the same each time): real names land all over the name
indexes, where the counting surnames of the default keep their inserts in a few pages (the import
at statewide size, BENCHMARKS.md).
"""
import datetime
import json
import random
import string
import sys

n = int(sys.argv[1])
rand = "--random" in sys.argv[2:]
rng = random.Random(24)
now = datetime.datetime.now(datetime.timezone.utc)
issued = now - datetime.timedelta(days=2)
expires = issued + datetime.timedelta(days=21)
FIRST = ["Ramiro", "Teodora", "Alden", "Corwin", "Dalia", "Fenna", "Linh", "Omar"]


def letters(i):
    out = ""
    for _ in range(4):
        out += string.ascii_uppercase[i % 26]
        i //= 26
    return out.capitalize()


def surname():
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(6)).capitalize()


def dob():
    return (datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(24000))).isoformat()


cases = rng.sample(range(10_000_000), n) if rand else None
for i in range(n):
    case = f"26FL{cases[i]:07d}" if rand else f"26FL{9000000 + i:07d}"
    restrained = surname() if rand else f"Quintero {letters(i)}"
    protected = surname() if rand else f"Okonkwo {letters(i + 7)}"
    print(json.dumps({
        "courtCode": "SC19", "caseNumber": case, "family": "DV",
        "formNumber": "DV-110", "issuedAt": issued.isoformat(), "expiresAt": expires.isoformat(),
        "hearingDate": expires.date().isoformat(), "judicialOfficer": "Hon. A. Synthetic",
        "conditions": {"pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT",
                       "stayAwayYards": 100, "firearmRelinquishment": True},
        "parties": [
            {"role": "RESTRAINED", "relationship": "former spouse",
             "person": {"lastName": restrained, "firstName": FIRST[i % 8],
                        "dob": dob() if rand else "1984-02-29", "sex": "MALE", "race": "WHITE", "heightInches": 70,
                        "weightPounds": 180, "hair": "BLACK", "eye": "BROWN"}},
            {"role": "PROTECTED",
             "person": {"lastName": protected, "firstName": FIRST[(i + 3) % 8],
                        "estimatedAge": 35, "sex": "FEMALE"}},
        ],
    }))
