"""CPython anchors for `crates/bench/benches/sync.rs`: prints `PY <group_id> <ns_per_op>`.

Same operations as the Rust groups: threading.Lock acquire+release uncontended, two threads
contending with fixed work, RLock at depth 1 and 3, a Condition ping-pong round trip, a
2-thread Barrier round, a 1-producer/1-consumer queue.Queue(1024) per item, Semaphore
acquire+release uncontended, and an Event ping-pong round trip; and asyncio's faces: a
1-producer-task/1-consumer-task asyncio.Queue(1024) per item, asyncio.Lock and
asyncio.Semaphore acquire+release uncontended inside one task.
`CONTEXTURE_BENCH_QUICK=1` shortens the runs; `CONTEXTURE_BENCH_FILTER` selects groups.
"""

import asyncio
import os
import queue
import threading
import time
import timeit

QUICK = os.environ.get("CONTEXTURE_BENCH_QUICK") == "1"
FILTER = os.environ.get("CONTEXTURE_BENCH_FILTER", "")
SCALE = 1 if QUICK else 5


def report(group, ns):
    if FILTER in group:
        print(f"PY {group} {ns:.1f}", flush=True)


def best_ns(stmt, number, setup="pass", globs=None):
    """Best of 5 runs of `number` executions, in ns per execution."""
    times = timeit.repeat(stmt, setup=setup, number=number, repeat=5, globals=globs)
    return min(times) / number * 1e9


def uncontended():
    lock = threading.Lock()
    ns = best_ns("with lock: pass", 200_000 * SCALE, globs={"lock": lock})
    report("sync lock acquire+release (uncontended)", ns)


def work(x):
    for i in range(8):
        x = (x * 31 + i) & 0xFFFFFFFFFFFFFFFF
    return x


def contended():
    iters = 20_000 * SCALE
    lock = threading.Lock()
    shared = [0]
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        x = 1
        for _ in range(iters):
            with lock:
                shared[0] = work(shared[0])
            x = work(x)
        barrier.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    barrier.wait()
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    report("sync lock 2 threads contended", elapsed / iters * 1e9)


def reentrant():
    rlock = threading.RLock()
    n = 200_000 * SCALE
    report("sync rlock acquire+release/1", best_ns("with r: pass", n, globs={"r": rlock}))
    report(
        "sync rlock acquire+release/3",
        best_ns("with r:\n with r:\n  with r: pass", n, globs={"r": rlock}),
    )


def ping_pong():
    rounds = 2_000 * SCALE
    cond = threading.Condition()
    turn = [0]  # 0: main's turn, 1: partner's, 2: stop

    def partner():
        with cond:
            while True:
                cond.wait_for(lambda: turn[0] != 0)
                if turn[0] == 2:
                    return
                turn[0] = 0
                cond.notify()

    t = threading.Thread(target=partner)
    t.start()
    with cond:
        start = time.perf_counter()
        for _ in range(rounds):
            turn[0] = 1
            cond.notify()
            cond.wait_for(lambda: turn[0] == 0)
        elapsed = time.perf_counter() - start
        turn[0] = 2
        cond.notify()
    t.join()
    report("sync condition ping-pong", elapsed / rounds * 1e9)


def barrier_round():
    rounds = 2_000 * SCALE
    barrier = threading.Barrier(2)

    def partner():
        for _ in range(rounds):
            barrier.wait()

    t = threading.Thread(target=partner)
    t.start()
    start = time.perf_counter()
    for _ in range(rounds):
        barrier.wait()
    elapsed = time.perf_counter() - start
    t.join()
    report("sync barrier round (2 threads)", elapsed / rounds * 1e9)


def queue_1p1c():
    items = 20_000 * SCALE
    q = queue.Queue(1024)

    def producer():
        for i in range(items):
            q.put(i)

    t = threading.Thread(target=producer)
    t.start()
    start = time.perf_counter()
    for _ in range(items):
        q.get()
    elapsed = time.perf_counter() - start
    t.join()
    report("sync queue 1p1c bounded 1024 (per item)", elapsed / items * 1e9)


def semaphore_uncontended():
    sem = threading.Semaphore(1)
    ns = best_ns("with sem: pass", 200_000 * SCALE, globs={"sem": sem})
    report("sync semaphore acquire+release (uncontended)", ns)


def event_ping_pong():
    rounds = 2_000 * SCALE
    ping, pong = threading.Event(), threading.Event()

    def partner():
        for _ in range(rounds):
            ping.wait()
            ping.clear()
            pong.set()

    t = threading.Thread(target=partner)
    t.start()
    start = time.perf_counter()
    for _ in range(rounds):
        ping.set()
        pong.wait()
        pong.clear()
    elapsed = time.perf_counter() - start
    t.join()
    report("sync event ping-pong", elapsed / rounds * 1e9)


def async_queue_1p1c():
    items = 50_000 * SCALE

    async def run():
        q = asyncio.Queue(1024)

        async def producer():
            for i in range(items):
                await q.put(i)

        start = time.perf_counter()
        task = asyncio.create_task(producer())
        for _ in range(items):
            await q.get()
        elapsed = time.perf_counter() - start
        await task
        return elapsed

    elapsed = asyncio.run(run())
    report("sync async queue 1p1c tasks bounded 1024 (per item)", elapsed / items * 1e9)


def async_uncontended():
    n = 100_000 * SCALE

    async def lock_run():
        lock = asyncio.Lock()
        start = time.perf_counter()
        for _ in range(n):
            async with lock:
                pass
        return time.perf_counter() - start

    async def sem_run():
        sem = asyncio.Semaphore(1)
        start = time.perf_counter()
        for _ in range(n):
            async with sem:
                pass
        return time.perf_counter() - start

    best = min(asyncio.run(sem_run()) for _ in range(3))
    report("sync async semaphore acquire_async+release (uncontended)", best / n * 1e9)
    best = min(asyncio.run(lock_run()) for _ in range(3))
    report("sync async lock acquire_async+release (uncontended)", best / n * 1e9)


if __name__ == "__main__":
    uncontended()
    contended()
    reentrant()
    ping_pong()
    barrier_round()
    queue_1p1c()
    semaphore_uncontended()
    event_ping_pong()
    async_queue_1p1c()
    async_uncontended()
