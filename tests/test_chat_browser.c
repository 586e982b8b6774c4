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

#include "example.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(chat_browser, .timeout = 90, .fini = tu_fini);

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

Test(chat_browser, two_users_in_chromium_see_each_others_messages)
{
    require_browser_tools();
    tu_example c = tu_example_start("chat", "conf/aweb.conf");
    char shot[64], cmd[256], out[16384];
    snprintf(shot, sizeof shot, "/tmp/aweb-chat-browser-%d.png", (int)getpid());
    /* chat.mjs bounds itself at 45 s; timeout(1) is the backstop */
    snprintf(cmd, sizeof cmd,
             "timeout -k 5 60 node tests/browser/chat.mjs http://127.0.0.1:%d %s 2>&1", c.port,
             shot);
    int64_t t0 = tu_ms();
    int rc = tu_shell(cmd, out, sizeof out);
    cr_log_info("chat.mjs took %lld ms: %s", (long long)(tu_ms() - t0), out);
    cr_assert_eq(rc, 0, "chat.mjs exited with %d:\n%s", rc, out);
    cr_assert(strstr(out, "OK chat in chromium"), "%s", out);
    cr_assert_eq(access(shot, R_OK), 0, "no screenshot at %s", shot);
    unlink(shot);
    tu_example_stop(&c, NULL, 0);
}
