/* The examples as people run them (example.h). */
#include "example.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

tu_example tu_example_start(const char *name, const char *conf)
{
    tu_example e = {0};
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char cmd[640], line[512];
    /* popen gives no pid: a shell prints its own, then becomes the example */
    snprintf(cmd, sizeof cmd,
             "sh -c 'echo $$; exec %s/examples/%s --listen 127.0.0.1:0 --conf %s 2>&1'", build,
             name, conf);
    e.out = popen(cmd, "r");
    cr_assert_not_null(e.out);
    cr_assert_not_null(fgets(line, sizeof line, e.out));
    e.pid = atoi(line);
    tu_kill_on_fini(e.pid);
    cr_assert_not_null(fgets(line, sizeof line, e.out), "%s/examples/%s printed nothing", build,
                       name);
    const char *colon = strrchr(line, ':');
    cr_assert(strstr(line, "listening on http://127.0.0.1:") && colon, "%s", line);
    e.port = atoi(colon + 1);
    return e;
}

void tu_example_stop(tu_example *e, char *log, size_t cap)
{
    kill(e->pid, SIGTERM);
    if (log) {
        size_t n = fread(log, 1, cap - 1, e->out);
        log[n] = 0;
    }
    int st = pclose(e->out); /* (drains what is left) */
    tu_kill_on_fini(0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the example exited with %d", st);
}
