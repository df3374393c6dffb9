// Browser tests of flywheel serve in Debian's Chromium, driven by
// playwright-core (node's own test runner). Started by ../test_browser.py,
// which prepares the database, the accounts and the server and passes them
// in FWT_* variables. Every page is checked for Content-Security-Policy
// violations and dialogs; full-page screenshots at 1280x800 go to FWT_SHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const require = createRequire(process.env.FWT_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const URL = process.env.FWT_URL;
const DSN = process.env.FWT_DSN;
const ACC = JSON.parse(process.env.FWT_ACCOUNTS);
const SHOTS = process.env.FWT_SHOTS;

let browser;
const problems = []; // CSP violations, page errors, dialogs: any is a failure

function sql(q) {
  return execFileSync('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', DSN, '-c', q],
    { encoding: 'utf8' }).trim();
}

async function newPage(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  const page = await ctx.newPage();
  page.setDefaultTimeout(120000); // a loaded 2-core machine runs 16 browsers at once
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  return page;
}

// A fresh one-time link for each sign-in (links work once).
function link(who) {
  const out = execFileSync(process.env.FWT_FLYWHEEL, ['reviewer', 'link', ACC[who].name,
    '--dsn', DSN, '--url', URL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim();
}

async function signin(page, who) {
  await page.goto(link(who));
  await Promise.all([page.waitForURL(/\/queues$/), page.click('#signin')]);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

function itemOf(page) {
  const m = /\/q\/([^/]+)\/item\/(\d+)$/.exec(page.url());
  assert.ok(m, `not on an item page: ${page.url()}`);
  return { queue: decodeURIComponent(m[1]), item: Number(m[2]) };
}

async function startQueue(page, queue) {
  await page.goto(`${URL}/queues`);
  const form = page.locator(`form[action="/q/${queue}/next"]`);
  await Promise.all([page.waitForURL(/\/item\/\d+$|\/done$/), form.locator('button').click()]);
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.FWT_CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => {
  await browser?.close();
});

test('sign-in link, my queues, guidelines', async () => {
  const page = await newPage();
  await page.goto(`${URL}/queues`);
  assert.match(page.url(), /\/signin$/, 'signed out: sent to the sign-in page');
  await shot(page, 'signin');
  await signin(page, 'carol');
  assert.equal(await page.locator('h1').textContent(), 'My queues');
  await shot(page, 'queues');
  await page.goto(`${URL}/q/support/guidelines`);
  assert.match(await page.locator('main').textContent(), /Judge only the final answer/);
  await shot(page, 'guidelines');
  await page.context().close();
});

test('a whole item labelled by keyboard alone, XSS fixtures literal', async () => {
  const page = await newPage();
  await signin(page, 'keys');
  // to the start button by keyboard
  await page.locator('form[action="/q/support/next"] button').focus();
  await Promise.all([page.waitForURL(/\/item\/\d+$/), page.keyboard.press('Enter')]);
  const { item } = itemOf(page);
  // the XSS fixture item comes first: its text is shown literally, nothing runs
  const conv = await page.locator('section.conv').textContent();
  assert.ok(conv.includes('<script>alert("user")</script>'), 'script tag shown as text');
  assert.ok(conv.includes('"><img src=x onerror=alert(1)>'), 'img fixture shown as text');
  assert.ok(conv.includes('</textarea><b>bold?</b> {{template}}'), 'textarea fixture as text');
  assert.equal(await page.locator('section.conv script, section.conv img, section.conv b').count(), 0);
  assert.equal(await page.locator('section.conv a').count(), 0, 'links in model output are not live');
  assert.ok(!(await page.content()).includes('secret-model-name'), 'blind: no model name');
  await shot(page, 'item');
  // the first field has the focus: 2 = No; ↓ 4 = helpful 4; ↓ 1 = billing
  await page.keyboard.press('2');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('4');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('1');
  // digits typed in a text box change no option
  await page.locator('textarea[name="f:notes"]').focus();
  await page.keyboard.type('12 by keyboard');
  assert.equal(await page.locator('input[name="f:correct"][value="false"]').isChecked(), true);
  assert.equal(await page.locator('input[name="f:helpful"][value="4"]').isChecked(), true);
  assert.equal(await page.locator('input[name="f:topic"][value="billing"]').isChecked(), true);
  await page.keyboard.press('Escape');
  // j to the first sentence, 1 = "factual error"
  await page.keyboard.press('j');
  await page.keyboard.press('1');
  const sel = page.locator('ol.sents li[data-sent="1"] select');
  assert.equal(await sel.inputValue(), 'factual error');
  await shot(page, 'item-filled');
  await Promise.all([page.waitForURL((u) => !u.toString().endsWith(`/item/${item}`)),
    page.keyboard.press('ControlOrMeta+Enter')]);
  const row = sql(`SELECT value->>'correct', value->>'helpful', value->>'topic', value->>'notes',
                          value->'problems'->0->>'category', reviewer
                   FROM flywheel.review_labels WHERE item_id = ${item}`);
  assert.equal(row, `false|4|billing|12 by keyboard|factual error|${ACC.keys.name}`);
  await page.context().close();
});

test('blind review; a held Ctrl+Enter submits once', async () => {
  const page = await newPage();
  await signin(page, 'bob');
  await startQueue(page, 'support');
  const { item } = itemOf(page);
  // blind review: bob gets the item "keys" labelled first (2 reviewers per
  // item, highest priority first), and nothing of that label is on the page
  assert.equal(sql(`SELECT count(*) FROM flywheel.review_labels WHERE item_id = ${item}
                    AND reviewer = '${ACC.keys.name}'`), '1', 'bob sees the item keys labelled');
  const html = await page.content();
  assert.ok(!html.includes('12 by keyboard'), 'no other reviewer answer on the page');
  assert.ok(!html.includes(ACC.keys.name), 'no other reviewer name on the page');
  assert.ok(!html.includes('secret-model-name'), 'no model name on the page');
  await page.locator('input[name="f:correct"][value="true"]').check();
  await page.locator('input[name="f:helpful"][value="5"]').check();
  await page.locator('textarea[name="f:notes"]').fill('bob-note-xyz');
  await page.keyboard.down('Control');
  const nav = page.waitForURL((u) => !u.toString().endsWith(`/item/${item}`));
  for (let i = 0; i < 8; i++) await page.keyboard.down('Enter'); // repeats after the first
  await nav;
  for (let i = 0; i < 8; i++) await page.keyboard.down('Enter'); // still held on the next item
  await page.keyboard.up('Enter');
  await page.keyboard.up('Control');
  await page.waitForLoadState('load');
  assert.equal(sql(`SELECT count(*) FROM flywheel.review_labels WHERE item_id = ${item}
                    AND reviewer = '${ACC.bob.name}'`), '1');
  const next = itemOf(page).item;
  assert.equal(sql(`SELECT count(*) FROM flywheel.review_labels WHERE item_id = ${next}
                    AND reviewer = '${ACC.bob.name}'`), '0', 'the held key did not submit the next item');
  assert.equal(sql(`SELECT count(*) FROM flywheel.web_audit WHERE action = 'submit'
                    AND account = '${ACC.bob.name}'`), '1');
  // release it so the item stays available
  await Promise.all([page.waitForURL(/\/queues$/), page.click('button[value="release"]')]);
  await page.context().close();
});

test('correction word diff', async () => {
  const page = await newPage();
  await signin(page, 'carol');
  await startQueue(page, 'support');
  const ta = page.locator('textarea[name="f:fixed"]');
  const orig = await ta.inputValue();
  await ta.fill(orig.replace('twice', 'once'));
  await Promise.all([page.waitForLoadState('load'), page.click('button[value="preview"]')]);
  assert.equal(await page.locator('.diff del').first().textContent(), 'twice');
  assert.equal(await page.locator('.diff ins').first().textContent(), 'once');
  await shot(page, 'item-correction-diff');
  await page.context().close();
});

test('pairwise: keys a/b/e, sides stored as the true A/B', async () => {
  const page = await newPage();
  await signin(page, 'bob');
  await startQueue(page, 'pairs');
  let n = 0;
  while (/\/item\/\d+$/.test(page.url())) {
    const { item } = itemOf(page);
    const left = (await page.locator('.pair > div').first().textContent()).match(/Answer ([AB]) to/)[1];
    await shot(page, n === 0 ? 'pairwise' : `pairwise-${n}`);
    await page.locator('fieldset[data-field="better"]').focus();
    await page.keyboard.press('a'); // "Response 1 is better"
    await Promise.all([page.waitForURL((u) => !u.toString().endsWith(`/item/${item}`)),
      page.keyboard.press('ControlOrMeta+Enter')]);
    assert.equal(sql(`SELECT value->>'better' FROM flywheel.review_labels WHERE item_id = ${item}`), left);
    n++;
  }
  assert.equal(n, 4);
  assert.match(page.url(), /\/q\/pairs\/done$/);
  await shot(page, 'done');
  await page.context().close();
});

test('JavaScript off: sign in, label, submit with the mouse', async () => {
  const page = await newPage({ javaScriptEnabled: false });
  await signin(page, 'nojs');
  await startQueue(page, 'support');
  const { item } = itemOf(page);
  await page.locator('input[name="f:correct"][value="true"]').check();
  await page.locator('input[name="f:helpful"][value="3"]').check();
  await page.locator('ol.sents li select').first().selectOption('style');
  await Promise.all([page.waitForURL((u) => !u.toString().endsWith(`/item/${item}`)),
    page.click('#submit')]);
  assert.equal(sql(`SELECT (value->>'helpful') || (value->'problems'->0->>'category')
                    FROM flywheel.review_labels WHERE item_id = ${item}
                    AND reviewer = '${ACC.nojs.name}'`), '3style');
  await page.context().close();
});

test('16 reviewers in parallel never exceed the overlap', async () => {
  const names = Object.keys(ACC).filter((k) => /^p\d\d$/.test(k));
  let submitted = 0;
  await Promise.all(names.map(async (who) => {
    const page = await newPage();
    await signin(page, who);
    await startQueue(page, 'support');
    for (let round = 0; round < 2 && /\/item\/\d+$/.test(page.url()); round++) {
      const { item } = itemOf(page);
      await page.locator('input[name="f:correct"][value="true"]').check();
      await page.locator('input[name="f:helpful"][value="2"]').check();
      await Promise.all([page.waitForURL((u) => !u.toString().endsWith(`/item/${item}`)),
        page.click('#submit')]);
      submitted++;
    }
    await page.context().close();
  }));
  assert.ok(submitted >= 16, `submitted ${submitted}`);
  assert.equal(sql(`SELECT count(*) FROM (SELECT l.item_id FROM flywheel.review_labels l
                    JOIN flywheel.review_items i ON i.id = l.item_id
                    GROUP BY l.item_id, i.overlap HAVING count(*) > i.overlap) x`), '0',
  'labels per item never exceed the overlap');
  assert.equal(sql(`SELECT count(*) FROM (SELECT 1 FROM flywheel.review_labels
                    GROUP BY item_id, reviewer HAVING count(*) > 1) x`), '0',
  'no reviewer labelled an item twice');
});

test('adjudication by keyboard, quality, history and admin pages', async () => {
  // a queue of its own with two reviewers who disagree on three items
  sql(`SELECT flywheel.review_queue_create('{"name": "billing-disputes", "rubric": "web-quality",
         "overlap": 2, "rules": {"prompt_template": "support"}}'::jsonb);
       SELECT flywheel.review_fill('billing-disputes')`);
  for (const [who, correct, helpful] of [['bob', true, 4], ['carol', false, 2]]) {
    for (let i = 0; i < 3; i++) {
      const it = JSON.parse(sql(`SELECT flywheel.review_claim('billing-disputes', '${ACC[who].name}')`));
      const out = it.generation.output_messages[0].parts[0].content;
      const spans = who === 'bob'
        ? [{ message: 0, part: 0, start: 0, end: out.indexOf('. ') + 1, category: 'factual error' }] : [];
      const label = { correct, helpful, topic: 'billing', problems: spans };
      sql(`SELECT flywheel.review_submit(${it.item_id}, '${JSON.stringify(label)}'::jsonb, '${ACC[who].name}')`);
    }
  }
  const page = await newPage();
  await signin(page, 'adj');
  await page.goto(`${URL}/adjudicate`);
  await shot(page, 'disputes');
  const first = page.locator('#disputes tr', { hasText: 'billing-disputes' }).locator('a').first();
  const item = Number((await first.getAttribute('href')).split('/').pop());
  await Promise.all([page.waitForURL(/\/adjudicate\/\d+$/), first.click()]);
  const html = await page.content();
  for (const who of ['bob', 'carol']) {
    assert.ok(!html.includes(ACC[who].name), `blind: ${who}'s name is not on the page`);
  }
  assert.ok(html.includes('Reviewer A') && html.includes('Reviewer B'));
  assert.equal(await page.locator('ol.sents li.dispute').count(), 1, 'one sentence in dispute');
  await shot(page, 'adjudicate');
  // keyboard: the first field, 2 = false; down, 3 = helpful 3; Ctrl+Enter decides
  await page.locator('fieldset[data-field="correct"]').focus();
  await page.keyboard.press('2');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('3');
  await page.locator('#note').fill('The customer was charged once; the second line is a hold.');
  await Promise.all([page.waitForURL(/\/adjudicate$/), page.keyboard.press('Control+Enter')]);
  assert.equal(sql(`SELECT value->>'correct' || '|' || (value->>'helpful') || '|' || reviewer
                    FROM flywheel.review_labels WHERE item_id = ${item} AND is_adjudication`),
  `false|3|${ACC.adj.name}`, 'the decision stored as the adjudicator');
  await page.goto(`${URL}/quality`);
  assert.ok(await page.getByRole('table', { name: /Agreement per field/ }).isVisible());
  await shot(page, 'quality');
  await page.context().close();

  const rev = await newPage();
  await signin(rev, 'bob');
  await rev.goto(`${URL}/history`);
  await shot(rev, 'history');
  await rev.goto(`${URL}/adjudicate`);
  assert.ok(/Not allowed/.test(await rev.content()), 'a reviewer is refused the disputes');
  await rev.context().close();

  const adm = await newPage();
  await signin(adm, 'admin');
  for (const p of ['queues', 'rubrics', 'reviewers']) {
    await adm.goto(`${URL}/admin/${p}`);
    await shot(adm, `admin-${p}`);
  }
  await adm.context().close();
});

test('admin: add a reviewer, the link shown once, role, disable, the last admin kept', async () => {
  const name = process.env.FWT_NEW_ACCOUNT; // dropped by test_browser.py at exit
  const adm = await newPage();
  await signin(adm, 'admin');
  await adm.goto(`${URL}/admin/reviewers`);
  await adm.getByLabel('Name', { exact: true }).fill(name);
  await adm.locator('#new-kind').selectOption('adjudicator');
  await Promise.all([adm.waitForLoadState(),
    adm.getByRole('button', { name: 'Add and show the sign-in link' }).click()]);
  const box = adm.getByRole('status');
  assert.match(await box.textContent(), new RegExp(`Sign-in link for ${name}.*shown only this once`));
  const link = await adm.getByRole('textbox', { name: `Sign-in link for ${name}` }).inputValue();
  assert.match(link, new RegExp(`^${URL}/signin\\?t=[A-Za-z0-9_-]{43}$`));
  assert.equal(sql(`SELECT kind || '|' || created_by FROM flywheel.web_accounts WHERE name = '${name}'`),
    `adjudicator|${ACC.admin.name}`);
  await shot(adm, 'admin-reviewers-added');
  // the link signs the new account in; the list no longer shows it
  const neu = await newPage();
  await neu.goto(link);
  await Promise.all([neu.waitForURL(/\/queues$/), neu.click('#signin')]);
  assert.ok(await neu.getByRole('link', { name: 'Disputes' }).isVisible(), 'an adjudicator');
  await adm.goto(`${URL}/admin/reviewers`);
  assert.ok(!(await adm.content()).includes(link.split('t=')[1]), 'the link is not shown again');
  // role: reviewer; then disable: its session ends
  const row = adm.locator('#reviewers tr', { hasText: name });
  await row.getByLabel(`Role of ${name}`).selectOption('reviewer');
  await Promise.all([adm.waitForURL(/\/admin\/reviewers$/),
    row.getByRole('button', { name: 'Change role' }).click()]);
  assert.equal(sql(`SELECT kind FROM flywheel.web_accounts WHERE name = '${name}'`), 'reviewer');
  await Promise.all([adm.waitForURL(/\/admin\/reviewers$/),
    row.getByRole('button', { name: 'Disable' }).click()]);
  assert.equal(sql(`SELECT (disabled_at IS NOT NULL) || '|' ||
                    (SELECT count(*) FROM flywheel.web_sessions WHERE account = '${name}')
                    FROM flywheel.web_accounts WHERE name = '${name}'`), 'true|0');
  await neu.goto(`${URL}/queues`);
  assert.match(neu.url(), /\/signin$/, 'the disabled account is signed out');
  await neu.context().close();
  // the only admin cannot lock itself out
  const me = adm.locator('#reviewers tr', { hasText: ACC.admin.name });
  await me.getByRole('button', { name: 'Disable' }).click();
  assert.match(await adm.getByRole('alert').textContent(), /it is the last enabled admin/);
  assert.equal(sql(`SELECT disabled_at IS NULL FROM flywheel.web_accounts
                    WHERE name = '${ACC.admin.name}'`), 't');
  await shot(adm, 'admin-reviewers-refused');
  await adm.goto(`${URL}/admin/reviewers`);
  await shot(adm, 'admin-reviewers');
  assert.equal(sql(`SELECT count(*) FROM flywheel.web_audit WHERE account = '${ACC.admin.name}'
                    AND detail->>'account' = '${name}'`), '3', 'add, role, disable audited');
  await adm.context().close();
});

test('no CSP violation, page error or dialog on any page', () => {
  assert.deepEqual(problems, []);
});
