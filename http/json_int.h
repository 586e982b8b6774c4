/* Parsing JSON bodies (internal: the server's requests, the client's
 * responses).
 *
 * jansson recurses once per nesting level: its parser down to 2048 levels at
 * about 80 bytes of stack each, json_dumps at about 300 (under ASan). So a
 * body of 1 KB of '[' overflows a task's 64 KiB stack, and a handler that
 * sends back a 200-level document it was given does too, taking the whole
 * process down. A document nested deeper than AW__JSON_MAX_DEPTH is refused
 * before jansson sees it: 64 levels cost under 20 KiB either way, and no sane
 * API nests that deep (serde_json stops at 128).
 */
#ifndef AW_JSON_INT_H
#define AW_JSON_INT_H

#include <jansson.h>
#include <stddef.h>

#define AW__JSON_MAX_DEPTH 64

/* json_loadb(data, len, JSON_DECODE_ANY, e), refusing (NULL, with the reason
 * in e) what is nested too deeply. */
json_t *aw__json_parse(const char *data, size_t len, json_error_t *e);

#endif
