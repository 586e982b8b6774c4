/* The examples as people run them: build/examples/NAME (BUILD overrides
 * build/) on 127.0.0.1 port 0, its stdout and stderr read through a pipe. */
#ifndef TU_EXAMPLE_H
#define TU_EXAMPLE_H

#include <stdio.h>
#include <sys/types.h>

typedef struct tu_example {
    FILE *out; /* what it prints: its access and error log */
    pid_t pid;
    int port;
} tu_example;

/* Starts the example with --conf conf and waits for its "listening on" line.
 * Until tu_example_stop, tu_fini kills it: a failed assertion ends the test
 * early, and the example must not outlive it. */
tu_example tu_example_start(const char *name, const char *conf);

/* SIGTERM; the example must exit 0 (graceful shutdown). What it printed
 * meanwhile goes to log when log is not NULL. */
void tu_example_stop(tu_example *e, char *log, size_t cap);

#endif
