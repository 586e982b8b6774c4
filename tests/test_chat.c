/* The chat example as people run it: the built program on a free port,
 * three python3-websockets clients, a fourth that gets the history. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

/* the server started by the running test: killed if a failed assertion
 * ends the test before chat_stop */
static pid_t running;

static void chat_fini(void)
{
    if (running > 0)
        kill(running, SIGKILL);
    tu_fini();
}

TestSuite(chat, .timeout = 60, .fini = chat_fini);

typedef struct chat_proc {
    FILE *out;
    pid_t pid;
    int port;
} chat_proc;

/* Starts build/examples/chat on a free port and waits for its line. */
static chat_proc chat_start(void)
{
    chat_proc c = {0};
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "exec %s/examples/chat --listen 127.0.0.1:0 --conf conf/aweb.conf 2>&1", build);
    /* popen gives no pid: run it under a shell that prints its own first */
    char wrapped[640];
    snprintf(wrapped, sizeof wrapped, "sh -c 'echo $$; %s'", cmd);
    c.out = popen(wrapped, "r");
    cr_assert_not_null(c.out);
    char line[256];
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    c.pid = atoi(line);
    running = c.pid;
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    const char *colon = strrchr(line, ':');
    cr_assert(strstr(line, "listening on http://127.0.0.1:") && colon, "%s", line);
    c.port = atoi(colon + 1);
    return c;
}

static void chat_stop(chat_proc *c)
{
    kill(c->pid, SIGTERM);
    running = 0;
    int st = pclose(c->out);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the chat server exited with %d", st);
}

Test(chat, the_page_is_served_whole_and_self_contained)
{
    chat_proc c = chat_start();
    char cmd[256], out[65536];
    snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/", c.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0);
    cr_assert(strstr(out, "<!doctype html>") && strstr(out, "new WebSocket("), "%.200s", out);
    cr_assert_null(strstr(out, "src=\"http"), "an external script");
    cr_assert_null(strstr(out, "href=\"http"), "an external stylesheet or font");
    chat_stop(&c);
}

Test(chat, three_clients_see_every_message_in_one_order_and_a_fourth_gets_history)
{
    chat_proc c = chat_start();
    char cmd[256], out[8192];
    snprintf(cmd, sizeof cmd,
             "timeout 30 /usr/bin/python3 tests/ws/wsclient.py chat %d alice,bob,carol 2>&1",
             c.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "OK chat 3 messages in one order, history replayed"), "%s", out);
    chat_stop(&c);
}
