/* TLS contexts (OpenSSL 3) for streams, listeners and connections.
 *
 * A context holds the configuration shared by many connections: certificate
 * chain and key (servers), trust anchors and verification (clients), ALPN.
 * The defaults are the safe ones: TLS 1.2 at least, AEAD ciphers with forward
 * secrecy for TLS 1.2 (TLS 1.3's suites as OpenSSL ships them), no
 * compression, no renegotiation, and on clients certificate and host-name
 * verification against the system trust store.
 *
 * Lifetime: made with aw_tls_*_ctx_new, freed with aw_tls_ctx_free; streams
 * hold a reference of their own, so a context may be freed while connections
 * made with it are still open.
 */
#ifndef AW_TLS_H
#define AW_TLS_H

typedef struct aw_tls_ctx aw_tls_ctx;

typedef struct aw_tls_opts {
    const char *cert_file; /* PEM certificate chain (server; optional on clients) */
    const char *key_file;  /* PEM private key for cert_file */
    const char *ca_file;   /* PEM trust anchors; NULL: the system trust store */
    const char *alpn;      /* "h2,http/1.1": in preference order; NULL: none */
    const char *ciphers;   /* TLS 1.2 cipher list; NULL: the modern default */
    int verify_off;        /* client: 1 skips certificate checks (tests only) */
} aw_tls_opts;

/* Return 0, or AW_ETLS with the reason in aw_last_error() (a file that will
 * not load, a key that does not match its certificate...). */
int aw_tls_server_ctx_new(const aw_tls_opts *o, aw_tls_ctx **out);
int aw_tls_client_ctx_new(const aw_tls_opts *o, aw_tls_ctx **out);
void aw_tls_ctx_free(aw_tls_ctx *c);

#endif
