/* The TLS configuration, scanned with Debian's testssl.sh against an aweb
 * TLS listener with an RSA certificate (RSA is where the old key-transport
 * ciphers and ROBOT would show): no SSLv2, SSLv3, TLS 1.0 or 1.1; no NULL,
 * anonymous, export, low, 3DES/IDEA or "average" (CBC without AEAD) cipher;
 * no vulnerability flagged. testssl writes JSON; each finding is checked
 * here, and the summary is the assertions below. The scan is limited to
 * protocols, standard cipher lists and vulnerabilities: about 20 s. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

TestSuite(tls_scan, .timeout = 180, .fini = tu_fini);

static char dir[64];

static aw_response *h_root(aw_request *req) { return aw_response_text(req, 200, "hello"); }

static aw_app *scan_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_root, NULL);
    return app;
}

static void with_rsa_tls(aw_config *c)
{
    char path[128];
    snprintf(path, sizeof path, "%s/rsa.pem", dir);
    c->tls_cert = strdup(path);
    snprintf(path, sizeof path, "%s/rsa.key", dir);
    c->tls_key = strdup(path);
}

/* The finding of id, or "" if testssl did not report it. */
static const char *finding(json_t *all, const char *id, const char **severity)
{
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "id")), id)) {
            if (severity)
                *severity = json_string_value(json_object_get(e, "severity"));
            return json_string_value(json_object_get(e, "finding"));
        }
    }
    if (severity)
        *severity = "";
    return "";
}

static void expect_not_offered(json_t *all, const char *id)
{
    const char *f = finding(all, id, NULL);
    cr_expect(!strcmp(f, "not offered"), "%s: \"%s\", expected \"not offered\"", id, f);
}

Test(tls_scan, testssl_finds_only_modern_protocols_and_ciphers_and_no_vulnerability)
{
    snprintf(dir, sizeof dir, "/tmp/aweb-tlsscan-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char cmd[1024], out[65536];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem "
             "-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
             "2>&1",
             dir);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    tu_server s;
    tu_server_start(&s, scan_app(), with_rsa_tls);
    int64_t t0 = tu_ms();
    snprintf(cmd, sizeof cmd,
             "timeout 150 testssl --quiet --warnings batch --color 0 --protocols --std "
             "--vulnerable --jsonfile %s/scan.json 127.0.0.1:%d 2>&1",
             dir, s.port);
    int rc = tu_shell(cmd, out, sizeof out);
    int64_t took = tu_ms() - t0;
    tu_server_stop(&s);
    cr_log_info("testssl took %lld ms (exit %d)", (long long)took, rc);

    char path[128];
    snprintf(path, sizeof path, "%s/scan.json", dir);
    json_error_t err;
    json_t *all = json_load_file(path, 0, &err);
    cr_assert_not_null(all, "no testssl JSON (%s); its output:\n%s", err.text, out);
    cr_assert(json_is_array(all) && json_array_size(all) > 20, "testssl reported too little:\n%s",
              out);

    /* protocols */
    expect_not_offered(all, "SSLv2");
    expect_not_offered(all, "SSLv3");
    expect_not_offered(all, "TLS1");
    expect_not_offered(all, "TLS1_1");
    cr_expect(!strncmp(finding(all, "TLS1_2", NULL), "offered", 7), "TLS 1.2: %s",
              finding(all, "TLS1_2", NULL));
    cr_expect(!strncmp(finding(all, "TLS1_3", NULL), "offered", 7), "TLS 1.3: %s",
              finding(all, "TLS1_3", NULL));
    /* cipher classes */
    static const char *const weak[] = {"cipherlist_NULL",      "cipherlist_aNULL",
                                       "cipherlist_EXPORT",    "cipherlist_LOW",
                                       "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        expect_not_offered(all, weak[i]);
    cr_expect(!strcmp(finding(all, "cipherlist_STRONG", NULL), "offered"), "strong ciphers: %s",
              finding(all, "cipherlist_STRONG", NULL));
    /* every vulnerability check ran and found nothing */
    static const char *const vulns[] = {
        "heartbleed", "CCS",        "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
        "CRIME_TLS",  "POODLE_SSL", "SWEET32",     "FREAK", "DROWN",         "LOGJAM",
        "BEAST",      "LUCKY13",    "RC4"};
    for (size_t i = 0; i < sizeof vulns / sizeof vulns[0]; i++) {
        const char *sev, *f = finding(all, vulns[i], &sev);
        cr_expect(!strcmp(sev, "OK"), "%s: %s (%s)", vulns[i], f, sev);
    }
    /* and nothing anywhere rated worse than INFO, nor a scan that went wrong */
    size_t i;
    json_t *e;
    int bad = 0;
    json_array_foreach(all, i, e)
    {
        const char *sev = json_string_value(json_object_get(e, "severity"));
        if (strcmp(sev, "OK") && strcmp(sev, "INFO")) {
            cr_log_error("testssl: %s: %s (%s)", json_string_value(json_object_get(e, "id")),
                         json_string_value(json_object_get(e, "finding")), sev);
            bad++;
        }
    }
    cr_expect_eq(bad, 0, "%d finding(s) rated worse than INFO (listed above)", bad);
    json_decref(all);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    tu_shell(cmd, out, sizeof out);
}
