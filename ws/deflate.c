/* permessage-deflate (RFC 7692) with zlib.
 *
 * We always compress without context takeover: a sender may reset its
 * compressor for every message, which lets one deflater per thread serve
 * every socket (a zlib deflater holds 256 KiB). Receiving keeps an inflater
 * per socket only when the peer keeps its context between messages.
 * Inflation stops as soon as a message would pass the size limit, so a small
 * frame cannot expand into a large allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "runtime.h"
#include "ws_int.h"

static const unsigned char aw__tail[4] = {0x00, 0x00, 0xff, 0xff};

/* --- negotiation ------------------------------------------------------------ */

typedef struct aw__pmd_params {
    int server_no_takeover, client_no_takeover;
    int server_bits;      /* 0: not given */
    int client_bits;      /* 0: not given, -1: given without a value */
} aw__pmd_params;

/* Parses one "permessage-deflate; a; b=c" element. 0, or AW_EINVAL for
 * another extension, an unknown or repeated parameter, or a bad value. */
static int aw__pmd_parse(const char *s, size_t len, aw__pmd_params *pp)
{
    char buf[256];
    if (len >= sizeof buf)
        return AW_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(pp, 0, sizeof *pp);
    char *save, *tok = strtok_r(buf, ";", &save);
    while (tok && (*tok == ' ' || *tok == '\t'))
        tok++;
    if (!tok || strncasecmp(tok, "permessage-deflate", 18) ||
        strspn(tok + 18, " \t") != strlen(tok + 18))
        return AW_EINVAL;
    int seen = 0;
    while ((tok = strtok_r(NULL, ";", &save))) {
        tok += strspn(tok, " \t");
        char *eq = strchr(tok, '='), *val = eq ? eq + 1 : NULL;
        size_t klen = eq ? (size_t)(eq - tok) : strcspn(tok, " \t");
        while (klen && (tok[klen - 1] == ' ' || tok[klen - 1] == '\t'))
            klen--;
        int bits = 0;
        if (val) {
            val += strspn(val, " \t\"");
            bits = atoi(val);
            if (bits < 8 || bits > 15)
                return AW_EINVAL;
        }
        int bit;
        if (klen == 26 && !strncasecmp(tok, "server_no_context_takeover", 26) && !val)
            bit = 1, pp->server_no_takeover = 1;
        else if (klen == 26 && !strncasecmp(tok, "client_no_context_takeover", 26) && !val)
            bit = 2, pp->client_no_takeover = 1;
        else if (klen == 22 && !strncasecmp(tok, "server_max_window_bits", 22) && val)
            bit = 4, pp->server_bits = bits;
        else if (klen == 22 && !strncasecmp(tok, "client_max_window_bits", 22))
            bit = 8, pp->client_bits = val ? bits : -1;
        else
            return AW_EINVAL;
        if (seen & bit)
            return AW_EINVAL;
        seen |= bit;
    }
    return 0;
}

int aw__pmd_server_negotiate(const char *offers, aw__pmd *p, char *resp, size_t cap)
{
    /* a header may hold several offers (and other extensions), comma-separated */
    const char *o = offers;
    while (o && *o) {
        size_t len = strcspn(o, ",");
        aw__pmd_params pp;
        /* zlib cannot keep a raw deflate to an 8-bit window */
        if (aw__pmd_parse(o, len, &pp) == 0 && pp.server_bits != 8) {
            memset(p, 0, sizeof *p);
            p->on = 1;
            p->peer_no_takeover = pp.client_no_takeover;
            p->peer_window_bits = pp.client_bits > 0 ? pp.client_bits : 15;
            p->my_window_bits = pp.server_bits ? pp.server_bits : 15;
            int n = snprintf(resp, cap, "permessage-deflate; server_no_context_takeover");
            if (pp.client_no_takeover)
                n += snprintf(resp + n, cap - (size_t)n, "; client_no_context_takeover");
            if (pp.server_bits)
                n += snprintf(resp + n, cap - (size_t)n, "; server_max_window_bits=%d",
                              pp.server_bits);
            if (pp.client_bits > 0)
                snprintf(resp + n, cap - (size_t)n, "; client_max_window_bits=%d",
                         pp.client_bits);
            return 0;
        }
        o += len + (o[len] == ',');
    }
    return AW_EINVAL;
}

const char *aw__pmd_client_offer(void)
{
    return "permessage-deflate; client_max_window_bits";
}

int aw__pmd_client_accept(const char *header, aw__pmd *p)
{
    aw__pmd_params pp;
    if (aw__pmd_parse(header, strlen(header), &pp) || pp.client_bits == -1 || pp.client_bits == 8)
        return AW_EINVAL;
    memset(p, 0, sizeof *p);
    p->on = 1;
    p->peer_no_takeover = pp.server_no_takeover;
    p->peer_window_bits = pp.server_bits ? pp.server_bits : 15;
    p->my_window_bits = pp.client_bits ? pp.client_bits : 15;
    return 0;
}

/* --- compressing -------------------------------------------------------------- */

static __thread z_stream *aw__deflater;
static __thread int aw__deflater_bits;
static __thread z_stream *aw__inflater; /* for peers that reset their context */

/* The thread's zlib streams go when its loop ends. */
static void aw__pmd_thread_exit(void *arg)
{
    (void)arg;
    if (aw__deflater) {
        deflateEnd(aw__deflater);
        free(aw__deflater);
        aw__deflater = NULL;
    }
    if (aw__inflater) {
        inflateEnd(aw__inflater);
        free(aw__inflater);
        aw__inflater = NULL;
    }
}

static void aw__pmd_thread_start(void)
{
    if (!aw__deflater && !aw__inflater)
        aw_at_loop_exit(aw__pmd_thread_exit, NULL);
}

static z_stream *aw__get_deflater(int bits)
{
    if (aw__deflater && aw__deflater_bits == bits) {
        deflateReset(aw__deflater);
        return aw__deflater;
    }
    aw__pmd_thread_start();
    if (aw__deflater) {
        deflateEnd(aw__deflater);
        free(aw__deflater);
    }
    aw__deflater = calloc(1, sizeof *aw__deflater);
    if (!aw__deflater ||
        deflateInit2(aw__deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(aw__deflater);
        aw__deflater = NULL;
        return NULL;
    }
    aw__deflater_bits = bits;
    return aw__deflater;
}

int aw__pmd_compress(aw__pmd *p, const void *in, size_t len, unsigned char **out, size_t *outlen)
{
    z_stream *z = aw__get_deflater(p->my_window_bits);
    if (!z)
        return AW_ENOMEM;
    size_t cap = deflateBound(z, (uLong)len) + 16;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return AW_ENOMEM;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)len;
    z->next_out = buf;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_in) {
        free(buf);
        return AW_EINVAL;
    }
    size_t n = cap - z->avail_out;
    /* the sync flush's empty block ends with 00 00 ff ff: the wire omits it */
    if (n >= 4 && !memcmp(buf + n - 4, aw__tail, 4))
        n -= 4;
    *out = buf;
    *outlen = n;
    return 0;
}

/* --- inflating ------------------------------------------------------------------ */

static z_stream *aw__new_inflater(void)
{
    z_stream *z = calloc(1, sizeof *z);
    if (z && inflateInit2(z, -15) != Z_OK) {
        free(z);
        z = NULL;
    }
    return z;
}

int aw__pmd_inflate(aw__pmd *p, const uint8_t *in, size_t len, size_t max, int type,
                    aw__wsmsg **out)
{
    z_stream *z;
    if (p->peer_no_takeover) {
        aw__pmd_thread_start();
        if (!aw__inflater && !(aw__inflater = aw__new_inflater()))
            return AW_ENOMEM;
        z = aw__inflater;
        inflateReset(z);
    } else if (!(z = p->inflater) && !(z = p->inflater = aw__new_inflater()))
        return AW_ENOMEM;
    size_t cap = len * 4 + 64 < max ? len * 4 + 64 : max, n = 0;
    aw__wsmsg *m = malloc(sizeof *m + cap + 1);
    if (!m)
        return AW_ENOMEM;
    int rc = 0;
    for (int part = 0; part < 2 && !rc; part++) {
        z->next_in = part ? (Bytef *)aw__tail : (Bytef *)in;
        z->avail_in = part ? 4 : (uInt)len;
        while (z->avail_in || part == 1) {
            if (n == cap) {
                if (cap >= max) {
                    rc = AW_EMSGSIZE; /* stop: inflating on would pass the limit */
                    break;
                }
                size_t ncap = cap * 2 < max ? cap * 2 : max;
                aw__wsmsg *g = realloc(m, sizeof *m + ncap + 1);
                if (!g) {
                    rc = AW_ENOMEM;
                    break;
                }
                m = g;
                cap = ncap;
            }
            z->next_out = (Bytef *)m->data + n;
            z->avail_out = (uInt)(cap - n);
            int zr = inflate(z, Z_SYNC_FLUSH);
            n = cap - z->avail_out;
            if (zr == Z_BUF_ERROR && z->avail_out)
                break; /* all input consumed */
            if (zr != Z_OK && zr != Z_BUF_ERROR) {
                rc = AW_EINVAL;
                break;
            }
            if (part == 1 && !z->avail_in && z->avail_out)
                break;
        }
    }
    /* a full buffer at max with the tail consumed is still within the limit;
     * anything that had to go past it was refused above */
    if (rc) {
        free(m);
        return rc;
    }
    m->type = type;
    m->code = 0;
    m->len = n;
    m->data[n] = 0;
    *out = m;
    return 0;
}

void aw__pmd_free(aw__pmd *p)
{
    if (p->inflater) {
        inflateEnd(p->inflater);
        free(p->inflater);
        p->inflater = NULL;
    }
}
