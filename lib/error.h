/* aweb error codes.
 *
 * Every aweb call that can fail returns an int: 0 (or a non-negative count) on
 * success, a negative AW_E* code on failure, the way libuv does. System errors
 * are negated errno values, so they equal libuv's UV_E* codes on Unix; codes aweb
 * adds sit below libuv's range. aw_strerror() and aw_err_name() turn any of them
 * into text.
 */
#ifndef AW_ERROR_H
#define AW_ERROR_H

#include <errno.h>

#define AW_EINVAL (-EINVAL)
#define AW_ENOMEM (-ENOMEM)
#define AW_EAGAIN (-EAGAIN)
#define AW_EBUSY (-EBUSY)
#define AW_ETIMEDOUT (-ETIMEDOUT)
#define AW_ECANCELED (-ECANCELED)
#define AW_ECONNRESET (-ECONNRESET)
#define AW_ECONNREFUSED (-ECONNREFUSED)
#define AW_ECONNABORTED (-ECONNABORTED)
#define AW_EPIPE (-EPIPE)
#define AW_EMSGSIZE (-EMSGSIZE)
#define AW_ENOENT (-ENOENT)
#define AW_EEXIST (-EEXIST)
#define AW_EADDRINUSE (-EADDRINUSE)
#define AW_EMFILE (-EMFILE)
#define AW_ENOTSUP (-ENOTSUP)
#define AW_EPROTO (-EPROTO)
#define AW_ENOTCONN (-ENOTCONN)
#define AW_EOVERFLOW (-EOVERFLOW)
#define AW_EDEADLK (-EDEADLK)
#define AW_EPERM (-EPERM)
#define AW_E2BIG (-E2BIG)
#define AW_ENOBUFS (-ENOBUFS)

/* End of stream: the same value as libuv's UV_EOF. */
#define AW_EOF (-4095)

/* aweb's own codes, outside libuv's range. */
#define AW_ECLOSED (-30001) /* the object (queue, scheduler, stream) was closed */
#define AW_EFULL (-30002)   /* a bounded queue or a scheduler's pending limit is full */
#define AW_ENOTASK (-30003) /* a waiting call was made outside any task */
#define AW_EDNS (-30004)    /* name resolution failed */
#define AW_ETLS (-30005)    /* TLS protocol or handshake failure */
#define AW_ECERT (-30006)   /* the peer's certificate did not verify */
#define AW_EHTTP (-30007)   /* malformed HTTP */

/* A short description of an AW_E* code (or any negated errno). Never NULL. */
const char *aw_strerror(int err);
/* The code's name without the prefix, such as "ETIMEDOUT" (as uv_err_name). */
const char *aw_err_name(int err);

#endif
