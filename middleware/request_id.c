/* Request ids; see request_id.h. */
#include "request_id.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "mw_int.h"

struct aw_request_id {
    char header[64];
    int trust_incoming;
    size_t max_length;
};

void aw_request_id_opts_default(aw_request_id_opts *o)
{
    *o = (aw_request_id_opts){.header = "X-Request-ID", .trust_incoming = 1, .max_length = 128};
}

/* --- making ids -------------------------------------------------------------- */

/* A per-thread generator (splitmix64 over a counter from a random seed): ids
 * need to be unique and unguessable enough for logs, not secret. A forked
 * worker reseeds, or it would repeat its parent's ids. */
static _Thread_local uint64_t aw__rid_seed[2], aw__rid_counter;
static _Thread_local int aw__rid_seeded;
static pthread_once_t aw__rid_once = PTHREAD_ONCE_INIT;

static void aw__rid_forked(void) { aw__rid_seeded = 0; }
static void aw__rid_atfork(void) { pthread_atfork(NULL, NULL, aw__rid_forked); }

static uint64_t aw__splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void aw_request_id_make(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    if (!aw__rid_seeded) {
        pthread_once(&aw__rid_once, aw__rid_atfork);
        if (RAND_bytes((unsigned char *)aw__rid_seed, sizeof aw__rid_seed) != 1) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            aw__rid_seed[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
            aw__rid_seed[1] = (uint64_t)(uintptr_t)&ts;
        }
        aw__rid_seeded = 1;
    }
    uint64_t n = ++aw__rid_counter;
    uint64_t w[2] = {aw__splitmix(aw__rid_seed[0] + n), aw__splitmix(aw__rid_seed[1] ^ n)};
    for (int i = 0; i < 32; i++)
        out[i] = hex[(w[i / 16] >> (4 * (i % 16))) & 15];
    out[32] = 0;
}

/* --- the middleware -------------------------------------------------------- */

static int aw__rid_ok(const char *id, size_t max)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (n >= max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || strchr("-._~:+/=@", c)))
            return 0;
    }
    return n > 0;
}

const char *aw_request_id_of(const aw_request *req)
{
    return aw_request_get(req, AW_REQUEST_ID_KEY);
}

static aw_response *aw__rid_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_request_id *st = arg;
    const char *in = st->trust_incoming ? aw_request_header(req, st->header) : NULL;
    char *id = NULL;
    if (in && aw__rid_ok(in, st->max_length))
        id = (char *)in; /* lives in the request's arena, as the id must */
    else if ((id = aw_request_alloc(req, 33)))
        aw_request_id_make(id);
    if (!id || aw_request_set(req, AW_REQUEST_ID_KEY, id))
        return aw_fail(req, AW_ENOMEM);
    /* for this request's log lines only: the connection's task serves the
     * next request on the connection too */
    void *outer = aw_ctxvar_get(&aw_log_request_id);
    aw_ctxvar_set(&aw_log_request_id, id);
    aw_response *resp = aw_next_call(next, req);
    aw_ctxvar_set(&aw_log_request_id, outer);
    return resp;
}

/* Echoes the id on every response of the request, set before its head goes. */
static void aw__rid_prepare(aw_request *req, aw_response *resp, void *arg)
{
    aw_request_id *st = arg;
    const char *id = aw_request_get(req, AW_REQUEST_ID_KEY);
    if (id)
        aw_response_set_header(resp, st->header, id);
}

int aw_request_id_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen)
{
    aw_request_id *st = state;
    if (!strcmp(key, "header")) {
        if (!aw__mw_is_token(value) || strlen(value) >= sizeof st->header)
            return aw__mw_refuse(err, errlen, "header: not a header name: %s", value);
        strcpy(st->header, value);
        return 0;
    }
    if (!strcmp(key, "trust_incoming")) {
        if (aw_parse_bool(value, &st->trust_incoming))
            return aw__mw_refuse(err, errlen, "trust_incoming: on or off, not %s", value);
        return 0;
    }
    if (!strcmp(key, "max_length")) {
        size_t n;
        if (aw_parse_size(value, &n) || n < 1 || n > 200)
            return aw__mw_refuse(err, errlen, "max_length: 1 to 200, not %s", value);
        st->max_length = n;
        return 0;
    }
    return aw__mw_refuse(err, errlen, "unknown key %s", key);
}

aw_request_id *aw_request_id_use(aw_app *app, const aw_request_id_opts *o)
{
    aw_request_id_opts d;
    if (!o)
        aw_request_id_opts_default(&d), o = &d;
    aw_request_id *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->trust_incoming = o->trust_incoming;
    st->max_length = o->max_length ? o->max_length : 128;
    const char *h = o->header ? o->header : "X-Request-ID";
    if (!aw__mw_is_token(h) || strlen(h) >= sizeof st->header || st->max_length > 200 ||
        aw_app_on_free(app, free, st)) {
        free(st);
        return NULL;
    }
    strcpy(st->header, h);
    if (aw_app_use(app, aw__rid_mw, st) || aw_app_on_response_prepare(app, aw__rid_prepare, st) ||
        aw_app_config_section(app, "request_id", aw_request_id_config, st))
        return NULL; /* st is freed with the app */
    return st;
}
