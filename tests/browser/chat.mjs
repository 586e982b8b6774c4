// The chat page in a real browser: Debian's chromium, headless, driven by
// playwright-core. Two users (two browser contexts) join, alice speaks, bob
// sees it, bob answers, alice sees that.
//
//   node tests/browser/chat.mjs BASE_URL [SCREENSHOT.png]
//
// Prints "OK ..." and exits 0, or prints "FAIL reason" with what each page
// showed and exits 1. Every wait is bounded, and so is the whole run.
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const TOTAL_MS = 45000; // the whole run
const STEP_MS = 10000; // one wait: a page load, a status, a message
const ARGS = [
    '--headless',
    '--no-sandbox', // needed as root
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

const base = process.argv[2];
const shot = process.argv[3];
if (!base || !/^https?:\/\//.test(base)) {
    console.log('usage: node chat.mjs BASE_URL [SCREENSHOT.png]');
    process.exit(2);
}

let browser = null;
const users = []; // { name, page, errors[] }

// Resolves to what p resolves to, or rejects after ms: nothing may hang.
function bounded(p, ms, what) {
    let timer;
    const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

// What a page shows, for the failure report: its status and every log line.
async function describe(u) {
    try {
        const seen = await bounded(
            u.page.evaluate(() => ({
                status: document.getElementById('status')?.textContent,
                log: [...document.querySelectorAll('#log li')].map(
                    (li) => (li.className ? `[${li.className}] ` : '') + li.textContent,
                ),
            })),
            3000,
            'reading the page',
        );
        const lines = seen.log.length ? seen.log.map((l) => `    ${l}`).join('\n') : '    (empty)';
        return `  ${u.name}: #status "${seen.status}", #log:\n${lines}`;
    } catch (e) {
        return `  ${u.name}: could not read the page (${e.message})`;
    }
}

async function report(reason) {
    console.log(`FAIL ${reason}`);
    for (const u of users) {
        console.log(await describe(u));
        for (const e of u.errors) console.log(`    page said: ${e}`);
    }
    // what bob (or whoever got that far) saw, to look at
    const u = users[users.length - 1];
    if (shot && u) {
        await bounded(u.page.screenshot({ path: shot, timeout: 3000 }), 4000, 'screenshot')
            .then(() => console.log(`  screenshot of ${u.name}'s page: ${shot}`))
            .catch(() => {});
    }
}

async function closeBrowser() {
    if (!browser) return;
    const b = browser;
    browser = null;
    await bounded(b.close(), 5000, 'closing the browser').catch(() => {});
}

// The overall bound: whatever is stuck, report and leave (playwright kills
// the browser it launched when this process exits).
const overall = setTimeout(async () => {
    await bounded(report(`the run took more than ${TOTAL_MS} ms`), 5000, 'report').catch(() => {});
    process.exit(1);
}, TOTAL_MS);

async function open(name, viewport) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const u = { name, page, errors: [] };
    users.push(u);
    page.on('pageerror', (e) => u.errors.push(`uncaught ${e.message}`));
    page.on('console', (m) => {
        if (m.type() === 'error') u.errors.push(`console error: ${m.text()}`);
    });
    const res = await page.goto(base + '/', { timeout: STEP_MS });
    if (!res || res.status() !== 200) throw new Error(`GET / for ${name}: status ${res?.status()}`);
    return u;
}

async function join(u) {
    await u.page.fill('#name', u.name);
    await u.page.click('#join');
    try {
        await u.page.waitForFunction(
            (name) => document.getElementById('status').textContent === `connected as ${name}`,
            u.name,
            { timeout: STEP_MS },
        );
    } catch (e) {
        throw new Error(`${u.name} joined but #status never said "connected as ${u.name}" ` +
                        `(${e.message.split('\n')[0]})`);
    }
}

// Waits until u's log has a line: a message from `from` that says `text`, or
// (notice) the announcement "`from` `text`".
async function sees(u, from, text, notice = false) {
    try {
        await u.page.waitForFunction(
            ([from, text, notice]) =>
                [...document.querySelectorAll('#log li')].some((li) =>
                    notice
                        ? li.classList.contains('notice') && li.textContent.includes(`${from} ${text}`)
                        : !li.classList.contains('notice') &&
                          li.querySelector('.name')?.textContent === from &&
                          li.lastChild?.nodeType === Node.TEXT_NODE &&
                          li.lastChild.textContent === text &&
                          /^\d\d:\d\d:\d\d$/.test(li.querySelector('.time')?.textContent),
                ),
            [from, text, notice],
            { timeout: STEP_MS },
        );
    } catch (e) {
        throw new Error(`${u.name} did not see ${notice ? 'the notice' : 'the message from'} ` +
                        `${from}: "${text}" (${e.message.split('\n')[0]})`);
    }
}

async function say(u, text) {
    await u.page.fill('#text', text);
    await u.page.click('#send');
    // the page empties the box once the message is on its way
    await u.page.waitForFunction(() => document.getElementById('text').value === '', null,
                                 { timeout: STEP_MS });
}

async function main() {
    const t0 = Date.now();
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        timeout: 20000,
    });
    // bob is on a phone-sized screen: the page must fit it
    const alice = await open('alice', { width: 800, height: 500 });
    const bob = await open('bob', { width: 360, height: 640 });
    for (const u of [alice, bob])
        if (!(await u.page.isDisabled('#text')) || !(await u.page.isDisabled('#send')))
            throw new Error(`${u.name}: #text and #send should be disabled before joining`);
    await join(alice);
    await join(bob);
    // once alice has seen bob arrive, bob is in the room and will get her words
    await sees(alice, 'bob', 'joined', true);

    const tag = `${process.pid}-${Date.now().toString(36)}`;
    // UTF-8 and markup-looking text: it must arrive as the same characters
    const hello = `hello bob, ça va? <b>&amp; ${tag}`;
    await say(alice, hello);
    await sees(bob, 'alice', hello);
    await sees(alice, 'alice', hello);
    const answer = `hi alice ${tag}`;
    await say(bob, answer);
    await sees(alice, 'bob', answer);
    await sees(bob, 'bob', answer);
    const markup = await bob.page.$$eval('#log b', (b) => b.length);
    if (markup) throw new Error('message text was rendered as HTML');
    const wide = await bob.page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > 360) throw new Error(`the page is ${wide} px wide on a 360 px screen`);
    if (!(await bob.page.$eval('#name', (n) => n.readOnly)))
        throw new Error('the name can still be edited after joining');
    // no script errors and no failed loads (a favicon included)
    const errors = users.flatMap((u) => u.errors);
    if (errors.length) throw new Error(`errors on the page: ${errors.join('; ')}`);

    if (shot) await bob.page.screenshot({ path: shot, timeout: STEP_MS });
    await closeBrowser();
    console.log(`OK chat in chromium: alice and bob exchanged 2 messages in ${Date.now() - t0} ms` +
                (shot ? ` (screenshot ${shot})` : ''));
}

let rc = 0;
try {
    await main();
} catch (e) {
    await report(e.message.split('\n')[0]);
    rc = 1;
} finally {
    await closeBrowser();
    clearTimeout(overall);
}
process.exit(rc);
