#!/usr/bin/env python3
"""Synthetic DV-110 import lines for the CARPOS transmission figures in BENCHMARKS.md: N orders of
court SC19, each with a restrained person carrying all of the Protection Order File's mandatory
data (so every entry goes out, none is held) and a protected person. Made-up names; names take no
digits, so surnames are made distinct with letters.

    python3 benches/carpos/gen_orders.py 20000 > orders.ndjson
"""
import datetime
import json
import string
import sys

n = int(sys.argv[1])
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


for i in range(n):
    print(json.dumps({
        "courtCode": "SC19", "caseNumber": f"26FL{9000000 + i:07d}", "family": "DV",
        "formNumber": "DV-110", "issuedAt": issued.isoformat(), "expiresAt": expires.isoformat(),
        "hearingDate": expires.date().isoformat(), "judicialOfficer": "Hon. A. Synthetic",
        "conditions": {"pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT",
                       "stayAwayYards": 100, "firearmRelinquishment": True},
        "parties": [
            {"role": "RESTRAINED", "relationship": "former spouse",
             "person": {"lastName": f"Quintero {letters(i)}", "firstName": FIRST[i % 8],
                        "dob": "1984-02-29", "sex": "MALE", "race": "WHITE", "heightInches": 70,
                        "weightPounds": 180, "hair": "BLACK", "eye": "BROWN"}},
            {"role": "PROTECTED",
             "person": {"lastName": f"Okonkwo {letters(i + 7)}", "firstName": FIRST[(i + 3) % 8],
                        "estimatedAge": 35, "sex": "FEMALE"}},
        ],
    }))
