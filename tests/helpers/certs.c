/* Test certificates: see certs.h. */
#include "certs.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tu_certs certs;

static void run(const char *fmt, const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, dir, dir, dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

const tu_certs *tu_certs_get(void)
{
    if (certs.dir[0])
        return &certs;
    snprintf(certs.dir, sizeof certs.dir, "/tmp/aweb-certs-XXXXXX");
    cr_assert_not_null(mkdtemp(certs.dir));
    const char *d = certs.dir;
    run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj '/CN=aweb test CA' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
        "2>/dev/null",
        d);
    run("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n"
        "extendedKeyUsage=serverAuth\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile ext.cnf 2>/dev/null",
        d);
    run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout self.key -out self.pem -days 2 -subj '/CN=localhost' "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
        d);
    snprintf(certs.ca, sizeof certs.ca, "%s/ca.pem", d);
    snprintf(certs.server_cert, sizeof certs.server_cert, "%s/server.pem", d);
    snprintf(certs.server_key, sizeof certs.server_key, "%s/server.key", d);
    snprintf(certs.self_cert, sizeof certs.self_cert, "%s/self.pem", d);
    snprintf(certs.self_key, sizeof certs.self_key, "%s/self.key", d);
    return &certs;
}

void tu_tls_pair(aw_tls_ctx **server, aw_tls_ctx **client)
{
    const tu_certs *c = tu_certs_get();
    aw_tls_opts so = {.cert_file = c->server_cert, .key_file = c->server_key};
    cr_assert_eq(aw_tls_server_ctx_new(&so, server), 0, "%s", aw_last_error());
    aw_tls_opts co = {.ca_file = c->ca};
    cr_assert_eq(aw_tls_client_ctx_new(&co, client), 0, "%s", aw_last_error());
}
