/* The fuzz targets' harness; see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "net.h"
#include "runtime.h"
#include "timeout.h"

/* libFuzzer's entry points: the driver (libclang_rt.fuzzer_no_main) and the
 * target's callbacks. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A conversation that takes longer than this is a hang: the server missed
 * the end of the input. The server's own timeouts (fuzz_config) are shorter. */
#define FUZZ_HANG_MS 8000

static int fuzz_argc;
static char **fuzz_argv;
static char fuzz_sock[4][108];
static size_t fuzz_nsock;

/* --- main: libFuzzer in a task ------------------------------------------------- */

static int fuzz_driver(void *arg)
{
    (void)arg;
    return LLVMFuzzerRunDriver(&fuzz_argc, &fuzz_argv, LLVMFuzzerTestOneInput);
}

static int fuzz_main(void *arg)
{
    (void)arg;
    /* libFuzzer's own frames (and its signal handlers' when it reports) need
     * more than a handler's stack; the server's tasks keep the default */
    aw_task *t = aw_spawn_ex(fuzz_driver, NULL,
                             &(aw_task_opts){.name = "libfuzzer", .stack_size = 16u << 20});
    return t ? aw_join(t) : AW_ENOMEM;
}

static void fuzz_unlink(void)
{
    for (size_t i = 0; i < fuzz_nsock; i++)
        unlink(fuzz_sock[i]);
}

int main(int argc, char **argv)
{
    fuzz_argc = argc;
    fuzz_argv = argv;
    atexit(fuzz_unlink);
    int rc = aw_run(fuzz_main, NULL);
    if (rc)
        fprintf(stderr, "fuzz harness: %s\n", aw_strerror(rc));
    return rc ? 1 : 0;
}

/* --- a server ------------------------------------------------------------------- */

void fuzz_config(aw_config *cfg)
{
    char err[256];
    static const char *const set[][3] = {
        {"log", "access_log", "off"},   {"timeouts", "header", "2s"}, {"timeouts", "body", "2s"},
        {"timeouts", "read", "2s"},     {"timeouts", "write", "2s"},  {"timeouts", "keepalive", "2s"},
        {"timeouts", "lingering", "1s"}, {"timeouts", "close", "1s"}, {"timeouts", "shutdown", "1s"},
    };
    aw_config_init(cfg);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (aw_config_set(cfg, set[i][0], set[i][1], set[i][2], err, sizeof err)) {
            fprintf(stderr, "fuzz_config: %s\n", err);
            abort();
        }
    /* the error log is formatted (handlers' failures carry client bytes) but
     * goes nowhere */
    aw_log_set_file("/dev/null");
}

const char *fuzz_serve(aw_app *app, aw_config *cfg, const char *name, aw_server **srv)
{
    char err[256], listen[128];
    if (fuzz_nsock == sizeof fuzz_sock / sizeof fuzz_sock[0])
        abort();
    char *path = fuzz_sock[fuzz_nsock];
    snprintf(path, sizeof fuzz_sock[0], "/tmp/aweb-fuzz-%s-%d.sock", name, (int)getpid());
    unlink(path);
    snprintf(listen, sizeof listen, "unix:%s", path);
    if (aw_config_set(cfg, "server", "listen", listen, err, sizeof err) ||
        aw_server_start(app, cfg, srv)) {
        fprintf(stderr, "fuzz_serve: cannot serve on %s\n", path);
        abort();
    }
    fuzz_nsock++;
    return path;
}

void fuzz_server_settle(aw_server *srv)
{
    /* the client saw the close; the server's task may still be in its last
     * steps (closing the stream) */
    for (int i = 0; i < 2000 && aw_server_connections(srv); i++)
        if (i < 50)
            aw_yield();
        else
            aw_sleep(1);
    if (aw_server_connections(srv)) {
        fprintf(stderr, "fuzz: the server still holds %zu connection(s) after the client left\n",
                aw_server_connections(srv));
        abort();
    }
}

/* --- a client conversation -------------------------------------------------------- */

typedef struct fuzz_reader {
    aw_stream *s;
    fuzz_reply *r;
    int rc;
} fuzz_reader;

static int fuzz_read_all(void *arg)
{
    fuzz_reader *rd = arg;
    char tmp[16384];
    for (;;) {
        ssize_t n = aw_stream_read(rd->s, tmp, sizeof tmp, FUZZ_HANG_MS);
        if (n <= 0) {
            rd->rc = n == AW_EOF || n == AW_ECONNRESET ? 0 : (int)n;
            return 0;
        }
        size_t keep = sizeof rd->r->buf - rd->r->len;
        if (keep > (size_t)n)
            keep = (size_t)n;
        memcpy(rd->r->buf + rd->r->len, tmp, keep);
        rd->r->len += keep;
        rd->r->total += (size_t)n;
    }
}

/* Sends data in up to 32 pieces of pseudo-random sizes, yielding between
 * them so that the server parses what it has before the rest arrives. */
static void fuzz_send_split(aw_stream *s, const uint8_t *data, size_t len, uint8_t split)
{
    uint32_t rng = split;
    for (int pieces = 0; len; pieces++) {
        size_t n = len;
        if (split && pieces < 32) {
            rng = rng * 1103515245u + 12345u;
            size_t want = (rng >> 16) % 97 + 1;
            if (want < n)
                n = want;
        }
        if (aw_stream_write(s, data, n, FUZZ_HANG_MS))
            return; /* the server closed early: fine, its answer is still read */
        data += n;
        len -= n;
        if (len) {
            aw_yield();
            aw_yield();
        }
    }
}

const fuzz_reply *fuzz_converse(const char *path, const char *head, int wait_head,
                                const uint8_t *data, size_t len, uint8_t split)
{
    static fuzz_reply reply;
    aw_stream *s;
    reply.len = reply.total = 0;
    if (aw_open_unix(path, NULL, &s)) {
        fprintf(stderr, "fuzz: cannot connect to %s\n", path);
        abort();
    }
    if (head) {
        if (aw_stream_write(s, head, strlen(head), FUZZ_HANG_MS))
            goto done;
        if (wait_head) {
            /* the answer to the head (a 101), kept in the reply */
            ssize_t n = aw_stream_read_until(s, "\r\n\r\n", 4, reply.buf, 4096, FUZZ_HANG_MS);
            if (n <= 0)
                goto done;
            reply.len = reply.total = (size_t)n;
        }
    }
    fuzz_reader rd = {s, &reply, 0};
    aw_task *t = aw_spawn_ex(fuzz_read_all, &rd, &(aw_task_opts){.name = "fuzz-reader"});
    if (!t)
        abort();
    fuzz_send_split(s, data, len, split);
    aw_stream_shutdown(s, FUZZ_HANG_MS);
    aw_join(t);
    if (rd.rc == AW_ETIMEDOUT) {
        fprintf(stderr, "fuzz: the server neither answered nor closed within %d ms\n",
                FUZZ_HANG_MS);
        abort();
    }
done:
    aw_stream_close(s);
    if (getenv("FUZZ_SHOW")) /* to see what a seed does: FUZZ_SHOW=1 target seed */
        fprintf(stderr, "---- %zu bytes answered:\n%.*s\n----\n", reply.total, (int)reply.len,
                reply.buf);
    return &reply;
}

/* --- UTF-8 ------------------------------------------------------------------------ */

int fuzz_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else
            return 0;
        if (i + n >= len)
            return 0; /* cut short */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += n + 1;
    }
    return 1;
}
