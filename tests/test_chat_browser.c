/* The chat example in a real browser: build/examples/chat on a free port, and
 * tests/browser/chat.mjs driving Debian's chromium (headless, playwright-core)
 * as two users who talk to each other. `make deps` installs what it needs; a
 * machine without them fails here, saying what is missing. */
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

TestSuite(chat_browser, .timeout = 90, .fini = chat_fini);

typedef struct chat_proc {
    FILE *out;
    pid_t pid;
    int port;
} chat_proc;

/* Fails the test, naming what is missing, unless the browser toolchain is here. */
static void require_browser_tools(void)
{
    char out[256];
    cr_assert_eq(tu_shell("command -v node 2>&1", out, sizeof out), 0,
                 "node is missing (run `make deps`: it installs nodejs and npm)");
    cr_assert_eq(access("/usr/bin/chromium", X_OK), 0,
                 "/usr/bin/chromium is missing (run `make deps`: it installs Debian's chromium)");
    cr_assert_eq(access("tests/browser/node_modules/playwright-core/package.json", R_OK), 0,
                 "tests/browser/node_modules/playwright-core is missing (run `make deps`: it "
                 "runs `npm --prefix tests/browser ci`)");
}

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
    cr_assert_not_null(fgets(line, sizeof line, c.out), "%s/examples/chat printed nothing", build);
    const char *colon = strrchr(line, ':');
    cr_assert(strstr(line, "listening on http://127.0.0.1:") && colon, "%s", line);
    c.port = atoi(colon + 1);
    return c;
}

/* SIGTERM, then the server must shut down cleanly. Its access log has been
 * piling up in the pipe meanwhile; pclose drains it. */
static void chat_stop(chat_proc *c)
{
    kill(c->pid, SIGTERM);
    running = 0;
    int st = pclose(c->out);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the chat server exited with %d", st);
}

Test(chat_browser, two_users_in_chromium_see_each_others_messages)
{
    require_browser_tools();
    chat_proc c = chat_start();
    char shot[64], cmd[256], out[16384];
    snprintf(shot, sizeof shot, "/tmp/aweb-chat-browser-%d.png", (int)getpid());
    /* chat.mjs bounds itself at 45 s; timeout(1) is the backstop */
    snprintf(cmd, sizeof cmd,
             "timeout -k 5 60 node tests/browser/chat.mjs http://127.0.0.1:%d %s 2>&1", c.port,
             shot);
    int64_t t0 = tu_ms();
    int rc = tu_shell(cmd, out, sizeof out);
    cr_log_info("chat.mjs took %lld ms: %s", (long long)(tu_ms() - t0), out);
    if (rc != 0) { /* stop the server before the assertion ends the test; keep the screenshot */
        kill(c.pid, SIGTERM);
        pclose(c.out);
    }
    cr_assert_eq(rc, 0, "chat.mjs exited with %d:\n%s", rc, out);
    cr_assert(strstr(out, "OK chat in chromium"), "%s", out);
    cr_assert_eq(access(shot, R_OK), 0, "no screenshot at %s", shot);
    unlink(shot);
    chat_stop(&c);
}
