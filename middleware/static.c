/* Static files: the route, confining paths to the directory, validators and
 * conditional requests, ranges, and sending. Directory listings live in
 * static_dir.c. See static.h for the contract. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mime.h"
#include "mw_int.h"
#include "static_int.h"

void aw_static_opts_default(aw_static_opts *o)
{
    *o = (aw_static_opts){
        .etag = 1,
        .last_modified = 1,
        .max_ranges = 16,
        .default_type = "application/octet-stream",
    };
}

/* --- opening a file inside the directory ---------------------------------- */

/* openat2 is Linux 5.6+, and seccomp profiles may hide it: then the path is
 * resolved with realpath and checked against the directory's. */
static int aw__no_openat2;

int aw__static_open(aw_static *st, const char *rel, int *fd)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK; /* a FIFO must not block us */
    if (st->o.follow_symlinks) {
        *fd = openat(st->dirfd, rel, flags);
        return *fd < 0 ? -errno : 0;
    }
    if (!aw__no_openat2) {
        struct open_how how = {.flags = (uint64_t)flags,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        *fd = (int)syscall(SYS_openat2, st->dirfd, rel, &how, sizeof how);
        if (*fd >= 0)
            return 0;
        if (errno != ENOSYS)
            return -errno;
        aw__no_openat2 = 1;
    }
    char path[PATH_MAX * 2], real[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", st->real, rel) >= sizeof path)
        return -ENAMETOOLONG;
    if (!realpath(path, real))
        return -errno;
    size_t n = strlen(st->real);
    if (strncmp(real, st->real, n) || (real[n] && real[n] != '/' && n > 1))
        return -EXDEV; /* the same answer openat2 gives */
    *fd = open(real, flags);
    return *fd < 0 ? -errno : 0;
}

/* The status a failed open answers with. */
static int aw__open_status(int err)
{
    switch (err) {
    case -EXDEV:  /* out of the directory through a symlink (or an absolute one) */
    case -ELOOP:
    case -EACCES:
    case -EPERM:
        return 403;
    default:
        return 404;
    }
}

/* 0, or the status for a path that must not be opened: "." and ".."
 * segments (encoded or not: the server decoded them) 403, an encoded '/'
 * 404 (the file name would not be what the client sent). */
static int aw__path_status(aw_request *req, const char *rel)
{
    const char *raw = aw_request_path(req);
    for (const char *p = strchr(raw, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
            return 404;
    for (const char *s = rel; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return 403;
        if (!e)
            break;
        s = e + 1;
    }
    return strlen(rel) >= PATH_MAX ? 404 : 0;
}

/* --- validators -------------------------------------------------------------- */

static const char aw__days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char aw__months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* An IMF-fixdate. The last one is kept: a site's hot files mostly share few
 * mtimes, and gmtime is not free. */
static const char *aw__http_date(time_t t)
{
    static __thread time_t last = -1;
    static __thread char buf[32];
    if (t != last) {
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", aw__days[tm.tm_wday],
                 tm.tm_mday, aw__months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        last = t;
    }
    return buf;
}

/* The three HTTP-date forms (IMF-fixdate, RFC 850, asctime). */
static int aw__parse_date(const char *s, time_t *out)
{
    static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                        "%a %b %e %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tm tm = {0};
        const char *end = strptime(s, forms[i], &tm);
        if (end && !*end) {
            *out = timegm(&tm);
            return 0;
        }
    }
    return -1;
}

/* Whether the entity-tag list (If-Match, If-None-Match) has etag; weak
 * comparison ignores W/ on both sides, strong never matches a weak tag. */
static int aw__etag_listed(const char *list, const char *etag, int weak)
{
    size_t elen = strlen(etag);
    const char *p = list, *item;
    size_t n;
    while ((n = aw__mw_list_next(&p, &item))) {
        if (n == 1 && item[0] == '*')
            return 1;
        if (n > 2 && item[0] == 'W' && item[1] == '/') {
            if (!weak)
                continue;
            item += 2, n -= 2;
        }
        if (n == elen && memcmp(item, etag, n) == 0)
            return 1;
    }
    return 0;
}

/* The request headers static files look at, found in one pass. */
typedef struct aw__conds {
    const char *if_match, *if_unmodified, *if_none_match, *if_modified, *range, *if_range;
} aw__conds;

static void aw__conds_get(aw_request *req, aw__conds *c)
{
    const aw_headers *h = aw_request_headers(req);
    memset(c, 0, sizeof *c);
    for (size_t i = 0, n = aw_headers_count(h); i < n; i++) {
        const aw_header *x = aw_headers_at(h, i);
        const char *v = x->value;
        switch (x->name_len) {
        case 5:
            if (!strcasecmp(x->name, "Range"))
                c->range = v;
            break;
        case 8:
            if (!strcasecmp(x->name, "If-Match"))
                c->if_match = v;
            else if (!strcasecmp(x->name, "If-Range"))
                c->if_range = v;
            break;
        case 13:
            if (!strcasecmp(x->name, "If-None-Match"))
                c->if_none_match = v;
            break;
        case 17:
            if (!strcasecmp(x->name, "If-Modified-Since"))
                c->if_modified = v;
            break;
        case 19:
            if (!strcasecmp(x->name, "If-Unmodified-Since"))
                c->if_unmodified = v;
            break;
        }
    }
}

/* RFC 9110 13.2.2's order: 412 or 304, else 0. etag or lm may be NULL (off). */
static int aw__preconditions(const aw__conds *c, const char *etag, const char *lm, time_t mtime,
                             int get_or_head)
{
    time_t t;
    if (c->if_match) {
        if (!etag || !aw__etag_listed(c->if_match, etag, 0))
            return 412;
    } else if (c->if_unmodified && lm && !aw__parse_date(c->if_unmodified, &t) && mtime > t) {
        return 412;
    }
    if (c->if_none_match) {
        if (etag && aw__etag_listed(c->if_none_match, etag, 1))
            return get_or_head ? 304 : 412;
    } else if (c->if_modified && lm && get_or_head) {
        /* the usual case is our own Last-Modified sent back: no parsing */
        if (!strcmp(c->if_modified, lm) || (!aw__parse_date(c->if_modified, &t) && mtime <= t))
            return 304;
    }
    return 0;
}

/* If-Range: whether the Range may be honoured (the validator still holds). */
static int aw__if_range_holds(const char *v, const char *etag, const char *lm)
{
    if (v[0] == '"' || (v[0] == 'W' && v[1] == '/'))
        return etag && v[0] == '"' && !strcmp(v, etag);
    return lm && !strcmp(v, lm); /* a date must be exactly the Last-Modified */
}

/* --- ranges ------------------------------------------------------------------ */

static int aw__digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = x;
    return 0;
}

int aw__static_ranges(const char *h, uint64_t size, aw__range *out, size_t max)
{
    if (strncasecmp(h, "bytes", 5))
        return -1;
    const char *p = h + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return -1;
    size_t n = 0, seen = 0;
    uint64_t total = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        uint64_t first = 0, last = UINT64_MAX;
        int suffix = *p == '-';
        if (suffix) {
            p++;
            if (aw__digits(&p, &last))
                return -1;
        } else {
            if (aw__digits(&p, &first) || *p++ != '-')
                return -1;
            if (*p >= '0' && *p <= '9' && aw__digits(&p, &last))
                return -1;
            if (last < first)
                return -1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != ',')
            return -1;
        if (++seen > max)
            return -1; /* too many to be a real client's: the whole file */
        aw__range r;
        if (suffix) {
            if (last == 0 || size == 0)
                continue; /* unsatisfiable */
            r.len = last < size ? last : size;
            r.start = size - r.len;
        } else {
            if (first >= size)
                continue;
            r.start = first;
            r.len = (last >= size ? size - 1 : last) - first + 1;
        }
        total += r.len;
        out[n++] = r;
    }
    if (!seen)
        return -1;
    /* overlapping ranges asking for more than the file: send it whole once */
    return n > 1 && total > size ? -1 : (int)n;
}

/* --- sending ------------------------------------------------------------------- */

static void aw__validators(aw_response *r, aw_static *st, const char *etag, const char *lm)
{
    if (etag)
        aw_response_add_header(r, "ETag", etag);
    if (lm)
        aw_response_add_header(r, "Last-Modified", lm);
    if (st->o.cache_control)
        aw_response_add_header(r, "Cache-Control", st->o.cache_control);
}

static int aw__send_multipart(aw_response *r, int fd, uint64_t size, const char *type,
                              const aw__range *rg, int n)
{
    static __thread uint64_t counter;
    char boundary[40];
    snprintf(boundary, sizeof boundary, "aweb-%016llx", (unsigned long long)++counter);
    char ct[80];
    snprintf(ct, sizeof ct, "multipart/byteranges; boundary=%s", boundary);
    aw_response_set_content_type(r, ct);
    char part[512];
    uint64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            int k = snprintf(part, sizeof part,
                             "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                             boundary, type, (unsigned long long)rg[i].start,
                             (unsigned long long)(rg[i].start + rg[i].len - 1),
                             (unsigned long long)size);
            if (pass == 0) {
                total += (uint64_t)k + rg[i].len;
                continue;
            }
            int rc = aw_response_write(r, part, (size_t)k);
            if (!rc)
                rc = aw_response_sendfile(r, fd, (int64_t)rg[i].start, rg[i].len);
            if (rc)
                return rc;
        }
        int k = snprintf(part, sizeof part, "\r\n--%s--\r\n", boundary);
        if (pass == 0) {
            aw_response_set_content_length(r, total + (uint64_t)k);
            continue;
        }
        return aw_response_write(r, part, (size_t)k);
    }
    return 0;
}

/* Answers for the open regular file fd (the caller closes it). */
aw_response *aw__static_file(aw_request *req, aw_static *st, const char *name, int fd,
                             const struct stat *sb)
{
    char etag[64];
    const char *et = NULL, *lm = NULL;
    uint64_t size = (uint64_t)sb->st_size;
    if (st->o.etag) {
        snprintf(etag, sizeof etag, "\"%llx%08lx-%llx\"", (unsigned long long)sb->st_mtim.tv_sec,
                 (unsigned long)sb->st_mtim.tv_nsec, (unsigned long long)size);
        et = etag;
    }
    if (st->o.last_modified)
        lm = aw__http_date(sb->st_mtim.tv_sec);
    aw__conds c;
    aw__conds_get(req, &c);
    const char *method = aw_request_method(req);
    int get = !strcmp(method, "GET"), status = aw__preconditions(&c, et, lm, sb->st_mtim.tv_sec, 1);
    if (status) {
        aw_response *r = status == 304 ? aw_response_new(req, 304) : aw_http_error(req, 412, NULL);
        if (r)
            aw__validators(r, st, et, lm);
        return r;
    }
    const char *type = aw_mime_type(name, st->o.default_type);
    aw__range one[1], *rg = one;
    int n = -1;
    if (get && c.range && st->o.max_ranges && (!c.if_range || aw__if_range_holds(c.if_range, et, lm))) {
        if (st->o.max_ranges > 1 && strchr(c.range, ','))
            rg = aw_request_alloc(req, st->o.max_ranges * sizeof *rg);
        n = rg ? aw__static_ranges(c.range, size, rg, rg == one ? 1 : st->o.max_ranges) : -1;
    }
    if (n == 0) {
        aw_response *r = aw_http_error(req, 416, NULL);
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        if (r)
            aw_response_set_header(r, "Content-Range", cr);
        return r;
    }
    aw_response *r = aw_response_stream(req, n > 0 ? 206 : 200);
    if (!r)
        return NULL;
    aw__validators(r, st, et, lm);
    if (st->o.max_ranges)
        aw_response_add_header(r, "Accept-Ranges", "bytes");
    int rc;
    if (n > 1) {
        rc = aw__send_multipart(r, fd, size, type, rg, n);
    } else {
        uint64_t off = n == 1 ? rg[0].start : 0, len = n == 1 ? rg[0].len : size;
        aw_response_add_header(r, "Content-Type", type);
        if (n == 1) {
            char cr[80];
            snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
                     (unsigned long long)(off + len - 1), (unsigned long long)size);
            aw_response_add_header(r, "Content-Range", cr);
        }
        aw_response_set_content_length(r, len);
        rc = aw_response_sendfile(r, fd, (int64_t)off, len);
    }
    if (!rc)
        rc = aw_response_write_eof(r);
    if (rc && rc != AW_EPIPE && rc != AW_ECONNRESET)
        aw_log(AW_LOG_WARNING, "static %s: %s", name, aw_strerror(rc));
    return r;
}

/* --- the handler ---------------------------------------------------------------- */

static aw_response *aw__static_get(aw_request *req)
{
    aw_static *st = aw_app_get(aw_request_app(req), AW__STATIC_KEY);
    const char *rel = aw_request_match(req, "path");
    if (!st || !rel || st->dirfd < 0)
        return aw_http_error(req, 404, NULL);
    int status = aw__path_status(req, rel);
    if (status)
        return aw_http_error(req, status, NULL);
    while (*rel == '/')
        rel++; /* "/static//etc/passwd" stays inside */
    int fd, rc = aw__static_open(st, *rel ? rel : ".", &fd);
    if (rc)
        return aw_http_error(req, aw__open_status(rc), NULL);
    struct stat sb;
    aw_response *r;
    if (fstat(fd, &sb))
        r = aw_http_error(req, 404, NULL);
    else if (S_ISDIR(sb.st_mode))
        return aw__static_dir(req, st, rel, fd); /* takes fd */
    else if (!S_ISREG(sb.st_mode))
        r = aw_http_error(req, 404, NULL);
    else
        r = aw__static_file(req, st, rel, fd, &sb);
    close(fd);
    return r;
}

/* --- setting up ------------------------------------------------------------------ */

static int aw__static_startup(aw_app *app, void *arg)
{
    (void)app;
    aw_static *st = arg;
    if (st->dirfd >= 0)
        return 0;
    st->dirfd = open(st->real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) {
        int err = -errno;
        aw_log(AW_LOG_ERROR, "static directory %s: %s", st->real, strerror(errno));
        return err;
    }
    return 0;
}

static void aw__static_free(void *arg)
{
    aw_static *st = arg;
    if (st->dirfd >= 0)
        close(st->dirfd);
    free(st->real);
    free(st->cache_control);
    free(st->default_type);
    free(st->name);
    free(st);
}

/* Resolves a directory now, so a wrong one is reported where it is given. */
static int aw__static_set_dir(aw_static *st, const char *dir)
{
    char *real = realpath(dir, NULL);
    struct stat sb;
    if (!real || stat(real, &sb) || !S_ISDIR(sb.st_mode)) {
        free(real);
        return AW_ENOENT;
    }
    free(st->real);
    st->real = real;
    if (st->dirfd >= 0) {
        close(st->dirfd);
        st->dirfd = -1;
    }
    return 0;
}

aw_static *aw_static_add(aw_app *app, const char *prefix, const char *directory,
                         const aw_static_opts *o)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (!plen || prefix[0] != '/' || (plen > 1 && prefix[plen - 1] == '/')) {
        aw_log(AW_LOG_ERROR, "aw_static_add: the prefix starts with '/' and does not end with one");
        return NULL;
    }
    aw_static *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->dirfd = -1;
    if (o)
        st->o = *o;
    else
        aw_static_opts_default(&st->o);
    char name[256];
    snprintf(name, sizeof name, "static:%s", prefix);
    st->name = strdup(st->o.name ? st->o.name : name);
    st->o.name = st->name;
    if (!st->name || aw__mw_set_str(&st->cache_control, st->o.cache_control) ||
        aw__mw_set_str(&st->default_type,
                       st->o.default_type ? st->o.default_type : "application/octet-stream")) {
        aw__static_free(st);
        return NULL;
    }
    st->o.cache_control = st->cache_control;
    st->o.default_type = st->default_type;
    if (aw__static_set_dir(st, directory)) {
        aw_log(AW_LOG_ERROR, "aw_static_add: %s is not a directory", directory);
        aw__static_free(st);
        return NULL;
    }
    /* under a sub-app mounted at the prefix, whose state holds st: the
     * handler finds it there without a name that could clash */
    aw_app *where = app;
    int rc = 0;
    if (plen > 1) {
        where = aw_app_new();
        if (!where || (rc = aw_app_add_subapp(app, prefix, where))) {
            aw_app_free(where);
            aw__static_free(st);
            return NULL;
        }
    }
    aw_route_opts ro = {.name = st->name};
    if ((rc = aw_app_on_free(app, aw__static_free, st))) {
        aw__static_free(st);
        return NULL;
    }
    if (aw_app_set(where, AW__STATIC_KEY, st) ||
        aw_app_route(where, "GET", "/{path:.*}", aw__static_get, &ro) ||
        aw_app_on_startup(app, aw__static_startup, st) ||
        aw_app_config_section(app, "static", aw_static_config, st))
        return NULL; /* st is freed with the app */
    return st;
}

int aw_static_config(void *state, const char *key, const char *value, char *err, size_t errlen)
{
    aw_static *st = state;
    int on;
    size_t n;
    if (!strcmp(key, "directory")) {
        if (aw__static_set_dir(st, value))
            return aw__mw_refuse(err, errlen, "%s is not a directory", value);
        return 0;
    }
    int *flag = !strcmp(key, "index")             ? &st->o.index
                : !strcmp(key, "show_index")      ? &st->o.show_index
                : !strcmp(key, "follow_symlinks") ? &st->o.follow_symlinks
                : !strcmp(key, "etag")            ? &st->o.etag
                : !strcmp(key, "last_modified")   ? &st->o.last_modified
                                                  : NULL;
    if (flag) {
        if (aw_parse_bool(value, &on))
            return aw__mw_refuse(err, errlen, "%s takes on or off, not '%s'", key, value);
        *flag = on;
        return 0;
    }
    if (!strcmp(key, "max_ranges")) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || v > 1000 || value[0] == '-')
            return aw__mw_refuse(err, errlen, "max_ranges is a count from 0 to 1000, not '%s'",
                                 value);
        st->o.max_ranges = (size_t)v;
        return 0;
    }
    if (!strcmp(key, "cache_control") || !strcmp(key, "default_type")) {
        int cc = key[0] == 'c';
        if (strpbrk(value, "\r\n"))
            return aw__mw_refuse(err, errlen, "%s has a line break", key);
        if (!cc && (!(n = strlen(value)) || !strchr(value, '/')))
            return aw__mw_refuse(err, errlen, "default_type is a type/subtype, not '%s'", value);
        char **slot = cc ? &st->cache_control : &st->default_type;
        if (aw__mw_set_str(slot, cc && !*value ? NULL : value))
            return AW_ENOMEM;
        if (cc)
            st->o.cache_control = st->cache_control;
        else
            st->o.default_type = st->default_type;
        return 0;
    }
    return aw__mw_refuse(err, errlen, "unknown key '%s' in [static]", key);
}
