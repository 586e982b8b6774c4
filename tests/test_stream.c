/* Streams over TCP, Unix sockets and TLS: 1 GiB echoes, timeouts, limits,
 * cancellation, back-pressure. The echo server runs on a loop of its own in a
 * second thread, so both cores work. */
#include <openssl/evp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "certs.h"
#include "testutil.h"

TestSuite(stream, .timeout = 120, .fini = tu_fini);

/* --- a server on its own thread ------------------------------------------ */

typedef struct server {
    /* set by the test */
    const char *path;        /* Unix socket instead of TCP */
    aw_tls_ctx *tls;
    aw_connection_fn handler;
    int connections;         /* how many to serve before stopping */
    /* set by the server */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int port, ready, served;
    aw_event *done;
    unsigned char digest[32];
    uint64_t bytes;
} server;

static int counted_handler(aw_stream *s, void *arg)
{
    server *sv = arg;
    int rc = sv->handler(s, arg);
    if (++sv->served == sv->connections)
        aw_event_set(sv->done);
    return rc;
}

static int server_main(void *arg)
{
    server *sv = arg;
    aw_listener *l;
    sv->done = aw_event_new();
    aw_listen_opts o = {.port = 0, .path = sv->path, .tls = sv->tls, .handler = counted_handler,
                        .arg = sv};
    cr_assert_eq(aw_listen(&o, &l), 0, "listen: %s", aw_last_error());
    pthread_mutex_lock(&sv->mu);
    sv->port = aw_listener_port(l);
    sv->ready = 1;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    aw_event_wait(sv->done, 100000);
    aw_listener_close(l);
    aw_event_free(sv->done);
    return 0;
}

static void *server_thread(void *arg)
{
    aw_run(server_main, arg);
    return NULL;
}

static void server_start(server *sv)
{
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);
    pthread_create(&sv->thread, NULL, server_thread, sv);
    pthread_mutex_lock(&sv->mu);
    while (!sv->ready)
        pthread_cond_wait(&sv->cv, &sv->mu);
    pthread_mutex_unlock(&sv->mu);
}

static void server_join(server *sv) { pthread_join(sv->thread, NULL); }

/* --- 1 GiB echo ---------------------------------------------------------- */

#define GIB (1024ull * 1024 * 1024)
#define CHUNK (64 * 1024)

static int echo_handler(aw_stream *s, void *arg)
{
    server *sv = arg;
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
    server *sv;
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
    server_join(ec->sv);
    cr_assert_eq(c.got, GIB, "echoed %llu bytes", (unsigned long long)c.got);
    cr_assert_eq(ec->sv->bytes, GIB);
    cr_assert_arr_eq(c.sent, ec->sv->digest, 32, "the server's SHA-256 differs");
    cr_assert_arr_eq(c.sent, c.received, 32, "the echo's SHA-256 differs");
    return 0;
}

Test(stream, echo_moves_1_gib_over_tcp_with_matching_sha256)
{
    server sv = {.handler = echo_handler, .connections = 1};
    server_start(&sv);
    echo_case ec = {&sv, NULL};
    tu_run(echo_main, &ec);
}

Test(stream, echo_moves_1_gib_over_a_unix_socket_with_matching_sha256)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-test-%d.sock", getpid());
    server sv = {.handler = echo_handler, .connections = 1, .path = path};
    server_start(&sv);
    echo_case ec = {&sv, NULL};
    tu_run(echo_main, &ec);
    cr_assert_neq(access(path, F_OK), 0, "the socket file is removed on close");
}

Test(stream, echo_moves_1_gib_over_tls_with_matching_sha256)
{
    const tu_certs *c = tu_certs_get();
    aw_tls_ctx *stls, *ctls;
    aw_tls_opts so = {.cert_file = c->server_cert, .key_file = c->server_key};
    cr_assert_eq(aw_tls_server_ctx_new(&so, &stls), 0, "%s", aw_last_error());
    aw_tls_opts co = {.ca_file = c->ca};
    cr_assert_eq(aw_tls_client_ctx_new(&co, &ctls), 0, "%s", aw_last_error());
    server sv = {.handler = echo_handler, .connections = 1, .tls = stls};
    server_start(&sv);
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
    server *sv = arg;
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
    server_join(ec->sv);
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
    const tu_certs *c = tu_certs_get();
    aw_tls_ctx *stls, *ctls;
    aw_tls_opts so = {.cert_file = c->server_cert, .key_file = c->server_key};
    cr_assert_eq(aw_tls_server_ctx_new(&so, &stls), 0, "%s", aw_last_error());
    aw_tls_opts co = {.ca_file = c->ca};
    cr_assert_eq(aw_tls_client_ctx_new(&co, &ctls), 0, "%s", aw_last_error());
    for (int kind = 0; kind < 3; kind++) {
        server sv = {.handler = mixed_reader, .connections = 1, .path = kind == 1 ? path : NULL,
                     .tls = kind == 2 ? stls : NULL};
        server_start(&sv);
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
    server *sv;
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
    server_join(sc->sv);
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
    server sv = {.handler = sendfile_handler, .connections = 1};
    server_start(&sv);
    sc.sv = &sv;
    tu_run(sendfile_main, &sc);
    /* a Unix socket */
    char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-test-sf-%d.sock", getpid());
    server su = {.handler = sendfile_handler, .connections = 1, .path = path};
    server_start(&su);
    sc.sv = &su;
    tu_run(sendfile_main, &sc);
    /* TLS: read and write underneath */
    const tu_certs *c = tu_certs_get();
    aw_tls_ctx *stls, *ctls;
    aw_tls_opts so = {.cert_file = c->server_cert, .key_file = c->server_key};
    cr_assert_eq(aw_tls_server_ctx_new(&so, &stls), 0, "%s", aw_last_error());
    aw_tls_opts co = {.ca_file = c->ca};
    cr_assert_eq(aw_tls_client_ctx_new(&co, &ctls), 0, "%s", aw_last_error());
    server st = {.handler = sendfile_handler, .connections = 1, .tls = stls};
    server_start(&st);
    sc.sv = &st;
    sc.client_tls = ctls;
    tu_run(sendfile_main, &sc);
    aw_tls_ctx_free(stls);
    aw_tls_ctx_free(ctls);
    unlink(sf_path);
}

/* --- a raw peer on the loop: accepts and then does what a test says ------ */

typedef struct peer {
    aw_listener *l;
    aw_stream *accepted;
    int port;
} peer;

static void keep_accepted(aw_listener *l, aw_stream *s, void *arg)
{
    (void)l;
    peer *p = arg;
    if (p->accepted)
        aw_stream_abort(p->accepted);
    p->accepted = s;
}

static void peer_start(peer *p, const aw_stream_opts *so)
{
    aw_listen_opts o = {.on_accept = keep_accepted, .arg = p, .stream_opts = so};
    cr_assert_eq(aw_listen(&o, &p->l), 0);
    p->port = aw_listener_port(p->l);
}

static void peer_stop(peer *p)
{
    if (p->accepted)
        aw_stream_abort(p->accepted);
    aw_listener_close(p->l);
}

/* Handles still open once pending close callbacks have run. */
static int open_handles(void)
{
    aw_yield();
    aw_yield();
    return (int)aw_open_handles();
}

/* --- read timeout -------------------------------------------------------- */

static int read_timeout_main(void *arg)
{
    (void)arg;
    peer p = {0};
    peer_start(&p, NULL);
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_timeout_ms = 300;
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s), 0);
    char buf[16];
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), AW_ETIMEDOUT);
    int64_t took = tu_ms() - t0;
    tu_assert_between(took, 270, 330);
    /* a read timeout leaves the stream usable */
    cr_assert_eq(aw_stream_write(p.accepted, "hi", 2, 1000), 0);
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), 2);
    /* an explicit timeout wins over the default */
    t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 100);
    /* and the task's scope caps both */
    aw_timeout_push(80);
    t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 75, 130);
    aw_timeout_pop();
    aw_stream_close(s);
    peer_stop(&p);
    cr_assert_eq(open_handles(), 0);
    return 0;
}

Test(stream, a_silent_peer_makes_read_time_out_at_the_configured_time) { tu_run(read_timeout_main, NULL); }

/* A read's deadline passes, and in the same turn of the loop the bytes it
 * waited for arrive, before the reading task has run again: they were read
 * into the buffer the read lent, so the read returns them, not the timeout.
 * Blocking the loop makes the order certain: libuv runs due timers before it
 * polls for input. */

typedef struct race {
    aw_stream *s, *peer;
    char buf[65536];
    ssize_t n;
} race;

static int race_reader(void *arg)
{
    race *r = arg;
    r->n = aw_stream_read(r->s, r->buf, sizeof r->buf, 20);
    return 0;
}

static int race_main(void *arg)
{
    (void)arg;
    peer p = {0};
    peer_start(&p, NULL);
    static race r; /* (task stacks are small) */
    static char data[20000];
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &r.s), 0);
    while (!p.accepted)
        aw_sleep(1);
    aw_task *t = aw_spawn(race_reader, &r);
    aw_sleep(5); /* the reader waits, its buffer lent */
    memset(data, 'r', sizeof data);
    cr_assert_eq(write(aw_stream_fd(p.accepted), data, sizeof data), (ssize_t)sizeof data);
    usleep(40 * 1000); /* past the reader's deadline, the loop held */
    aw_join(t);
    cr_assert_eq(r.n, (ssize_t)sizeof data, "the read gave %zd, not the bytes that came", r.n);
    cr_assert_eq(memcmp(r.buf, data, sizeof data), 0);
    aw_stream_close(r.s);
    peer_stop(&p);
    return 0;
}

Test(stream, a_read_whose_deadline_passes_as_its_bytes_arrive_returns_them)
{
    tu_run(race_main, NULL);
}

/* --- write timeout, bounded memory --------------------------------------- */

static int write_timeout_main(void *arg)
{
    (void)arg;
    peer p = {0};
    peer_start(&p, NULL);
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.write_timeout_ms = 300;
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s), 0);
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
    cr_assert_lt(tu_rss() - rss0, 8 << 20, "the writer's memory grew by %zu",
                 tu_rss() - rss0);
    /* the stream is broken off: the peer got part of a write */
    cr_assert_neq(aw_stream_write(s, "x", 1, 100), 0);
    free(chunk);
    aw_stream_close(s);
    peer_stop(&p);
    cr_assert_eq(open_handles(), 0);
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
    peer p = {0};
    peer_start(&p, NULL);
    int port = p.port;
    peer_stop(&p); /* the port is closed now */
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
    cr_assert_eq(open_handles(), 0);
    return 0;
}

Test(stream, connect_fails_fast_on_a_closed_port_and_on_an_unknown_name) { tu_run(refused_main, NULL); }

/* --- read_until ---------------------------------------------------------- */

static int read_until_main(void *arg)
{
    (void)arg;
    peer p = {0};
    peer_start(&p, NULL);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &s), 0);
    aw_sleep(10);
    const char msg[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
    cr_assert_eq(aw_stream_write(p.accepted, msg, sizeof msg - 1, 1000), 0);
    char buf[256];
    ssize_t n = aw_stream_read_until(s, "\r\n\r\n", 4, buf, sizeof buf, 1000);
    cr_assert_eq(n, (ssize_t)strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 1000), 4, "what follows stays buffered");
    /* the delimiter split across two arrivals */
    aw_stream_write(p.accepted, "abc\r", 4, 1000);
    aw_sleep(10);
    aw_stream_write(p.accepted, "\ndef", 4, 1000);
    n = aw_stream_read_until(s, "\r\n", 2, buf, sizeof buf, 1000);
    cr_assert_eq(n, 5);
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 1000), 3);
    /* never seen within max */
    char big[300];
    memset(big, 'a', sizeof big);
    aw_stream_write(p.accepted, big, sizeof big, 1000);
    cr_assert_eq(aw_stream_read_until(s, "\n", 1, buf, 100, 1000), AW_EMSGSIZE);
    aw_stream_close(s);
    peer_stop(&p);
    return 0;
}

Test(stream, read_until_finds_split_delimiters_and_refuses_past_max) { tu_run(read_until_main, NULL); }

/* --- peek_more: a parser waits for more than it has ----------------------- */

typedef struct later {
    aw_stream *s;
    const char *text;
    int delay_ms;
    int close; /* then close the stream */
} later;

static int write_later(void *arg)
{
    later *l = arg;
    aw_sleep(l->delay_ms);
    aw_stream_write(l->s, l->text, strlen(l->text), 1000);
    if (l->close)
        aw_stream_close(l->s);
    return 0;
}

static int peek_more_main(void *arg)
{
    (void)arg;
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_buffer = 4096;
    peer p = {0};
    peer_start(&p, NULL);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s),
                 0);
    while (!p.accepted)
        aw_sleep(1);
    const char *d;
    /* 8 bytes now, the rest 50 ms later: waiting for a 12th byte takes them */
    cr_assert_eq(aw_stream_write(p.accepted, "HTTP/1.1", 8, 1000), 0);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), 8);
    later l = {p.accepted, " 100 Continue\r\n", 50, 0};
    aw_task *t = aw_spawn(write_later, &l);
    int64_t t0 = tu_ms();
    ssize_t n = aw_stream_peek_more(s, 11, &d, 1000);
    tu_assert_between(tu_ms() - t0, 40, 500);
    cr_assert_eq(n, 23);
    cr_assert_eq(memcmp(d, "HTTP/1.1 100", 12), 0);
    aw_join(t);
    /* nothing more comes: the timeout, and what was there stays */
    t0 = tu_ms();
    cr_assert_eq(aw_stream_peek_more(s, 23, &d, 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 150);
    cr_assert_eq(aw_stream_buffered(s), 23);
    /* more than the buffer holds is refused at once */
    cr_assert_eq(aw_stream_peek_more(s, 4096, &d, 1000), AW_EMSGSIZE);
    /* the stream ends first: AW_EOF, and the bytes are still there to peek */
    aw_stream_consume(s, 23);
    later e = {p.accepted, "HTTP/1", 10, 1};
    p.accepted = NULL; /* closed by write_later */
    t = aw_spawn(write_later, &e);
    cr_assert_eq(aw_stream_peek_more(s, 11, &d, 1000), AW_EOF);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), 6);
    aw_stream_consume(s, 6);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), AW_EOF);
    aw_join(t);
    aw_stream_close(s);
    peer_stop(&p);
    cr_assert_eq(open_handles(), 0);
    return 0;
}

Test(stream, peek_more_waits_for_more_bytes_than_are_buffered) { tu_run(peek_more_main, NULL); }

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
        peer p = {0};
        peer_start(&p, NULL); /* accepts, never answers: a TLS hello goes unanswered */
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
        peer_stop(&p);
        if (lsock >= 0) {
            for (int i = 0; i < 4; i++)
                close(fillers[i]);
            close(lsock);
        }
        cr_assert_eq(open_handles(), 0, "case %d left a handle open", what);
    }
    aw_tls_ctx_free(ctls);
    return 0;
}

Test(stream, cancelling_read_write_connect_or_handshake_leaves_no_handle) { tu_run(cancel_main, NULL); }

/* --- back-pressure ------------------------------------------------------- */

static int backpressure_main(void *arg)
{
    (void)arg;
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_buffer = 16 * 1024;
    peer p = {0};
    peer_start(&p, &so);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &s), 0);
    aw_sleep(10);
    /* the server reads once, which turns reading on, then stops reading */
    aw_stream_write(s, "x", 1, 1000);
    char one;
    cr_assert_eq(aw_stream_read(p.accepted, &one, 1, 1000), 1);
    char *chunk = calloc(1, 1 << 20);
    int rc = 0;
    for (int i = 0; i < 256 && !rc; i++) /* until the kernel's buffers are full */
        rc = aw_stream_write(s, chunk, 1 << 20, 300);
    cr_assert_eq(rc, AW_ETIMEDOUT, "the peer's buffers should have filled");
    cr_assert_leq(aw_stream_buffered(p.accepted), 16 * 1024,
                  "the reader buffered %zu bytes", aw_stream_buffered(p.accepted));
    free(chunk);
    aw_stream_close(s);
    peer_stop(&p);
    return 0;
}

Test(stream, input_is_buffered_up_to_the_limit_then_reading_stops) { tu_run(backpressure_main, NULL); }
