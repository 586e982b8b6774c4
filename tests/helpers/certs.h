/* Test certificates, made with the openssl command into a temporary directory
 * (no keys are committed): a CA, a server certificate it signs for localhost
 * and 127.0.0.1, and a self-signed server certificate. */
#ifndef AW_TEST_CERTS_H
#define AW_TEST_CERTS_H

#include "aweb.h"

typedef struct tu_certs {
    char dir[256];
    char ca[300], server_cert[300], server_key[300], self_cert[300], self_key[300];
} tu_certs;

/* Makes the files (once per process); asserts on failure. */
const tu_certs *tu_certs_get(void);

/* A server context with the CA-signed certificate and a client context that
 * trusts the CA; asserts on failure. Free both with aw_tls_ctx_free. */
void tu_tls_pair(aw_tls_ctx **server, aw_tls_ctx **client);

#endif
