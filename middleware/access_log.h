/* The access log: one line per request, in Apache's combined or common
 * format or one written with aiohttp's %-fields.
 *
 *   %a  the client's address          %t  the time, [10/Oct/2026:13:55:36 +0000]
 *   %r  the request line              %s  the status
 *   %b  body bytes sent               %T  seconds taken, %Tf with microseconds
 *   %D  microseconds taken            %P  the worker's process id
 *   %{Name}i  a request header        %{Name}o  a response header
 *   %L  the request id (request_id.h) %u  the authenticated user (basic_auth.h)
 *   %%  a percent sign                (a missing value prints "-")
 *
 * combined is  %a - %u %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"
 * common   is  %a - %u %t "%r" %s %b
 *
 * Lines are buffered and written at most once a second (or when the buffer
 * fills), so logging costs no system call per request; control characters,
 * quotes and backslashes from the client are written as \xHH.
 *
 * The server keeps one from its [log] section (access_log, access_log_format)
 * and writes a line once each response has gone out, requests refused before
 * routing and WebSockets (when they close) included. It lives here, with the
 * middlewares, as the part of logging a program may replace; http/ calls it.
 *
 * Lifetime: aw_access_log_open inside a loop; aw_access_log_close flushes and
 * frees it (its timer's memory goes in the loop's close callback).
 */
#ifndef AW_ACCESS_LOG_H
#define AW_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

typedef struct aw_access_log aw_access_log;

typedef struct aw_access_log_opts {
    const char *path;   /* "-" stdout, a file appended to, or "off" / "" / NULL */
    const char *format; /* "combined", "common", or %-fields */
    size_t buffer_size; /* bytes buffered before a write: 64 KiB (at least 32 KiB) */
    int64_t flush_ms;   /* and written at least this often: 1000 ms */
} aw_access_log_opts;

/* combined to stdout, 64 KiB, flushed every second. */
void aw_access_log_opts_default(aw_access_log_opts *o);

/* Opens the log (*out is NULL when the path is off). Returns 0, AW_EINVAL
 * for an unknown %-field, or the open error, with the reason in err. */
int aw_access_log_open(const aw_access_log_opts *o, aw_access_log **out, char *err,
                       size_t errlen);

/* Formats the line of a finished request (its response, if any, sent). */
void aw_access_log_write(aw_access_log *l, aw_request *req);

/* Writes out what is buffered. */
void aw_access_log_flush(aw_access_log *l);

/* Flushes and frees l (NULL is fine). */
void aw_access_log_close(aw_access_log *l);

#endif
