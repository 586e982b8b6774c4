#!/usr/bin/python3
"""WebSocket client side of aweb's tests (Debian's python3-websockets).

    wsclient.py CASE PORT [ARGS]

Prints "OK ..." on success or "FAIL reason" (and exits 1). Raw cases craft
frames by hand for what well-behaved clients never send, and print the close
code the server answered with.
"""
import asyncio
import base64
import os
import socket
import struct
import sys
import time
import zlib

import websockets


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


# --- well-behaved clients -----------------------------------------------------

async def echo(port):
    sizes = [0, 1, 125, 126, 127, 65535, 65536, 100000, 1 << 20, 4 << 20]
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo", max_size=None,
                                  compression=None) as ws:
        for n in sizes:
            text = ("é" * (n // 2) + "a" * (n % 2))
            await ws.send(text)
            got = await ws.recv()
            if got != text:
                fail(f"text of {len(text.encode())} bytes came back different")
            data = os.urandom(n)
            await ws.send(data)
            got = await ws.recv()
            if got != data:
                fail(f"binary of {n} bytes came back different")
        # fragmented: sent as several frames, echoed as one message
        await ws.send(["frag", "mented ", "text"])
        if await ws.recv() != "fragmented text":
            fail("fragments were not reassembled")
        await ws.send([b"\x01\x02", b"", b"\x03"])
        if await ws.recv() != b"\x01\x02\x03":
            fail("binary fragments were not reassembled")
        pong = await ws.ping(b"hi")
        await asyncio.wait_for(pong, 2)
    print("OK", len(sizes), "sizes, fragments, ping")


async def client_close(port):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/echo")
    await ws.send("x")
    await ws.recv()
    await ws.close(4000, "client bye")
    print("OK", ws.close_code, ws.close_reason)


async def server_close(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/close-me") as ws:
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed:
            pass
    print("OK", ws.close_code, ws.close_reason)


async def wait_close(port):
    """Connects, says so, and reports the close code the server ends with."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as ws:
        print("CONNECTED", flush=True)
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except websockets.ConnectionClosed:
            pass
    print("OK", ws.close_code, flush=True)


async def deflate(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/echo", max_size=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if "permessage-deflate" not in ext:
            fail(f"permessage-deflate not negotiated: {ext!r}")
        for msg in ["a" * 100000, "compressible " * 5000, os.urandom(50000), "é" * 1000, "", "x"]:
            await ws.send(msg)
            if await ws.recv() != msg:
                fail("a compressed message came back different")
    print("OK deflate", ext)


async def chat(port, names):
    """Several chat clients: each sends one line; every client must see every
    line, all in the same order."""
    conns = []
    for name in names:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws?name={name}")
        conns.append(ws)
    await asyncio.sleep(0.2)
    for i, ws in enumerate(conns):
        await ws.send(f"message {i} from {names[i]}")
    seen = []
    for ws in conns:
        lines = []
        deadline = time.time() + 5
        while len([l for l in lines if '"text"' in l and "message" in l]) < len(names):
            if time.time() > deadline:
                fail(f"missing messages: {lines}")
            lines.append(await asyncio.wait_for(ws.recv(), 5))
        seen.append([l for l in lines if "message" in l and '"text"' in l])
    for s in seen[1:]:
        if s != seen[0]:
            fail(f"clients saw different orders: {seen}")
    late = await websockets.connect(f"ws://127.0.0.1:{port}/ws?name=late")
    history = []
    while True:
        try:
            line = await asyncio.wait_for(late.recv(), 1)
        except asyncio.TimeoutError:
            break
        history.append(line)
    replayed = [l for l in history if "message" in l and '"text"' in l]
    if replayed != seen[0]:
        fail(f"history not replayed in order: {replayed} vs {seen[0]}")
    for ws in conns + [late]:
        await ws.close()
    print("OK chat", len(seen[0]), "messages in one order, history replayed")


async def broadcast(port, readers, count, size):
    """readers well-behaved clients and one that stops reading; the server
    sends count messages of size bytes to all."""
    conns = [await websockets.connect(f"ws://127.0.0.1:{port}/room", max_size=None)
             for _ in range(readers)]
    slow, _ = raw_handshake(port, "/room")
    await asyncio.sleep(0.2)
    trigger = await websockets.connect(f"ws://127.0.0.1:{port}/go")
    await trigger.send(f"{count} {size} {readers}")

    async def drain(ws):
        # a healthy reader acknowledges every 16 messages: the broadcaster
        # paces itself on those acks, never on the reader that stopped
        n = 0
        while n < count:
            msg = await asyncio.wait_for(ws.recv(), 30)
            if len(msg) != size:
                fail("a broadcast message was cut")
            n += 1
            if n % 16 == 0:
                await ws.send("ack")
        return n

    got = await asyncio.gather(*(drain(ws) for ws in conns))
    await trigger.recv()  # the server is done broadcasting
    # the slow one now reads what reached it: frames, then a close with 1008
    slow.settimeout(10)
    code = read_close_code(slow)
    for ws in conns + [trigger]:
        await ws.close()
    print("OK", sum(got), "delivered to", readers, "readers; slow one closed with", code)


async def aweb_server_peer(port):
    """A python websockets server aweb's client talks to: echoes, then the
    test's client closes with 4002."""
    async def handler(ws, path=None):
        async for msg in ws:
            await ws.send(msg)
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None):
        print("READY", flush=True)
        await asyncio.sleep(float(os.environ.get("PEER_SECONDS", "5")))


# --- raw frames ------------------------------------------------------------------

def raw_handshake(port, path="/echo", extensions=None):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if extensions:
        req += f"Sec-WebSocket-Extensions: {extensions}\r\n"
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            fail("no handshake answer")
        head += chunk
    if b" 101 " not in head.split(b"\r\n")[0]:
        fail(f"handshake refused: {head!r}")
    return s, head


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    if n < 126:
        hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_close_code(s):
    """Reads server frames until a close; returns its code (or 'reset')."""
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                raise EOFError
            if not chunk:
                raise EOFError
            buf += chunk
    try:
        while True:
            need(2)
            op, n = buf[0] & 0x0F, buf[1] & 0x7F
            off = 2
            if n == 126:
                need(4)
                n, off = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                need(10)
                n, off = struct.unpack("!Q", buf[2:10])[0], 10
            need(off + n)
            payload, buf = buf[off:off + n], buf[off + n:]
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    except EOFError:
        return "reset"


def raw(port, case):
    ext = "permessage-deflate" if case == "deflate-bomb" else None
    s, head = raw_handshake(port, "/small" if case in ("too-big", "deflate-bomb") else "/echo",
                            ext)
    s.settimeout(5)
    if case == "unmasked":
        s.sendall(frame(1, b"hi", mask=False))
    elif case == "rsv":
        s.sendall(frame(1, b"hi", rsv=2))
    elif case == "opcode":
        s.sendall(frame(3, b"hi"))
    elif case == "big-control":
        s.sendall(frame(9, b"x" * 126))
    elif case == "fragmented-control":
        s.sendall(frame(9, b"x", fin=False))
    elif case == "lone-continuation":
        s.sendall(frame(0, b"x"))
    elif case == "bad-utf8":
        s.sendall(frame(1, b"ab\xff\xfe"))
    elif case == "split-utf8":
        # a two-byte character cut between fragments is fine; this one is not
        s.sendall(frame(1, b"ok \xc3", fin=False) + frame(0, b"\x28", fin=True))
    elif case == "too-big":
        s.sendall(frame(2, b"y" * 70000))
    elif case == "close-1005":
        s.sendall(frame(8, struct.pack("!H", 1005)))
    elif case == "close-999":
        s.sendall(frame(8, struct.pack("!H", 999)))
    elif case == "huge-length":
        s.sendall(frame(2, b"", length=(1 << 63)))
    elif case == "deflate-bomb":
        if "permessage-deflate" not in head.decode():
            fail("deflate not negotiated")
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        bomb = z.compress(b"\0" * (10 << 20)) + z.flush(zlib.Z_SYNC_FLUSH)
        bomb = bomb[:-4]
        if len(bomb) > 12000:
            fail(f"bomb of {len(bomb)} bytes")
        s.sendall(frame(2, bomb, rsv=4))
    else:
        fail(f"no case {case}")
    print("OK", read_close_code(s))


def heartbeat(port):
    """Never answers the server's pings (a raw socket that reads nothing)."""
    s, _ = raw_handshake(port, "/beat")
    t0 = time.time()
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    print("OK %.3f" % (time.time() - t0))


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    if case == "echo":
        asyncio.run(echo(port))
    elif case == "client-close":
        asyncio.run(client_close(port))
    elif case == "server-close":
        asyncio.run(server_close(port))
    elif case == "deflate":
        asyncio.run(deflate(port))
    elif case == "wait-close":
        asyncio.run(wait_close(port))
    elif case == "chat":
        asyncio.run(chat(port, sys.argv[3].split(",")))
    elif case == "broadcast":
        asyncio.run(broadcast(port, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
    elif case == "serve":
        asyncio.run(aweb_server_peer(port))
    elif case == "heartbeat":
        heartbeat(port)
    else:
        raw(port, case)


if __name__ == "__main__":
    main()
