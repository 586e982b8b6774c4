/* libFuzzer target: the configuration reader (lib/config.c over inih).
 *
 * Input: the text of a configuration file. It is put in a memfd and read
 * through its /proc/self/fd path by aw_config_load, as a file named on the
 * command line would be, with a section of a middleware's registered
 * ([fuzz]: duration, size and switch keys). The value parsers are also given
 * the input's first line directly.
 *
 * Oracles besides the sanitizers: a refusal is AW_EINVAL with "PATH:LINE:
 * reason"; an accepted file leaves the config consistent (listen addresses
 * present and non-empty, limits within their documented bounds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "error.h"

static int fuzz_fd = -1;
static char fuzz_file[64];

/* [fuzz] d = DURATION, s = SIZE, b = SWITCH, t = TEXT */
static int fuzz_section_set(void *arg, const char *key, const char *value, char *err,
                            size_t errlen)
{
    (void)arg;
    int64_t ms;
    size_t bytes;
    int on;
    if (!strcmp(key, "d"))
        return aw_parse_duration(value, &ms) ? (snprintf(err, errlen, "bad duration"), AW_EINVAL)
                                             : 0;
    if (!strcmp(key, "s"))
        return aw_parse_size(value, &bytes) ? (snprintf(err, errlen, "bad size"), AW_EINVAL) : 0;
    if (!strcmp(key, "b"))
        return aw_parse_bool(value, &on) ? (snprintf(err, errlen, "bad switch"), AW_EINVAL) : 0;
    if (!strcmp(key, "t"))
        return 0;
    snprintf(err, errlen, "unknown key '%s' in [fuzz]", key);
    return AW_EINVAL;
}

static void fuzz_check(const aw_config *c)
{
    if (c->nlisten > AW_CONFIG_MAX_LISTEN)
        abort();
    for (size_t i = 0; i < c->nlisten; i++)
        if (!c->listen[i] || !c->listen[i][0])
            abort();
    if (c->max_request_line < 64 || c->max_field_size < 64 || c->max_headers < 1 ||
        c->workers < 1 || c->backlog < 1 || c->log_level < 0 || c->log_level > 3)
        abort();
    if (c->header_ms < 1 || c->read_ms < 1 || c->keepalive_ms < 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_fd = memfd_create("aweb-fuzz-config", 0);
    if (fuzz_fd < 0)
        abort();
    snprintf(fuzz_file, sizeof fuzz_file, "/proc/self/fd/%d", fuzz_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fuzz_fd, 0) || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
        abort();
    aw_config c;
    char err[512];
    aw_config_init(&c);
    if (aw_config_section(&c, "fuzz", fuzz_section_set, NULL))
        abort();
    err[0] = 0;
    int rc = aw_config_load(&c, fuzz_file, 1, err, sizeof err);
    if (rc == 0)
        fuzz_check(&c);
    else if (rc != AW_EINVAL || strncmp(err, fuzz_file, strlen(fuzz_file)) != 0 ||
             err[strlen(fuzz_file)] != ':') {
        fprintf(stderr, "fuzz: refusal %d without file and line: '%s'\n", rc, err);
        abort();
    }
    aw_config_free(&c);

    /* the value syntax on its own: the first line as one value */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    char *v = malloc(n + 1);
    memcpy(v, data, n);
    v[n] = 0;
    int64_t ms;
    size_t bytes;
    int on;
    if (aw_parse_duration(v, &ms) == 0 && ms < 0)
        abort();
    aw_parse_size(v, &bytes);
    if (aw_parse_bool(v, &on) == 0 && on != 0 && on != 1)
        abort();
    free(v);
    return 0;
}
