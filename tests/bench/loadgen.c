/* Load generator for the streams benchmark (tests/bench/run.sh): one client,
 * written with raw non-blocking sockets and epoll (and OpenSSL for TLS), so
 * that the same code measures echo_aweb, echo_uv and `openssl s_server`.
 * It uses nothing of aweb or libuv.
 *
 * Modes:
 *   echo      N connections (64) each send SIZE bytes (1024), wait for all of
 *             them to come back, compare them with what was sent, and go
 *             again (ping-pong). Prints msgs_per_s (round trips per second,
 *             all connections together) and mib_per_s (payload echoed, one
 *             direction).
 *   bulk      N connections (4) each stream SIZE-byte writes (65536) as fast
 *             as the socket takes them, with at most WINDOW bytes (128 KiB)
 *             sent and not yet echoed, and read the echo back. Prints
 *             mib_per_s (bytes echoed back per second). Echoed bytes are
 *             spot-checked against the sent stream (the first, middle and
 *             last byte of each read; see PERIOD). A larger window only
 *             queues more in the socket buffers: on loopback that made
 *             throughput lower and erratic
 *             (1 MiB: 1.0-1.8 GiB/s; 128 KiB: 3.3-4.7 GiB/s, the server
 *             saturated).
 *   tls-bulk  N connections (1) each do a TLS handshake, then send SIZE-byte
 *             SSL_writes (16384, one full record each) as fast as possible to
 *             a server that reads and discards. When the time is up each sends
 *             close_notify and waits for the server to close: the clock stops
 *             then, so every counted byte was decrypted by the server. Prints
 *             mib_per_s (plaintext).
 *   tls-hs    N connections (8) at a time each connect, complete a full TLS
 *             handshake, send close_notify, wait for the server's close, and
 *             start over. No session is ever offered for resumption, so every
 *             handshake is a full one. Prints handshakes_per_s (a handshake
 *             counts once its connection has closed cleanly, which proves the
 *             server processed the client's Finished).
 *
 * TLS is 1.3 only with OpenSSL's default suites and groups and no
 * certificate verification (the benchmark's certificate is self-signed);
 * `# tls` reports what was negotiated, so both servers can be seen to agree.
 *
 * Timing: WARMUP seconds (0.25) run first and are not counted; then SECS
 * seconds (2) are. Clock: CLOCK_MONOTONIC. Exit status 1 if a server echoed
 * wrong bytes, failed a handshake or did not answer in time.
 *
 * With --server-pid, the server's CPU time over the same interval (its main
 * thread's, from /proc/PID/schedstat, in ns) gives server_cpu_pct and
 * per_server_cpu_s, the figure per second of server CPU (messages, MiB or
 * handshakes): how much work the server does for its CPU, which other load
 * on a shared machine disturbs far less than the rate.
 *
 * Usage: loadgen MODE --port P [--host 127.0.0.1] [--conns N] [--size S]
 *                [--secs D] [--warmup W] [--window B] [--server-pid PID]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_ECHO, M_BULK, M_TLS_BULK, M_TLS_HS };

/* What a connection is doing (TLS modes only). */
enum state { ST_CONNECTING, ST_HANDSHAKE, ST_RUN, ST_SHUTDOWN, ST_DRAIN, ST_DONE };

typedef struct conn {
    int fd;
    int id;
    enum state st;
    uint32_t events; /* registered with epoll */
    SSL *ssl;
    uint64_t seq;       /* echo: the message in flight */
    size_t woff, roff;  /* echo: progress of the current message */
    uint64_t sent, got; /* bulk: stream positions */
    int write_pending;  /* tls-bulk: an SSL_write must be retried as it was */
    char *req, *resp;   /* echo: the message and its echo; bulk: resp is scratch */
} conn;

static struct {
    enum mode mode;
    const char *host;
    int port;
    int conns;
    size_t size;
    double secs, warmup;
    uint64_t window;
    int server_pid;
} cfg;

static int ep;
static conn *conns;
/* Bulk modes: byte i of a stream is pattern[i % PERIOD]. The period is a
 * prime, so it shares no factor with any read or write size: an echo that
 * lost or repeated a chunk shifts the bytes after it, and the spot checks
 * see the shift. The buffer is PERIOD + size long, so that a write of size
 * bytes can start anywhere in the period. */
#define PERIOD 65521
static char *pattern;
static SSL_CTX *tls_ctx;
static struct sockaddr_in addr;
static uint64_t count;  /* messages, bytes or handshakes, as the mode counts */
static uint64_t errors; /* non-fatal: connections the server reset, etc. */
static int stopping;    /* the measured interval is over */
static int live;        /* connections not yet done (tls modes, when stopping) */
static char tls_info[160];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the server's main thread so far, in seconds, or -1. */
static double server_cpu_s(void)
{
    char path[64];
    unsigned long long ns = 0;
    if (!cfg.server_pid)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/schedstat", cfg.server_pid);
    FILE *f = fopen(path, "r");
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f)
        fclose(f);
    return ok ? (double)ns / 1e9 : -1;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* --- sockets and epoll --------------------------------------------------- */

static void set_events(conn *c, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = !c->events ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    if (epoll_ctl(ep, op, c->fd, &ev))
        die("epoll_ctl failed");
    c->events = events;
}

/* A TCP socket to the server: connected before returning when `block`, else
 * in progress. */
static int open_socket(int block)
{
    int fd = socket(AF_INET, SOCK_STREAM | (block ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0)
        die("socket failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) && errno != EINPROGRESS) {
        fprintf(stderr, "loadgen: cannot connect to %s:%d: %s\n", cfg.host, cfg.port,
                strerror(errno));
        exit(1);
    }
    return fd;
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* --- echo: ping-pong of SIZE bytes ----------------------------------------- */

static void echo_fill(conn *c)
{
    /* a different header per message, so a stale or misrouted echo shows */
    uint64_t tag[2] = {(uint64_t)c->id, c->seq};
    memcpy(c->req, tag, sizeof tag < cfg.size ? sizeof tag : cfg.size);
    c->woff = c->roff = 0;
}

static void echo_write(conn *c)
{
    while (c->woff < cfg.size) {
        ssize_t n = write(c->fd, c->req + c->woff, cfg.size - c->woff);
        if (n < 0) {
            if (errno == EAGAIN) {
                set_events(c, EPOLLIN | EPOLLOUT);
                return;
            }
            die("echo: write failed");
        }
        c->woff += (size_t)n;
    }
    set_events(c, EPOLLIN);
}

static void echo_read(conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->resp + c->roff, cfg.size - c->roff);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            die(n == 0 ? "echo: the server closed a connection" : "echo: read failed");
        c->roff += (size_t)n;
        if (c->roff < cfg.size)
            continue;
        if (memcmp(c->req, c->resp, cfg.size))
            die("echo: the server sent back different bytes");
        count++;
        c->seq++;
        echo_fill(c);
        echo_write(c);
    }
}

/* --- bulk: streams echoed back ----------------------------------------------- */

static void bulk_write(conn *c)
{
    for (;;) {
        uint64_t room = cfg.window - (c->sent - c->got);
        size_t at = (size_t)(c->sent % PERIOD), len = cfg.size;
        if (len > room)
            len = (size_t)room;
        if (!len) {
            set_events(c, EPOLLIN); /* the window is full: wait for echoes */
            return;
        }
        ssize_t n = write(c->fd, pattern + at, len);
        if (n < 0) {
            if (errno == EAGAIN) {
                set_events(c, EPOLLIN | EPOLLOUT);
                return;
            }
            die("bulk: write failed");
        }
        c->sent += (uint64_t)n;
    }
}

static void bulk_read(conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->resp, cfg.size);
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0)
            die(n == 0 ? "bulk: the server closed a connection" : "bulk: read failed");
        size_t first = (size_t)(c->got % PERIOD), mid = (size_t)((c->got + n / 2) % PERIOD),
               last = (size_t)((c->got + n - 1) % PERIOD);
        if (c->resp[0] != pattern[first] || c->resp[n / 2] != pattern[mid] ||
            c->resp[n - 1] != pattern[last])
            die("bulk: the server sent back different bytes");
        c->got += (uint64_t)n;
        count += (uint64_t)n;
    }
    bulk_write(c);
}

/* --- TLS ------------------------------------------------------------------ */

static void tls_init(void)
{
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    /* no session is kept, so none can be resumed: every handshake is full */
    SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
    /* a server that closes without close_notify ends the stream, no more */
    SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
}

static void tls_note(SSL *ssl)
{
    if (tls_info[0])
        return;
    int nid = SSL_get_negotiated_group(ssl);
    snprintf(tls_info, sizeof tls_info, "%s %s %s", SSL_get_version(ssl),
             SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)),
             nid > 0 ? OBJ_nid2sn(nid & ~TLSEXT_nid_unknown) : "?");
}

static void tls_new(conn *c)
{
    c->ssl = SSL_new(tls_ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
        die("SSL_new failed");
    SSL_set_connect_state(c->ssl);
}

/* Turns an SSL call's failure into the events to wait for; returns 0 for "wait",
 * 1 for "the stream ended", -1 for an error. */
static int tls_want(conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_events(c, EPOLLIN);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        set_events(c, EPOLLOUT);
        return 0;
    }
    /* a plain end of file is a zero return too (SSL_OP_IGNORE_UNEXPECTED_EOF);
     * SSL_ERROR_SYSCALL is then a reset or another socket error */
    if (e == SSL_ERROR_ZERO_RETURN)
        return 1;
    ERR_clear_error();
    return -1;
}

static void conn_finish(conn *c)
{
    set_events(c, 0);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
    c->st = ST_DONE;
    live--;
}

static void hs_start(conn *c);

/* close_notify sent, then read until the server's own close (or EOF). */
static void tls_shutdown_step(conn *c)
{
    char scratch[4096];
    int clean = 1;
    if (c->st == ST_SHUTDOWN) {
        int r = SSL_shutdown(c->ssl);
        if (r < 0) {
            if (tls_want(c, r) == 0)
                return;
            clean = 0;
            goto done;
        }
        c->st = ST_DRAIN;
        if (r == 1)
            goto done;
    }
    for (;;) {
        int r = SSL_read(c->ssl, scratch, sizeof scratch);
        if (r > 0)
            continue;
        int w = tls_want(c, r);
        if (w == 0)
            return;
        clean = w > 0;
        break;
    }
done:
    if (!clean)
        errors++;
    else if (cfg.mode == M_TLS_HS)
        count++;
    conn_finish(c);
    if (cfg.mode == M_TLS_HS && !stopping)
        hs_start(c);
}

/* tls-hs: connect, handshake, shut down, again. */
static void hs_step(conn *c)
{
    if (c->st == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
            exit(1);
        }
        tls_new(c);
        c->st = ST_HANDSHAKE;
    }
    if (c->st == ST_HANDSHAKE) {
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            if (tls_want(c, r) == 0)
                return;
            die("tls-hs: handshake failed");
        }
        if (SSL_session_reused(c->ssl))
            die("tls-hs: a session was resumed");
        tls_note(c->ssl);
        c->st = ST_SHUTDOWN;
    }
    tls_shutdown_step(c);
}

static void hs_start(conn *c)
{
    c->fd = open_socket(0);
    c->events = 0;
    c->st = ST_CONNECTING;
    live++;
    set_events(c, EPOLLOUT);
}

/* tls-bulk: SSL_write the pattern until the socket is full. A write that
 * could not complete is retried with the same arguments, as OpenSSL asks. */
static void tls_bulk_step(conn *c)
{
    if (c->st == ST_RUN) {
        for (int i = 0; i < 64; i++) { /* then let the other connections write */
            if (stopping && !c->write_pending) {
                c->st = ST_SHUTDOWN;
                break;
            }
            int r = SSL_write(c->ssl, pattern, (int)cfg.size);
            if (r <= 0) {
                c->write_pending = 1;
                if (tls_want(c, r) == 0)
                    return;
                die("tls-bulk: SSL_write failed");
            }
            c->write_pending = 0;
            count += (uint64_t)r;
        }
        if (c->st == ST_RUN) {
            set_events(c, EPOLLOUT);
            return;
        }
    }
    tls_shutdown_step(c);
}

static void tls_bulk_open(conn *c)
{
    c->fd = open_socket(1);
    tls_new(c);
    if (SSL_connect(c->ssl) != 1)
        die("tls-bulk: handshake failed");
    tls_note(c->ssl);
    set_nonblocking(c->fd);
    c->st = ST_RUN;
    live++;
    set_events(c, EPOLLOUT);
}

/* --- the run ---------------------------------------------------------------- */

static void on_event(conn *c, uint32_t ev)
{
    switch (cfg.mode) {
    case M_ECHO:
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            echo_read(c);
        if (c->woff < cfg.size && (ev & EPOLLOUT))
            echo_write(c);
        break;
    case M_BULK:
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            bulk_read(c);
        else
            bulk_write(c);
        break;
    case M_TLS_BULK: tls_bulk_step(c); break;
    case M_TLS_HS: hs_step(c); break;
    }
}

static void open_all(void)
{
    for (int i = 0; i < cfg.conns; i++) {
        conn *c = &conns[i];
        c->id = i;
        c->fd = -1;
        switch (cfg.mode) {
        case M_ECHO:
            c->req = malloc(cfg.size);
            c->resp = malloc(cfg.size);
            if (!c->req || !c->resp)
                die("out of memory");
            memset(c->req, 'a' + i % 26, cfg.size);
            c->fd = open_socket(1);
            set_nonblocking(c->fd);
            echo_fill(c);
            echo_write(c);
            break;
        case M_BULK:
            if (!(c->resp = malloc(cfg.size)))
                die("out of memory");
            c->fd = open_socket(1);
            set_nonblocking(c->fd);
            bulk_write(c);
            break;
        case M_TLS_BULK: tls_bulk_open(c); break;
        case M_TLS_HS: hs_start(c); break;
        }
    }
}

/* Runs the loop until `until`, or sooner once no TLS connection is left when
 * `idle_ends` is set. */
static void run_until(double until, int idle_ends)
{
    struct epoll_event evs[256];
    for (;;) {
        double now = now_s();
        if (now >= until || (idle_ends && live == 0))
            return;
        int n = epoll_wait(ep, evs, 256, (int)((until - now) * 1000) + 1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
    }
}

/* Prints the figures of `done` units of work (messages, bytes or handshakes)
 * in `secs` seconds, for which the server used `cpu_s` seconds of CPU (< 0:
 * not known). */
static void report(uint64_t done, double secs, double cpu_s)
{
    char when[64];
    snprintf(when, sizeof when, "%.2f s measured after %.2f s warm-up", secs, cfg.warmup);
    switch (cfg.mode) {
    case M_ECHO:
        printf("msgs_per_s %.0f\n", (double)done / secs);
        printf("mib_per_s %.1f\n", (double)done * (double)cfg.size / secs / (1 << 20));
        printf("# echo: %d connections, %zu-byte ping-pong, MiB/s of payload one way; %s\n",
               cfg.conns, cfg.size, when);
        break;
    case M_BULK:
        printf("mib_per_s %.1f\n", (double)done / secs / (1 << 20));
        printf("# bulk: %d connections, %zu-byte writes, window %llu bytes, MiB/s echoed back; "
               "%s\n",
               cfg.conns, cfg.size, (unsigned long long)cfg.window, when);
        break;
    case M_TLS_BULK:
        printf("mib_per_s %.1f\n", (double)done / secs / (1 << 20));
        printf("# tls-bulk: %d connection(s), %zu-byte SSL_writes into a sink, timed until it "
               "closed; %s\n",
               cfg.conns, cfg.size, when);
        printf("# tls: %s\n", tls_info);
        break;
    case M_TLS_HS:
        printf("handshakes_per_s %.0f\n", (double)done / secs);
        printf("# tls-hs: %d connections, full handshakes, close_notify both ways; %s\n", cfg.conns,
               when);
        printf("# tls: %s\n", tls_info);
        break;
    }
    if (cpu_s > 0) {
        double units =
            cfg.mode == M_ECHO || cfg.mode == M_TLS_HS ? (double)done : (double)done / (1 << 20);
        printf("server_cpu_pct %.0f\n", 100 * cpu_s / secs);
        printf("per_server_cpu_s %.*f\n", cfg.mode == M_BULK || cfg.mode == M_TLS_BULK ? 1 : 0,
               units / cpu_s);
    }
    printf("errors %llu\n", (unsigned long long)errors);
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen echo|bulk|tls-bulk|tls-hs --port P [--host H] [--conns N]\n"
                    "               [--size S] [--secs D] [--warmup W] [--window B]\n"
                    "               [--server-pid PID]\n");
    exit(2);
}

static void parse(int argc, char **argv)
{
    if (argc < 2)
        usage();
    static const char *names[] = {"echo", "bulk", "tls-bulk", "tls-hs"};
    static const int def_conns[] = {64, 4, 1, 8};
    static const size_t def_size[] = {1024, 65536, 16384, 0};
    int m = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(argv[1], names[i]))
            m = i;
    if (m < 0)
        usage();
    cfg.mode = (enum mode)m;
    cfg.host = "127.0.0.1";
    cfg.conns = def_conns[m];
    cfg.size = def_size[m];
    cfg.secs = 2;
    cfg.warmup = 0.25;
    cfg.window = 128 << 10;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--port"))
            cfg.port = atoi(v);
        else if (!strcmp(a, "--host"))
            cfg.host = v;
        else if (!strcmp(a, "--conns"))
            cfg.conns = atoi(v);
        else if (!strcmp(a, "--size"))
            cfg.size = (size_t)atol(v);
        else if (!strcmp(a, "--secs"))
            cfg.secs = atof(v);
        else if (!strcmp(a, "--warmup"))
            cfg.warmup = atof(v);
        else if (!strcmp(a, "--window"))
            cfg.window = (uint64_t)atoll(v);
        else if (!strcmp(a, "--server-pid"))
            cfg.server_pid = atoi(v);
        else
            usage();
        i++;
    }
    if (cfg.port <= 0 || cfg.conns <= 0 || cfg.secs <= 0 || cfg.warmup < 0 ||
        (cfg.mode != M_TLS_HS && (cfg.size == 0 || cfg.size > (1 << 24))) ||
        (cfg.mode == M_TLS_BULK && cfg.size > 16384) || cfg.window == 0)
        usage();
    if (inet_pton(AF_INET, cfg.host, &addr.sin_addr) != 1)
        usage();
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg.port);
}

int main(int argc, char **argv)
{
    parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if ((ep = epoll_create1(0)) < 0)
        die("epoll_create1 failed");
    conns = calloc((size_t)cfg.conns, sizeof *conns);
    if (cfg.mode == M_BULK || cfg.mode == M_TLS_BULK) {
        if (!(pattern = malloc(PERIOD + cfg.size)))
            die("out of memory");
        for (size_t i = 0; i < PERIOD + cfg.size; i++)
            pattern[i] = (char)((i % PERIOD) * 131 + ((i % PERIOD) >> 8));
    }
    if (cfg.mode == M_TLS_BULK || cfg.mode == M_TLS_HS)
        tls_init();

    double start = now_s();
    open_all();
    run_until(start + cfg.warmup, 0);
    uint64_t base = count;
    double cpu0 = server_cpu_s();
    double t0 = now_s();
    run_until(t0 + cfg.secs, 0);
    uint64_t done = count - base;
    double t1 = now_s();
    double cpu1 = server_cpu_s();
    stopping = 1;
    if (cfg.mode == M_TLS_BULK) {
        /* The clock runs until the server has read everything: each
         * connection finishes its write, sends close_notify and waits. */
        for (int i = 0; i < cfg.conns; i++)
            tls_bulk_step(&conns[i]);
        run_until(now_s() + 10, 1);
        if (live)
            die("tls-bulk: the server did not close in time");
        done = count - base;
        t1 = now_s();
        cpu1 = server_cpu_s();
    } else if (cfg.mode == M_TLS_HS) {
        /* Let the handshakes in flight end, so the server sees clean closes;
         * they are not counted. */
        run_until(now_s() + 2, 1);
    }
    report(done, t1 - t0, cpu0 >= 0 && cpu1 > cpu0 ? cpu1 - cpu0 : -1);
    return 0;
}
