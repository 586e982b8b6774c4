/* Rate limiting; see rate_limit.h.
 *
 * The table: a fixed array of buckets, chained from a power-of-two index by
 * the key's hash, and kept on a list from most to least recently seen; all
 * links are array indexes. Lookup, insertion and eviction are O(1) but for
 * the chain walk. */
#include "rate_limit.h"

#include <math.h>
#include <stdint.h>

#include "mw_int.h"
#include "runtime.h"

#define AW__RL_KEY 64
#define AW__RL_NONE UINT32_MAX

typedef struct aw__bucket {
    uint64_t hash;
    uint64_t last_ms;
    double tokens;
    uint32_t chain;      /* the next bucket with the same index */
    uint32_t newer, older; /* the recency list */
    uint8_t klen;
    char key[AW__RL_KEY];
} aw__bucket;

struct aw_rate_limit {
    double rate, burst;
    size_t max;
    aw_rate_limit_key keyfn;
    void *key_arg;
    aw__bucket *b;
    uint32_t *index;
    uint32_t mask;
    uint32_t used;
    uint32_t newest, oldest;
};

void aw_rate_limit_opts_default(aw_rate_limit_opts *o)
{
    *o = (aw_rate_limit_opts){.rate = 10, .burst = 20, .max_clients = 10000};
}

size_t aw_rate_limit_buckets(const aw_rate_limit *rl) { return rl->used; }

static int aw__rl_alloc(aw_rate_limit *rl, size_t max)
{
    uint32_t slots = 16;
    while (slots < max)
        slots <<= 1;
    aw__bucket *b = calloc(max, sizeof *b);
    uint32_t *index = malloc(slots * sizeof *index);
    if (!b || !index) {
        free(b), free(index);
        return AW_ENOMEM;
    }
    for (uint32_t i = 0; i < slots; i++)
        index[i] = AW__RL_NONE;
    free(rl->b), free(rl->index);
    rl->b = b;
    rl->index = index;
    rl->mask = slots - 1;
    rl->max = max;
    rl->used = 0;
    rl->newest = rl->oldest = AW__RL_NONE;
    return 0;
}

static uint64_t aw__rl_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 0x100000001b3ull;
    return h;
}

static void aw__rl_unlink(aw_rate_limit *rl, uint32_t i)
{
    aw__bucket *b = &rl->b[i];
    if (b->newer != AW__RL_NONE)
        rl->b[b->newer].older = b->older;
    else
        rl->newest = b->older;
    if (b->older != AW__RL_NONE)
        rl->b[b->older].newer = b->newer;
    else
        rl->oldest = b->newer;
}

static void aw__rl_push_newest(aw_rate_limit *rl, uint32_t i)
{
    aw__bucket *b = &rl->b[i];
    b->newer = AW__RL_NONE;
    b->older = rl->newest;
    if (rl->newest != AW__RL_NONE)
        rl->b[rl->newest].newer = i;
    rl->newest = i;
    if (rl->oldest == AW__RL_NONE)
        rl->oldest = i;
}

/* Takes the least recently seen bucket out of its chain, for reuse. */
static uint32_t aw__rl_evict(aw_rate_limit *rl)
{
    uint32_t i = rl->oldest;
    uint32_t *p = &rl->index[rl->b[i].hash & rl->mask];
    while (*p != i)
        p = &rl->b[*p].chain;
    *p = rl->b[i].chain;
    aw__rl_unlink(rl, i);
    return i;
}

/* The key's bucket, made full if new. */
static aw__bucket *aw__rl_bucket(aw_rate_limit *rl, const char *key, size_t n, uint64_t now)
{
    if (n > AW__RL_KEY)
        n = AW__RL_KEY;
    uint64_t h = aw__rl_hash(key, n);
    uint32_t *head = &rl->index[h & rl->mask];
    for (uint32_t i = *head; i != AW__RL_NONE; i = rl->b[i].chain) {
        aw__bucket *b = &rl->b[i];
        if (b->hash == h && b->klen == n && !memcmp(b->key, key, n)) {
            if (rl->newest != i) {
                aw__rl_unlink(rl, i);
                aw__rl_push_newest(rl, i);
            }
            return b;
        }
    }
    uint32_t i = rl->used < rl->max ? rl->used++ : aw__rl_evict(rl);
    head = &rl->index[h & rl->mask]; /* eviction may have emptied it */
    aw__bucket *b = &rl->b[i];
    b->hash = h;
    b->klen = (uint8_t)n;
    memcpy(b->key, key, n);
    b->tokens = rl->burst;
    b->last_ms = now;
    b->chain = *head;
    *head = i;
    aw__rl_push_newest(rl, i);
    return b;
}

static aw_response *aw__rl_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_rate_limit *rl = arg;
    const char *key;
    size_t n;
    if (rl->keyfn) {
        if (!(key = rl->keyfn(req, rl->key_arg)))
            return aw_next_call(next, req);
        n = strlen(key);
    } else {
        /* the address part of "1.2.3.4:5678" / "[::1]:80", without a copy */
        key = aw_request_peer(req);
        const char *colon = strrchr(key, ':');
        n = colon && key[0] != 'u' ? (size_t)(colon - key) : strlen(key);
    }
    uint64_t now = aw_now();
    aw__bucket *b = aw__rl_bucket(rl, key, n, now);
    if (now > b->last_ms) {
        b->tokens += (double)(now - b->last_ms) * rl->rate / 1000.0;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
        b->last_ms = now;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return aw_next_call(next, req);
    }
    aw_response *r = aw_http_error(req, 429, NULL);
    if (r) {
        char after[24];
        double wait = (1 - b->tokens) / rl->rate;
        long long secs = (long long)wait;
        secs += (double)secs < wait; /* rounded up: asking earlier would fail */
        snprintf(after, sizeof after, "%lld", secs < 1 ? 1 : secs);
        aw_response_set_header(r, "Retry-After", after);
    }
    return r;
}

/* "10", "10/s", "600/m", "3600/h": tokens per second. */
static int aw__rl_parse_rate(const char *v, double *out)
{
    char *end;
    double r = strtod(v, &end);
    double per = 1;
    if (*end == '/') {
        per = !strcmp(end + 1, "s") ? 1 : !strcmp(end + 1, "m") ? 60 : !strcmp(end + 1, "h") ? 3600 : 0;
        end = "";
    }
    if (end == v || *end || !per || !(r > 0) || !isfinite(r))
        return AW_EINVAL;
    *out = r / per;
    return 0;
}

int aw_rate_limit_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen)
{
    aw_rate_limit *rl = state;
    if (!strcmp(key, "rate")) {
        if (aw__rl_parse_rate(value, &rl->rate))
            return aw__mw_refuse(err, errlen, "rate: a number per second (10, 10/s, 600/m), not %s",
                                 value);
        return 0;
    }
    if (!strcmp(key, "burst")) {
        char *end;
        double b = strtod(value, &end);
        if (end == value || *end || !(b >= 1) || !isfinite(b))
            return aw__mw_refuse(err, errlen, "burst: a number of requests, at least 1, not %s",
                                 value);
        rl->burst = b;
        return 0;
    }
    if (!strcmp(key, "max_clients")) {
        size_t n;
        if (aw_parse_size(value, &n) || n < 1 || n > (1u << 24))
            return aw__mw_refuse(err, errlen, "max_clients: 1 to 16777216, not %s", value);
        return aw__rl_alloc(rl, n);
    }
    return aw__mw_refuse(err, errlen, "unknown key %s", key);
}

static void aw__rl_free(void *arg)
{
    aw_rate_limit *rl = arg;
    free(rl->b), free(rl->index);
    free(rl);
}

aw_rate_limit *aw_rate_limit_use(aw_app *app, const aw_rate_limit_opts *o)
{
    aw_rate_limit_opts d;
    if (!o)
        aw_rate_limit_opts_default(&d), o = &d;
    if (!(o->rate > 0) || !(o->burst >= 1) || !o->max_clients || o->max_clients > (1u << 24))
        return NULL;
    aw_rate_limit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    if (aw_app_on_free(app, aw__rl_free, rl)) {
        free(rl);
        return NULL;
    }
    rl->rate = o->rate;
    rl->burst = o->burst;
    rl->keyfn = o->key;
    rl->key_arg = o->key_arg;
    if (aw__rl_alloc(rl, o->max_clients) || aw_app_use(app, aw__rl_mw, rl) ||
        aw_app_config_section(app, "rate_limit", aw_rate_limit_config, rl))
        return NULL;
    return rl;
}
