/* URLs for the HTTP client; see url_int.h. */
#include "url_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "stream_int.h"

static int aw__url_bad(const char *why, const char *url)
{
    aw__stream_set_error("%s: %.200s", why, url);
    return AW_EINVAL;
}

int aw__url_parse(const char *url, aw__url *u)
{
    memset(u, 0, sizeof *u);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return aw__url_bad("a URL may not hold spaces or control characters", url);
    const char *colon = strstr(url, "://");
    if (!colon || colon - url >= (int)sizeof u->scheme)
        return aw__url_bad("not an absolute URL", url);
    for (int i = 0; url + i < colon; i++)
        u->scheme[i] = (char)tolower((unsigned char)url[i]);
    if (!strcmp(u->scheme, "https"))
        u->tls = 1;
    else if (strcmp(u->scheme, "http"))
        return aw__url_bad("only http and https URLs are fetched", url);
    const char *h = colon + 3, *end = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(end - h)))
        return aw__url_bad("user information in URLs is not supported", url);
    const char *port = NULL;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close || close - h - 1 >= (int)sizeof u->host)
            return aw__url_bad("a bad IPv6 address", url);
        memcpy(u->host, h + 1, (size_t)(close - h - 1));
        if (close + 1 < end) {
            if (close[1] != ':')
                return aw__url_bad("a bad host", url);
            port = close + 2;
        }
    } else {
        const char *c = memchr(h, ':', (size_t)(end - h));
        size_t n = (size_t)((c ? c : end) - h);
        if (!n || n >= sizeof u->host)
            return aw__url_bad("a bad host", url);
        for (size_t i = 0; i < n; i++)
            u->host[i] = (char)tolower((unsigned char)h[i]);
        port = c ? c + 1 : NULL;
    }
    if (port) {
        char *e;
        long p = strtol(port, &e, 10);
        if (e != end || p <= 0 || p > 65535)
            return aw__url_bad("a bad port", url);
        u->port = (int)p;
    } else
        u->port = u->tls ? 443 : 80;
    size_t tlen = strcspn(end, "#");
    if (tlen + 2 > sizeof u->target)
        return aw__url_bad("a URL too long", url);
    if (*end != '/')
        u->target[0] = '/';
    strncat(u->target, end, tlen);
    return 0;
}

/* Removes "." and ".." segments from a path (RFC 3986 5.2.4). */
static void aw__dot_segments(char *path)
{
    char *q = strchr(path, '?');
    char query[4096] = "";
    if (q) {
        snprintf(query, sizeof query, "%s", q);
        *q = 0;
    }
    char out[4096];
    size_t n = 0;
    const char *p = path;
    while (*p) {
        if (!strncmp(p, "/./", 3) || !strcmp(p, "/.")) {
            p += 2;
            if (!*p)
                out[n++] = '/';
        } else if (!strncmp(p, "/../", 4) || !strcmp(p, "/..")) {
            p += 3;
            while (n && out[n - 1] != '/')
                n--;
            if (n)
                n--;
            if (!*p)
                out[n++] = '/';
        } else {
            do
                out[n++] = *p++;
            while (*p && *p != '/' && n < sizeof out - 1);
        }
        if (n >= sizeof out - 1)
            break;
    }
    if (!n)
        out[n++] = '/';
    /* the path only shrank, so path and query fit where they came from; the
     * bound is kept anyway (and tells the compiler so) */
    size_t ql = strlen(query);
    if (n + ql > 4095)
        ql = 4095 - n;
    memcpy(path, out, n);
    memcpy(path + n, query, ql);
    path[n + ql] = 0;
}

int aw__url_join(const aw__url *base, const char *ref, aw__url *out)
{
    if (strstr(ref, "://"))
        return aw__url_parse(ref, out);
    char buf[8192];
    if (ref[0] == '/' && ref[1] == '/') {
        snprintf(buf, sizeof buf, "%s:%s", base->scheme, ref);
        return aw__url_parse(buf, out);
    }
    *out = *base;
    if (ref[0] == '/')
        snprintf(out->target, sizeof out->target, "%.*s", (int)strcspn(ref, "#"), ref);
    else if (ref[0] == '?')
        snprintf(out->target, sizeof out->target, "%.*s%.*s", (int)strcspn(base->target, "?"),
                 base->target, (int)strcspn(ref, "#"), ref);
    else {
        /* relative: beside the last segment of the base path */
        size_t dir = strcspn(base->target, "?");
        while (dir && base->target[dir - 1] != '/')
            dir--;
        snprintf(out->target, sizeof out->target, "%.*s%.*s", (int)dir, base->target,
                 (int)strcspn(ref, "#"), ref);
    }
    for (const char *p = out->target; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return aw__url_bad("a redirect to a URL with control characters", ref);
    aw__dot_segments(out->target);
    return 0;
}

void aw__url_authority(const aw__url *u, char *buf, unsigned long cap)
{
    int v6 = strchr(u->host, ':') != NULL;
    int dflt = u->port == (u->tls ? 443 : 80);
    if (dflt)
        snprintf(buf, cap, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(buf, cap, v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
}

void aw__url_format(const aw__url *u, char *buf, unsigned long cap)
{
    char auth[300];
    aw__url_authority(u, auth, sizeof auth);
    snprintf(buf, cap, "%s://%s%s", u->scheme, auth, u->target);
}
