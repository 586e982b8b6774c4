/* Name resolution under a deadline (internal; the HTTP client's DNS cache
 * sits on top of it). */
#ifndef AW_RESOLVE_INT_H
#define AW_RESOLVE_INT_H

#include <netdb.h>
#include <stdint.h>

/* Resolves host:port for a TCP connection. Returns 0 and a list to release
 * with freeaddrinfo, or AW_EDNS / AW_ETIMEDOUT / AW_ECANCELED with details in
 * aw_last_error(). Must run in a task unless host is numeric. */
int aw__resolve(const char *host, int port, uint64_t deadline, struct addrinfo **res);

#endif
