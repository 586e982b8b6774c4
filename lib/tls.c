/* TLS over memory BIOs under an aw_stream.
 *
 * Reading: the stream's read callback hands ciphertext to aw__tls_on_cipher,
 * which decrypts into the stream's input buffer. SSL_read there also drives
 * the handshake, so a server connection handshakes with no task at all, and
 * whatever OpenSSL has to send meanwhile (handshake flights, alerts, session
 * tickets, key updates) is flushed from the callback.
 *
 * Writing: a task encrypts at most AW__TLS_CHUNK of plaintext at a time and
 * copies the ciphertext out of the BIO into a pooled buffer before writing it,
 * because OpenSSL may grow (and move) the BIO's memory while the write is in
 * flight.
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "buf_int.h"
#include "error.h"
#include "stream_int.h"

/* Plaintext per SSL_write: its ciphertext must fit a pooled buffer. */
#define AW__TLS_CHUNK (AW__BUF_SIZE - 4096)

#define AW__TLS12_CIPHERS                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct aw_tls_ctx {
    SSL_CTX *ctx;
    int server;
    int verify_off;
    unsigned char alpn[128]; /* wire format: length-prefixed names */
    unsigned alpn_len;
    int refs;
};

struct aw__tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* ciphertext in, ciphertext out */
    aw_tls_ctx *ctx;
    int done;    /* handshake finished */
    int failed;  /* AW_ETLS / AW_ECERT once the session is unusable */
    char *why;   /* what failed: kept here because it often happens in a
                    callback, and reaches aw_last_error() only when the task
                    that sees the failure returns it */
};

/* --- errors -------------------------------------------------------------- */

/* Turns OpenSSL's error queue (and the verification result) into a code and
 * a message: into *why when given (a session's), else aw_last_error(). */
static int aw__tls_error_msg(SSL *ssl, const char *what, char **why)
{
    char msg[256];
    char reason[160] = "";
    unsigned long e = ERR_peek_error(); /* the earliest: the cause, not its wrappers */
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    int rc = AW_ETLS;
    if (ssl && v != X509_V_OK && !SSL_is_server(ssl)) {
        snprintf(msg, sizeof msg, "%s: certificate verify failed: %s", what,
                 X509_verify_cert_error_string(v));
        rc = AW_ECERT;
        goto out;
    }
    /* "error:0A000086:SSL routines::certificate verify failed" -> keep the
     * human part after the last colon-separated field */
    const char *human = reason;
    for (const char *p = reason; *p; p++)
        if (*p == ':' && p[1] && p[1] != ':')
            human = p + 1;
    snprintf(msg, sizeof msg, "%s: %s", what, *human ? human : "protocol error");
out:
    if (why) {
        free(*why);
        *why = strdup(msg);
    } else
        aw__stream_set_error("%s", msg);
    return rc;
}

static int aw__tls_error(SSL *ssl, const char *what) { return aw__tls_error_msg(ssl, what, NULL); }

/* Called by the task that returns a session's failure to its caller. */
static int aw__tls_failed(aw__tls *t)
{
    if (t->why)
        aw__stream_set_error("%s", t->why);
    return t->failed;
}

int aw__tls_report(aw_stream *s, int rc)
{
    if (s->tls && s->tls->failed && rc == s->tls->failed)
        aw__tls_failed(s->tls);
    return rc;
}

/* --- contexts ------------------------------------------------------------ */

static int aw__alpn_wire(aw_tls_ctx *c, const char *list)
{
    c->alpn_len = 0;
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n == 0 || n > 255 || c->alpn_len + 1 + n > sizeof c->alpn)
            return AW_EINVAL;
        c->alpn[c->alpn_len++] = (unsigned char)n;
        memcpy(c->alpn + c->alpn_len, list, n);
        c->alpn_len += (unsigned)n;
        list = end ? end + 1 : list + n;
    }
    return 0;
}

static int aw__alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                           const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    aw_tls_ctx *c = arg;
    unsigned char *sel;
    /* the server's order of preference decides */
    if (SSL_select_next_proto(&sel, outlen, c->alpn, c->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int aw__ctx_common(aw_tls_ctx *c, const aw_tls_opts *o)
{
    SSL_CTX *ctx = c->ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (!SSL_CTX_set_cipher_list(ctx, o->ciphers ? o->ciphers : AW__TLS12_CIPHERS))
        return aw__tls_error(NULL, "cipher list");
    if (aw__alpn_wire(c, o->alpn)) {
        aw__stream_set_error("bad ALPN list: %s", o->alpn);
        return AW_EINVAL;
    }
    if (o->cert_file) {
        if (!SSL_CTX_use_certificate_chain_file(ctx, o->cert_file))
            return aw__tls_error(NULL, o->cert_file);
        if (!SSL_CTX_use_PrivateKey_file(ctx, o->key_file ? o->key_file : o->cert_file,
                                         SSL_FILETYPE_PEM))
            return aw__tls_error(NULL, o->key_file ? o->key_file : o->cert_file);
        if (!SSL_CTX_check_private_key(ctx))
            return aw__tls_error(NULL, "private key");
    }
    return 0;
}

static int aw__ctx_new(const aw_tls_opts *o, int server, aw_tls_ctx **out)
{
    static const aw_tls_opts none;
    if (!o)
        o = &none;
    aw_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return AW_ENOMEM;
    c->server = server;
    c->refs = 1;
    c->verify_off = o->verify_off;
    c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    int rc = c->ctx ? aw__ctx_common(c, o) : aw__tls_error(NULL, "SSL_CTX_new");
    if (!rc && server) {
        if (!o->cert_file) {
            aw__stream_set_error("a TLS server needs a certificate");
            rc = AW_EINVAL;
        } else if (c->alpn_len)
            SSL_CTX_set_alpn_select_cb(c->ctx, aw__alpn_select, c);
    }
    if (!rc && !server) {
        SSL_CTX_set_verify(c->ctx, o->verify_off ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
        if (o->ca_file ? !SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL)
                       : !SSL_CTX_set_default_verify_paths(c->ctx))
            rc = aw__tls_error(NULL, o->ca_file ? o->ca_file : "system trust store");
        if (!rc && c->alpn_len && SSL_CTX_set_alpn_protos(c->ctx, c->alpn, c->alpn_len))
            rc = aw__tls_error(NULL, "ALPN");
    }
    if (rc) {
        SSL_CTX_free(c->ctx);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int aw_tls_server_ctx_new(const aw_tls_opts *o, aw_tls_ctx **out) { return aw__ctx_new(o, 1, out); }
int aw_tls_client_ctx_new(const aw_tls_opts *o, aw_tls_ctx **out) { return aw__ctx_new(o, 0, out); }

static void aw__ctx_unref(aw_tls_ctx *c)
{
    if (c && --c->refs == 0) {
        SSL_CTX_free(c->ctx);
        free(c);
    }
}

void aw_tls_ctx_free(aw_tls_ctx *c) { aw__ctx_unref(c); }

/* --- a session on a stream ----------------------------------------------- */

int aw__tls_attach(aw_stream *s, aw_tls_ctx *ctx, const char *server_name)
{
    aw__tls *t = calloc(1, sizeof *t);
    if (!t)
        return AW_ENOMEM;
    t->ssl = SSL_new(ctx->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return AW_ENOMEM;
    }
    /* an empty read BIO means "wait for more", not end of file */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    t->ctx = ctx;
    ctx->refs++;
    if (ctx->server)
        SSL_set_accept_state(t->ssl);
    else {
        SSL_set_connect_state(t->ssl);
        if (server_name && *server_name) {
            unsigned char ip[16];
            int is_ip = inet_pton(AF_INET, server_name, ip) == 1 ||
                        inet_pton(AF_INET6, server_name, ip) == 1;
            if (is_ip) /* no SNI for addresses; check the certificate's IP entries */
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), server_name);
            else {
                SSL_set_tlsext_host_name(t->ssl, server_name);
                SSL_set1_host(t->ssl, server_name);
            }
        } else if (!ctx->verify_off) {
            aw__stream_set_error("TLS: a server name is needed to verify the certificate");
            aw__tls_free(t);
            return AW_EINVAL;
        }
    }
    s->tls = t;
    return 0;
}

void aw__tls_free(aw__tls *t)
{
    free(t->why);
    SSL_free(t->ssl); /* frees both BIOs */
    aw__ctx_unref(t->ctx);
    free(t);
}

const char *aw__tls_alpn(const aw__tls *t)
{
    static __thread char buf[256];
    const unsigned char *p;
    unsigned len;
    SSL_get0_alpn_selected(t->ssl, &p, &len);
    memcpy(buf, p ? (const char *)p : "", p ? len : 0);
    buf[p ? len : 0] = 0;
    return buf;
}

/* Sends what OpenSSL produced outside any write call (from the read path):
 * directly if the socket takes it, else through a write request that owns a
 * copy. libuv keeps writes in order, so records stay in order. */
static void aw__tls_flush_async(aw_stream *s)
{
    aw__tls *t = s->tls;
    char *data;
    long pending = BIO_get_mem_data(t->wbio, &data);
    if (pending <= 0 || (s->flags & AW__SF_CLOSING) || s->werr)
        return;
    /* the stream copies what the kernel does not take at once */
    aw__stream_queue_copy(s, data, (size_t)pending);
    (void)BIO_reset(t->wbio);
}

int aw__tls_send_async(aw_stream *s, const void *data, size_t len)
{
    aw__tls *t = s->tls;
    if (!t->done)
        return AW_ENOTCONN; /* the handshake comes first, in a task */
    const char *p = data;
    while (len) {
        int chunk = (int)(len < AW__TLS_CHUNK ? len : AW__TLS_CHUNK);
        int w = SSL_write(t->ssl, p, chunk);
        if (w <= 0) {
            t->failed = aw__tls_error_msg(t->ssl, "TLS write", &t->why);
            return s->werr = t->failed;
        }
        p += w;
        len -= (size_t)w;
        aw__tls_flush_async(s);
    }
    return s->werr;
}

void aw__tls_on_cipher(aw_stream *s, const char *data, size_t len)
{
    if (s->tls->failed)
        return;
    BIO_write(s->tls->rbio, data, (int)len);
    aw__tls_pump(s);
}

/* Decrypts what the read BIO holds into the input buffer, as far as it has
 * room; called on arrival and again whenever a reader makes room. */
void aw__tls_pump(aw_stream *s)
{
    aw__tls *t = s->tls;
    if (t->failed || (!BIO_ctrl_pending(t->rbio) && !SSL_pending(t->ssl)))
        return;
    int was_done = t->done;
    for (;;) {
        size_t room;
        char *p = aw__stream_in_space(s, &room);
        if (!room)
            break; /* input full: the rest waits in the BIO (reading stops) */
        int n = SSL_read(t->ssl, p, (int)room);
        if (n > 0) {
            s->in_end += (uint32_t)n;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) {
            if (!s->rerr)
                s->rerr = AW_EOF; /* close_notify */
        } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            t->failed = aw__tls_error_msg(t->ssl, t->done ? "TLS" : "TLS handshake", &t->why);
            if (!s->rerr)
                s->rerr = t->failed;
        }
        break;
    }
    if (!t->done && SSL_is_init_finished(t->ssl))
        t->done = 1;
    aw__stream_in_release(s);
    aw__tls_flush_async(s);
    if (t->done != was_done && s->reader)
        aw__wake(s->reader->task, 0); /* a task waits for the handshake */
}

/* Copies pending ciphertext out of the BIO and writes it, waiting. */
static int aw__tls_flush(aw_stream *s, uint64_t deadline)
{
    aw__tls *t = s->tls;
    aw__rt *rt = aw__rt_get();
    int rc = 0;
    char *buf = NULL;
    size_t pending;
    while (!rc && (pending = BIO_ctrl_pending(t->wbio)) > 0) {
        if (!buf && !(buf = aw__buf_get(rt)))
            return AW_ENOMEM;
        int n = BIO_read(t->wbio, buf, (int)(pending < AW__BUF_SIZE ? pending : AW__BUF_SIZE));
        uv_buf_t b = uv_buf_init(buf, (unsigned)n);
        rc = aw__stream_write_raw(s, &b, 1, deadline);
    }
    aw__buf_put(rt, buf);
    return rc;
}

int aw__tls_write(aw_stream *s, const aw_iovec *iov, size_t n, uint64_t deadline)
{
    aw__tls *t = s->tls;
    int rc = aw__tls_handshake(s, deadline);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *p = iov[i].base;
        size_t left = iov[i].len;
        while (!rc && left) {
            int chunk = (int)(left < AW__TLS_CHUNK ? left : AW__TLS_CHUNK);
            int w = SSL_write(t->ssl, p, chunk);
            if (w <= 0) {
                t->failed = aw__tls_error_msg(t->ssl, "TLS write", &t->why);
                s->werr = rc = aw__tls_failed(t);
                break;
            }
            p += w;
            left -= (size_t)w;
            rc = aw__tls_flush(s, deadline);
        }
    }
    return rc;
}

int aw__tls_handshake(aw_stream *s, uint64_t deadline)
{
    aw__tls *t = s->tls;
    aw_task *task = aw__current();
    if (t->done)
        return 0;
    if (t->failed)
        return aw__tls_failed(t);
    /* kick off (a client's hello), then let the read path drive the rest */
    int r = SSL_do_handshake(t->ssl);
    if (r <= 0) {
        int e = SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            t->failed = aw__tls_error_msg(t->ssl, "TLS handshake", &t->why);
    } else
        t->done = 1;
    int rc = aw__tls_flush(s, deadline);
    while (!rc && !t->done && !t->failed) {
        if (s->rerr) {
            rc = s->rerr == AW_EOF ? AW_ECONNRESET : s->rerr;
            aw__stream_set_error("TLS handshake: the peer closed the connection");
            break;
        }
        if (s->reader)
            return AW_EBUSY;
        aw__stream_start_reading(s);
        aw__reader hs_wait = {.task = task};
        s->reader = &hs_wait;
        rc = aw__wait(task, deadline, 1);
        s->reader = NULL;
        if (rc == AW_ETIMEDOUT)
            aw__stream_set_error("TLS handshake timed out");
    }
    if (!rc && t->failed)
        rc = aw__tls_failed(t);
    return rc;
}

int aw__tls_close_notify(aw_stream *s, uint64_t deadline)
{
    aw__tls *t = s->tls;
    if (!t->done || t->failed)
        return 0;
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error();
    return aw__tls_flush(s, deadline);
}
