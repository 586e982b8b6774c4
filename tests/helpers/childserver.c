/* A test server in a child process; see childserver.h. */
#include "childserver.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t tu_child_stopping;

static void tu_child_on_term(int sig)
{
    (void)sig;
    tu_child_stopping = 1;
}

typedef struct tu_child_args {
    tu_child_shared *sh;
    aw_app *app;
    aw_config cfg;
} tu_child_args;

static int tu_child_main(void *arg)
{
    tu_child_args *a = arg;
    aw_server *srv;
    int rc = aw_server_start(a->app, &a->cfg, &srv);
    if (rc) {
        a->sh->failed = 1;
        a->sh->ready = 1;
        return rc;
    }
    a->sh->port = aw_server_port(srv, 0);
    a->sh->ready = 1;
    while (!tu_child_stopping) {
        a->sh->connections = aw_server_connections(srv);
        a->sh->active = aw_server_active(srv);
        aw_sleep(5);
    }
    return aw_server_shutdown(srv);
}

static void tu_child_run(tu_child_shared *sh, aw_app *(*make_app)(void), void (*tweak)(aw_config *),
                         int nofile)
{
    char err[256];
    struct sigaction sa = {.sa_handler = tu_child_on_term};
    sigaction(SIGTERM, &sa, NULL);
    if (nofile > 0) {
        struct rlimit rl = {.rlim_cur = (rlim_t)nofile, .rlim_max = (rlim_t)nofile};
        if (setrlimit(RLIMIT_NOFILE, &rl))
            _exit(3);
    }
    tu_child_args a = {.sh = sh, .app = make_app()};
    aw_config_init(&a.cfg);
    aw_config_set(&a.cfg, "server", "listen", "127.0.0.1:0", err, sizeof err);
    aw_config_set(&a.cfg, "log", "access_log", "off", err, sizeof err);
    if (tweak)
        tweak(&a.cfg);
    int rc = aw_run(tu_child_main, &a);
    aw_config_free(&a.cfg);
    aw_app_free(a.app);
    _exit(rc ? 1 : 0);
}

void tu_child_start(tu_child *c, aw_app *(*make_app)(void), void (*tweak)(aw_config *), int nofile)
{
    memset(c, 0, sizeof *c);
    c->sh = mmap(NULL, sizeof *c->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(c->sh, MAP_FAILED);
    memset((void *)c->sh, 0, sizeof *c->sh);
    fflush(NULL);
    pid_t parent = getpid();
    c->pid = fork();
    cr_assert_neq(c->pid, -1);
    if (c->pid == 0) {
        tu_die_with_parent(parent); /* a failed test skips tu_child_stop */
        tu_child_run(c->sh, make_app, tweak, nofile);
    }
    int64_t end = tu_ms() + 5000;
    while (!c->sh->ready && tu_ms() < end)
        usleep(1000);
    if (!c->sh->ready || c->sh->failed) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        cr_assert_fail("the child server did not start");
    }
    c->port = c->sh->port;
}

size_t tu_child_connections(const tu_child *c) { return c->sh->connections; }

static size_t tu_child_status_kb(const tu_child *c, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)c->pid);
    FILE *f = fopen(path, "r");
    size_t kb = 0, klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            kb = strtoul(line + klen + 1, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return kb * 1024;
}

size_t tu_child_rss(const tu_child *c) { return tu_child_status_kb(c, "VmRSS"); }
size_t tu_child_peak_rss(const tu_child *c) { return tu_child_status_kb(c, "VmHWM"); }

int tu_child_open_fds(const tu_child *c)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)c->pid);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

size_t tu_child_wait_connections(const tu_child *c, size_t max, int ms)
{
    int64_t end = tu_ms() + ms;
    size_t n;
    while ((n = c->sh->connections) > max && tu_ms() < end)
        usleep(5000);
    return n;
}

int tu_child_stop(tu_child *c)
{
    int status = 0, done = 0;
    kill(c->pid, SIGTERM);
    for (int64_t end = tu_ms() + 10000; tu_ms() < end;) {
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            done = 1;
            break;
        }
        usleep(2000);
    }
    if (!done) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
    }
    munmap((void *)c->sh, sizeof *c->sh);
    c->sh = NULL;
    return done && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
