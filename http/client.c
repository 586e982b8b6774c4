/* The client session: the connection pool, the DNS cache, cookies.
 *
 * Idle pooled connections wait in callback mode: a server that closes one (or
 * sends bytes nobody asked for) is noticed then, and the connection dropped,
 * so a reused connection is one the server still holds open. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "error.h"
#include "net.h"
#include "runtime.h"
#include "stream_int.h"
#include "timeout.h"

#define AW__CLIENT_LIMIT 100
#define AW__CLIENT_KEEPALIVE_MS 15000
#define AW__CLIENT_DNS_TTL_MS 10000
#define AW__CLIENT_TOTAL_MS 300000
#define AW__CLIENT_MAX_BODY (16u << 20)
#define AW__CLIENT_REDIRECTS 10
#define AW__CLIENT_MAX_COOKIES 3000 /* in a session's jar, as browsers allow */
#define AW__CLIENT_MAX_COOKIE 4096  /* bytes of one value */

/* The session's TLS context, made on first need. Returns 0 or the error. */
static int aw__client_tls(aw_client *c)
{
    if (c->tls)
        return 0;
    aw_tls_opts to = {.ca_file = c->o.ca_file, .verify_off = c->o.verify_off};
    int rc = aw_tls_client_ctx_new(&to, &c->tls);
    if (!rc)
        c->tls_owned = 1;
    return rc;
}

aw_client *aw_client_new(const aw_client_opts *o)
{
    aw_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (o)
        c->o = *o;
    if (!c->o.limit)
        c->o.limit = AW__CLIENT_LIMIT;
    if (!c->o.keepalive_ms)
        c->o.keepalive_ms = AW__CLIENT_KEEPALIVE_MS;
    if (!c->o.dns_ttl_ms)
        c->o.dns_ttl_ms = AW__CLIENT_DNS_TTL_MS;
    if (!c->o.total_timeout_ms)
        c->o.total_timeout_ms = AW__CLIENT_TOTAL_MS;
    if (!c->o.max_body)
        c->o.max_body = AW__CLIENT_MAX_BODY;
    if (!c->o.max_redirects)
        c->o.max_redirects = AW__CLIENT_REDIRECTS;
    aw_stream_opts_defaults(&c->sopts);
    if (c->o.connect_timeout_ms > 0)
        c->sopts.connect_timeout_ms = c->o.connect_timeout_ms;
    if (c->o.read_timeout_ms > 0)
        c->sopts.read_timeout_ms = c->o.read_timeout_ms;
    aw__list_init(&c->conns);
    aw__list_init(&c->idle);
    c->headers = strdup(c->o.headers ? c->o.headers : "");
    c->user_agent = strdup(c->o.user_agent ? c->o.user_agent : "aweb/0.1");
    c->released = aw_event_new();
    c->tls = c->o.tls;
    /* with the system's trust store the context is made at the first https
     * request (loading the store takes milliseconds a plain-HTTP program
     * need not spend); settings of the caller's own are checked now */
    int tls_failed = !c->tls && (c->o.ca_file || c->o.verify_off) && aw__client_tls(c);
    if (!c->headers || !c->user_agent || !c->released || tls_failed) {
        aw_client_free(c);
        return NULL;
    }
    return c;
}

static void aw__cconn_free(aw_client *c, aw__cconn *cc, int graceful)
{
    aw__list_remove(&cc->link);
    aw__list_remove(&cc->idle_link);
    if (cc->idle)
        c->nidle--;
    c->nconns--;
    if (graceful && aw_current_task())
        aw_stream_close(cc->s);
    else
        aw_stream_abort(cc->s);
    free(cc);
    aw_event_set(c->released);
}

void aw_client_free(aw_client *c)
{
    if (!c)
        return;
    while (!aw__list_empty(&c->conns))
        aw__cconn_free(c, aw__container_of(c->conns.next, aw__cconn, link), 1);
    for (size_t i = 0; i < c->ndns; i++)
        freeaddrinfo(c->dns[i].ai);
    for (size_t i = 0; i < c->ncookies; i++) {
        free(c->cookies[i].name);
        free(c->cookies[i].value);
        free(c->cookies[i].domain);
        free(c->cookies[i].path);
    }
    free(c->dns);
    free(c->cookies);
    if (c->tls_owned)
        aw_tls_ctx_free(c->tls);
    aw_event_free(c->released);
    free(c->headers);
    free(c->user_agent);
    free(c);
}

size_t aw_client_connections(const aw_client *c) { return c->nconns; }
size_t aw_client_idle(const aw_client *c) { return c->nidle; }

/* --- the DNS cache ----------------------------------------------------------- */

static int aw__dns_lookup(aw_client *c, const aw__url *u, const struct addrinfo **out)
{
    uint64_t now = aw_now();
    for (size_t i = 0; i < c->ndns; i++)
        if (c->dns[i].port == u->port && !strcmp(c->dns[i].host, u->host)) {
            if (c->dns[i].expires > now) {
                *out = c->dns[i].ai;
                return 0;
            }
            freeaddrinfo(c->dns[i].ai);
            c->dns[i] = c->dns[--c->ndns]; /* expired */
            break;
        }
    struct addrinfo *ai;
    int rc = aw_resolve(u->host, u->port, c->sopts.dns_timeout_ms, &ai);
    if (rc)
        return rc;
    if (c->ndns == c->dns_cap) {
        size_t cap = c->dns_cap ? c->dns_cap * 2 : 8;
        aw__dns *d = realloc(c->dns, cap * sizeof *d);
        if (!d) {
            freeaddrinfo(ai);
            return AW_ENOMEM;
        }
        c->dns = d;
        c->dns_cap = cap;
    }
    aw__dns *d = &c->dns[c->ndns++];
    snprintf(d->host, sizeof d->host, "%s", u->host);
    d->port = u->port;
    d->ai = ai;
    d->expires = now + (uint64_t)(c->o.dns_ttl_ms > 0 ? c->o.dns_ttl_ms : 0);
    *out = ai;
    return 0;
}

/* --- the pool ------------------------------------------------------------------ */

/* An idle connection heard from its server: a close (or junk), so it goes. */
static void aw__idle_input(aw_stream *s, void *arg)
{
    (void)s;
    aw__cconn *cc = arg;
    aw__cconn_free(cc->client, cc, 0);
}

static size_t aw__count_key(aw_client *c, const char *key)
{
    size_t n = 0;
    aw__list *pos;
    aw__list_each(pos, &c->conns)
    {
        n += !strcmp(aw__container_of(pos, aw__cconn, link)->key, key);
    }
    return n;
}

/* Drops idle connections past their expiry (the oldest first: the sweep
 * stops at the first still fresh); returns the idle connection for key that
 * went idle last (its socket is the warmest), if any. O(idle), not O(all). */
static aw__cconn *aw__take_idle(aw_client *c, const char *key)
{
    uint64_t now = aw_now();
    aw__list *pos;
    while ((pos = aw__list_first(&c->idle))) {
        aw__cconn *cc = aw__container_of(pos, aw__cconn, idle_link);
        if (now - cc->idle_since < (uint64_t)c->o.keepalive_ms)
            break;
        aw__cconn_free(c, cc, 0);
    }
    for (pos = c->idle.prev; pos != &c->idle; pos = pos->prev) {
        aw__cconn *cc = aw__container_of(pos, aw__cconn, idle_link);
        if (!strcmp(cc->key, key))
            return cc;
    }
    return NULL;
}

static aw__cconn *aw__oldest_idle(aw_client *c)
{
    aw__list *pos = aw__list_first(&c->idle);
    return pos ? aw__container_of(pos, aw__cconn, idle_link) : NULL;
}

int aw__pool_acquire(aw_client *c, const aw__url *u, uint64_t deadline, aw__cconn **out,
                     int *reused)
{
    char key[300];
    snprintf(key, sizeof key, "%s://%s:%d", u->scheme, u->host, u->port);
    for (;;) {
        aw__cconn *cc = c->o.keepalive_ms > 0 ? aw__take_idle(c, key) : NULL;
        if (cc) {
            aw_stream_on_input(cc->s, NULL, NULL);
            aw__list_remove(&cc->idle_link);
            cc->idle = 0;
            c->nidle--;
            *out = cc;
            *reused = 1;
            return 0;
        }
        int host_full = c->o.limit_per_host && aw__count_key(c, key) >= c->o.limit_per_host;
        if (!host_full && c->nconns >= c->o.limit) {
            /* the pool is full: an idle connection to another host makes room */
            aw__cconn *old = aw__oldest_idle(c);
            if (old)
                aw__cconn_free(c, old, 0);
        }
        if (!host_full && c->nconns < c->o.limit)
            break;
        aw_event_clear(c->released);
        uint64_t now = aw_now();
        int rc = deadline > now ? aw_event_wait(c->released, (int64_t)(deadline - now))
                                : AW_ETIMEDOUT;
        if (rc)
            return rc;
    }
    /* a new connection: counted before the connect, so the limit holds */
    aw__cconn *cc = calloc(1, sizeof *cc);
    if (!cc)
        return AW_ENOMEM;
    snprintf(cc->key, sizeof cc->key, "%s", key);
    aw__list_init(&cc->idle_link);
    cc->client = c;
    aw__list_insert_tail(&c->conns, &cc->link);
    c->nconns++;
    const struct addrinfo *ai = NULL;
    int rc = u->tls ? aw__client_tls(c) : 0;
    if (!rc)
        rc = aw__dns_lookup(c, u, &ai);
    if (!rc) {
        aw_connect_opts co = {.stream_opts = &c->sopts, .tls = u->tls ? c->tls : NULL,
                              .server_name = u->host, .addrs = ai};
        rc = aw_open_connection(u->host, u->port, &co, &cc->s);
    }
    if (rc) {
        aw__list_remove(&cc->link);
        c->nconns--;
        free(cc);
        aw_event_set(c->released);
        return rc;
    }
    *out = cc;
    *reused = 0;
    return 0;
}

void aw__pool_release(aw_client *c, aw__cconn *cc, int reusable)
{
    cc->requests++;
    if (!reusable || c->o.keepalive_ms < 0) {
        aw__cconn_free(c, cc, 0);
        return;
    }
    cc->idle = 1;
    cc->idle_since = aw_now();
    aw__list_insert_tail(&c->idle, &cc->idle_link);
    c->nidle++;
    aw_stream_on_input(cc->s, aw__idle_input, cc); /* may free cc at once */
    aw_event_set(c->released);
}

/* --- cookies -------------------------------------------------------------------- */

static int aw__domain_match(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    return h == d ? !strcasecmp(host, domain)
                  : h > d && host[h - d - 1] == '.' && !strcasecmp(host + h - d, domain);
}

static char *aw__attr(const char *sc, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(sc, ';'); p; p = strchr(p + 1, ';')) {
        const char *a = p + 1 + strspn(p + 1, " \t");
        if (!strncasecmp(a, name, n) && (a[n] == '=' || a[n] == ';' || !a[n] || a[n] == ' ')) {
            if (a[n] != '=')
                return strdup("");
            const char *v = a + n + 1;
            return strndup(v, strcspn(v, ";"));
        }
    }
    return NULL;
}

void aw__cookies_store(aw_client *c, const aw__url *u, const aw_headers *h)
{
    const char *sc[32];
    size_t n = aw_headers_get_all(h, "Set-Cookie", sc, 32);
    for (size_t i = 0; i < n && i < 32; i++) {
        const char *eq = strchr(sc[i], '='), *end = sc[i] + strcspn(sc[i], ";");
        if (!eq || eq > end || eq == sc[i])
            continue;
        char *domain = aw__attr(sc[i], "Domain"), *path = aw__attr(sc[i], "Path");
        char *max_age = aw__attr(sc[i], "Max-Age"), *secure = aw__attr(sc[i], "Secure");
        if (domain && domain[0] == '.')
            memmove(domain, domain + 1, strlen(domain));
        int ok = !domain || aw__domain_match(u->host, domain); /* no cookies for others */
        aw__cookie k = {strndup(sc[i], (size_t)(eq - sc[i])), strndup(eq + 1, (size_t)(end - eq - 1)),
                        domain && *domain ? domain : strdup(u->host),
                        path && path[0] == '/' ? path : strdup("/"), !domain || !*domain,
                        secure != NULL};
        if (k.domain != domain)
            free(domain);
        if (k.path != path)
            free(path);
        int expired = max_age && atol(max_age) <= 0;
        free(max_age);
        free(secure);
        /* replace one with the same name, domain and path */
        for (size_t j = 0; j < c->ncookies; j++) {
            aw__cookie *o = &c->cookies[j];
            if (!strcmp(o->name, k.name) && !strcasecmp(o->domain, k.domain) &&
                !strcmp(o->path, k.path)) {
                free(o->name), free(o->value), free(o->domain), free(o->path);
                c->cookies[j] = c->cookies[--c->ncookies];
                break;
            }
        }
        int room = c->ncookies < c->cookie_cap;
        if (!room && c->ncookies < AW__CLIENT_MAX_COOKIES) {
            size_t cap = c->cookie_cap ? c->cookie_cap * 2 : 8;
            aw__cookie *grown = realloc(c->cookies, cap * sizeof *grown);
            if (grown) {
                c->cookies = grown;
                c->cookie_cap = cap;
                room = 1;
            }
        }
        /* a jar with a bound, as browsers keep: a server cannot fill memory */
        if (!ok || expired || !room || strlen(k.value) > AW__CLIENT_MAX_COOKIE) {
            free(k.name), free(k.value), free(k.domain), free(k.path);
            continue;
        }
        c->cookies[c->ncookies++] = k;
    }
}

void aw__cookies_header(aw_client *c, const aw__url *u, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < c->ncookies; i++) {
        aw__cookie *k = &c->cookies[i];
        size_t plen = strlen(k->path);
        int host_ok = k->host_only ? !strcasecmp(u->host, k->domain) : aw__domain_match(u->host, k->domain);
        int path_ok = !strncmp(u->target, k->path, plen) &&
                      (k->path[plen - 1] == '/' || !u->target[plen] || u->target[plen] == '/' ||
                       u->target[plen] == '?');
        if (!host_ok || !path_ok || (k->secure && !u->tls))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s=%s", n ? "; " : "", k->name, k->value);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}
