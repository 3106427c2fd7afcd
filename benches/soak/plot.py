#!/usr/bin/env python3
"""Plots a soak run's samples (benches/soak/soak.sh) into one PNG, four panels, and with --check
fails when a measure keeps growing after the warm-up.

    plot.py samples.csv soak.png [--check]

Flat means: after the warm-up (a fifth of the run, at least 6 minutes when it is 12 or longer), the last quarter's mean RSS is within
15 % (and 16 MiB) of the mean of the quarter after warm-up; the least of open files (less the
database connections' sockets) and the median of database connections in the last quarter are at
most 4 above those of the first quarter after warm-up (each over at least four samples: halves in
a short run); the cache's keys and memory are bounded
the same way as RSS (its entries expire; a leak would grow without bound). The cache is judged
only when the warm-up is the full 6 minutes: answers live 5 minutes, so in a shorter run (the
few-minute variant of scripts/test.sh) the cache is still filling by design and the check says
it was not judged."""
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, png = sys.argv[1], sys.argv[2]
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(src))]
if len(rows) < 6:
    sys.exit(f"{src}: only {len(rows)} samples")
t = [r["seconds"] / 60 for r in rows]
fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
panels = [
    ("rss_mib", "server RSS (MiB)"),
    ("open_files", "open files"),
    ("db_connections", "PostgreSQL connections"),
    ("cache_mib", "cache: Redis memory (MiB)"),
]
for ax, (key, title) in zip(axes.flat, panels):
    ax.plot(t, [r[key] for r in rows], lw=1.4)
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0, top=max(r[key] for r in rows) * 1.25 + 1)
    ax.grid(alpha=0.3)
for ax in axes[1]:
    ax.set_xlabel("minutes")
fig.suptitle(f"ccpor soak: {t[-1]:.0f} min of mixed load, sampled every 10 s", fontsize=11)
fig.tight_layout()
fig.savefig(png, dpi=90)
print(f"wrote {png}")

if "--check" in sys.argv:
    # Warm-up: a fifth of the run, and at least six minutes when the run allows (answers stay
    # cached for 5 minutes, so the cache fills for that long before entries start to expire).
    warm = max(len(rows) // 5, min(36, len(rows) // 2))
    after = rows[warm:]
    q = max(1, len(after) // 4)
    problems = []
    judged = ("rss_mib", "cache_mib", "cache_keys") if warm >= 36 else ("rss_mib",)
    if warm < 36:
        print(f"cache: not judged (warm-up {warm * 10} s is shorter than the answers' 5-minute lifetime)")
    for key in judged:
        early = sum(r[key] for r in after[:q]) / q
        late = sum(r[key] for r in after[-q:]) / q
        slack = 16 if key.endswith("mib") else 0
        if late > early * 1.15 + slack:
            problems.append(f"{key} grew from {early:.1f} to {late:.1f}")
    # Open files include the sockets of requests in flight and of the cache's pool, which come
    # and go: a leak shows as a rising floor, not as peaks. In a CI run they swung between about
    # 14 and 28 from one ten-second sample to the next with nothing climbing, and the last
    # quarter's median came out 12 above the first's: the floor (a quarter's least) is judged.
    # They also include one socket per database connection, which the pools open as the load
    # asks, up to their bound, and which are judged on their own (median): open files are judged
    # without them.
    # A floor is the least of at least four samples: the short variant has eight after its
    # warm-up, and the least of a quarter's two was whatever those two happened to catch (a CI
    # run's judged 14 then 23, with samples of 14 in both halves).
    w = max(q, min(4, len(after) // 2))
    other = lambda r: r["open_files"] - r["db_connections"]  # noqa: E731
    first, last = min(other(r) for r in after[:w]), min(other(r) for r in after[-w:])
    if last > first + 4:
        problems.append(f"open files other than database connections: floor rose from {first:.0f} to {last:.0f}")
    first = statistics.median(r["db_connections"] for r in after[:w])
    last = statistics.median(r["db_connections"] for r in after[-w:])
    if last > first + 4:
        problems.append(f"db_connections: median rose from {first:.0f} to {last:.0f}")
    for p in problems:
        print("NOT FLAT:", p)
    sys.exit(1 if problems else 0)
