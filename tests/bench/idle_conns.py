"""Idle keep-alive connections for the http benchmark (bench_http.sh).

Usage: /usr/bin/python3 idle_conns.py PORT N

Opens N connections to 127.0.0.1:PORT one after the other, sends one
`GET / HTTP/1.1` on each and reads its whole response (Content-Length
bodies), so that every connection has served a request and sits idle in
keep-alive, then prints `ready N` and holds them open until stdin ends (or
SIGTERM). A connection the server closes, or a response that is not 200,
ends the script with status 1 before `ready`.

The caller measures the server's RSS before and after; the open file limit
must allow N sockets (bench_http.sh raises it).
"""
import signal
import socket
import sys


def read_response(sock, buf):
    """Reads one response from sock; returns (status, leftover bytes)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            raise ConnectionError("the server asked to close")
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed in the middle of the body")
        rest += chunk
    return status, rest[length:]


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        status, extra = read_response(s, b"")
        if status != 200 or extra:
            print(f"idle_conns: connection {i}: status {status}, {len(extra)} extra bytes",
                  file=sys.stderr)
            return 1
        socks.append(s)
    print(f"ready {len(socks)}", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, IndexError) as e:
        print(f"idle_conns: {e}", file=sys.stderr)
        sys.exit(1)
