"""Python anchors for the pool benchmarks: ThreadPoolExecutor(max_workers=2).

Prints `PY <criterion group id> <ns per job>` lines for `cargo xtask bench`.
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor

QUICK = os.environ.get("CONTEXTURE_BENCH_QUICK") == "1"
JOBS = 20_000 if QUICK else 100_000


def tiny(n):
    return (n * 31) ^ 7


def per_job(run):
    best = None
    for _ in range(3):
        start = time.perf_counter()
        run()
        took = (time.perf_counter() - start) / JOBS * 1e9
        best = took if best is None else min(best, took)
    return best


with ThreadPoolExecutor(max_workers=2) as pool:
    def submit_and_wait():
        futures = [pool.submit(tiny, n) for n in range(JOBS)]
        for f in futures:
            f.result()

    def map_in_order():
        list(pool.map(tiny, range(JOBS)))

    print(f"PY pool submit+result per job (2 workers) {per_job(submit_and_wait):.1f}")
    print(f"PY pool map in order per item (2 workers) {per_job(map_in_order):.1f}")
