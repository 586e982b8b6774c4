/* The configuration reader and conf/aweb.conf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(config, .timeout = 30, .fini = tu_fini);

static const char *write_conf(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/aweb-conf-%d.conf", getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

Test(config, the_shipped_file_loads_and_equals_the_defaults)
{
    aw_config def, c;
    char err[256] = "";
    aw_config_init(&def);
    aw_config_init(&c);
    cr_assert_eq(aw_config_load(&c, "conf/aweb.conf", 1, err, sizeof err), 0, "%s", err);
    /* every number and switch is as documented */
    cr_assert_eq(c.backlog, def.backlog);
    cr_assert_eq(c.max_request_line, 8190);
    cr_assert_eq(c.max_field_size, 8190);
    cr_assert_eq(c.max_headers, 128);
    cr_assert_eq(c.client_max_size, 1 << 20);
    cr_assert_eq(c.header_ms, 10000);
    cr_assert_eq(c.body_ms, 60000);
    cr_assert_eq(c.body_min_rate, 500);
    cr_assert_eq(c.write_ms, 60000);
    cr_assert_eq(c.keepalive_ms, 75000);
    cr_assert_eq(c.lingering_ms, 10000);
    cr_assert_eq(c.shutdown_ms, 60000);
    cr_assert_eq(c.connect_ms, def.connect_ms);
    cr_assert_eq(c.dns_ms, def.dns_ms);
    cr_assert_eq(c.handshake_ms, def.handshake_ms);
    cr_assert_eq(c.read_ms, def.read_ms);
    cr_assert_eq(c.close_ms, def.close_ms);
    cr_assert_eq(c.jobs_limit, 100);
    cr_assert_eq(c.jobs_pending_limit, 10000);
    cr_assert_eq(c.jobs_close_timeout_ms, 100);
    cr_assert_eq(c.stack_size, 64 * 1024);
    cr_assert_eq(c.tls_verify, 1);
    cr_assert_eq(c.nlisten, 1);
    cr_assert_str_eq(c.listen[0], "127.0.0.1:8080");
    cr_assert_str_eq(c.server_header, "aweb");
    cr_assert_str_eq(c.access_log_format, "combined");
    aw_config_free(&c);
    aw_config_free(&def);
}

Test(config, units_and_values_parse)
{
    int64_t ms;
    size_t sz;
    int on;
    cr_assert_eq(aw_parse_duration("250ms", &ms), 0);
    cr_assert_eq(ms, 250);
    cr_assert_eq(aw_parse_duration("10s", &ms), 0);
    cr_assert_eq(ms, 10000);
    cr_assert_eq(aw_parse_duration("1.5m", &ms), 0);
    cr_assert_eq(ms, 90000);
    cr_assert_eq(aw_parse_duration("2h", &ms), 0);
    cr_assert_eq(ms, 7200000);
    cr_assert_eq(aw_parse_duration("30", &ms), 0, "a bare number is seconds");
    cr_assert_eq(ms, 30000);
    cr_assert_eq(aw_parse_duration("ten", &ms), AW_EINVAL);
    cr_assert_eq(aw_parse_duration("10 parsecs", &ms), AW_EINVAL);
    cr_assert_eq(aw_parse_duration("-1s", &ms), AW_EINVAL);
    cr_assert_eq(aw_parse_size("1M", &sz), 0);
    cr_assert_eq(sz, 1 << 20);
    cr_assert_eq(aw_parse_size("64K", &sz), 0);
    cr_assert_eq(sz, 65536);
    cr_assert_eq(aw_parse_size("8190", &sz), 0);
    cr_assert_eq(sz, 8190);
    cr_assert_eq(aw_parse_size("2G", &sz), 0);
    cr_assert_eq(sz, 2ull << 30);
    cr_assert_eq(aw_parse_size("1Q", &sz), AW_EINVAL);
    cr_assert_eq(aw_parse_bool("on", &on), 0);
    cr_assert(on);
    cr_assert_eq(aw_parse_bool("No", &on), 0);
    cr_assert_not(on);
    cr_assert_eq(aw_parse_bool("maybe", &on), AW_EINVAL);
}

Test(config, a_file_overrides_and_lists_parse)
{
    const char *p = write_conf("[server]\nlisten = 127.0.0.1:9000, [::1]:9001, unix:/tmp/a.sock\n"
                               "workers = 2\n[timeouts]\nread = 1.5s\nkeepalive = 0\n"
                               "; a comment\n# another\n[log]\nlevel = warning\n");
    aw_config c;
    char err[256] = "";
    aw_config_init(&c);
    cr_assert_eq(aw_config_load(&c, p, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.nlisten, 3);
    cr_assert_str_eq(c.listen[1], "[::1]:9001");
    cr_assert_str_eq(c.listen[2], "unix:/tmp/a.sock");
    cr_assert_eq(c.workers, 2);
    cr_assert_eq(c.read_ms, 1500);
    cr_assert_eq(c.keepalive_ms, 0);
    cr_assert_eq(c.log_level, 2);
    aw_stream_opts so;
    aw_config_stream_opts(&c, &so);
    cr_assert_eq(so.read_timeout_ms, 1500);
    aw_config_free(&c);
    unlink(p);
}

static void expect_refused(const char *text, int line, const char *reason)
{
    const char *p = write_conf(text);
    aw_config c;
    char err[256] = "", want[128];
    aw_config_init(&c);
    cr_assert_eq(aw_config_load(&c, p, 1, err, sizeof err), AW_EINVAL, "accepted: %s", text);
    snprintf(want, sizeof want, "%s:%d: ", p, line);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err, want);
    cr_assert(strstr(err, reason), "'%s' does not say '%s'", err, reason);
    aw_config_free(&c);
    unlink(p);
}

Test(config, bad_keys_and_values_are_refused_with_file_line_and_reason)
{
    expect_refused("[timeouts]\nread = 10s\nheader = soon\n", 3, "header: expected a duration");
    expect_refused("[limits]\nmax_headers = lots\n", 2, "max_headers: expected a size");
    expect_refused("[server]\n\nbogus = 1\n", 3, "unknown key 'bogus' in [server]");
    expect_refused("[nonsense]\nx = 1\n", 2, "unknown section [nonsense]");
    expect_refused("[server]\nlisten = localhost\n", 2, "expected HOST:PORT");
    expect_refused("[server]\nworkers = 0\n", 2, "workers: expected a whole number from 1");
    expect_refused("[server]\nreuseport = perhaps\n", 2, "expected on or off");
    expect_refused("[server]\nthis is not ini\n", 2, "not a valid line");
    expect_refused("[log]\nlevel = loud\n", 2, "expected debug, info, warning or error");
}

Test(config, a_missing_file_means_defaults_unless_required)
{
    aw_config c;
    char err[256] = "";
    aw_config_init(&c);
    cr_assert_eq(aw_config_load(&c, "/nonexistent/aweb.conf", 0, err, sizeof err), 0);
    cr_assert_eq(c.read_ms, 60000);
    cr_assert_eq(aw_config_load(&c, "/nonexistent/aweb.conf", 1, err, sizeof err), AW_ENOENT);
    cr_assert(strstr(err, "/nonexistent/aweb.conf"));
    cr_assert_eq(aw_config_set(&c, "timeouts", "write", "2s", err, sizeof err), 0);
    cr_assert_eq(c.write_ms, 2000);
    aw_config_free(&c);
}

/* a layer's own section: [greeting] with one size key */
static int greeting_set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
    size_t *n = arg;
    if (strcmp(key, "max") != 0) {
        snprintf(err, errlen, "unknown key '%s' in [greeting]", key);
        return AW_EINVAL;
    }
    if (aw_parse_size(value, n)) {
        snprintf(err, errlen, "max: expected a size, got '%s'", value);
        return AW_EINVAL;
    }
    return 0;
}

Test(config, sections_of_other_layers_go_to_their_setters)
{
    size_t n = 0;
    aw_config c;
    char err[256] = "";
    aw_config_init(&c);
    cr_assert_eq(aw_config_section(&c, "greeting", greeting_set, &n), 0);
    const char *p = write_conf("[server]\nbacklog = 64\n[greeting]\nmax = 2K\n");
    cr_assert_eq(aw_config_load(&c, p, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 2048);
    cr_assert_eq(c.backlog, 64);
    p = write_conf("[greeting]\n\nmax = plenty\n");
    cr_assert_eq(aw_config_load(&c, p, 1, err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, ":3: max: expected a size"), "%s", err);
    aw_config_free(&c);
    unlink(p);
    expect_refused("[greeting]\nmax = 1\n", 2, "unknown section [greeting]");
}
