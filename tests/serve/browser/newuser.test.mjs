// "A new user labels an item in the browser in under a minute" (issue 14):
// a person who just ran scripts/quickstart does what its closing message
// says, in Debian's Chromium, using only what the pages show: the printed
// sign-in link, the button on the page it opens, "Start reviewing" on the
// queue, an option in every field marked required (*), "Submit and next".
// Nothing here knows a URL, an id or a form field of the server. The label
// row is then checked in PostgreSQL, and every action the person took is
// counted and written to FWT_SHOTS/newuser-steps.txt (the claim is about a
// handful of actions, which docs/review.md walks through; no wall time is
// measured, timing in tests is not a claim we make).
//
// Run by tests/e2e/test_quickstart.sh with FWT_QS_LOG (the quick start's
// output), FWT_DSN, FWT_NODE_MODULES, FWT_CHROMIUM and FWT_SHOTS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(process.env.FWT_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const SHOTS = process.env.FWT_SHOTS;

let browser;
after(async () => { await browser?.close(); });

function sql(q) {
  return execFileSync('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', process.env.FWT_DSN,
    '-c', q], { encoding: 'utf8' }).trim();
}

// What the quick start printed, as a person reads it (colours removed): the
// review page's address and the link under "Label in the browser as the
// demo reviewer".
function printed() {
  const text = fs.readFileSync(process.env.FWT_QS_LOG, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  const lines = text.split('\n');
  const page = /^\s*review page\s+(http:\/\/\S+)/m.exec(text);
  assert.ok(page, 'the quick start prints the review page address');
  const at = lines.findIndex((l) => l.startsWith('Label in the browser as the demo reviewer'));
  assert.ok(at >= 0, 'the quick start says how to label in the browser');
  const link = lines.slice(at + 1).map((l) => l.trim()).find((l) => l.startsWith('http'));
  assert.ok(link, 'a sign-in link follows');
  assert.ok(link.startsWith(`${page[1]}/`), `the link (${link}) is on the review page (${page[1]})`);
  return link;
}

test('a new user labels an item with what the quick start printed', async () => {
  const link = printed();
  browser = await chromium.launch({
    executablePath: process.env.FWT_CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000);
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  const steps = [];
  // a click that leads to another page (post, then redirect)
  const go = async (locator) => {
    const from = page.url();
    await Promise.all([page.waitForURL((u) => u.toString() !== from), locator.click()]);
  };
  const shot = (n) => page.screenshot({ path: path.join(SHOTS, `newuser-${n}.png`), fullPage: true });

  // 1. open the printed link
  steps.push('open the link the quick start printed');
  await page.goto(link);
  await shot(1);
  // 2. the page has one button: press it
  const signin = page.getByRole('button', { name: /sign in/i });
  assert.equal(await signin.count(), 1, 'one sign-in button');
  steps.push(`click "${(await signin.textContent()).trim()}"`);
  await go(signin);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'My queues');
  await shot(2);
  // 3. the quick start's queue, as the page lists it
  const row = page.getByRole('row').filter({ hasText: 'support-quality' });
  const start = row.getByRole('button', { name: 'Start reviewing' });
  steps.push('click "Start reviewing" on support-quality');
  await go(start);
  // 4. every field marked required (*): pick its first option
  const submit = page.getByRole('button', { name: /^Submit and next/ });
  assert.equal(await submit.count(), 1, 'an item to label');
  const required = page.getByRole('group').filter({ has: page.locator('[title="required"]') });
  const n = await required.count();
  assert.ok(n >= 1, 'the rubric has required fields');
  const picked = [];
  for (let i = 0; i < n; i++) {
    const g = required.nth(i);
    const legend = (await g.locator('legend').textContent()).replace('*', '').trim();
    const option = g.getByRole('radio').first();
    const label = (await g.locator('label').first().textContent()).trim();
    steps.push(`pick "${label}" for "${legend}"`);
    await option.check();
    picked.push(await option.getAttribute('value'));
  }
  await shot(3);
  const url = page.url();
  // 5. submit
  steps.push('click "Submit and next"');
  await go(submit);
  await shot(4);

  // the label is in PostgreSQL, as the demo reviewer, with the options picked
  const item = Number(/\/item\/(\d+)$/.exec(url)?.[1]);
  assert.ok(item > 0, `labelled on an item page (${url})`);
  const row2 = sql(`SELECT reviewer, value::text FROM flywheel.review_labels
                    WHERE item_id = ${item} AND reviewer = 'demo' AND NOT is_adjudication`);
  assert.ok(row2.startsWith('demo|'), `a label by demo on item ${item}: ${row2}`);
  const value = JSON.parse(row2.slice(5));
  for (const v of picked) {
    assert.ok(Object.values(value).map(String).includes(v), `${v} stored in ${row2}`);
  }
  assert.deepEqual(problems, [], 'no CSP violation, page error or dialog');
  const record = `${steps.length} actions:\n${steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}\n`;
  fs.writeFileSync(path.join(SHOTS, 'newuser-steps.txt'), record);
  console.log(`new user: ${record}`);
  await ctx.close();
});
