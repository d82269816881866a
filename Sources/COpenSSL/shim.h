#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* OpenSSL macros Swift cannot import, as functions (prefixed with the module's name). */

static inline long COpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long COpenSSL_SSL_CTX_set_min_proto_version_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/* Without it OpenSSL 3 reports a peer closing TCP without close_notify (what redis-server does when it stops)
   as SSL_ERROR_SSL; with it, as SSL_ERROR_ZERO_RETURN, the end of the stream. */
static inline void COpenSSL_SSL_CTX_ignore_unexpected_eof(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
}
