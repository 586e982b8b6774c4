/* Configuration: conf/aweb.conf and its C equivalent, aw_config.
 *
 * An INI file whose every key has a safe default: a missing file means all
 * defaults, an unknown key or a bad value is refused with the file, the line
 * and the reason. Durations take a unit (250ms, 10s, 5m, 1h; a bare number is
 * seconds), sizes too (512, 64K, 1M, 1G: bytes, KiB, MiB, GiB), switches are
 * on/off (yes/no, true/false, 1/0). Programs that want no file fill an
 * aw_config in C: aw_config_init gives the defaults, aw_config_set takes the
 * same section, key and text as the file.
 *
 * Lifetime: aw_config_init, then any number of loads and sets, then
 * aw_config_free (strings are owned by the config).
 */
#ifndef AW_CONFIG_H
#define AW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

#define AW_CONFIG_MAX_LISTEN 16

typedef struct aw_config {
    /* [server] */
    char *listen[AW_CONFIG_MAX_LISTEN]; /* "127.0.0.1:8080", "[::]:8443", "unix:/path" */
    size_t nlisten;
    int backlog;
    int reuseport;
    int workers;           /* processes sharing the port (SO_REUSEPORT), supervised */
    size_t max_connections;
    char *server_header;   /* the Server header; "" sends none */
    /* [limits] */
    size_t max_request_line; /* request line: past it, 414 */
    size_t max_field_size;   /* one header field: past it, 431 */
    size_t max_headers;      /* header count: past it, 431 */
    size_t client_max_size;  /* request body: past it, 413 */
    /* [timeouts] (milliseconds) */
    int64_t connect_ms, dns_ms, handshake_ms, read_ms, write_ms, close_ms;
    int64_t header_ms;    /* a request's head must arrive within this: else 408 */
    int64_t body_ms;      /* each wait for request body bytes */
    size_t body_min_rate; /* and all waits: body_ms plus 1 s per this many bytes (0: no bound) */
    int64_t keepalive_ms; /* an idle keep-alive connection is closed after this */
    int64_t lingering_ms; /* reading what a client still sends after an error */
    int64_t shutdown_ms;  /* graceful shutdown: in-flight requests get this long */
    /* [tls] */
    char *tls_cert, *tls_key, *tls_ca, *tls_alpn, *tls_ciphers;
    int tls_verify; /* clients verify servers' certificates */
    /* [log] */
    char *access_log;        /* "-" stdout, "off", or a file */
    char *access_log_format; /* "combined", "common", or a format with %-fields */
    char *error_log;         /* "-" stderr, or a file */
    int log_level;           /* 0 debug, 1 info, 2 warning, 3 error */
    /* [jobs] */
    size_t jobs_limit, jobs_pending_limit;
    int64_t jobs_close_timeout_ms;
    /* [runtime] */
    size_t stack_size;
    int debug;
    /* sections owned by others (middlewares): see aw_config_section */
    struct aw__config_section *sections;
} aw_config;

/* The defaults (the values commented in conf/aweb.conf). */
void aw_config_init(aw_config *c);

/* Reads an INI file over c. A file that does not exist leaves c alone and
 * returns 0 (AW_ENOENT is returned only if must_exist is set). On a bad key or
 * value returns AW_EINVAL with "FILE:LINE: reason" in err. */
int aw_config_load(aw_config *c, const char *path, int must_exist, char *err, size_t errlen);

/* Sets one key as the file would ("timeouts", "read", "30s"). Returns 0 or
 * AW_EINVAL with the reason in err. */
int aw_config_set(aw_config *c, const char *section, const char *key, const char *value,
                  char *err, size_t errlen);

void aw_config_free(aw_config *c);

/* Another layer's section (a middleware's [cors], a program's [fetch]):
 * registered before the file is loaded, its keys go to set(arg, key, value,
 * err, errlen), which returns 0 or AW_EINVAL with the reason in err (the
 * loader adds file and line). A section nobody registered is refused as
 * unknown. Registering a name twice replaces the first. Returns 0 or
 * AW_ENOMEM. */
typedef int (*aw_config_setter)(void *arg, const char *key, const char *value, char *err,
                                size_t errlen);
int aw_config_section(aw_config *c, const char *name, aw_config_setter set, void *arg);

/* The stream defaults ([timeouts]) for streams made under this config. */
void aw_config_stream_opts(const aw_config *c, aw_stream_opts *o);

/* Parsers for the value syntax, for programs' own options. */
int aw_parse_duration(const char *s, int64_t *ms);
int aw_parse_size(const char *s, size_t *bytes);
int aw_parse_bool(const char *s, int *on);

#endif
