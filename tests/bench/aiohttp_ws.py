"""aiohttp's peer of the ws benchmark's servers (bench_ws.sh), measured with
the same load generator (wsload.c).

Usage: /usr/bin/python3 aiohttp_ws.py PORT [--room] [--heartbeat SECONDS]

    GET /ws   a WebSocketResponse echo: text and binary messages come back
              as they went (examples/hello's /ws)
    with --room, GET /ws also joins a room: a text message "bcast" makes the
              server send one 32-byte text message to every member (the
              sender too), awaiting each send_str in turn, as an aiohttp
              program broadcasts (tests/bench/ws_bcast_server.c)

The options are hello's: a 30 s heartbeat (--heartbeat 0: none), the
default maximum message size, compression accepted if offered (wsload offers
none). One process, the default asyncio event loop (Debian's
python3-aiohttp, no uvloop), no access log. Prints `port N` once it accepts
connections and stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import signal

from aiohttp import WSMsgType, web

# One process, one loop: the room and the options are the module's.
ROOM = set()
WS_OPTIONS = {}
broadcasts = 0


async def echo(request):
    ws = web.WebSocketResponse(**WS_OPTIONS)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def broadcast():
    global broadcasts
    broadcasts += 1
    text = "broadcast %022d" % broadcasts
    for ws in list(ROOM):
        if not ws.closed:
            await ws.send_str(text)


async def room(request):
    ws = web.WebSocketResponse(**WS_OPTIONS)
    await ws.prepare(request)
    ROOM.add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if msg.data == "bcast":
                    await broadcast()
                else:
                    await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
    finally:
        ROOM.discard(ws)
    return ws


async def main(args):
    app = web.Application()
    WS_OPTIONS["heartbeat"] = args.heartbeat or None
    app.router.add_get("/ws", room if args.room else echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=4096)
    await site.start()
    print(f"port {args.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--room", action="store_true")
    p.add_argument("--heartbeat", type=float, default=30.0)
    asyncio.run(main(p.parse_args()))
