/* Streamed multipart/form-data (RFC 7578 over RFC 2046); see forms_int.h.
 *
 * The reader owns one buffer and pulls the body through it. Content is what
 * comes before the delimiter CRLF "--" boundary, and a byte is handed out only
 * once it is known not to begin a delimiter: a delimiter split across reads,
 * however finely, is therefore never emitted as content.
 *
 * The buffer starts with a CRLF that is not in the body. That makes a body
 * opening with "--boundary" and one with a preamble the same case: the
 * preamble is the content of a part nobody reads.
 */
#include "forms_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

#define AW__MP_BUF 16384
#define AW__MP_MAX_BOUNDARY 70

/* A whole part head must fit in the buffer beside the CRLF before it. */
_Static_assert(AW__MP_BUF >= AW__MP_MAX_PART_HEAD + 2, "buffer smaller than a part head");

enum { AW__MP_PREAMBLE, AW__MP_BODY, AW__MP_DELIM, AW__MP_DONE };

struct aw__multipart {
    aw__read_fn read;
    void *ctx;
    int state;
    int err; /* sticky: once a call failed, every later one returns this */
    size_t nparts;
    size_t pos, end, cap; /* unread bytes are buf[pos, end) */
    size_t safe;          /* bytes from pos known to be content */
    size_t dlen;
    char delim[4 + AW__MP_MAX_BOUNDARY]; /* CRLF "--" boundary */
    const char *name, *filename;         /* point into params */
    size_t nhdrs;
    char hdrs[AW__MP_MAX_PART_HEAD];   /* the part's headers: name\0value\0... */
    char params[AW__MP_MAX_PART_HEAD]; /* decoded Content-Disposition parameters */
    char buf[];
};

static int aw__mp_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *aw__mp_ows(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *aw__mp_token(const char *p, const char *e)
{
    while (p < e && aw__mp_tchar((unsigned char)*p))
        p++;
    return p;
}

/* RFC 2046 allows fewer characters, but clients in the wild use others (Java
 * examples send "*****"); what matters to the parser is that a boundary has
 * no controls and so cannot contain the CRLF that starts a delimiter. */
static int aw__mp_boundary_ok(const char *b, size_t len)
{
    if (!len || len > AW__MP_MAX_BOUNDARY || b[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (b[i] < 0x20 || b[i] > 0x7e)
            return 0;
    return 1;
}

/* --- header parameters: `; name=value` with token or quoted-string values --- */

typedef struct aw__mp_param {
    const char *name, *value; /* a quoted value is the inside, still escaped */
    size_t name_len, value_len;
    int quoted;
} aw__mp_param;

static int aw__mp_is(const aw__mp_param *prm, const char *name)
{
    return prm->name_len == strlen(name) && strncasecmp(prm->name, name, prm->name_len) == 0;
}

/* A backslash escapes only '"' and '\': old browsers send Windows paths
 * ("C:\dir\a.txt") unescaped, and those should survive. */
static int aw__mp_escape_at(const char *p, const char *e)
{
    return *p == '\\' && p + 1 < e && (p[1] == '"' || p[1] == '\\');
}

static const char *aw__mp_quoted(const char *p, const char *e)
{
    for (; p < e && *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return NULL;
        if (aw__mp_escape_at(p, e))
            p++;
    }
    return p < e ? p : NULL;
}

/* 1 with the next parameter in prm, 0 at the end, or AW_EINVAL. */
static int aw__mp_param_next(const char **pp, const char *e, aw__mp_param *prm)
{
    const char *p = aw__mp_ows(*pp, e);
    if (p == e)
        return 0;
    if (*p != ';')
        return AW_EINVAL;
    p = aw__mp_ows(p + 1, e);
    if (p == e)
        return 0; /* a trailing ';' */
    prm->name = p;
    p = aw__mp_token(p, e);
    prm->name_len = (size_t)(p - prm->name);
    p = aw__mp_ows(p, e);
    if (!prm->name_len || p == e || *p != '=')
        return AW_EINVAL;
    p = aw__mp_ows(p + 1, e);
    prm->quoted = p < e && *p == '"';
    if (prm->quoted) {
        prm->value = p + 1;
        if (!(p = aw__mp_quoted(p + 1, e)))
            return AW_EINVAL;
        prm->value_len = (size_t)(p++ - prm->value);
    } else {
        prm->value = p;
        p = aw__mp_token(p, e);
        if (!(prm->value_len = (size_t)(p - prm->value)))
            return AW_EINVAL;
    }
    *pp = p;
    return 1;
}

/* Copies a parameter's value into dst (cap bytes), unescaped and
 * NUL-terminated; returns its length, or AW_EINVAL if it does not fit. */
static int aw__mp_unquote(char *dst, size_t cap, const aw__mp_param *prm)
{
    const char *v = prm->value, *e = v + prm->value_len;
    size_t w = 0;
    for (; v < e; v++) {
        if (prm->quoted && aw__mp_escape_at(v, e))
            v++;
        if (w + 1 >= cap)
            return AW_EINVAL;
        dst[w++] = *v;
    }
    if (!cap)
        return AW_EINVAL;
    dst[w] = '\0';
    return (int)w;
}

int aw__multipart_boundary(const char *content_type, char *buf, size_t cap)
{
    static const char type[] = "multipart/form-data";
    char tmp[AW__MP_MAX_BOUNDARY + 1];
    aw__mp_param prm, found = {0};
    int r;
    if (!content_type)
        return AW_EINVAL;
    const char *e = content_type + strlen(content_type);
    const char *p = aw__mp_ows(content_type, e);
    if ((size_t)(e - p) < sizeof type - 1 || strncasecmp(p, type, sizeof type - 1) != 0)
        return AW_EINVAL;
    p += sizeof type - 1;
    if (p < e && aw__mp_tchar((unsigned char)*p))
        return AW_EINVAL; /* "multipart/form-datax" */
    while ((r = aw__mp_param_next(&p, e, &prm)) > 0)
        if (aw__mp_is(&prm, "boundary")) {
            if (found.name)
                return AW_EINVAL; /* two boundaries: which one would a proxy use? */
            found = prm;
        }
    if (r < 0 || !found.name)
        return AW_EINVAL;
    if ((r = aw__mp_unquote(tmp, sizeof tmp, &found)) < 0 || !aw__mp_boundary_ok(tmp, (size_t)r))
        return AW_EINVAL;
    if ((size_t)r >= cap)
        return AW_ENOBUFS;
    memcpy(buf, tmp, (size_t)r + 1);
    return r;
}

/* --- reading the body ------------------------------------------------------ */

aw__multipart *aw__multipart_new(const char *boundary, aw__read_fn read, void *ctx)
{
    if (!boundary || !read)
        return NULL;
    size_t blen = strlen(boundary);
    if (!aw__mp_boundary_ok(boundary, blen))
        return NULL;
    size_t cap = AW__MP_BUF + 4 + blen + 2;
    aw__multipart *m = malloc(sizeof *m + cap);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->read = read;
    m->ctx = ctx;
    m->cap = cap;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, blen);
    m->dlen = 4 + blen;
    memcpy(m->buf, "\r\n", 2);
    m->end = 2;
    m->state = AW__MP_PREAMBLE;
    return m;
}

void aw__multipart_free(aw__multipart *m) { free(m); }

/* Moves the unread bytes to the front and reads more behind them. Callers
 * read only while a part or the closing delimiter is still owed, so the body
 * ending here is always an error. */
static int aw__mp_fill(aw__multipart *m)
{
    if (m->pos) {
        memmove(m->buf, m->buf + m->pos, m->end - m->pos);
        m->end -= m->pos;
        m->pos = 0;
    }
    size_t room = m->cap - m->end;
    if (!room)
        return AW_EINVAL; /* unreachable: nobody waits on a full buffer */
    ssize_t r = m->read(m->ctx, m->buf + m->end, room);
    if (r < 0)
        return r < INT_MIN ? AW_EINVAL : (int)r;
    if (r == 0 || (size_t)r > room)
        return AW_EINVAL;
    m->end += (size_t)r;
    return 0;
}

static int aw__mp_need(aw__multipart *m, size_t n)
{
    int r = 0;
    while (m->end - m->pos < n && r == 0)
        r = aw__mp_fill(m);
    return r;
}

/* Whether a delimiter starts at p: 1 yes, -1 no, 0 not known from avail
 * bytes. It must be followed by padding, CRLF or the closing "--"; CRLF
 * "--" boundary "x" is content, as a longer boundary beginning with ours is. */
static int aw__mp_delim_at(const aw__multipart *m, const char *p, size_t avail)
{
    if (memcmp(p, m->delim, avail < m->dlen ? avail : m->dlen) != 0)
        return -1;
    if (avail <= m->dlen)
        return 0;
    char c = p[m->dlen];
    if (c == ' ' || c == '\t' || c == '\r')
        return 1;
    if (c != '-')
        return -1;
    if (avail == m->dlen + 1)
        return 0;
    return p[m->dlen + 1] == '-' ? 1 : -1;
}

/* Sets safe to the content bytes at pos, up to the first possible delimiter;
 * returns 1 if a delimiter starts right at pos. safe == 0 otherwise means the
 * next bytes cannot be judged before more are read. safe is kept across
 * calls so that small reads do not rescan the buffer. */
static int aw__mp_scan(aw__multipart *m)
{
    const char *start = m->buf + m->pos, *end = m->buf + m->end, *p = start;
    while (p < end && (p = memchr(p, '\r', (size_t)(end - p)))) {
        int d = aw__mp_delim_at(m, p, (size_t)(end - p));
        if (d >= 0) {
            m->safe = (size_t)(p - start);
            return d == 1 && p == start;
        }
        p++;
    }
    m->safe = (size_t)(end - start);
    return 0;
}

/* Content of the current part into out (NULL: skip it), at most len bytes;
 * 0 once the delimiter is reached, which it consumes. */
static ssize_t aw__mp_content(aw__multipart *m, char *out, size_t len)
{
    while (!m->safe) {
        if (aw__mp_scan(m)) {
            m->pos += m->dlen;
            m->state = AW__MP_DELIM;
            return 0;
        }
        int r = m->safe ? 0 : aw__mp_fill(m);
        if (r < 0)
            return r;
    }
    size_t n = len < m->safe ? len : m->safe;
    if (out)
        memcpy(out, m->buf + m->pos, n);
    m->pos += n;
    m->safe -= n;
    return (ssize_t)n;
}

/* After a delimiter: "--" ends the body (0); otherwise transport padding and
 * the CRLF, which is left unread so the head search can start on it (1). */
static int aw__mp_boundary_line(aw__multipart *m)
{
    int r, padded = 0;
    for (;;) {
        if ((r = aw__mp_need(m, 1)) < 0)
            return r;
        if (m->buf[m->pos] != ' ' && m->buf[m->pos] != '\t')
            break;
        m->pos++;
        padded = 1;
    }
    if ((r = aw__mp_need(m, 2)) < 0)
        return r;
    const char *p = m->buf + m->pos;
    if (p[0] == '-' && p[1] == '-' && !padded) {
        m->pos += 2;
        return 0;
    }
    return p[0] == '\r' && p[1] == '\n' ? 1 : AW_EINVAL;
}

/* Finds the blank line that ends a part's head. The head starts after the
 * CRLF at pos, so CRLF CRLF at pos is an empty head. Returns the head's
 * length (its lines with their CRLFs, without the blank line). */
static ssize_t aw__mp_find_head(aw__multipart *m)
{
    size_t from = 0; /* already searched, relative to pos */
    for (;;) {
        const char *p = m->buf + m->pos, *e = m->buf + m->end, *q = p + from;
        while (e - q >= 4 && (q = memchr(q, '\r', (size_t)(e - q - 3)))) {
            if (memcmp(q, "\r\n\r\n", 4) == 0) {
                size_t len = (size_t)(q - p);
                return len + 2 > AW__MP_MAX_PART_HEAD ? AW_EINVAL : (ssize_t)len;
            }
            q++;
        }
        size_t have = (size_t)(e - p);
        if (have >= AW__MP_MAX_PART_HEAD + 2)
            return AW_EINVAL;
        from = have > 3 ? have - 3 : 0;
        int r = aw__mp_fill(m);
        if (r < 0)
            return r;
    }
}

/* Splits the head into name\0value\0 pairs in hdrs (never longer than the
 * lines they come from). Folded lines, bare CR or LF, controls in values and
 * names that are not tokens are refused. */
static int aw__mp_parse_head(aw__multipart *m, const char *h, size_t len)
{
    const char *e = h + len;
    size_t w = 0;
    m->nhdrs = 0;
    while (h < e) {
        const char *eol = memchr(h, '\r', (size_t)(e - h));
        if (!eol || eol + 1 >= e || eol[1] != '\n' || *h == ' ' || *h == '\t')
            return AW_EINVAL;
        const char *colon = aw__mp_token(h, eol);
        if (colon == h || colon == eol || *colon != ':')
            return AW_EINVAL;
        const char *v = aw__mp_ows(colon + 1, eol), *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *c = v; c < ve; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return AW_EINVAL;
        memcpy(m->hdrs + w, h, (size_t)(colon - h));
        w += (size_t)(colon - h);
        m->hdrs[w++] = '\0';
        memcpy(m->hdrs + w, v, (size_t)(ve - v));
        w += (size_t)(ve - v);
        m->hdrs[w++] = '\0';
        m->nhdrs++;
        h = eol + 2;
    }
    return 0;
}

/* Valid UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
static int aw__mp_utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], lo = 0x80, hi = 0xbf;
        size_t n;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = c == 0xe0 ? 0xa0 : lo;
            hi = c == 0xed ? 0x9f : hi;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = c == 0xf0 ? 0x90 : lo;
            hi = c == 0xf4 ? 0x8f : hi;
        } else {
            return 0;
        }
        if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

/* RFC 8187 filename*=charset'language'pct-encoded. Only UTF-8 is taken, and
 * only if it decodes to UTF-8: otherwise the plain filename stays in force.
 * Returns 1 with the name in dst, 0 to ignore it, AW_EINVAL if malformed. */
static int aw__mp_ext_value(const aw__mp_param *prm, char *dst, size_t cap)
{
    const char *v = prm->value, *e = v + prm->value_len;
    const char *q1 = memchr(v, '\'', prm->value_len);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(e - q1 - 1)) : NULL;
    if (prm->quoted || !q2)
        return AW_EINVAL;
    ssize_t n = aw__pct_decode(NULL, q2 + 1, (size_t)(e - q2 - 1), 0, 0, 1);
    if (n < 0 || (size_t)n >= cap)
        return AW_EINVAL;
    if (q1 - v != 5 || strncasecmp(v, "UTF-8", 5) != 0)
        return 0;
    aw__pct_decode(dst, q2 + 1, (size_t)(e - q2 - 1), 0, 0, 1);
    dst[n] = '\0';
    return aw__mp_utf8_ok((const unsigned char *)dst, (size_t)n);
}

/* Stores a parameter's value in params at *w; refuses a second one. */
static int aw__mp_keep(char *params, size_t *w, const aw__mp_param *prm, const char **slot)
{
    if (*slot)
        return AW_EINVAL; /* two names: which one did the client mean? */
    int n = aw__mp_unquote(params + *w, AW__MP_MAX_PART_HEAD - *w, prm);
    if (n < 0)
        return n;
    *slot = params + *w;
    *w += (size_t)n + 1;
    return 0;
}

/* Content-Disposition: form-data; name="..."; filename="..."; filename*=...
 * Decoded values never outgrow the raw ones, so params cannot overflow. */
static int aw__mp_disposition(aw__multipart *m)
{
    const char *v = NULL, *h = m->hdrs, *plain = NULL, *ext = NULL;
    for (size_t i = 0; i < m->nhdrs; i++) {
        const char *hv = h + strlen(h) + 1;
        if (strcasecmp(h, "Content-Disposition") == 0) {
            if (v)
                return AW_EINVAL;
            v = hv;
        }
        h = hv + strlen(hv) + 1;
    }
    if (!v)
        return AW_EINVAL;
    const char *e = v + strlen(v), *p = aw__mp_token(v, e);
    if (p - v != 9 || strncasecmp(v, "form-data", 9) != 0)
        return AW_EINVAL;
    aw__mp_param prm;
    size_t w = 0;
    int r, seen_ext = 0;
    while ((r = aw__mp_param_next(&p, e, &prm)) > 0) {
        if (aw__mp_is(&prm, "name"))
            r = aw__mp_keep(m->params, &w, &prm, &m->name);
        else if (aw__mp_is(&prm, "filename"))
            r = aw__mp_keep(m->params, &w, &prm, &plain);
        else if (aw__mp_is(&prm, "filename*")) {
            if (seen_ext++)
                return AW_EINVAL;
            r = aw__mp_ext_value(&prm, m->params + w, AW__MP_MAX_PART_HEAD - w);
            if (r == 1) {
                ext = m->params + w;
                w += strlen(ext) + 1;
            }
        }
        if (r < 0)
            return r;
    }
    if (r < 0 || !m->name)
        return AW_EINVAL;
    m->filename = ext ? ext : plain;
    return 0;
}

static int aw__mp_next(aw__multipart *m)
{
    while (m->state == AW__MP_PREAMBLE || m->state == AW__MP_BODY) {
        ssize_t n = aw__mp_content(m, NULL, SIZE_MAX);
        if (n < 0)
            return (int)n;
    }
    if (m->state == AW__MP_DONE)
        return 0;
    int r = aw__mp_boundary_line(m);
    if (r == 0)
        m->state = AW__MP_DONE;
    if (r <= 0)
        return r;
    if (++m->nparts > AW__MP_MAX_PARTS)
        return AW_EINVAL;
    ssize_t len = aw__mp_find_head(m);
    if (len < 0)
        return (int)len;
    if ((r = aw__mp_parse_head(m, m->buf + m->pos + 2, (size_t)len)) < 0 ||
        (r = aw__mp_disposition(m)) < 0)
        return r;
    m->pos += (size_t)len + 4;
    m->safe = 0;
    m->state = AW__MP_BODY;
    return 1;
}

int aw__multipart_next(aw__multipart *m)
{
    m->name = m->filename = NULL;
    m->nhdrs = 0;
    if (m->err)
        return m->err;
    int r = aw__mp_next(m);
    if (r < 0) {
        m->err = r;
        m->name = m->filename = NULL;
        m->nhdrs = 0;
    }
    return r;
}

const char *aw__multipart_name(const aw__multipart *m) { return m->name; }

const char *aw__multipart_filename(const aw__multipart *m) { return m->filename; }

const char *aw__multipart_header(const aw__multipart *m, const char *name)
{
    const char *h = m->hdrs;
    for (size_t i = 0; i < m->nhdrs; i++) {
        const char *v = h + strlen(h) + 1;
        if (strcasecmp(h, name) == 0)
            return v;
        h = v + strlen(v) + 1;
    }
    return NULL;
}

/* Outside a part (before the first, after its end) there is nothing to read:
 * 0, as at the end of a part. */
ssize_t aw__multipart_read(aw__multipart *m, void *buf, size_t len)
{
    if (m->err)
        return m->err;
    if (m->state != AW__MP_BODY || !len)
        return 0;
    ssize_t n = aw__mp_content(m, buf, len);
    if (n < 0)
        m->err = (int)n;
    return n;
}
