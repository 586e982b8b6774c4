/* The streams benchmark's aweb side: an echo (or sink) server on aw_listen in
 * task mode. tests/bench/run.sh measures it beside echo_uv (plain libuv) and
 * `openssl s_server` with the same load generator (loadgen.c).
 *
 * Each connection is a task that reads with aw_stream_read into its own
 * 64 KiB buffer (the size of aweb's stream buffers, and of echo_uv's) and
 * writes what it read back with aw_stream_write, until the peer ends the
 * stream. Timeouts are the defaults (AW_DEFAULT), as an application would
 * leave them: every wait goes through the deadline heap.
 *
 * Modes:
 *   echo  (default) write back what was read
 *   sink  read and discard until the end of the stream, then close (with
 *         close_notify under TLS). This is what `openssl s_server -quiet` does
 *         with its output sent to /dev/null, so the TLS bulk figure compares
 *         the two on the same one-way work (s_server has no plain echo mode:
 *         -rev reverses lines).
 *
 * --peek reads with aw_stream_peek and aw_stream_consume instead, writing the
 * bytes straight from the stream's buffer. run.sh does not use it. Neither
 * way copies in user space: aw_stream_read's 64 KiB reads go from the socket
 * straight into buf.
 *
 * Usage: echo_aweb [--port N] [--tls CERT KEY] [--mode echo|sink] [--peek]
 * Prints `port N` on stdout once listening; runs until SIGTERM or SIGINT,
 * then closes the listener and returns, so that aw_run cancels and reaps the
 * connection tasks (a clean exit is part of what the benchmark checks).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "aweb.h"

#define BUF_SIZE (64 * 1024)

typedef struct server_opts {
    int port;
    const char *cert, *key;
    int sink;
    int peek;
} server_opts;

static aw_event *stop;
/* Static: a handle's memory must outlive its close callback, which runs on
 * the loop after main_task has returned. */
static uv_signal_t sigs[2];

/* The zero-copy variant of echo_conn (--peek). */
static int echo_conn_peek(aw_stream *s, const server_opts *so)
{
    for (;;) {
        const char *p;
        ssize_t n = aw_stream_peek(s, &p, AW_DEFAULT);
        if (n < 0)
            return n == AW_EOF ? 0 : (int)n;
        int rc = so->sink ? 0 : aw_stream_write(s, p, (size_t)n, AW_DEFAULT);
        if (rc)
            return rc;
        aw_stream_consume(s, (size_t)n);
    }
}

static int echo_conn(aw_stream *s, void *arg)
{
    const server_opts *so = arg;
    if (so->peek)
        return echo_conn_peek(s, so);
    char *buf = malloc(BUF_SIZE);
    if (!buf || aw_defer(free, buf)) {
        free(buf);
        return AW_ENOMEM;
    }
    for (;;) {
        ssize_t n = aw_stream_read(s, buf, BUF_SIZE, AW_DEFAULT);
        if (n < 0)
            return n == AW_EOF ? 0 : (int)n;
        if (so->sink)
            continue;
        int rc = aw_stream_write(s, buf, (size_t)n, AW_DEFAULT);
        if (rc)
            return rc;
    }
}

/* Signals arrive on the loop (libuv's signal pipe); setting an event from a
 * callback only queues its waiters, which is allowed outside a task. */
static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    aw_event_set(stop);
}

static int main_task(void *arg)
{
    server_opts *so = arg;
    aw_tls_ctx *tls = NULL;
    aw_listener *l = NULL;
    int rc;

    if (!(stop = aw_event_new()))
        return AW_ENOMEM;
    if (so->cert) {
        aw_tls_opts to = {.cert_file = so->cert, .key_file = so->key};
        if ((rc = aw_tls_server_ctx_new(&to, &tls))) {
            fprintf(stderr, "echo_aweb: TLS: %s\n", aw_last_error());
            goto out;
        }
    }
    aw_listen_opts lo = {.port = so->port, .tls = tls, .handler = echo_conn, .arg = so};
    if ((rc = aw_listen(&lo, &l))) {
        fprintf(stderr, "echo_aweb: cannot listen on port %d: %s %s\n", so->port, aw_strerror(rc),
                aw_last_error());
        goto out;
    }
    printf("port %d\n", aw_listener_port(l));
    fflush(stdout);

    int signums[2] = {SIGTERM, SIGINT};
    for (int i = 0; i < 2; i++) {
        uv_signal_init(aw_loop(), &sigs[i]);
        uv_signal_start(&sigs[i], on_signal, signums[i]);
    }
    rc = aw_event_wait(stop, AW_FOREVER);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&sigs[i], NULL);
    aw_listener_close(l);
out:
    aw_tls_ctx_free(tls); /* connections hold their own reference */
    aw_event_free(stop);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: echo_aweb [--port N] [--tls CERT KEY] [--mode echo|sink] [--peek]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    server_opts so = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            so.port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tls") && i + 2 < argc) {
            so.cert = argv[++i];
            so.key = argv[++i];
        } else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "sink"))
                so.sink = 1;
            else if (strcmp(argv[i], "echo"))
                usage();
        } else if (!strcmp(argv[i], "--peek"))
            so.peek = 1;
        else
            usage();
    }
    int rc = aw_run(main_task, &so);
    if (rc < 0) {
        fprintf(stderr, "echo_aweb: %s\n", aw_strerror(rc));
        return 1;
    }
    return 0;
}
