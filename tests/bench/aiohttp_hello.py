"""aiohttp's peer of examples/hello for the http benchmark: GET / answers
"Hello, World!" as text/plain, with no access log.

Usage: /usr/bin/python3 aiohttp_hello.py PORT [KEEPALIVE_SECONDS]

One process, the default asyncio event loop (Debian's python3-aiohttp, no
uvloop): what an aiohttp user gets out of the box. Prints `port N` once it
accepts connections and stops on SIGTERM or SIGINT.
"""
import asyncio
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def main(port, keepalive):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=keepalive)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    print(f"port {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 75.0))
