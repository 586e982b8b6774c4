/* The error log: leveled lines on stderr (or a file), each with a UTC
 * timestamp, the level and, inside a request, its id.
 *
 *     aw_log(AW_LOG_ERROR, "database unreachable: %s", aw_strerror(rc));
 *     2026-11-23T10:15:02Z error [req 5f2c...] database unreachable: ...
 *
 * The request id comes from the context variable aw_log_request_id, which a
 * request-id middleware sets: it follows the request into tasks it spawns.
 */
#ifndef AW_LOG_H
#define AW_LOG_H

#include "ctxvar.h"

enum { AW_LOG_DEBUG, AW_LOG_INFO, AW_LOG_WARNING, AW_LOG_ERROR };

/* The current request's id for log lines (a const char *), or NULL. */
extern aw_ctxvar aw_log_request_id;

void aw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lines below level are dropped (default AW_LOG_INFO). */
void aw_log_set_level(int level);
int aw_log_level(void);

/* "-" for stderr (the default), or a file to append to. Returns 0 or an error. */
int aw_log_set_file(const char *path);

#endif
