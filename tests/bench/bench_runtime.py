"""asyncio's side of the task runtime benchmark (see bench_runtime.c).

Measures the same three figures, counted the same way, and prints the same
`key value` lines:

  switch_ns           ns per context switch; one `await asyncio.sleep(0)` is
                      counted as TWO switches (task -> loop, loop -> next task)
  yield_ns            ns per `await asyncio.sleep(0)`, the same run
  spawn_join_ns       ns per task to asyncio.create_task a trivial coroutine
                      and await it, in batches of SPAWN_BATCH
  spawn_yield_join_ns the same for tasks that await sleep(0) once
  rss_per_task_bytes  growth of VmRSS per task suspended in asyncio.sleep

Timing figures are the best of REPS runs. Run it with Debian's interpreter,
/usr/bin/python3 (run.sh does), not a locally built one, so that the figures
are those of the Python users actually get from the distribution.

Usage: bench_runtime.py [switch|spawn|rss]... (default: all three)
"""

import asyncio
import sys
import time

REPS = 3
SWITCH_YIELDS = 2_000_000  # sleep(0) awaits per run, over both tasks
SPAWN_BATCH = 1000
SPAWN_TOTAL = 1_000_000
SPAWN_YIELD_TOTAL = 200_000  # as in the C version
RSS_TASKS = 100_000
RSS_SLEEP_S = 60


class PingPong:
    def __init__(self, yields):
        self.yields = yields  # per task
        self.start = 0
        self.end = 0


async def pingpong_task(pp):
    # Both tasks yield once before the clock starts, as in the C version.
    await asyncio.sleep(0)
    if not pp.start:
        pp.start = time.monotonic_ns()
    for _ in range(pp.yields):
        await asyncio.sleep(0)
    pp.end = time.monotonic_ns()


async def bench_switch():
    yield_ns = []
    for _ in range(REPS):
        pp = PingPong(SWITCH_YIELDS // 2)
        a = asyncio.create_task(pingpong_task(pp))
        b = asyncio.create_task(pingpong_task(pp))
        await a
        await b
        yield_ns.append((pp.end - pp.start) / SWITCH_YIELDS)
    y = min(yield_ns)
    print(f"# switch: 2 tasks, {SWITCH_YIELDS} sleep(0) awaits in all, best of {REPS}; "
          "one sleep(0) = 2 switches (task->loop->task)")
    print(f"switch_ns {y / 2:.1f}")
    print(f"yield_ns {y:.1f}", flush=True)


async def trivial_task():
    return 0


async def yield_once_task():
    await asyncio.sleep(0)
    return 0


async def spawn_join_runs(fn, total):
    task_ns = []
    for _ in range(REPS):
        t0 = time.monotonic_ns()
        for _ in range(total // SPAWN_BATCH):
            batch = [asyncio.create_task(fn()) for _ in range(SPAWN_BATCH)]
            for t in batch:
                await t
        task_ns.append((time.monotonic_ns() - t0) / total)
    return min(task_ns)


async def bench_spawn_join():
    ns = await spawn_join_runs(trivial_task, SPAWN_TOTAL)
    print(f"# spawn+join: {SPAWN_TOTAL} trivial tasks in batches of {SPAWN_BATCH} "
          f"(create all, await all), best of {REPS}")
    print(f"spawn_join_ns {ns:.1f}", flush=True)
    ns = await spawn_join_runs(yield_once_task, SPAWN_YIELD_TOTAL)
    print(f"# spawn+yield+join: the same with {SPAWN_YIELD_TOTAL} tasks that each "
          "await sleep(0) once")
    print(f"spawn_yield_join_ns {ns:.1f}", flush=True)


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name == field:
                return int(rest.split()[0]) * 1024
    return -1


async def bench_rss():
    started = 0

    async def sleeper():
        nonlocal started
        started += 1
        try:
            await asyncio.sleep(RSS_SLEEP_S)
        except asyncio.CancelledError:
            pass  # cancelled is how the benchmark ends it

    # The list of handles is made before the baseline, as the C array is.
    tasks = [None] * RSS_TASKS
    rss0, pte0 = status_bytes("VmRSS"), status_bytes("VmPTE")
    for i in range(RSS_TASKS):
        tasks[i] = asyncio.create_task(sleeper())
    while started < RSS_TASKS:
        await asyncio.sleep(0)
    rss1, pte1 = status_bytes("VmRSS"), status_bytes("VmPTE")
    print(f"# rss: {RSS_TASKS} tasks suspended in asyncio.sleep({RSS_SLEEP_S}); "
          "VmRSS growth per task (VmPTE, page tables, is not in VmRSS)")
    print(f"rss_per_task_bytes {(rss1 - rss0) / RSS_TASKS:.0f}")
    print(f"pte_per_task_bytes {(pte1 - pte0) / RSS_TASKS:.0f}", flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks)


BENCHES = {"switch": bench_switch, "spawn": bench_spawn_join, "rss": bench_rss}


async def main(names):
    for name, fn in BENCHES.items():
        if not names or name in names:
            await fn()


if __name__ == "__main__":
    names = sys.argv[1:]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"usage: {sys.argv[0]} [switch|spawn|rss]...")
    asyncio.run(main(names))
