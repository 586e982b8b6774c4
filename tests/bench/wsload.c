/* Load generator for the ws benchmark (tests/bench/bench_ws.sh): WebSocket
 * clients on raw non-blocking sockets and epoll, so that the same code
 * measures aweb and aiohttp. It uses nothing of aweb, libuv or wslay; only
 * libcrypto, for the handshake's SHA-1 and base64.
 *
 * Each connection does the opening handshake itself (GET PATH with a random
 * Sec-WebSocket-Key, whose Sec-WebSocket-Accept it checks) and offers no
 * extension, so both servers run uncompressed. Client frames are masked with
 * a fresh key each, as RFC 6455 requires. Server pings are answered; a close
 * frame or the end of a connection is an error.
 *
 * Modes:
 *   pingpong N SECS   N connections each send a 32-byte text frame, wait for
 *                     its echo (checked byte for byte), and send the next.
 *                     WARMUP seconds (1) are not counted. Prints
 *                     round_trips_per_s (all connections together); with
 *                     --server-pid also server_cpu_us_per_rt, the server's
 *                     utime + stime (/proc/PID/stat, all its threads) over
 *                     the measured interval divided by the round trips,
 *                     and cpuN_busy_pct, how busy each CPU was (/proc/stat),
 *                     which shows other work on the server's CPU.
 *   idle N            opens N connections, prints `ready N` once all are
 *                     open, then holds them (answering pings) until stdin
 *                     ends or SIGTERM / SIGINT arrives.
 *   bcast N           opens N connections to a room; then, ROUNDS + 1 times
 *                     (the first is a warm-up), connection 0 sends the text
 *                     "bcast", on which the server sends one 32-byte text
 *                     message to every member; the time from that write until
 *                     the last of the N has received its whole message is
 *                     one round. Prints bcast_best_ms and bcast_median_ms.
 *                     During a round the client spins (epoll_wait without a
 *                     timeout) rather than sleeping, so that its wake-ups
 *                     do not add to what is measured.
 *
 * Connections are opened at most WINDOW (64) at a time, so that a server's
 * listen backlog never overflows (a dropped SYN costs a 1 s retransmit).
 * Exit status 1 when a connection fails, the server sends something wrong,
 * or a broadcast does not reach everyone within 10 s.
 *
 * Usage: wsload MODE N [SECS] --port P [--host 127.0.0.1] [--path /ws]
 *               [--warmup W] [--rounds R] [--server-pid PID]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_LEN 32
#define RBUF 2048
#define WBUF 512
#define WINDOW 64
#define STDIN_TAG UINT32_MAX
#define ROUND_TIMEOUT_S 10.0
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum mode { M_PINGPONG, M_IDLE, M_BCAST };
enum state { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN };

typedef struct conn {
    int fd;
    enum state st;
    uint32_t events; /* registered with epoll */
    uint32_t seq;    /* pingpong: the message in flight */
    int got;         /* bcast: messages received this round */
    char accept[29]; /* the Sec-WebSocket-Accept the server must answer */
    size_t rlen, wlen, woff;
    char rbuf[RBUF];
    uint8_t wbuf[WBUF];
} conn;

static struct {
    enum mode mode;
    const char *host, *path;
    int port, n, rounds, server_pid;
    double secs, warmup;
} cfg = {.host = "127.0.0.1", .path = "/ws", .warmup = 1, .rounds = 10};

static int ep;
static conn *conns;
static struct sockaddr_in addr;
static int started, opening, opened; /* connections started, in progress, open */
static uint64_t count;               /* pingpong: round trips counted */
static int counting;                 /* pingpong: inside the measured interval */
static int remaining;                /* bcast: members still waiting this round */
static volatile sig_atomic_t stop_signal;
static uint64_t rng = 0x9e3779b97f4a7c15u;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void die(const char *what, int id)
{
    if (id >= 0)
        fprintf(stderr, "wsload: connection %d: %s\n", id, what);
    else
        fprintf(stderr, "wsload: %s\n", what);
    exit(1);
}

/* utime + stime of the server so far, in seconds (all threads), or -1. */
static double server_cpu_s(void)
{
    char path[64], buf[1024];
    if (!cfg.server_pid)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", cfg.server_pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Busy ticks of each CPU so far (all but idle and iowait), up to max CPUs;
 * returns how many were read. */
static int cpus_busy(unsigned long long *busy, int max)
{
    char line[256];
    int n = 0;
    FILE *f = fopen("/proc/stat", "r");
    while (f && n < max && fgets(line, sizeof line, f)) {
        unsigned long long v[8];
        int cpu;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) == 9 &&
            cpu == n)
            busy[n++] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    }
    if (f)
        fclose(f);
    return n;
}

/* --- sockets and epoll ----------------------------------------------------- */

static void set_events(conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev))
        die("epoll_ctl failed", (int)(c - conns));
    c->events = events;
}

/* Writes what is queued; EPOLLOUT is asked for while some is left. */
static void flush(conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                set_events(c, EPOLLIN | EPOLLOUT);
                return;
            }
            die(strerror(errno), (int)(c - conns));
        }
        c->woff += (size_t)n;
    }
    c->woff = c->wlen = 0;
    set_events(c, EPOLLIN);
}

/* Queues one masked frame (payload at most 125 bytes) and writes it. */
static void send_frame(conn *c, int opcode, const void *data, size_t len)
{
    if (len > 125 || c->wlen + 6 + len > WBUF)
        die("frame does not fit", (int)(c - conns));
    uint8_t *p = c->wbuf + c->wlen;
    uint32_t key = rnd();
    p[0] = (uint8_t)(0x80 | opcode);
    p[1] = (uint8_t)(0x80 | len);
    memcpy(p + 2, &key, 4);
    for (size_t i = 0; i < len; i++)
        p[6 + i] = ((const uint8_t *)data)[i] ^ p[2 + (i & 3)];
    c->wlen += 6 + len;
    flush(c);
}

/* Starts connecting the next connection. */
static void conn_start(void)
{
    conn *c = &conns[started++];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die(strerror(errno), -1);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) && errno != EINPROGRESS)
        die(strerror(errno), (int)(c - conns));
    c->st = ST_CONNECTING;
    opening++;
    set_events(c, EPOLLOUT);
}

static void conns_start(void)
{
    while (opening < WINDOW && started < cfg.n)
        conn_start();
}

/* Connected: the upgrade request, with its key and the answer expected. */
static void handshake_send(conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err)
        die(strerror(err), (int)(c - conns));
    uint8_t raw[16], md[20];
    char key[25], src[64];
    for (int i = 0; i < 16; i += 4) {
        uint32_t r = rnd();
        memcpy(raw + i, &r, 4);
    }
    EVP_EncodeBlock((unsigned char *)key, raw, 16);
    int n = snprintf(src, sizeof src, "%s%s", key, WS_GUID);
    if (!EVP_Digest(src, (size_t)n, md, NULL, EVP_sha1(), NULL))
        die("SHA-1 failed", -1);
    EVP_EncodeBlock((unsigned char *)c->accept, md, 20);
    n = snprintf((char *)c->wbuf, WBUF,
                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 cfg.path, cfg.host, cfg.port, key);
    c->wlen = (size_t)n;
    c->woff = 0;
    c->st = ST_HANDSHAKE;
    flush(c);
}

/* --- what each mode does with an open connection --------------------------------- */

static void pingpong_send(conn *c)
{
    char msg[MSG_LEN + 1];
    snprintf(msg, sizeof msg, "%08x%08x................", (unsigned)(c - conns), c->seq);
    send_frame(c, 1, msg, MSG_LEN);
}

static void on_open(conn *c)
{
    opening--;
    opened++;
    conns_start();
    if (cfg.mode == M_PINGPONG)
        pingpong_send(c);
}

static void on_message(conn *c, int opcode, const char *data, size_t len)
{
    int id = (int)(c - conns);
    if (opcode != 1)
        die("a message that is not text", id);
    if (cfg.mode == M_PINGPONG) {
        char want[MSG_LEN + 1];
        snprintf(want, sizeof want, "%08x%08x................", (unsigned)id, c->seq);
        if (len != MSG_LEN || memcmp(data, want, MSG_LEN))
            die("the echo differs from the message sent", id);
        if (counting)
            count++;
        c->seq++;
        pingpong_send(c);
    } else if (cfg.mode == M_BCAST) {
        if (len != MSG_LEN)
            die("a broadcast message that is not 32 bytes", id);
        if (c->got++)
            die("two broadcast messages in one round", id);
        remaining--;
    } else {
        die("a message on an idle connection", id);
    }
}

/* --- reading: the handshake's answer, then frames ------------------------------ */

/* The 101 answer is complete in rbuf (hlen bytes with its blank line). */
static void handshake_check(conn *c, size_t hlen)
{
    int id = (int)(c - conns), accepted = 0;
    char *line = c->rbuf, *end = c->rbuf + hlen;
    if (strncmp(line, "HTTP/1.1 101", 12))
        die("the server refused the upgrade", id);
    while ((line = memchr(line, '\n', (size_t)(end - line))) && ++line < end) {
        char *colon = memchr(line, ':', (size_t)(end - line)), *v;
        if (!colon)
            break;
        for (v = colon + 1; *v == ' '; v++)
            ;
        size_t name = (size_t)(colon - line);
        if (name == 20 && !strncasecmp(line, "Sec-WebSocket-Accept", 20))
            accepted = !strncmp(v, c->accept, 28) && (v[28] == '\r' || v[28] == ' ');
        else if (name == 24 && !strncasecmp(line, "Sec-WebSocket-Extensions", 24))
            die("the server chose an extension that was not offered", id);
    }
    if (!accepted)
        die("wrong or missing Sec-WebSocket-Accept", id);
    c->rlen -= hlen;
    memmove(c->rbuf, c->rbuf + hlen, c->rlen);
    c->st = ST_OPEN;
    on_open(c);
}

/* Handles the whole frames in rbuf; returns when one is incomplete. */
static void frames(conn *c)
{
    int id = (int)(c - conns);
    size_t at = 0;
    for (;;) {
        const uint8_t *p = (const uint8_t *)c->rbuf + at;
        size_t avail = c->rlen - at, hdr = 2, len;
        if (avail < 2)
            break;
        if (p[1] & 0x80)
            die("a masked frame from the server", id);
        len = p[1] & 0x7f;
        if (len == 126) {
            hdr = 4;
            if (avail < hdr)
                break;
            len = (size_t)p[2] << 8 | p[3];
        } else if (len == 127) {
            die("a frame of 64 KiB or more", id);
        }
        if (hdr + len > RBUF)
            die("a frame larger than the read buffer", id);
        if (avail < hdr + len)
            break;
        int opcode = p[0] & 0x0f;
        if (!(p[0] & 0x80) || opcode == 0)
            die("a fragmented message", id);
        const char *data = (const char *)p + hdr;
        if (opcode == 9)
            send_frame(c, 10, data, len); /* ping: pong */
        else if (opcode == 8)
            die("the server closed the WebSocket", id);
        else if (opcode != 10)
            on_message(c, opcode, data, len);
        at += hdr + len;
    }
    c->rlen -= at;
    memmove(c->rbuf, c->rbuf + at, c->rlen);
}

static void on_readable(conn *c)
{
    int id = (int)(c - conns);
    ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n < 0)
        die(strerror(errno), id);
    if (n == 0)
        die("the server closed the connection", id);
    c->rlen += (size_t)n;
    if (c->st == ST_HANDSHAKE) {
        char *e = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (!e) {
            if (c->rlen == RBUF)
                die("the handshake answer is too long", id);
            return;
        }
        handshake_check(c, (size_t)(e + 4 - c->rbuf));
    }
    if (c->st == ST_OPEN)
        frames(c);
}

/* One epoll_wait (at most timeout seconds) and what it returned; returns 1
 * if stdin ended or a signal came. */
static int poll_once(double timeout)
{
    struct epoll_event evs[512];
    int n = epoll_wait(ep, evs, 512, timeout <= 0 ? 0 : (int)(timeout * 1000) + 1);
    if (n < 0 && errno == EINTR)
        return stop_signal != 0;
    if (n < 0)
        die(strerror(errno), -1);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == STDIN_TAG) {
            char buf[256];
            if (read(0, buf, sizeof buf) <= 0)
                return 1;
            continue;
        }
        conn *c = &conns[evs[i].data.u32];
        if (c->st == ST_CONNECTING) {
            handshake_send(c);
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(c);
        if (evs[i].events & EPOLLOUT)
            flush(c);
    }
    return stop_signal != 0;
}

/* Runs the loop until every connection is open. */
static void open_all(void)
{
    double deadline = now_s() + 60;
    conns_start();
    while (opened < cfg.n) {
        if (now_s() > deadline)
            die("connections still not open after 60 s", -1);
        if (poll_once(1))
            exit(1);
    }
}

static void run_for(double secs)
{
    double end = now_s() + secs, t;
    while ((t = now_s()) < end)
        if (poll_once(end - t))
            exit(1);
}

/* --- modes ---------------------------------------------------------------------------- */

static void mode_pingpong(void)
{
    double t0 = now_s();
    open_all();
    printf("# connect: %d connections open in %.3f s\n", cfg.n, now_s() - t0);
    run_for(cfg.warmup);
    unsigned long long b0[16], b1[16];
    counting = 1;
    int ncpu = cpus_busy(b0, 16);
    double c0 = server_cpu_s();
    t0 = now_s();
    run_for(cfg.secs);
    double t1 = now_s(), c1 = server_cpu_s();
    if (cpus_busy(b1, 16) != ncpu)
        ncpu = 0;
    counting = 0;
    double el = t1 - t0;
    printf("round_trips_per_s %.0f\n", (double)count / el);
    printf("round_trips %llu\n", (unsigned long long)count);
    printf("secs %.3f\n", el);
    if (c0 >= 0 && c1 >= 0 && count) {
        printf("server_cpu_us_per_rt %.3f\n", (c1 - c0) * 1e6 / (double)count);
        printf("server_cpu_pct %.0f\n", (c1 - c0) * 100 / el);
    }
    for (int i = 0; i < ncpu; i++)
        printf("cpu%d_busy_pct %.0f\n", i,
               (double)(b1[i] - b0[i]) / (double)sysconf(_SC_CLK_TCK) * 100 / el);
    printf("# pingpong: %d connections, %d-byte text frames, %.1f s warm-up + %.1f s\n", cfg.n,
           MSG_LEN, cfg.warmup, cfg.secs);
}

static void on_stop(int sig) { stop_signal = sig; }

static void mode_idle(void)
{
    double t0 = now_s();
    open_all();
    printf("ready %d\n", opened);
    printf("# connect: %d connections open in %.3f s\n", cfg.n, now_s() - t0);
    fflush(stdout);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = STDIN_TAG};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev)) /* not a pipe: wait for a signal */
        fprintf(stderr, "wsload: stdin cannot be polled: waiting for SIGTERM\n");
    while (!poll_once(3600))
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void mode_bcast(void)
{
    double t0 = now_s();
    open_all();
    printf("# connect: %d connections open in %.3f s\n", cfg.n, now_s() - t0);
    run_for(0.3); /* the last to open may not be in the room yet */
    double *ms = calloc((size_t)cfg.rounds, sizeof *ms);
    for (int r = -1; r < cfg.rounds; r++) {
        for (int i = 0; i < cfg.n; i++)
            conns[i].got = 0;
        remaining = cfg.n;
        t0 = now_s();
        send_frame(&conns[0], 1, "bcast", 5);
        while (remaining > 0) {
            double t = now_s();
            if (t - t0 > ROUND_TIMEOUT_S) {
                fprintf(stderr, "wsload: round %d: %d of %d received nothing in %.0f s\n", r,
                        remaining, cfg.n, ROUND_TIMEOUT_S);
                exit(1);
            }
            if (poll_once(0)) /* spinning: see the top of the file */
                exit(1);
        }
        if (r >= 0)
            ms[r] = (now_s() - t0) * 1e3;
        run_for(0.05);
    }
    qsort(ms, (size_t)cfg.rounds, sizeof *ms, cmp_double);
    printf("bcast_best_ms %.3f\n", ms[0]);
    printf("bcast_median_ms %.3f\n",
           cfg.rounds % 2 ? ms[cfg.rounds / 2] : (ms[cfg.rounds / 2 - 1] + ms[cfg.rounds / 2]) / 2);
    printf("bcast_worst_ms %.3f\n", ms[cfg.rounds - 1]);
    printf("# bcast: %d connections, %d rounds after a warm-up, 32-byte message\n", cfg.n,
           cfg.rounds);
    free(ms);
}

static void usage(void)
{
    fprintf(stderr, "usage: wsload pingpong|idle|bcast N [SECS] --port P [--host H] [--path /ws]\n"
                    "              [--warmup W] [--rounds R] [--server-pid PID]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--port") && i + 1 < argc)
            cfg.port = atoi(argv[++i]);
        else if (!strcmp(a, "--host") && i + 1 < argc)
            cfg.host = argv[++i];
        else if (!strcmp(a, "--path") && i + 1 < argc)
            cfg.path = argv[++i];
        else if (!strcmp(a, "--warmup") && i + 1 < argc)
            cfg.warmup = atof(argv[++i]);
        else if (!strcmp(a, "--rounds") && i + 1 < argc)
            cfg.rounds = atoi(argv[++i]);
        else if (!strcmp(a, "--server-pid") && i + 1 < argc)
            cfg.server_pid = atoi(argv[++i]);
        else if (a[0] == '-')
            usage();
        else if (pos == 0) {
            pos++;
            if (!strcmp(a, "pingpong"))
                cfg.mode = M_PINGPONG;
            else if (!strcmp(a, "idle"))
                cfg.mode = M_IDLE;
            else if (!strcmp(a, "bcast"))
                cfg.mode = M_BCAST;
            else
                usage();
        } else if (pos == 1) {
            pos++;
            cfg.n = atoi(a);
        } else if (pos == 2 && cfg.mode == M_PINGPONG) {
            pos++;
            cfg.secs = atof(a);
        } else
            usage();
    }
    if (pos < 2 || cfg.n <= 0 || !cfg.port || cfg.rounds <= 0 ||
        (cfg.mode == M_PINGPONG && (pos < 3 || cfg.secs <= 0)))
        usage();
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg.port);
    if (inet_pton(AF_INET, cfg.host, &addr.sin_addr) != 1)
        die("--host must be an IPv4 address", -1);
    rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e9);
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: epoll_wait returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(0);
    conns = calloc((size_t)cfg.n, sizeof *conns);
    if (ep < 0 || !conns)
        die("out of resources", -1);
    if (cfg.mode == M_PINGPONG)
        mode_pingpong();
    else if (cfg.mode == M_IDLE)
        mode_idle();
    else
        mode_bcast();
    fflush(stdout);
    for (int i = 0; i < started; i++)
        close(conns[i].fd);
    free(conns);
    return 0;
}
