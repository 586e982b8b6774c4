"""The client benchmark's aiohttp side: what client_load.c does, with
aiohttp.ClientSession (Debian's python3-aiohttp, the default asyncio loop).

One session (default connector: 100 connections, keep-alive), C tasks that
share a request counter, each response's body read whole and its status and
length checked; a warm-up of W requests, then N measured. CPU time is the
process's user + system time (getrusage) over the measured requests.

Usage: aiohttp_client.py --url URL [--requests N] [--concurrency C]
                         [--warmup W] [--expect-len BYTES]
Prints the same `key value` lines as client_load; exits 1 if any request
failed.
"""
import argparse
import asyncio
import resource
import sys
import time

import aiohttp


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Load:
    def __init__(self, args):
        self.args = args
        self.next = 0
        self.end = 0
        self.ok = 0
        self.failed = 0
        self.first_err = None

    def failure(self, what):
        self.failed += 1
        if self.first_err is None:
            self.first_err = what

    async def worker(self, session):
        url, expect = self.args.url, self.args.expect_len
        while self.next < self.end:
            self.next += 1
            try:
                async with session.get(url) as r:
                    body = await r.read()
                    if r.status != 200 or (expect >= 0 and len(body) != expect):
                        self.failure(f"unexpected answer: {r.status}, {len(body)} bytes")
                    else:
                        self.ok += 1
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                self.failure(f"request: {e!r}")

    async def batch(self, session, count):
        self.end = self.next + count
        await asyncio.gather(*(self.worker(session) for _ in range(self.args.concurrency)))


async def main(args):
    load = Load(args)
    async with aiohttp.ClientSession() as session:
        await load.batch(session, args.warmup)
        warm_failed = load.failed
        load.ok = load.failed = 0
        t0, c0 = time.monotonic(), cpu_s()
        await load.batch(session, args.requests)
        secs, cpu = time.monotonic() - t0, cpu_s() - c0
        # idle pooled connections (all of them, now): a private attribute, but
        # the only way to see that keep-alive held
        conns = sum(len(v) for v in getattr(session.connector, "_conns", {}).values())
    n = args.requests
    print(f"requests {n}\nconcurrency {args.concurrency}\nsecs {secs:.3f}")
    print(f"requests_per_s {n / secs:.0f}")
    print(f"cpu_us_per_req {cpu * 1e6 / n:.2f}")
    print(f"ok {load.ok}\nfailed {load.failed + warm_failed}\nconnections {conns}")
    print(f"# aiohttp: aiohttp {aiohttp.__version__} ClientSession (default connector) on "
          f"Python {sys.version.split()[0]}, default asyncio loop, {n} GETs of {args.url} "
          f"after {args.warmup} warm-up, {args.concurrency} tasks on one session")
    if load.first_err:
        print(f"# aiohttp: first failure: {load.first_err}")
    return 1 if load.failed or warm_failed or load.ok != n else 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--expect-len", type=int, default=-1)
    sys.exit(asyncio.run(main(p.parse_args())))
