/* The streams benchmark's peer: a plain libuv echo server, written the way a
 * careful libuv user would, with no aweb in it. tests/bench/run.sh measures
 * it beside echo_aweb with the same load generator (loadgen.c).
 *
 * What makes it fair rather than a straw man:
 *   - reads land in 64 KiB buffers (aweb's stream buffer size) taken from a
 *     free list, and the same buffer is handed to uv_write: no copy, no malloc
 *     once the pool is warm;
 *   - write requests live in the buffer's header, so an echo costs one
 *     read(2) and one write(2) (uv_write writes at once when the queue is
 *     empty);
 *   - TCP_NODELAY is on, as aweb sets it on accepted connections;
 *   - back-pressure: a connection stops reading while more than
 *     MAX_QUEUED bytes wait to be written, as aweb's read-then-write loop
 *     does by construction, so a client that stops reading cannot make it
 *     queue without bound.
 *
 * Usage: echo_uv [--port N]    prints `port N` on stdout once listening,
 * then runs until SIGTERM or SIGINT. There is no TLS mode: the TLS peer in
 * run.sh is `openssl s_server`.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF_SIZE (64 * 1024)
#define MAX_QUEUED (256 * 1024)

typedef struct conn {
    uv_tcp_t tcp;
    int reading; /* uv_read_start is in effect */
    int closing;
} conn;

/* A pooled buffer: the write request that sends it back sits in front. */
typedef struct chunk {
    union {
        uv_write_t req;
        struct chunk *next; /* in the free list */
    } u;
    char data[BUF_SIZE];
} chunk;

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigterm, sigint;
static chunk *free_chunks;

static chunk *chunk_get(void)
{
    chunk *c = free_chunks;
    if (c) {
        free_chunks = c->u.next;
        return c;
    }
    return malloc(sizeof *c);
}

static void chunk_put(chunk *c)
{
    c->u.next = free_chunks;
    free_chunks = c;
}

static chunk *chunk_of(const char *data) { return (chunk *)(data - offsetof(chunk, data)); }

static void on_close(uv_handle_t *h) { free(h->data); }

static void conn_close(conn *c)
{
    if (!c->closing) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, on_close);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    chunk *c = chunk_get();
    *b = uv_buf_init(c ? c->data : NULL, c ? BUF_SIZE : 0);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

static void on_write(uv_write_t *req, int status)
{
    conn *c = req->handle->data;
    chunk_put((chunk *)req);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->reading && !c->closing && c->tcp.write_queue_size <= MAX_QUEUED) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = 1;
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    conn *c = st->data;
    if (nread <= 0) {
        if (b->base)
            chunk_put(chunk_of(b->base));
        if (nread < 0) /* EOF or an error: nothing more to echo */
            conn_close(c);
        return;
    }
    chunk *k = chunk_of(b->base);
    uv_buf_t out = uv_buf_init(b->base, (unsigned)nread);
    if (uv_write(&k->u.req, st, &out, 1, on_write)) {
        chunk_put(k);
        conn_close(c);
        return;
    }
    if (st->write_queue_size > MAX_QUEUED) {
        uv_read_stop(st);
        c->reading = 0;
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp)) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = 1;
    else
        conn_close(c);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    uv_stop(loop);
}

static void usage(void)
{
    fprintf(stderr, "usage: echo_uv [--port N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &server);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&server, 511, on_connection);
    if (rc) {
        fprintf(stderr, "echo_uv: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(rc));
        return 1;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
    printf("port %d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);

    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
    /* Open connections are not closed one by one: the process ends. */
    return 0;
}
