/* WebSocket abuse against a server in a process of its own, so that its
 * memory can be watched: a frame announcing 2^63-1 bytes, a deflate bomb
 * aimed at the default 4 MiB limit, a ping flood from a client that never
 * reads its pongs, and messages cut into thousands of 1-byte fragments. Each
 * is closed with its code (1009 too big, 1008 policy), the server's resident
 * memory grows by a bounded amount, and the next client is served.
 * (tests/test_ws.c has the malformed-frame cases: 2^63, bad UTF-8, ...) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "childserver.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(abuse_ws, .timeout = 60, .fini = tu_fini);

/* --- the server ----------------------------------------------------------------- */

/* The close code the server's last socket sent, in memory shared with the
 * child server (mapped before the fork): a client that is reset cannot see
 * the close frame, so the server's side is checked too. */
static volatile int *sent_code;

static aw_response *echo_loop(aw_request *req, const aw_ws_opts *o)
{
    aw_ws *ws = aw_ws_prepare(req, o);
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0)
        if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
        else if (m.type == AW_WS_BINARY)
            aw_ws_send_binary(ws, m.data, m.len);
    if (sent_code)
        *sent_code = aw_ws_sent_close_code(ws);
    return aw_ws_finish(ws);
}

static aw_response *h_echo(aw_request *req) { return echo_loop(req, NULL); }

static aw_response *h_small(aw_request *req)
{
    return echo_loop(req, &(aw_ws_opts){.max_message = 65536, .compress = -1});
}

static aw_app *ws_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/echo", h_echo, NULL);
    aw_app_route(app, "GET", "/small", h_small, NULL);
    return app;
}

/* --- a raw client ------------------------------------------------------------------- */

/* Connects and upgrades; rcvbuf > 0 shrinks the socket's receive buffer
 * first. Returns the socket; *deflate tells whether it was agreed. */
static int ws_open(int port, const char *path, int want_deflate, int rcvbuf, int *deflate)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512], head[2048];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n",
             path, want_deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "");
    tu_sends(fd, req);
    size_t n = 0;
    while (n < sizeof head - 1 && !memmem(head, n, "\r\n\r\n", 4)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_gt(poll(&p, 1, 3000), 0, "no handshake answer");
        ssize_t r = recv(fd, head + n, 1, 0);
        cr_assert_gt(r, 0, "closed during the handshake");
        n += (size_t)r;
    }
    head[n] = 0;
    cr_assert(strstr(head, "101 Switching Protocols"), "%s", head);
    if (deflate)
        *deflate = strstr(head, "permessage-deflate") != NULL;
    return fd;
}

/* A masked frame's header into h (mask key 0, so the payload goes as is);
 * returns its length. */
static size_t ws_header(unsigned char *h, int fin, int rsv1, int opcode, uint64_t len)
{
    size_t n = 0;
    h[n++] = (unsigned char)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    if (len < 126)
        h[n++] = (unsigned char)(0x80 | len);
    else if (len < 65536) {
        h[n++] = 0x80 | 126;
        h[n++] = (unsigned char)(len >> 8);
        h[n++] = (unsigned char)len;
    } else {
        h[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (unsigned char)(len >> (8 * i));
    }
    memset(h + n, 0, 4);
    return n + 4;
}

/* Sends one frame; returns 0 or -1 once the server has closed. */
static int ws_send(int fd, int fin, int rsv1, int opcode, const void *data, size_t len)
{
    unsigned char h[14];
    size_t hn = ws_header(h, fin, rsv1, opcode, len);
    if (tu_send(fd, h, hn))
        return -1;
    return len ? tu_send(fd, data, len) : 0;
}

/* Reads frames until a close frame (returns its code), an echoed data
 * message (returns -2 - its length... as -(len + 2)), the end or timeout_ms
 * (returns -1). Pongs and pings are skipped. */
static long ws_read_until(int fd, int timeout_ms)
{
    static unsigned char buf[1 << 16];
    size_t have = 0;
    int64_t end = tu_ms() + timeout_ms;
    for (;;) {
        /* a complete frame at the front? */
        if (have >= 2) {
            uint64_t len = buf[1] & 0x7f;
            size_t hl = 2;
            if (len == 126 && have >= 4)
                len = (uint64_t)buf[2] << 8 | buf[3], hl = 4;
            else if (len == 127 && have >= 10) {
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | buf[2 + i];
                hl = 10;
            } else if (len >= 126)
                hl = 0;
            if (hl && have >= hl + len) {
                int op = buf[0] & 0x0f;
                if (op == 8)
                    return len >= 2 ? (long)(buf[hl] << 8 | buf[hl + 1]) : 1005;
                if (op == 1 || op == 2 || op == 0)
                    return -(long)(len + 2);
                memmove(buf, buf + hl + len, have - hl - len);
                have -= hl + len;
                continue;
            }
            if (hl && hl + len > sizeof buf) { /* a big data frame: skip it unread */
                return -(long)(len + 2);
            }
        }
        int64_t left = end - tu_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
}

/* A normal conversation on a new socket: the server is unharmed. */
static void still_serving(int port)
{
    int fd = ws_open(port, "/small", 0, 0, NULL);
    cr_assert_eq(ws_send(fd, 1, 0, 1, "hello", 5), 0);
    cr_assert_eq(ws_read_until(fd, 3000), -(5 + 2), "the echo did not come back");
    close(fd);
}

static size_t mib(size_t b) { return b >> 20; }

/* ASan keeps freed memory in quarantine (and shadows it): the bounds below
 * are looser under it, but still bounds. */
#if defined(__SANITIZE_ADDRESS__)
#define SLACK 4u
#else
#define SLACK 1u
#endif

/* --- the cases ------------------------------------------------------------------ */

Test(abuse_ws, a_frame_of_2_to_the_63_minus_1_bytes_is_closed_with_1009)
{
    tu_child c;
    tu_child_start(&c, ws_app, NULL, 0);
    size_t rss0 = tu_child_rss(&c);
    int fd = ws_open(c.port, "/echo", 0, 0, NULL);
    unsigned char h[14];
    size_t hn = ws_header(h, 1, 0, 2, 0x7fffffffffffffffull);
    tu_send(fd, h, hn);
    tu_send(fd, "some of it", 10);
    cr_assert_eq(ws_read_until(fd, 3000), 1009);
    close(fd);
    still_serving(c.port);
    cr_assert_lt(tu_child_rss(&c), rss0 + (8u << 20) * SLACK, "RSS went from %zu to %zu MiB",
                 mib(rss0), mib(tu_child_rss(&c)));
    cr_assert_eq(tu_child_stop(&c), 0);
}

Test(abuse_ws, a_deflate_bomb_past_the_default_limit_is_closed_with_1009_in_bounded_memory)
{
    /* 256 MiB of zeros deflate to about 256 KiB: far under the 4 MiB limit
     * on the wire, 64 times past it inflated */
    size_t plain = 256u << 20, chunk = 1u << 20;
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char *zeros = calloc(1, chunk), *bomb = malloc(4u << 20);
    z.next_out = bomb;
    z.avail_out = 4u << 20;
    for (size_t done = 0; done < plain; done += chunk) {
        z.next_in = zeros;
        z.avail_in = (uInt)chunk;
        cr_assert_eq(deflate(&z, done + chunk < plain ? Z_NO_FLUSH : Z_SYNC_FLUSH), Z_OK);
    }
    size_t blen = z.total_out - 4; /* permessage-deflate drops the 00 00 ff ff tail */
    deflateEnd(&z);
    free(zeros);
    cr_assert_lt(blen, 4u << 20);

    tu_child c;
    tu_child_start(&c, ws_app, NULL, 0);
    size_t rss0 = tu_child_rss(&c);
    int deflate;
    int fd = ws_open(c.port, "/echo", 1, 0, &deflate);
    cr_assert(deflate, "permessage-deflate was not agreed");
    ws_send(fd, 1, 1, 2, bomb, blen);
    free(bomb);
    cr_assert_eq(ws_read_until(fd, 5000), 1009);
    close(fd);
    still_serving(c.port);
    size_t peak = tu_child_peak_rss(&c);
    cr_log_info("deflate bomb of %zu KiB: server RSS %zu MiB before, peak %zu MiB", blen >> 10,
                mib(rss0), mib(peak));
    /* the inflated message may reach the 4 MiB limit, plus the compressed one */
    cr_assert_lt(peak, rss0 + (32u << 20) * SLACK, "peak RSS %zu MiB from %zu MiB", mib(peak),
                 mib(rss0));
    cr_assert_eq(tu_child_stop(&c), 0);
}

Test(abuse_ws, a_ping_flood_from_a_client_that_never_reads_is_closed_with_1008)
{
    sent_code =
        mmap(NULL, sizeof *sent_code, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq((void *)sent_code, MAP_FAILED);
    *sent_code = 0;
    tu_child c;
    tu_child_start(&c, ws_app, NULL, 0);
    size_t rss0 = tu_child_rss(&c);
    int fd = ws_open(c.port, "/echo", 0, 4096, NULL);
    unsigned char ping[125];
    memset(ping, 'p', sizeof ping);
    /* each ping queues a pong the client does not read: past the outbound
     * limit (4 MiB) plus what the kernel buffers, the server gives up. The
     * client's sends may block once the server stops reading: non-blocking
     * sends stop the flood there. */
    int sent = 0;
    for (; sent < 400000; sent++) {
        unsigned char f[131];
        size_t hn = ws_header(f, 1, 0, 9, sizeof ping);
        memcpy(f + hn, ping, sizeof ping);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 1000) <= 0 || (p.revents & (POLLERR | POLLHUP)))
            break;
        if (send(fd, f, hn + sizeof ping, MSG_NOSIGNAL) != (ssize_t)(hn + sizeof ping))
            break;
    }
    size_t peak = tu_child_peak_rss(&c);
    /* now read: past the pongs that made it out, the close frame -- or a
     * reset, when the server closed with pings of ours still unread (the
     * kernel then drops what it had not yet delivered) */
    long code = ws_read_until(fd, 10000);
    for (int64_t end = tu_ms() + 5000; !*sent_code && tu_ms() < end;)
        usleep(5000);
    cr_log_info("ping flood: %d pings sent, the server closed with %d, the client read %ld; "
                "server RSS %zu MiB before, peak %zu MiB",
                sent, *sent_code, code, mib(rss0), mib(peak));
    cr_assert_eq(*sent_code, 1008, "the server's close code");
    cr_assert(code == 1008 || code == -1, "the client saw %ld", code);
    close(fd);
    still_serving(c.port);
    cr_assert_lt(peak, rss0 + (48u << 20) * SLACK, "peak RSS %zu MiB from %zu MiB", mib(peak),
                 mib(rss0));
    cr_assert_eq(tu_child_stop(&c), 0);
}

/* Sends a message of n 1-byte fragments (opcode, then continuations). */
static int send_fragments(int fd, int n)
{
    /* built in one buffer: 7 bytes a fragment */
    unsigned char *b = malloc((size_t)n * 7), *p = b;
    for (int i = 0; i < n; i++) {
        p += ws_header(p, i == n - 1, 0, i == 0 ? 1 : 0, 1);
        *p++ = 'f';
    }
    int rc = tu_send(fd, b, (size_t)(p - b));
    free(b);
    return rc;
}

Test(abuse_ws, ten_thousand_tiny_fragments_count_toward_the_message_limit)
{
    tu_child c;
    tu_child_start(&c, ws_app, NULL, 0);
    /* 10,000 bytes in one frame fit the 64 KiB limit ... */
    int fd = ws_open(c.port, "/small", 0, 0, NULL);
    char *text = malloc(10000);
    memset(text, 'f', 10000);
    ws_send(fd, 1, 0, 1, text, 10000);
    free(text);
    cr_assert_eq(ws_read_until(fd, 3000), -(10000 + 2), "the 10,000-byte message did not echo");
    /* ... in 10,000 fragments they cost what they hold in memory: too big */
    send_fragments(fd, 10000);
    cr_assert_eq(ws_read_until(fd, 3000), 1009);
    close(fd);
    still_serving(c.port);
    cr_assert_eq(tu_child_stop(&c), 0);
}

Test(abuse_ws, a_million_fragments_against_the_default_limit_stay_in_bounded_memory)
{
    tu_child c;
    tu_child_start(&c, ws_app, NULL, 0);
    size_t rss0 = tu_child_rss(&c);
    int fd = ws_open(c.port, "/echo", 0, 0, NULL);
    send_fragments(fd, 1000000); /* the server closes part-way: the rest is refused */
    long code = ws_read_until(fd, 5000);
    size_t peak = tu_child_peak_rss(&c);
    cr_log_info("a million fragments: close code %ld, server RSS %zu MiB before, peak %zu MiB",
                code, mib(rss0), mib(peak));
    cr_assert_eq(code, 1009);
    close(fd);
    still_serving(c.port);
    cr_assert_lt(peak, rss0 + (16u << 20) * SLACK, "peak RSS %zu MiB from %zu MiB", mib(peak),
                 mib(rss0));
    cr_assert_eq(tu_child_stop(&c), 0);
}
