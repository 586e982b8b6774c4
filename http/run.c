/* Running an app as a process: aw_app_run.
 *
 * One worker: the loop runs in this process, SIGINT/SIGTERM start the
 * graceful shutdown. Several: this process becomes a supervisor that forks
 * the workers (each listening with SO_REUSEPORT on the same ports), restarts
 * one that dies, and on SIGINT/SIGTERM passes the signal on and waits for
 * them all. The supervisor runs no loop of its own: libuv and fork do not mix.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "http_int.h"
#include "log.h"
#include "runtime.h"
#include "sync.h"
#include "timeout.h"

typedef struct aw__run {
    aw_app *app;
    const aw_config *cfg;
    aw_event *stop;
    int signo;
} aw__run;

static void aw__on_signal(uv_signal_t *h, int signo)
{
    aw__run *r = h->data;
    r->signo = signo;
    aw_event_set(r->stop);
}

static void aw__print_listening(const aw__run *r, const aw_server *srv)
{
    for (size_t i = 0; i < r->cfg->nlisten; i++) {
        const char *a = r->cfg->listen[i];
        if (!strncmp(a, "unix:", 5)) {
            printf("listening on %s\n", a);
            continue;
        }
        const char *colon = strrchr(a, ':');
        printf("listening on http%s://%.*s:%d\n", srv->tls ? "s" : "", (int)(colon - a), a,
               aw_server_port(srv, i));
    }
    fflush(stdout);
}

static int aw__run_main(void *arg)
{
    aw__run *r = arg;
    aw_server *srv;
    if (aw_server_start(r->app, r->cfg, &srv))
        return 1;
    r->stop = aw_event_new();
    uv_signal_t sigs[2];
    int signos[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        uv_signal_init(aw_loop(), &sigs[i]);
        sigs[i].data = r;
        uv_signal_start(&sigs[i], aw__on_signal, signos[i]);
    }
    aw__print_listening(r, srv);
    aw_event_wait(r->stop, AW_FOREVER);
    aw_log(AW_LOG_INFO, "%s: shutting down", strsignal(r->signo));
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&sigs[i], NULL);
    aw_server_shutdown(srv);
    aw_event_free(r->stop);
    return 0;
}

static int aw__run_process(aw_app *app, const aw_config *cfg)
{
    aw__run r = {.app = app, .cfg = cfg};
    aw_run_opts ro = {.stack_size = cfg->stack_size, .debug = cfg->debug ? 1 : 0};
    int rc = aw_run_ex(aw__run_main, &r, &ro);
    return rc == 0 ? 0 : 1;
}

/* --- workers -------------------------------------------------------------- */

static pid_t aw__fork_worker(aw_app *app, const aw_config *cfg, const sigset_t *old)
{
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, old, NULL);
        _exit(aw__run_process(app, cfg));
    }
    return pid;
}

static int aw__supervise(aw_app *app, const aw_config *cfg)
{
    for (size_t i = 0; i < cfg->nlisten; i++)
        if (!strncmp(cfg->listen[i], "unix:", 5)) {
            aw_log(AW_LOG_ERROR, "workers = %d: %s cannot be shared by several processes; "
                                 "use TCP addresses or one worker",
                   cfg->workers, cfg->listen[i]);
            return 1;
        }
    aw_config c = *cfg; /* the same strings; only reuseport differs */
    c.reuseport = 1;
    int n = cfg->workers;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    time_t *born = calloc((size_t)n, sizeof *born);
    int *quick = calloc((size_t)n, sizeof *quick); /* deaths in a row within 1 s of birth */
    if (!pids || !born || !quick)
        return 1;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    for (int i = 0; i < n; i++) {
        pids[i] = aw__fork_worker(app, &c, &old);
        born[i] = time(NULL);
    }
    int stopping = 0, status = 0, alive = n;
    while (alive > 0) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(&set, NULL, &tick);
        if ((sig == SIGINT || sig == SIGTERM) && !stopping) {
            stopping = 1;
            for (int i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
        }
        int ws;
        pid_t pid;
        while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
            for (int i = 0; i < n; i++) {
                if (pids[i] != pid)
                    continue;
                int clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
                if (stopping || (clean && !stopping)) {
                    pids[i] = 0;
                    alive--;
                    if (!clean)
                        status = 1;
                    break;
                }
                aw_log(AW_LOG_ERROR, "worker %d %s %d; starting another", (int)pid,
                       WIFSIGNALED(ws) ? "was killed by signal" : "exited with status",
                       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
                /* a worker that dies at once again and again (a crash at
                 * start-up) is restarted ever more slowly, not in a hot loop */
                quick[i] = time(NULL) - born[i] < 1 ? quick[i] + 1 : 0;
                if (quick[i] > 2)
                    sleep((unsigned)(quick[i] < 10 ? quick[i] - 2 : 8));
                pids[i] = aw__fork_worker(app, &c, &old);
                born[i] = time(NULL);
            }
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(pids);
    free(born);
    free(quick);
    return status;
}

int aw_app_run(aw_app *app, const aw_config *cfg)
{
    aw_log_set_level(cfg->log_level);
    if (cfg->error_log && aw_log_set_file(cfg->error_log))
        fprintf(stderr, "aweb: cannot open the error log %s\n", cfg->error_log);
    if (cfg->workers > 1)
        return aw__supervise(app, cfg);
    return aw__run_process(app, cfg);
}

/* --- the examples' command line ---------------------------------------------- */

static void aw__usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--listen HOST:PORT]... [--conf FILE] [--workers N]\n"
            "  --listen   an address to serve (HOST:PORT, [IPV6]:PORT, unix:/PATH);\n"
            "             replaces the configuration's list (default 127.0.0.1:8080)\n"
            "  --conf     the configuration file (default conf/aweb.conf; a missing\n"
            "             default file means the built-in defaults)\n"
            "  --workers  processes serving the same port\n",
            prog);
}

int aw_app_main(aw_app *app, int argc, char **argv)
{
    const char *conf = NULL, *listen[AW_CONFIG_MAX_LISTEN], *workers = NULL;
    size_t nlisten = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--listen") && v && nlisten < AW_CONFIG_MAX_LISTEN)
            listen[nlisten++] = v, i++;
        else if (!strcmp(a, "--conf") && v)
            conf = v, i++;
        else if (!strcmp(a, "--workers") && v)
            workers = v, i++;
        else {
            aw__usage(argv[0]);
            return strcmp(a, "--help") && strcmp(a, "-h") ? 2 : 0;
        }
    }
    aw_config cfg;
    char err[512];
    aw_config_init(&cfg);
    const aw__conf_section *xs = app->conf_sections.items;
    for (size_t i = 0; i < app->conf_sections.n; i++)
        if (aw_config_section(&cfg, xs[i].name, xs[i].set, xs[i].arg)) {
            aw_config_free(&cfg);
            return 1;
        }
    int rc = aw_config_load(&cfg, conf ? conf : "conf/aweb.conf", conf != NULL, err, sizeof err);
    if (!rc && nlisten) {
        char list[4096] = "";
        for (size_t i = 0; i < nlisten; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "," : "",
                     listen[i]);
        rc = aw_config_set(&cfg, "server", "listen", list, err, sizeof err);
    }
    if (!rc && workers)
        rc = aw_config_set(&cfg, "server", "workers", workers, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", argv[0], err);
        aw_config_free(&cfg);
        return 2;
    }
    rc = aw_app_run(app, &cfg);
    aw_config_free(&cfg);
    return rc;
}
