/* Helpers the middlewares share (internal to middleware/): option strings,
 * comma-separated lists, tokens. Everything here is static inline. */
#ifndef AW_MW_INT_H
#define AW_MW_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

/* Fills err and returns AW_EINVAL, for configuration setters. */
static inline int __attribute__((format(printf, 3, 4)))
aw__mw_refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return AW_EINVAL;
}

/* Replaces an owned string with a copy of value (NULL stays NULL). */
static inline int aw__mw_set_str(char **slot, const char *value)
{
    char *c = value ? strdup(value) : NULL;
    if (value && !c)
        return AW_ENOMEM;
    free(*slot);
    *slot = c;
    return 0;
}

/* An HTTP token (header names, methods). */
static inline int aw__mw_is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

/* Whether the comma-separated list has item (spaces around entries are
 * ignored; fold: compare without case). No allocation. */
static inline int aw__mw_list_has(const char *list, const char *item, size_t item_len, int fold)
{
    if (!list)
        return 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - start);
        if (n && n == item_len &&
            (fold ? strncasecmp(start, item, n) == 0 : memcmp(start, item, n) == 0))
            return 1;
    }
    return 0;
}

/* The next entry of a comma-separated list from *p (trimmed): its start and
 * length, or 0 at the end. */
static inline size_t aw__mw_list_next(const char **p, const char **start)
{
    const char *s = *p;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s) {
            *p = s;
            return 0;
        }
        const char *b = s;
        while (*s && *s != ',')
            s++;
        const char *e = s;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *p = s;
        *start = b;
        return (size_t)(e - b);
    }
}

#endif
