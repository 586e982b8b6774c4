/* The fuzz targets' harness: libFuzzer inside an aweb loop.
 *
 * Every fuzz_*.c target is linked with harness.c, whose main() starts a loop
 * (aw_run) and runs libFuzzer's driver (LLVMFuzzerRunDriver) in a task of it.
 * So LLVMFuzzerInitialize and LLVMFuzzerTestOneInput run inside a task: they
 * may start a server once and then, for every input, connect to it and wait,
 * with the server's tasks running in between. The loop persists across
 * inputs, which is what makes thousands of whole connections a second
 * possible. Targets that need no loop (pure parsers) just ignore it.
 *
 * What lives across inputs (the server, the app) must be reachable from a
 * global: LeakSanitizer does not scan task stacks.
 */
#ifndef AW_FUZZ_HARNESS_H
#define AW_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "config.h"

/* A fuzz-friendly configuration: timeouts short enough that a stuck
 * connection shows within seconds, the logs off. */
void fuzz_config(aw_config *cfg);

/* Serves app on a Unix socket of its own (/tmp/aweb-fuzz-NAME-PID.sock,
 * removed at exit); aborts if it cannot. Returns the path; the server in
 * *srv (it runs until the process exits). */
const char *fuzz_serve(aw_app *app, aw_config *cfg, const char *name, aw_server **srv);

/* What the server answered in one conversation (the first cap bytes kept). */
typedef struct fuzz_reply {
    char buf[1 << 16];
    size_t len;   /* bytes kept */
    size_t total; /* bytes received */
} fuzz_reply;

/* One client connection to the Unix socket at path: sends head (may be NULL),
 * waits for the head's answer up to "\r\n\r\n" if wait_head, then sends data
 * in pieces chosen by split (0: one write), half-closes, and reads everything
 * until the server closes. Aborts (a finding) if the server does not close
 * within a few seconds. Returns the reply. */
const fuzz_reply *fuzz_converse(const char *path, const char *head, int wait_head,
                                const uint8_t *data, size_t len, uint8_t split);

/* Waits (a bounded while) until the server has closed every connection;
 * aborts if it does not: a connection leaked. */
void fuzz_server_settle(aw_server *srv);

/* Strict UTF-8 (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF), as an oracle independent of aweb's own validator. */
int fuzz_utf8_ok(const char *s, size_t len);

#endif
