/* Streams over TCP, Unix sockets and TLS: 1 GiB echoes, reads of every size,
 * sendfile, write timeouts, connect failures, cancellation. Servers run on a
 * loop of their own in a second thread, so both cores work (streampeers.h).
 * Reading on its own (timeouts, read_until, peek_more, back-pressure) is
 * test_stream_read.c's. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "certs.h"
#include "streampeers.h"
#include "testutil.h"

TestSuite(stream, .timeout = 120, .fini = tu_fini);
/* --- 1 GiB echo ---------------------------------------------------------- */

#define GIB (1024ull * 1024 * 1024)
#define CHUNK (64 * 1024)

static int echo_handler(aw_stream *s, void *arg)
{
    tu_stream_server *sv = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static __thread char buf[CHUNK];
    ssize_t n;
    while ((n = aw_stream_read(s, buf, sizeof buf, AW_DEFAULT)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        sv->bytes += (uint64_t)n;
        if (aw_stream_write(s, buf, (size_t)n, AW_DEFAULT))
            break;
    }
    EVP_DigestFinal_ex(md, sv->digest, NULL);
    EVP_MD_CTX_free(md);
    return 0;
}

typedef struct client {
    aw_stream *s;
    uint64_t total;
    unsigned char sent[32], received[32];
    uint64_t got;
    int wrc, rrc;
} client;

/* xorshift: data that compresses badly and is cheap to make */
static void fill(char *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x = *state;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        *state = x;
        memcpy(p + i, &x, 8);
    }
}

static int client_writer(void *arg)
{
    client *c = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char *buf = malloc(CHUNK);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (uint64_t off = 0; off < c->total; off += CHUNK) {
        fill(buf, CHUNK, &state);
        EVP_DigestUpdate(md, buf, CHUNK);
        if ((c->wrc = aw_stream_write(c->s, buf, CHUNK, AW_DEFAULT)))
            break;
    }
    EVP_DigestFinal_ex(md, c->sent, NULL);
    EVP_MD_CTX_free(md);
    free(buf);
    if (!c->wrc)
        c->wrc = aw_stream_shutdown(c->s, AW_DEFAULT); /* the server then sees the end */
    return c->wrc;
}

static int client_reader(void *arg)
{
    client *c = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    char *buf = malloc(CHUNK);
    ssize_t n;
    while ((n = aw_stream_read(c->s, buf, CHUNK, AW_DEFAULT)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        c->got += (uint64_t)n;
    }
    c->rrc = n == AW_EOF ? 0 : (int)n;
    EVP_DigestFinal_ex(md, c->received, NULL);
    EVP_MD_CTX_free(md);
    free(buf);
    return c->rrc;
}

typedef struct echo_case {
    tu_stream_server *sv;
    aw_tls_ctx *client_tls;
} echo_case;

static int echo_main(void *arg)
{
    echo_case *ec = arg;
    client c = {.total = GIB};
    aw_connect_opts co = {.tls = ec->client_tls, .server_name = "localhost"};
    int rc = ec->sv->path ? aw_open_unix(ec->sv->path, &co, &c.s)
                          : aw_open_connection("127.0.0.1", ec->sv->port, &co, &c.s);
    cr_assert_eq(rc, 0, "connect: %s (%s)", aw_strerror(rc), aw_last_error());
    aw_task *w = aw_spawn(client_writer, &c), *r = aw_spawn(client_reader, &c);
    cr_assert_eq(aw_join(w), 0, "writer: %s", aw_strerror(c.wrc));
    cr_assert_eq(aw_join(r), 0, "reader: %s", aw_strerror(c.rrc));
    aw_stream_close(c.s);
    tu_stream_server_join(ec->sv);
    cr_assert_eq(c.got, GIB, "echoed %llu bytes", (unsigned long long)c.got);
    cr_assert_eq(ec->sv->bytes, GIB);
    cr_assert_arr_eq(c.sent, ec->sv->digest, 32, "the server's SHA-256 differs");
    cr_assert_arr_eq(c.sent, c.received, 32, "the echo's SHA-256 differs");
    return 0;
}

Test(stream, echo_moves_1_gib_over_tcp_with_matching_sha256)
{
    tu_stream_server sv = {.handler = echo_handler, .connections = 1};
    tu_stream_server_start(&sv);
    echo_case ec = {&sv, NULL};
    tu_run(echo_main, &ec);
}

Test(stream, echo_moves_1_gib_over_a_unix_socket_with_matching_sha256)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-test-%d.sock", getpid());
    tu_stream_server sv = {.handler = echo_handler, .connections = 1, .path = path};
    tu_stream_server_start(&sv);
    echo_case ec = {&sv, NULL};
    tu_run(echo_main, &ec);
    cr_assert_neq(access(path, F_OK), 0, "the socket file is removed on close");
}

Test(stream, echo_moves_1_gib_over_tls_with_matching_sha256)
{
    aw_tls_ctx *stls, *ctls;
    tu_tls_pair(&stls, &ctls);
    tu_stream_server sv = {.handler = echo_handler, .connections = 1, .tls = stls};
    tu_stream_server_start(&sv);
    echo_case ec = {&sv, ctls};
    tu_run(echo_main, &ec);
    aw_tls_ctx_free(stls);
    aw_tls_ctx_free(ctls);
}
/* --- reads of every size see the stream in order ------------------------- */

/* Reads of 16 KiB and more take their bytes straight from the socket or lend
 * their buffer to the read callback; smaller ones copy out of the stream's
 * buffer. Reads of every size, some with a 1 ms timeout racing the arrivals,
 * on a stream sent in writes of every size with pauses between them, must see
 * each byte once and in order. */

#define MIX_LEN (16u << 20)

static char *mix_data;   /* the stream: both sides know it */
static uint64_t mix_bad; /* where the reader first saw a wrong byte, + 1 */

static int mixed_reader(aw_stream *s, void *arg)
{
    static const size_t sizes[] = {1, 3, 16384, 65536, 100000, 17000, 512, 200000};
    tu_stream_server *sv = arg;
    char *buf = malloc(200000);
    uint64_t at = 0;
    for (unsigned i = 0; at < MIX_LEN; i++) {
        ssize_t n = aw_stream_read(s, buf, sizes[i % 8], i % 3 ? AW_DEFAULT : 1);
        if (n == AW_ETIMEDOUT)
            continue;
        if (n <= 0)
            break;
        if (at + (uint64_t)n > MIX_LEN || memcmp(buf, mix_data + at, (size_t)n)) {
            mix_bad = at + 1;
            break;
        }
        at += (uint64_t)n;
    }
    sv->bytes = at;
    free(buf);
    return 0;
}

static int mixed_main(void *arg)
{
    static const size_t sizes[] = {70000, 1, 65536, 300, 16384, 200000, 5000, 131072};
    echo_case *ec = arg;
    aw_stream *s;
    aw_connect_opts co = {.tls = ec->client_tls, .server_name = "localhost"};
    int rc = ec->sv->path ? aw_open_unix(ec->sv->path, &co, &s)
                          : aw_open_connection("127.0.0.1", ec->sv->port, &co, &s);
    cr_assert_eq(rc, 0, "connect: %s (%s)", aw_strerror(rc), aw_last_error());
    uint64_t at = 0;
    for (unsigned i = 0; at < MIX_LEN; i++) {
        size_t n = sizes[i % 8] < MIX_LEN - at ? sizes[i % 8] : MIX_LEN - at;
        cr_assert_eq(aw_stream_write(s, mix_data + at, n, AW_DEFAULT), 0);
        at += n;
        if (i % 16 == 0)
            aw_sleep(1); /* let the reader catch up and wait */
    }
    char end;
    cr_assert_eq(aw_stream_read(s, &end, 1, 10000), AW_EOF, "the server closes once it has all");
    aw_stream_close(s);
    tu_stream_server_join(ec->sv);
    cr_assert_eq(mix_bad, 0, "byte %llu differs", (unsigned long long)(mix_bad - 1));
    cr_assert_eq(ec->sv->bytes, MIX_LEN);
    return 0;
}

Test(stream, reads_of_every_size_see_the_stream_in_order_over_tcp_unix_and_tls)
{
    mix_data = malloc(MIX_LEN);
    uint64_t state = 0x2545f4914f6cdd1dull;
    fill(mix_data, MIX_LEN, &state);
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-test-mix-%d.sock", getpid());
    aw_tls_ctx *stls, *ctls;
    tu_tls_pair(&stls, &ctls);
    for (int kind = 0; kind < 3; kind++) {
        tu_stream_server sv = {.handler = mixed_reader,
                               .connections = 1,
                               .path = kind == 1 ? path : NULL,
                               .tls = kind == 2 ? stls : NULL};
        tu_stream_server_start(&sv);
        echo_case ec = {&sv, kind == 2 ? ctls : NULL};
        mix_bad = 0;
        tu_run(mixed_main, &ec);
    }
    aw_tls_ctx_free(stls);
    aw_tls_ctx_free(ctls);
    free(mix_data);
}
/* --- sendfile, with and without a head ----------------------------------- */

#define SF_FILE (4u << 20)
#define SF_FILLER (1u << 20)

typedef struct sf_case {
    tu_stream_server *sv;
    aw_tls_ctx *client_tls;
    char path[64]; /* the file the server sends */
    unsigned char want[32];
    uint64_t want_len;
} sf_case;

static char sf_path[64];

/* The server: a head and the file, three times, each time in another state
 * of the socket (the client does not read at first): empty, full, and with
 * bytes queued by a send that never waits. */
static int sendfile_handler(aw_stream *s, void *arg)
{
    (void)arg;
    int fd = open(sf_path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(aw_stream_sendfile_after(s, "head one\n", 9, fd, 0, SF_FILE, AW_DEFAULT), 0);
    cr_assert_eq(aw_stream_sendfile_after(s, "head two\n", 9, fd, 0, SF_FILE, AW_DEFAULT), 0);
    char *filler = malloc(SF_FILLER);
    memset(filler, 'f', SF_FILLER);
    cr_assert_eq(aw_stream_send_async(s, filler, SF_FILLER), 0);
    free(filler);
    cr_assert_eq(aw_stream_sendfile_after(s, "head three\n", 11, fd, 0, SF_FILE, AW_DEFAULT), 0);
    cr_assert_eq(aw_stream_sendfile(s, fd, 1000, 24, AW_DEFAULT), 0); /* no head, a slice */
    close(fd);
    return 0;
}

static int sendfile_main(void *arg)
{
    sf_case *sc = arg;
    client c = {0};
    aw_connect_opts co = {.tls = sc->client_tls, .server_name = "localhost"};
    int rc = sc->sv->path ? aw_open_unix(sc->sv->path, &co, &c.s)
                          : aw_open_connection("127.0.0.1", sc->sv->port, &co, &c.s);
    cr_assert_eq(rc, 0, "connect: %s (%s)", aw_strerror(rc), aw_last_error());
    aw_sleep(300); /* the server's sends fill the socket meanwhile */
    cr_assert_eq(client_reader(&c), 0, "reader: %s", aw_strerror(c.rrc));
    aw_stream_close(c.s);
    tu_stream_server_join(sc->sv);
    cr_assert_eq(c.got, sc->want_len, "received %llu bytes", (unsigned long long)c.got);
    cr_assert_arr_eq(c.received, sc->want, 32, "the bytes received differ from those sent");
    return 0;
}

/* Writes the file and the SHA-256 of everything the handler sends. */
static void sendfile_setup(sf_case *sc)
{
    snprintf(sf_path, sizeof sf_path, "/tmp/aweb-sendfile-%d.bin", getpid());
    char *data = malloc(SF_FILE), *filler = malloc(SF_FILLER);
    uint64_t state = 0x2545f4914f6cdd1dull;
    fill(data, SF_FILE, &state);
    memset(filler, 'f', SF_FILLER);
    FILE *f = fopen(sf_path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, SF_FILE, f), SF_FILE);
    fclose(f);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, "head one\n", 9);
    EVP_DigestUpdate(md, data, SF_FILE);
    EVP_DigestUpdate(md, "head two\n", 9);
    EVP_DigestUpdate(md, data, SF_FILE);
    EVP_DigestUpdate(md, filler, SF_FILLER);
    EVP_DigestUpdate(md, "head three\n", 11);
    EVP_DigestUpdate(md, data, SF_FILE);
    EVP_DigestUpdate(md, data + 1000, 24);
    EVP_DigestFinal_ex(md, sc->want, NULL);
    EVP_MD_CTX_free(md);
    sc->want_len = 9 + 9 + 11 + 3ull * SF_FILE + SF_FILLER + 24;
    free(data);
    free(filler);
}

Test(stream, sendfile_after_a_head_arrives_whole_over_tcp_unix_and_tls)
{
    sf_case sc = {0};
    sendfile_setup(&sc);
    /* TCP */
    tu_stream_server sv = {.handler = sendfile_handler, .connections = 1};
    tu_stream_server_start(&sv);
    sc.sv = &sv;
    tu_run(sendfile_main, &sc);
    /* a Unix socket */
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-test-sf-%d.sock", getpid());
    tu_stream_server su = {.handler = sendfile_handler, .connections = 1, .path = path};
    tu_stream_server_start(&su);
    sc.sv = &su;
    tu_run(sendfile_main, &sc);
    /* TLS: read and write underneath */
    aw_tls_ctx *stls, *ctls;
    tu_tls_pair(&stls, &ctls);
    tu_stream_server st = {.handler = sendfile_handler, .connections = 1, .tls = stls};
    tu_stream_server_start(&st);
    sc.sv = &st;
    sc.client_tls = ctls;
    tu_run(sendfile_main, &sc);
    aw_tls_ctx_free(stls);
    aw_tls_ctx_free(ctls);
    unlink(sf_path);
}
/* --- write timeout, bounded memory --------------------------------------- */

static int write_timeout_main(void *arg)
{
    (void)arg;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.write_timeout_ms = 300;
    aw_stream *s;
    cr_assert_eq(
        aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s), 0);
    char *chunk = calloc(1, 1 << 20);
    size_t rss0 = tu_rss();
    int rc = 0, writes = 0;
    int64_t t0 = tu_ms(), t_last = t0;
    while (!rc && writes < 10000) {
        t_last = tu_ms();
        rc = aw_stream_write(s, chunk, 1 << 20, AW_DEFAULT);
        writes++;
    }
    cr_assert_eq(rc, AW_ETIMEDOUT, "writes went on: %d", writes);
    tu_assert_between(tu_ms() - t_last, 270, 400);
    cr_assert_lt(tu_rss() - rss0, 8 << 20, "the writer's memory grew by %zu", tu_rss() - rss0);
    /* the stream is broken off: the peer got part of a write */
    cr_assert_neq(aw_stream_write(s, "x", 1, 100), 0);
    free(chunk);
    aw_stream_close(s);
    tu_peer_stop(&p);
    cr_assert_eq(tu_open_handles(), 0);
    return 0;
}

Test(stream, a_peer_that_never_reads_makes_write_time_out_with_bounded_memory)
{
    tu_run(write_timeout_main, NULL);
}
/* --- connect failures ----------------------------------------------------- */

static int refused_main(void *arg)
{
    (void)arg;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    int port = p.port;
    tu_peer_stop(&p); /* the port is closed now */
    aw_stream *s;
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_open_connection("127.0.0.1", port, NULL, &s), AW_ECONNREFUSED);
    cr_assert_lt(tu_ms() - t0, 50);
    cr_assert(strstr(aw_last_error(), "connection refused"), "%s", aw_last_error());
    t0 = tu_ms();
    int rc = aw_open_connection("no-such-host.invalid", 80, NULL, &s);
    cr_assert_eq(rc, AW_EDNS, "got %s", aw_strerror(rc));
    cr_assert_lt(tu_ms() - t0, 6000);
    cr_assert(strstr(aw_last_error(), "no-such-host.invalid"), "%s", aw_last_error());
    cr_assert_eq(aw_open_unix("/nonexistent/aweb.sock", NULL, &s), AW_ENOENT);
    cr_assert_eq(tu_open_handles(), 0);
    return 0;
}

Test(stream, connect_fails_fast_on_a_closed_port_and_on_an_unknown_name)
{
    tu_run(refused_main, NULL);
}
/* --- cancellation leaves no handle --------------------------------------- */

typedef struct cancel_case {
    int what; /* 0 read, 1 write, 2 connect, 3 handshake */
    int port;
    int rc;
    aw_tls_ctx *tls;
} cancel_case;

static int blocked_op(void *arg)
{
    cancel_case *c = arg;
    aw_stream *s = NULL;
    if (c->what == 2) {
        c->rc = aw_open_connection("127.0.0.1", c->port, NULL, &s);
        return c->rc;
    }
    aw_connect_opts co = {.tls = c->what == 3 ? c->tls : NULL, .server_name = "localhost"};
    c->rc = aw_open_connection("127.0.0.1", c->port, &co, &s);
    if (c->rc)
        return c->rc;
    char buf[64];
    if (c->what == 0)
        c->rc = (int)aw_stream_read(s, buf, sizeof buf, AW_FOREVER);
    else {
        char *chunk = calloc(1, 1 << 20);
        while ((c->rc = aw_stream_write(s, chunk, 1 << 20, AW_FOREVER)) == 0)
            ;
        free(chunk);
    }
    aw_stream_close(s);
    return c->rc;
}

/* A port whose accept queue is full: the kernel drops further SYNs, so a
 * connect to it hangs. Returns the listening socket. */
static int full_backlog(int *port, int fillers[4])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    listen(l, 0);
    getsockname(l, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(100 * 1000);
    return l;
}

static int cancel_main(void *arg)
{
    (void)arg;
    const tu_certs *certs = tu_certs_get();
    aw_tls_ctx *ctls;
    aw_tls_client_ctx_new(&(aw_tls_opts){.ca_file = certs->ca}, &ctls);
    for (int what = 0; what < 4; what++) {
        tu_peer p = {0};
        tu_peer_start(&p, NULL); /* accepts, never answers: a TLS hello goes unanswered */
        int fillers[4], lsock = -1;
        cancel_case c = {.what = what, .port = p.port, .tls = ctls};
        if (what == 2)
            lsock = full_backlog(&c.port, fillers);
        aw_task *t = aw_spawn(blocked_op, &c);
        aw_sleep(50);
        cr_assert_not(aw_task_done(t), "case %d finished early: %s", what, aw_strerror(c.rc));
        aw_cancel(t);
        cr_assert_eq(aw_join(t), AW_ECANCELED, "case %d", what);
        cr_assert_eq(c.rc, AW_ECANCELED, "case %d: %s", what, aw_strerror(c.rc));
        tu_peer_stop(&p);
        if (lsock >= 0) {
            for (int i = 0; i < 4; i++)
                close(fillers[i]);
            close(lsock);
        }
        cr_assert_eq(tu_open_handles(), 0, "case %d left a handle open", what);
    }
    aw_tls_ctx_free(ctls);
    return 0;
}

Test(stream, cancelling_read_write_connect_or_handshake_leaves_no_handle)
{
    tu_run(cancel_main, NULL);
}
