"""Warm-up pass for the throughput benchmark: sends every request body of a file once (one JSON
body per line), from 50 keep-alive connections, and fails if any answer is not 200.

    python3 warm.py URL BODIES TOKEN
"""
import http.client
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

CONNECTIONS = 50


def main() -> int:
    url, bodies_file, token = sys.argv[1], sys.argv[2], sys.argv[3]
    target = urllib.parse.urlsplit(url)
    with open(bodies_file, encoding="utf-8") as f:
        bodies = [line.rstrip("\n").encode() for line in f if line.strip()]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    local = threading.local()

    def send(body: bytes) -> int:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        local.conn.request("POST", target.path, body=body, headers=headers)
        resp = local.conn.getresponse()
        resp.read()
        return resp.status

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        statuses = list(pool.map(send, bodies))
    bad = [s for s in statuses if s != 200]
    print(f"warm-up: {len(statuses)} requests, {len(bad)} not 200", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
