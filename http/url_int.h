/* URLs for the HTTP client (internal): parsing absolute http(s) URLs and
 * resolving redirect targets against them (RFC 3986 section 5). */
#ifndef AW_URL_INT_H
#define AW_URL_INT_H

typedef struct aw__url {
    char scheme[8];    /* "http" or "https", lowercase */
    int tls;
    char host[256];    /* without IPv6 brackets */
    int port;
    char target[4096]; /* path and query, at least "/" (the fragment dropped) */
} aw__url;

/* Parses an absolute URL. Returns 0, or AW_EINVAL with the reason in
 * aw_last_error() (another scheme, user info, a bad port or host, control
 * characters). */
int aw__url_parse(const char *url, aw__url *u);

/* Resolves ref (absolute, //host, /path, or relative) against base. */
int aw__url_join(const aw__url *base, const char *ref, aw__url *out);

/* "https://host:port/target" (the port only when not the default). */
void aw__url_format(const aw__url *u, char *buf, unsigned long cap);

/* "host" or "host:port", bracketed for IPv6: the Host header. */
void aw__url_authority(const aw__url *u, char *buf, unsigned long cap);

#endif
