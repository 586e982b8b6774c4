/* Static files: directories (their index.html, or an HTML listing). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "static_int.h"

/* A growing text buffer for the listing (not a hot path: malloc is fine). */
typedef struct aw__text {
    char *p;
    size_t len, cap;
    int failed;
} aw__text;

static void aw__put(aw__text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void aw__puts(aw__text *t, const char *s) { aw__put(t, s, strlen(s)); }

/* Text for HTML content and attribute values. */
static void aw__put_escaped(aw__text *t, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': aw__puts(t, "&amp;"); break;
        case '<': aw__puts(t, "&lt;"); break;
        case '>': aw__puts(t, "&gt;"); break;
        case '"': aw__puts(t, "&quot;"); break;
        case '\'': aw__puts(t, "&#39;"); break;
        default: aw__put(t, s, 1);
        }
    }
}

/* A file name as one path segment of a URL: everything but unreserved
 * characters percent-encoded (so '/', '?', '#' and '%' in a name survive). */
static void aw__put_segment(aw__text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            aw__put(t, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            aw__put(t, e, 3);
        }
    }
}

static int aw__name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The listing of the open directory fd (taken). Dot files are left out. */
static aw_response *aw__listing(aw_request *req, int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return aw_http_error(req, 500, NULL);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int failed = 0;
    while (!failed && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat sb;
            is_dir = !fstatat(dirfd(d), e->d_name, &sb, 0) && S_ISDIR(sb.st_mode);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **g = realloc(names, cap * sizeof *g);
            if (!g) {
                failed = 1;
                break;
            }
            names = g;
        }
        /* a trailing '/' marks a directory; it sorts and prints with the name */
        size_t len = strlen(e->d_name);
        char *copy = aw_request_alloc(req, len + 2);
        if (!copy) {
            failed = 1;
            break;
        }
        memcpy(copy, e->d_name, len);
        copy[len] = is_dir ? '/' : 0;
        copy[len + 1] = 0;
        names[n++] = copy;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, aw__name_cmp);
    aw__text t = {0};
    const char *path = aw_request_path(req);
    aw__puts(&t, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    aw__put_escaped(&t, path);
    aw__puts(&t, "</title></head>\n<body><h1>Index of ");
    aw__put_escaped(&t, path);
    aw__puts(&t, "</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n");
    for (size_t i = 0; i < n && !failed; i++) {
        size_t len = strlen(names[i]);
        int dir = len && names[i][len - 1] == '/';
        if (dir)
            names[i][len - 1] = 0;
        aw__puts(&t, "<li><a href=\"");
        aw__put_segment(&t, names[i]);
        aw__puts(&t, dir ? "/\">" : "\">");
        aw__put_escaped(&t, names[i]);
        aw__puts(&t, dir ? "/</a></li>\n" : "</a></li>\n");
    }
    aw__puts(&t, "</ul>\n</body></html>\n");
    free(names);
    aw_response *r = failed || t.failed
                         ? aw_http_error(req, 500, NULL)
                         : aw_response_bytes(req, 200, t.p, t.len, "text/html; charset=utf-8");
    free(t.p);
    return r;
}

aw_response *aw__static_dir(aw_request *req, aw_static *st, const char *rel, int fd)
{
    if (!st->o.index && !st->o.show_index) {
        close(fd);
        return aw_http_error(req, 403, NULL);
    }
    /* relative links and index.html's own need the slash */
    const char *path = aw_request_path(req);
    size_t plen = strlen(path);
    if (!plen || path[plen - 1] != '/') {
        close(fd);
        const char *raw = aw_request_raw_path(req), *q = strchr(raw, '?');
        size_t n = q ? (size_t)(q - raw) : strlen(raw);
        char *loc = aw_request_alloc(req, strlen(raw) + 2);
        if (!loc)
            return NULL;
        memcpy(loc, raw, n);
        loc[n] = '/';
        strcpy(loc + n + 1, q ? q : "");
        return aw_response_redirect(req, 301, loc);
    }
    if (st->o.index) {
        size_t rlen = strlen(rel);
        char *ipath = aw_request_alloc(req, rlen + 12);
        int ifd = -1;
        struct stat sb;
        if (!ipath) {
            close(fd);
            return NULL;
        }
        memcpy(ipath, rel, rlen);
        strcpy(ipath + rlen, rlen && rel[rlen - 1] != '/' ? "/index.html" : "index.html");
        if (!aw__static_open(st, ipath, &ifd) && !fstat(ifd, &sb) && S_ISREG(sb.st_mode)) {
            close(fd);
            aw_response *r = aw__static_file(req, st, "index.html", ifd, &sb);
            close(ifd);
            return r;
        }
        if (ifd >= 0)
            close(ifd);
    }
    if (!st->o.show_index) {
        close(fd);
        return aw_http_error(req, 403, NULL);
    }
    return aw__listing(req, fd);
}
