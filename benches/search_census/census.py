#!/usr/bin/env python3
"""Person search on records noised by somebody else's generator (BENCHMARKS.md, issue 21).

Our own development set (`cargo bench --bench search`) is noised by our own code, which knows
what our search does. This set is not: the persons are the simulated population that ships with
pseudopeople (`pip install pseudopeople`, the Institute for Health Metrics and Evaluation's
census-style simulator, no real person in it), the registry holds each person's record as the
simulator made it without noise, and every query is the same person's census response with the
simulator's own noise (typos, OCR and phonetic errors, nicknames, fake names such as "Of The
House" or "No Name", blank fields, swapped month and day, a household member's DOB), ten times
its default rate. Only responses that differ from the person's record are asked. Distractor
persons (`--distractors FILE`, `last\\tfirst\\tdob\\tmiddle` lines, e.g. demo persons) make the
registry as large as wanted.

    census.py make DIR [--distractors FILE] [--scale 10] [--seed 7]   # DIR/persons.tsv, cases.tsv
    census.py pgtrgm DIR POSTGRES_URL    # pg_trgm on the same persons and cases (psycopg)

DIR is a dump as `benches/search_http/run.sh` takes it, so the same cases go through
`searchPersons` over HTTP with the DOB as typed (`dobText`).
"""
import copy
import datetime
import sys
import warnings


def _generate(seed, scale):
    import pseudopeople as psp

    warnings.filterwarnings("ignore")
    cfg = copy.deepcopy({"decennial_census": psp.get_config()["decennial_census"]})
    for fns in cfg["decennial_census"]["column_noise"].values():
        for p in fns.values():
            if "cell_probability" in p:
                p["cell_probability"] = min(0.5, p["cell_probability"] * scale)
    clean = psp.generate_decennial_census(seed=seed, config=psp.NO_NOISE, verbose=False)
    noisy = psp.generate_decennial_census(seed=seed, config=cfg, verbose=False)
    return clean, noisy


def _s(v):
    return "" if v is None or v != v else str(v).strip()


def _iso(typed):
    d = _dob(typed)
    return d.isoformat() if d else ""


def make(d, distractors, scale, seed):
    import os

    clean, noisy = _generate(seed, scale)
    os.makedirs(d, exist_ok=True)
    ids, people = {}, []
    for r in clean.itertuples():
        if r.simulant_id in ids:
            continue
        ids[r.simulant_id] = len(people) + 1
        people.append((_s(r.last_name), _s(r.first_name), _iso(_s(r.date_of_birth)), _s(r.middle_initial)))
    truth = {sid: people[i - 1] for sid, i in ids.items()}
    with open(f"{d}/persons.tsv", "w", encoding="utf-8") as f:
        for i, (last, first, dob, middle) in enumerate(people, 1):
            f.write(f"{i}\t{last}\t{first}\t{dob}\t{middle}\n")
        n = len(people)
        if distractors:
            with open(distractors, encoding="utf-8") as g:
                for line in g:
                    last, first, dob, middle = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
                    n += 1
                    f.write(f"{n}\t{last}\t{first}\t{dob}\t{middle}\n")
    cases = 0
    with open(f"{d}/cases.tsv", "w", encoding="utf-8") as f:
        for r in noisy.itertuples():
            if r.simulant_id not in truth:
                continue
            last, first, dob, _ = truth[r.simulant_id]
            q_last, q_first, typed = _s(r.last_name), _s(r.first_name), _s(r.date_of_birth)
            wrong = [p for p, a, b in (("first", q_first, first), ("last", q_last, last),
                                       ("dob", _iso(typed), dob)) if a != b]
            if not wrong or not (q_last or q_first):
                continue
            kind = "census " + "+".join(wrong)
            target = ids[r.simulant_id]
            for suffix, t in ((", with DOB", typed), (", name-only", "")):
                # kind, target, last, first, dob, partial, note, typed (the dump's columns)
                f.write(f"{kind}{suffix}\t{target}\t{q_last}\t{q_first}\t\t\t\t{t}\n")
                cases += 1
    print(f"{len(people)} census persons, {n - len(people)} distractors, {cases} cases in {d}",
          file=sys.stderr)


def _dob(typed):
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(typed, fmt).date()
        except ValueError:
            pass
    return None


def pgtrgm(d, url):
    """The trigram index a user could set up in an afternoon: `similarity` over "last first",
    plus 0.3 for an exact DOB (the same ranking as the in-process bench's pg_trgm side)."""
    import collections

    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS ccpor_census_trgm")
        admin.execute("CREATE DATABASE ccpor_census_trgm")
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/ccpor_census_trgm", autocommit=True) as db:
        db.execute("CREATE EXTENSION pg_trgm")
        db.execute("CREATE TABLE p (id bigint primary key, full_name text not null, dob date)")
        with db.cursor().copy("COPY p (id, full_name, dob) FROM STDIN") as cp:
            with open(f"{d}/persons.tsv", encoding="utf-8") as f:
                for line in f:
                    pid, last, first, dob, _ = line.rstrip("\n").split("\t")
                    cp.write_row((int(pid), f"{last} {first}", dob or None))
        db.execute("CREATE INDEX ON p USING gin (full_name gin_trgm_ops)")
        db.execute("ANALYZE p")
        groups = collections.defaultdict(lambda: [0, 0])
        kinds = collections.defaultdict(lambda: [0, 0])
        with open(f"{d}/cases.tsv", encoding="utf-8") as f:
            for line in f:
                c = line.rstrip("\n").split("\t")
                kind, target, last, first, typed = c[0], int(c[1]), c[2], c[3], c[7]
                text = f"{last} {first}".strip()
                rows = db.execute(
                    "SELECT id FROM p WHERE full_name %% %s ORDER BY similarity(full_name, %s)"
                    " + CASE WHEN dob = %s THEN 0.3 ELSE 0 END DESC LIMIT 10",
                    (text, text, _dob(typed)),
                ).fetchall()
                found = target in [r[0] for r in rows]
                g = "with DOB" if kind.endswith(", with DOB") else "name-only"
                groups[g][0] += 1
                groups[g][1] += found
                kinds[kind][0] += 1
                kinds[kind][1] += found
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS ccpor_census_trgm")
    print("\n| set (pg_trgm) | queries | recall@10 |\n|---|---:|---:|")
    for k in sorted(kinds):
        n, found = kinds[k]
        print(f"| {k} | {n} | {found / n:.3f} |")
    print("\n| group (pg_trgm) | queries | recall@10 |\n|---|---:|---:|")
    for g in ("with DOB", "name-only"):
        n, found = groups[g]
        print(f"| {g} | {n} | {found / max(n, 1):.3f} |")


if __name__ == "__main__":
    a = sys.argv[1:]
    opt = lambda k, default: a[a.index(k) + 1] if k in a else default  # noqa: E731
    if a[:1] == ["make"] and len(a) >= 2:
        make(a[1], opt("--distractors", None), float(opt("--scale", 10)), int(opt("--seed", 7)))
    elif a[:1] == ["pgtrgm"] and len(a) >= 3:
        pgtrgm(a[1], a[2])
    else:
        raise SystemExit(__doc__)
