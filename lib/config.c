/* The configuration reader: a table of every key (section, name, type, where
 * it lives in aw_config, bounds) drives both the INI file (read with inih)
 * and aw_config_set, so the two cannot drift apart. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum aw__ktype { K_DURATION, K_SIZE, K_INT, K_BOOL, K_STRING, K_LISTEN, K_LEVEL };

typedef struct aw__key {
    const char *section, *name;
    enum aw__ktype type;
    size_t offset;
    int64_t min, max; /* for durations (ms), sizes (bytes) and ints */
} aw__key;

#define F(field) offsetof(aw_config, field)
#define DAY (24 * 3600 * 1000LL)

static const aw__key aw__keys[] = {
    {"server", "listen", K_LISTEN, F(listen), 0, 0},
    {"server", "backlog", K_INT, F(backlog), 1, 65535},
    {"server", "reuseport", K_BOOL, F(reuseport), 0, 1},
    {"server", "workers", K_INT, F(workers), 1, 256},
    {"server", "max_connections", K_SIZE, F(max_connections), 1, 10000000},
    {"server", "server_header", K_STRING, F(server_header), 0, 0},
    {"limits", "max_request_line", K_SIZE, F(max_request_line), 64, 1 << 20},
    {"limits", "max_field_size", K_SIZE, F(max_field_size), 64, 1 << 20},
    {"limits", "max_headers", K_SIZE, F(max_headers), 1, 10000},
    {"limits", "client_max_size", K_SIZE, F(client_max_size), 0, 1LL << 40},
    {"timeouts", "connect", K_DURATION, F(connect_ms), 1, DAY},
    {"timeouts", "dns", K_DURATION, F(dns_ms), 1, DAY},
    {"timeouts", "handshake", K_DURATION, F(handshake_ms), 1, DAY},
    {"timeouts", "read", K_DURATION, F(read_ms), 1, DAY},
    {"timeouts", "write", K_DURATION, F(write_ms), 1, DAY},
    {"timeouts", "close", K_DURATION, F(close_ms), 1, DAY},
    {"timeouts", "header", K_DURATION, F(header_ms), 1, DAY},
    {"timeouts", "body", K_DURATION, F(body_ms), 1, DAY},
    {"timeouts", "body_min_rate", K_SIZE, F(body_min_rate), 0, 1LL << 30},
    {"timeouts", "keepalive", K_DURATION, F(keepalive_ms), 0, DAY},
    {"timeouts", "lingering", K_DURATION, F(lingering_ms), 0, DAY},
    {"timeouts", "shutdown", K_DURATION, F(shutdown_ms), 0, DAY},
    {"tls", "certificate", K_STRING, F(tls_cert), 0, 0},
    {"tls", "key", K_STRING, F(tls_key), 0, 0},
    {"tls", "ca", K_STRING, F(tls_ca), 0, 0},
    {"tls", "alpn", K_STRING, F(tls_alpn), 0, 0},
    {"tls", "ciphers", K_STRING, F(tls_ciphers), 0, 0},
    {"tls", "verify", K_BOOL, F(tls_verify), 0, 1},
    {"log", "access_log", K_STRING, F(access_log), 0, 0},
    {"log", "access_log_format", K_STRING, F(access_log_format), 0, 0},
    {"log", "error_log", K_STRING, F(error_log), 0, 0},
    {"log", "level", K_LEVEL, F(log_level), 0, 3},
    {"jobs", "limit", K_SIZE, F(jobs_limit), 1, 1000000},
    {"jobs", "pending_limit", K_SIZE, F(jobs_pending_limit), 0, 100000000},
    {"jobs", "close_timeout", K_DURATION, F(jobs_close_timeout_ms), 0, DAY},
    {"runtime", "stack_size", K_SIZE, F(stack_size), 16 * 1024, 64 << 20},
    {"runtime", "debug", K_BOOL, F(debug), 0, 1},
};

void aw_config_init(aw_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen[0] = strdup("127.0.0.1:8080");
    c->nlisten = 1;
    c->backlog = 511;
    c->workers = 1;
    c->max_connections = 10000;
    c->server_header = strdup("aweb");
    c->max_request_line = 8190;
    c->max_field_size = 8190;
    c->max_headers = 128;
    c->client_max_size = 1 << 20;
    c->connect_ms = 10000;
    c->dns_ms = 5000;
    c->handshake_ms = 10000;
    c->read_ms = 60000;
    c->write_ms = 60000;
    c->close_ms = 5000;
    c->header_ms = 10000;
    c->body_ms = 60000;
    c->body_min_rate = 500;
    c->keepalive_ms = 75000;
    c->lingering_ms = 10000;
    c->shutdown_ms = 60000;
    c->tls_verify = 1;
    c->tls_alpn = strdup("http/1.1");
    c->access_log = strdup("-");
    c->access_log_format = strdup("combined");
    c->error_log = strdup("-");
    c->log_level = 1;
    c->jobs_limit = 100;
    c->jobs_pending_limit = 10000;
    c->jobs_close_timeout_ms = 100;
    c->stack_size = 64 * 1024;
}

struct aw__config_section {
    struct aw__config_section *next;
    aw_config_setter set;
    void *arg;
    char name[];
};

int aw_config_section(aw_config *c, const char *name, aw_config_setter set, void *arg)
{
    for (struct aw__config_section *x = c->sections; x; x = x->next)
        if (strcmp(x->name, name) == 0) {
            x->set = set;
            x->arg = arg;
            return 0;
        }
    size_t n = strlen(name) + 1;
    struct aw__config_section *x = malloc(sizeof *x + n);
    if (!x)
        return AW_ENOMEM;
    memcpy(x->name, name, n);
    x->set = set;
    x->arg = arg;
    x->next = c->sections;
    c->sections = x;
    return 0;
}

void aw_config_free(aw_config *c)
{
    while (c->sections) {
        struct aw__config_section *x = c->sections;
        c->sections = x->next;
        free(x);
    }
    for (size_t i = 0; i < c->nlisten; i++)
        free(c->listen[i]);
    for (size_t i = 0; i < sizeof aw__keys / sizeof aw__keys[0]; i++)
        if (aw__keys[i].type == K_STRING)
            free(*(char **)((char *)c + aw__keys[i].offset));
    memset(c, 0, sizeof *c);
}

/* --- value syntax -------------------------------------------------------- */

static const char *aw__skip(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* A non-negative number with an optional unit from the table; the unit's
 * factor multiplies it. Fractions are allowed ("1.5s", "0.5M"). */
static int aw__parse_unit(const char *s, double *out, const char *const units[],
                          const double factors[], double bare)
{
    s = aw__skip(s);
    if (!isdigit((unsigned char)*s) && *s != '.')
        return AW_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || v < 0)
        return AW_EINVAL;
    const char *u = aw__skip(end);
    size_t ulen = strlen(u);
    while (ulen && isspace((unsigned char)u[ulen - 1]))
        ulen--;
    double f = bare;
    if (ulen) {
        f = 0;
        for (int i = 0; units[i]; i++)
            if (strlen(units[i]) == ulen && strncasecmp(u, units[i], ulen) == 0)
                f = factors[i];
        if (!f)
            return AW_EINVAL;
    }
    *out = v * f;
    return 0;
}

int aw_parse_duration(const char *s, int64_t *ms)
{
    static const char *const units[] = {"ms", "s", "m", "min", "h", NULL};
    static const double factors[] = {1, 1000, 60000, 60000, 3600000};
    double v;
    int rc = aw__parse_unit(s, &v, units, factors, 1000);
    if (rc || v > 9e15)
        return AW_EINVAL;
    *ms = (int64_t)(v + 0.5);
    return 0;
}

int aw_parse_size(const char *s, size_t *bytes)
{
    static const char *const units[] = {"b", "k", "kb", "kib", "m", "mb", "mib",
                                        "g", "gb", "gib", NULL};
    static const double factors[] = {1, 1024, 1024, 1024, 1 << 20, 1 << 20, 1 << 20,
                                     1 << 30, 1 << 30, 1 << 30};
    double v;
    int rc = aw__parse_unit(s, &v, units, factors, 1);
    if (rc || v > 9e15)
        return AW_EINVAL;
    *bytes = (size_t)(v + 0.5);
    return 0;
}

int aw_parse_bool(const char *s, int *on)
{
    static const char *const yes[] = {"on", "yes", "true", "1"}, *const no[] = {"off", "no",
                                                                                 "false", "0"};
    s = aw__skip(s);
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *on = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *on = 0, 0;
    }
    return AW_EINVAL;
}

/* "host:port", "[v6]:port" or "unix:/path" */
static int aw__check_listen(const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "unix:", 5) == 0)
        return v[5] == '/' ? 0 : (snprintf(err, errlen, "a unix socket needs an absolute path"),
                                  AW_EINVAL);
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) {
        snprintf(err, errlen, "expected HOST:PORT, [IPV6]:PORT or unix:/PATH, got '%s'", v);
        return AW_EINVAL;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) {
        snprintf(err, errlen, "bad port in '%s'", v);
        return AW_EINVAL;
    }
    return 0;
}

/* --- setting keys -------------------------------------------------------- */

static int aw__set(aw_config *c, const aw__key *k, const char *value, char *err, size_t errlen)
{
    void *p = (char *)c + k->offset;
    int64_t ms;
    size_t sz;
    int on;
    long n;
    char *end;
    static const char *const levels[] = {"debug", "info", "warning", "error"};
    switch (k->type) {
    case K_DURATION:
        if (aw_parse_duration(value, &ms)) {
            snprintf(err, errlen, "%s: expected a duration such as 250ms, 10s or 5m, got '%s'",
                     k->name, value);
            return AW_EINVAL;
        }
        if (ms < k->min || ms > k->max) {
            snprintf(err, errlen, "%s: %s is out of range", k->name, value);
            return AW_EINVAL;
        }
        *(int64_t *)p = ms;
        return 0;
    case K_SIZE:
        if (aw_parse_size(value, &sz)) {
            snprintf(err, errlen, "%s: expected a size such as 8190, 64K or 1M, got '%s'",
                     k->name, value);
            return AW_EINVAL;
        }
        if ((int64_t)sz < k->min || (int64_t)sz > k->max) {
            snprintf(err, errlen, "%s: %s is out of range", k->name, value);
            return AW_EINVAL;
        }
        *(size_t *)p = sz;
        return 0;
    case K_INT:
        errno = 0;
        n = strtol(aw__skip(value), &end, 10);
        if (errno || *aw__skip(end) || end == aw__skip(value) || n < k->min || n > k->max) {
            snprintf(err, errlen, "%s: expected a whole number from %lld to %lld, got '%s'",
                     k->name, (long long)k->min, (long long)k->max, value);
            return AW_EINVAL;
        }
        *(int *)p = (int)n;
        return 0;
    case K_BOOL:
        if (aw_parse_bool(value, &on)) {
            snprintf(err, errlen, "%s: expected on or off, got '%s'", k->name, value);
            return AW_EINVAL;
        }
        *(int *)p = on;
        return 0;
    case K_LEVEL:
        for (int i = 0; i < 4; i++)
            if (strcasecmp(aw__skip(value), levels[i]) == 0)
                return *(int *)p = i, 0;
        snprintf(err, errlen, "%s: expected debug, info, warning or error, got '%s'", k->name,
                 value);
        return AW_EINVAL;
    case K_STRING: {
        char *copy = strdup(value);
        if (!copy)
            return AW_ENOMEM;
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    case K_LISTEN: {
        /* a comma-separated list replaces the default */
        for (size_t i = 0; i < c->nlisten; i++)
            free(c->listen[i]);
        c->nlisten = 0;
        char *list = strdup(value), *save = NULL;
        int rc = list ? 0 : AW_ENOMEM;
        for (char *tok = list ? strtok_r(list, ", \t", &save) : NULL; tok && !rc;
             tok = strtok_r(NULL, ", \t", &save)) {
            if (c->nlisten == AW_CONFIG_MAX_LISTEN) {
                snprintf(err, errlen, "listen: at most %d addresses", AW_CONFIG_MAX_LISTEN);
                rc = AW_EINVAL;
            } else if (!(rc = aw__check_listen(tok, err, errlen)))
                c->listen[c->nlisten++] = strdup(tok);
        }
        free(list);
        if (!rc && !c->nlisten) {
            snprintf(err, errlen, "listen: no address given");
            rc = AW_EINVAL;
        }
        return rc;
    }
    }
    return AW_EINVAL;
}

int aw_config_set(aw_config *c, const char *section, const char *key, const char *value,
                  char *err, size_t errlen)
{
    int known_section = 0;
    for (size_t i = 0; i < sizeof aw__keys / sizeof aw__keys[0]; i++) {
        const aw__key *k = &aw__keys[i];
        if (strcmp(k->section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(k->name, key) == 0)
            return aw__set(c, k, value, err, errlen);
    }
    if (!known_section)
        for (struct aw__config_section *x = c->sections; x; x = x->next)
            if (strcmp(x->name, section) == 0)
                return x->set(x->arg, key, value, err, errlen);
    if (known_section)
        snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
    else
        snprintf(err, errlen, "unknown section [%s]", section);
    return AW_EINVAL;
}

typedef struct aw__load {
    aw_config *c;
    FILE *f;
    int line;        /* the line inih is on: counted by the reader */
    int failed_line; /* the first line a key or value was refused on */
    char reason[256];
} aw__load;

static char *aw__ini_reader(char *buf, int size, void *stream)
{
    aw__load *l = stream;
    char *r = fgets(buf, size, l->f);
    l->line += r != NULL;
    return r;
}

static int aw__ini_cb(void *user, const char *section, const char *name, const char *value)
{
    aw__load *l = user;
    char reason[256];
    if (!name) /* a section header on its own */
        return 1;
    if (aw_config_set(l->c, section, name, value, reason, sizeof reason) == 0)
        return 1;
    if (!l->failed_line) {
        l->failed_line = l->line;
        memcpy(l->reason, reason, sizeof reason);
    }
    return 0;
}

int aw_config_load(aw_config *c, const char *path, int must_exist, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist)
            return 0;
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    aw__load l = {.c = c, .f = f};
    int line = ini_parse_stream(aw__ini_reader, &l, aw__ini_cb, &l);
    fclose(f);
    if (line == 0)
        return 0;
    if (line < 0)
        snprintf(err, errlen, "%s: cannot be read", path);
    else if (line == l.failed_line)
        snprintf(err, errlen, "%s:%d: %s", path, line, l.reason);
    else
        snprintf(err, errlen, "%s:%d: not a valid line (expected [section] or key = value)",
                 path, line);
    return AW_EINVAL;
}

void aw_config_stream_opts(const aw_config *c, aw_stream_opts *o)
{
    aw_stream_opts_defaults(o);
    o->connect_timeout_ms = c->connect_ms;
    o->dns_timeout_ms = c->dns_ms;
    o->handshake_timeout_ms = c->handshake_ms;
    o->read_timeout_ms = c->read_ms;
    o->write_timeout_ms = c->write_ms;
    o->close_timeout_ms = c->close_ms;
}
