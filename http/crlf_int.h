/* Line endings in a message head (internal: the server's request parser and
 * the client's response reader).
 *
 * Debian 12's llhttp (8.1) ends a head at a CR followed by any byte, not
 * only by LF (CVE-2023-30589): "Host: x\r\n\rGET /admin ..." would be read
 * differently by a proxy in front and by us, which is how requests are
 * smuggled. Every CR of a head must be followed by LF; the bytes llhttp
 * took as head are checked after it took them. */
#ifndef AW_CRLF_INT_H
#define AW_CRLF_INT_H

#include <stddef.h>
#include <string.h>

/* 1 if p[0..n) has a CR not followed by LF. A CR at the very end is left
 * for the next piece: *pending remembers it (start with 0). */
static inline int aw__bare_cr(const char *p, size_t n, char *pending)
{
    if (*pending == '\r' && n) {
        if (p[0] != '\n')
            return 1;
        *pending = 0;
    }
    for (const char *q = n ? memchr(p, '\r', n) : NULL; q;
         q = memchr(q + 1, '\r', (size_t)(p + n - q - 1))) {
        if (q + 1 == p + n) {
            *pending = '\r';
            return 0;
        }
        if (q[1] != '\n')
            return 1;
    }
    return 0;
}

#endif
