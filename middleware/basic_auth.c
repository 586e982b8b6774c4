/* Basic authentication; see basic_auth.h. */
#include "basic_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mw_int.h"

#define AW__BA_MAX_CRED 1024 /* a longer Authorization header is refused unread */

typedef struct aw__ba_user {
    char *name;
    unsigned char name_md[SHA256_DIGEST_LENGTH];
    unsigned char pass_md[SHA256_DIGEST_LENGTH];
} aw__ba_user;

struct aw_basic_auth {
    char realm[128];
    char challenge[192]; /* the WWW-Authenticate value */
    char *prefix;
    size_t prefix_len;
    aw__ba_user *users;
    size_t nusers, cap;
};

void aw_basic_auth_opts_default(aw_basic_auth_opts *o)
{
    *o = (aw_basic_auth_opts){.realm = "aweb", .prefix = "/"};
}

const char *aw_basic_auth_user(const aw_request *req)
{
    return aw_request_get(req, AW_BASIC_AUTH_USER_KEY);
}

static int aw__hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int aw_basic_auth_add_user(aw_basic_auth *ba, const char *user, const char *password)
{
    if (!user || !*user || strchr(user, ':') || !password)
        return AW_EINVAL;
    unsigned char md[SHA256_DIGEST_LENGTH];
    if (!strncmp(password, "sha256:", 7)) {
        const char *h = password + 7;
        if (strlen(h) != 2 * sizeof md)
            return AW_EINVAL;
        for (size_t i = 0; i < sizeof md; i++) {
            int a = aw__hexval(h[2 * i]), b = aw__hexval(h[2 * i + 1]);
            if (a < 0 || b < 0)
                return AW_EINVAL;
            md[i] = (unsigned char)(a << 4 | b);
        }
    } else
        SHA256((const unsigned char *)password, strlen(password), md);
    aw__ba_user *u = NULL;
    for (size_t i = 0; i < ba->nusers; i++)
        if (!strcmp(ba->users[i].name, user))
            u = &ba->users[i];
    if (!u) {
        if (ba->nusers == ba->cap) {
            size_t cap = ba->cap ? ba->cap * 2 : 4;
            aw__ba_user *n = realloc(ba->users, cap * sizeof *n);
            if (!n)
                return AW_ENOMEM;
            ba->users = n;
            ba->cap = cap;
        }
        u = &ba->users[ba->nusers];
        if (!(u->name = strdup(user)))
            return AW_ENOMEM;
        ba->nusers++;
        SHA256((const unsigned char *)user, strlen(user), u->name_md);
    }
    memcpy(u->pass_md, md, sizeof md);
    return 0;
}

/* The table entry for user:password, or NULL. Every entry is compared, in
 * full, whatever matches. */
static const aw__ba_user *aw__ba_check(const aw_basic_auth *ba, const char *cred, size_t len)
{
    const char *colon = memchr(cred, ':', len);
    if (!colon)
        return NULL;
    unsigned char nmd[SHA256_DIGEST_LENGTH], pmd[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)cred, (size_t)(colon - cred), nmd);
    SHA256((const unsigned char *)colon + 1, len - (size_t)(colon - cred) - 1, pmd);
    const aw__ba_user *found = NULL;
    for (size_t i = 0; i < ba->nusers; i++) {
        int bad = CRYPTO_memcmp(nmd, ba->users[i].name_md, sizeof nmd) |
                  CRYPTO_memcmp(pmd, ba->users[i].pass_md, sizeof pmd);
        if (!bad)
            found = &ba->users[i];
    }
    return found;
}

static aw_response *aw__ba_refuse(aw_basic_auth *ba, aw_request *req)
{
    aw_response *r = aw_http_error(req, 401, NULL);
    if (r)
        aw_response_set_header(r, "WWW-Authenticate", ba->challenge);
    return r;
}

static aw_response *aw__ba_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_basic_auth *ba = arg;
    const char *path = aw_request_path(req);
    if (strncmp(path, ba->prefix, ba->prefix_len) ||
        (ba->prefix[ba->prefix_len - 1] != '/' && path[ba->prefix_len] &&
         path[ba->prefix_len] != '/'))
        return aw_next_call(next, req); /* /admin covers /admin/x, not /administrator */
    const char *h = aw_request_header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6))
        return aw__ba_refuse(ba, req);
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    if (!n || n > AW__BA_MAX_CRED || n % 4)
        return aw__ba_refuse(ba, req);
    unsigned char cred[AW__BA_MAX_CRED];
    int len = EVP_DecodeBlock(cred, (const unsigned char *)h, (int)n);
    if (len < 0)
        return aw__ba_refuse(ba, req);
    /* DecodeBlock counts the padding as zero bytes */
    len -= (h[n - 1] == '=') + (h[n - 2] == '=');
    const aw__ba_user *u = aw__ba_check(ba, (const char *)cred, (size_t)len);
    OPENSSL_cleanse(cred, sizeof cred);
    if (!u)
        return aw__ba_refuse(ba, req);
    aw_request_set(req, AW_BASIC_AUTH_USER_KEY, u->name);
    return aw_next_call(next, req);
}

static int aw__ba_set_realm(aw_basic_auth *ba, const char *realm)
{
    if (strlen(realm) >= sizeof ba->realm || strpbrk(realm, "\"\\\r\n"))
        return AW_EINVAL;
    strcpy(ba->realm, realm);
    snprintf(ba->challenge, sizeof ba->challenge, "Basic realm=\"%s\", charset=\"UTF-8\"", realm);
    return 0;
}

int aw_basic_auth_config(void *state, const char *key, const char *value, char *err,
                         size_t errlen)
{
    aw_basic_auth *ba = state;
    if (!strcmp(key, "realm")) {
        if (aw__ba_set_realm(ba, value))
            return aw__mw_refuse(err, errlen, "realm: under 128 characters, no quotes: %s", value);
        return 0;
    }
    if (!strcmp(key, "prefix")) {
        if (value[0] != '/')
            return aw__mw_refuse(err, errlen, "prefix: a path starting with /, not %s", value);
        if (aw__mw_set_str(&ba->prefix, value))
            return AW_ENOMEM;
        ba->prefix_len = strlen(value);
        return 0;
    }
    if (!strcmp(key, "user")) {
        const char *colon = strchr(value, ':');
        char name[256];
        if (!colon || colon == value || (size_t)(colon - value) >= sizeof name)
            return aw__mw_refuse(err, errlen, "user: NAME:PASSWORD or NAME:sha256:HEX");
        memcpy(name, value, (size_t)(colon - value));
        name[colon - value] = 0;
        int rc = aw_basic_auth_add_user(ba, name, colon + 1);
        if (rc == AW_EINVAL)
            return aw__mw_refuse(err, errlen, "user %s: a sha256: digest is 64 hex digits", name);
        return rc;
    }
    return aw__mw_refuse(err, errlen, "unknown key %s", key);
}

static void aw__ba_free(void *arg)
{
    aw_basic_auth *ba = arg;
    for (size_t i = 0; i < ba->nusers; i++)
        free(ba->users[i].name);
    free(ba->users);
    free(ba->prefix);
    OPENSSL_cleanse(ba, sizeof *ba);
    free(ba);
}

aw_basic_auth *aw_basic_auth_use(aw_app *app, const aw_basic_auth_opts *o)
{
    aw_basic_auth_opts d;
    aw_basic_auth_opts_default(&d);
    if (!o)
        o = &d;
    aw_basic_auth *ba = calloc(1, sizeof *ba);
    if (!ba)
        return NULL;
    if (aw_app_on_free(app, aw__ba_free, ba)) {
        free(ba);
        return NULL;
    }
    char err[128];
    if (aw_basic_auth_config(ba, "realm", o->realm ? o->realm : d.realm, err, sizeof err) ||
        aw_basic_auth_config(ba, "prefix", o->prefix ? o->prefix : d.prefix, err, sizeof err) ||
        aw_app_use(app, aw__ba_mw, ba) ||
        aw_app_config_section(app, "basic_auth", aw_basic_auth_config, ba))
        return NULL;
    return ba;
}
