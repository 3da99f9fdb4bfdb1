"""CPython's contextvars, measured with timeit: the anchors of benches/ctxvar.rs.

Prints `PY <group_id>[/<param>] <ns_per_op>` lines whose ids match the criterion groups.
CONTEXTURE_BENCH_QUICK=1 shortens the runs; CONTEXTURE_BENCH_FILTER skips groups whose id
does not contain it.
"""

import contextvars
import os
import sys
import time
import timeit

QUICK = os.environ.get("CONTEXTURE_BENCH_QUICK") == "1"
FILTER = os.environ.get("CONTEXTURE_BENCH_FILTER", "")


def measure(label, stmt, setup_ctx, **names):
    """Best of several timeit repeats of the statement `stmt` (a string, so no extra
    Python call is timed), in ns per op, run inside `setup_ctx`."""
    if FILTER and FILTER not in label:
        return
    number = 20_000 if QUICK else 200_000
    repeat = 3 if QUICK else 7

    def timed():
        return min(timeit.repeat(stmt, number=number, repeat=repeat, globals=names))

    best = setup_ctx.run(timed)
    print(f"PY {label} {best / number * 1e9:.1f}", flush=True)


def context_with(n):
    """A fresh context with `n` vars set; returns it and the var in the middle."""
    ctx = contextvars.Context()
    variables = [contextvars.ContextVar(f"v{i}") for i in range(n)]

    def fill():
        for i, var in enumerate(variables):
            var.set(i)

    ctx.run(fill)
    return ctx, variables[n // 2]


def copy_set_batch(n, ops):
    """`--batch copy-set N OPS`: ns per `ctx = copy_context(); ctx.run(var.set, v)` in a
    context of N vars (the copy dropped each time), for the paired rows of
    benches/ctxvar.rs."""
    ctx, var = context_with(n)

    def batch():
        copy_context = contextvars.copy_context
        start = time.perf_counter_ns()
        for i in range(ops):
            c = copy_context()
            c.run(var.set, i)
        return (time.perf_counter_ns() - start) / ops

    print(f"{ctx.run(batch):.2f}", flush=True)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--batch" and sys.argv[2] == "copy-set":
        copy_set_batch(int(sys.argv[3]), int(sys.argv[4]))
        return
    for n in (1, 1000):
        ctx, var = context_with(n)
        measure(f"ctxvar get/{n}", "var.get()", ctx, var=var)

    for n in (1, 100, 10_000):
        ctx, var = context_with(n)
        measure(f"ctxvar set/{n}", "var.set(1)", ctx, var=var)

    for n in (1, 100, 10_000):
        ctx, _ = context_with(n)
        measure(f"ctxvar copy_context/{n}", "copy_context()", ctx,
                copy_context=contextvars.copy_context)

    for n in (1, 8, 1000, 10_000):
        ctx, var = context_with(n)
        measure(f"ctxvar first set after copy_context/{n}",
                "c = copy_context(); c.run(var.set, 1)", ctx,
                copy_context=contextvars.copy_context, var=var)

    ctx, _ = context_with(1)
    target, _ = context_with(1)
    measure("ctxvar run(noop)", "target.run(noop)", ctx, target=target, noop=lambda: None)

    # One asyncio Task step: the context switch around a coroutine's `send`.
    def forever():
        while True:
            yield

    gen = forever()
    next(gen)
    step_ctx, _ = context_with(1)
    measure("ctxvar adapter poll", "step_ctx.run(send, None)", ctx,
            step_ctx=step_ctx, send=gen.send)


if __name__ == "__main__":
    main()
