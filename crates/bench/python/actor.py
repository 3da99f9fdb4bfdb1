"""CPython anchors for `crates/bench/benches/actor.rs`: prints `PY <group_id> <ns_per_op>`.

The seed's asyncio `Actor`: an unbounded `asyncio.Queue` inbox and one task taking
messages from it and awaiting `handle`; `send` (tell) is `await inbox.put(msg)`, stop is a
`None` sentinel. Messages are the seed's dicts matched with `match` (its logging call per
message is left out). Ask is the seed's `{"action": "get", "reply_to": queue}`; the same
with an `asyncio.Future` as the reply slot is measured too and the faster of the two is
the anchor. Same sizes as the Rust groups: 200k tells then one ask, 50k sequential asks,
spawn (start) + stop + join per actor.
`CONTEXTURE_BENCH_QUICK=1` shortens the runs; `CONTEXTURE_BENCH_FILTER` selects groups.
"""

import asyncio
import os
import time

QUICK = os.environ.get("CONTEXTURE_BENCH_QUICK") == "1"
FILTER = os.environ.get("CONTEXTURE_BENCH_FILTER", "")
TELLS = 40_000 if QUICK else 200_000
ASKS = 10_000 if QUICK else 50_000
SPAWNS = 2_000 if QUICK else 10_000
REPEAT = 3 if QUICK else 5


def report(group, ns, note=""):
    if FILTER in group:
        print(f"PY {group} {ns:.1f}", flush=True)
        if note:
            print(f"   ({note})", flush=True)


class Actor:
    """The seed's base class, as written there (minus logging)."""

    def __init__(self, name):
        self._name = name
        self._inbox = asyncio.Queue()
        self._running = False

    async def start(self):
        self._running = True
        self._task = asyncio.create_task(self._process_messages())

    async def stop(self):
        self._running = False
        await self._inbox.put(None)

    async def send(self, message):
        await self._inbox.put(message)

    async def _process_messages(self):
        while self._running:
            message = await self._inbox.get()
            if message is None:
                break
            await self.handle(message)

    async def handle(self, message):
        raise NotImplementedError


class CounterActor(Actor):
    """The seed's counter, plus the `ping` ask (add, reply the count) of the Rust groups."""

    def __init__(self, name):
        super().__init__(name)
        self._count = 0

    async def handle(self, message):
        match message:
            case {"action": "increment", "value": v}:
                self._count += v
            case {"action": "ping", "value": v, "reply_to": reply}:
                self._count += v
                if isinstance(reply, asyncio.Future):
                    reply.set_result(self._count)
                else:
                    await reply.put(self._count)
            case {"action": "get", "reply_to": reply_queue}:
                await reply_queue.put(self._count)


async def tell_batch(counter, n):
    start = time.perf_counter()
    for i in range(n):
        await counter.send({"action": "increment", "value": i})
    reply = asyncio.Queue()
    await counter.send({"action": "get", "reply_to": reply})
    await reply.get()
    return time.perf_counter() - start


async def ask_queue_batch(counter, n):
    start = time.perf_counter()
    for i in range(n):
        reply = asyncio.Queue()
        await counter.send({"action": "ping", "value": i, "reply_to": reply})
        await reply.get()
    return time.perf_counter() - start


async def ask_future_batch(counter, n):
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    for i in range(n):
        reply = loop.create_future()
        await counter.send({"action": "ping", "value": i, "reply_to": reply})
        await reply
    return time.perf_counter() - start


async def spawn_batch(n):
    start = time.perf_counter()
    for _ in range(n):
        actor = CounterActor("c")
        await actor.start()
        await actor.stop()
        await actor._task
    return time.perf_counter() - start


async def best_ns(batch, n):
    return min([await batch(n) for _ in range(REPEAT)]) / n * 1e9


async def main():
    counter = CounterActor("Counter")
    await counter.start()
    if FILTER in "actor tell throughput per message (1 actor, 2 workers)":
        report(
            "actor tell throughput per message (1 actor, 2 workers)",
            await best_ns(lambda n: tell_batch(counter, n), TELLS),
        )
    if FILTER in "actor ask round trip (sequential, 2 workers)":
        by_queue = await best_ns(lambda n: ask_queue_batch(counter, n), ASKS)
        by_future = await best_ns(lambda n: ask_future_batch(counter, n), ASKS)
        report(
            "actor ask round trip (sequential, 2 workers)",
            min(by_queue, by_future),
            f"reply queue (the seed's) {by_queue:.1f} ns, reply future {by_future:.1f} ns",
        )
    if FILTER in "actor spawn+stop+join per actor (2 workers)":
        report(
            "actor spawn+stop+join per actor (2 workers)",
            await best_ns(spawn_batch, SPAWNS),
        )
    await counter.stop()


async def one_batch(op, n):
    """One batch of `op` (tell, ask, ask-queue, spawn); prints its ns per operation."""
    counter = CounterActor("Counter")
    await counter.start()
    batch = {
        "tell": lambda n: tell_batch(counter, n),
        "ask": lambda n: ask_future_batch(counter, n),
        "ask-queue": lambda n: ask_queue_batch(counter, n),
        "spawn": spawn_batch,
    }[op]
    took = await batch(n)
    print(f"{took / n * 1e9:.1f}", flush=True)
    await counter.stop()


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "--batch":
        # For `benches/actor.rs`, which runs one batch per round between its own.
        asyncio.run(one_batch(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(main())
