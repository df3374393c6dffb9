// Browser tests of the dashboards (issue 15) in Debian's Chromium through
// playwright-core. Started by ../test_dash_browser.py, which seeds the
// database (dash_seed.sql ending at FWT_END), makes an admin account and
// starts the server. Every page: no CSP violation, no page error, charts
// found by role and name, the numbers in each chart's table equal SQL run
// directly on flywheel.generations; a filter changes them as the SQL says.
// Full-page screenshots at 1280x800 (and a phone-sized one) go to FWT_SHOTS.
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
const END = process.env.FWT_END;

let browser;
const problems = [];

function sql(q) {
  const out = execFileSync('psql', ['-X', '-qA', '-F', '\t', '--no-align', '-t', '-v',
    'ON_ERROR_STOP=1', '-d', DSN, '-c', q], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

async function newPage(viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.setDefaultTimeout(120000);
  page.on('console', (m) => {
    // the browser's own favicon request is the one 404 allowed
    if (m.type() === 'error' && /\/favicon\.ico$/.test(m.location()?.url ?? '')) return;
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  return page;
}

async function signin(page, who) {
  const out = execFileSync(process.env.FWT_FLYWHEEL, ['reviewer', 'link', ACC[who].name,
    '--dsn', DSN, '--url', URL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  await page.goto(out.trim());
  await Promise.all([page.waitForURL(/\/queues$/), page.click('#signin')]);
}

async function tableOf(page, id) {
  return page.locator(`#${id}-data tbody tr`).evaluateAll((trs) => trs.map((tr) =>
    [...tr.children].map((c) => (c.textContent === '–' ? '' : c.textContent))));
}

// Traffic per bucket straight from the table (not the views).
function trafficSQL(window, bucket, where = 'true') {
  return sql(`WITH b AS (SELECT h FROM generate_series(
      date_bin(interval '${bucket}', timestamptz '${END}' - interval '${window}',
               timestamptz '2000-01-01 00:00Z'),
      timestamptz '${END}' - interval '1 microsecond', interval '${bucket}') h)
    SELECT to_char(h AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
      (SELECT count(*) FROM flywheel.generations g WHERE g.event_time >= h
         AND g.event_time < h + interval '${bucket}' AND g.status <> 'error'
         AND g.event_time >= timestamptz '${END}' - interval '${window}' AND ${where}),
      (SELECT count(*) FROM flywheel.generations g WHERE g.event_time >= h
         AND g.event_time < h + interval '${bucket}' AND g.status = 'error'
         AND g.event_time >= timestamptz '${END}' - interval '${window}' AND ${where}),
      (SELECT coalesce(round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::numeric, 1)::text, '')
         FROM flywheel.generations g WHERE g.event_time >= h AND g.event_time < h + interval '${bucket}'
         AND g.event_time >= timestamptz '${END}' - interval '${window}' AND ${where})
    FROM b ORDER BY h`);
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.FWT_CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], 'console errors, CSP violations or dialogs');
});

test('overview: charts by role and name, tables equal SQL, a filter changes them', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.getByRole('link', { name: 'Dashboards' }).click();
  await page.waitForURL(/\/dash$/);
  await page.goto(`${URL}/dash?window=24h&end=${encodeURIComponent(END)}`);
  for (const name of ['Generations and errors, last 24h', 'Latency percentiles, last 24h',
    'Time to first token, last 24h', 'Tokens, last 24h', 'Cost, last 24h',
    'Generations by model, last 24h', 'Cost by model, last 24h', 'p95 latency by model, last 24h']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const want = trafficSQL('24 hours', '1 hour');
  assert.equal(want.length, 24);
  assert.deepEqual(await tableOf(page, 'traffic'), want.map((r) => [r[0], r[1], r[2]]));
  assert.deepEqual((await tableOf(page, 'latency')).map((r) => [r[0], r[2]]),
    want.map((r) => [r[0], r[3]]));
  await page.screenshot({ path: path.join(SHOTS, 'dash-overview.png'), fullPage: true });

  // the filter form: 7 days, model "mini", environment "prod"
  await page.selectOption('#f-window', '7d');
  await page.fill('#f-model', 'mini');
  await page.fill('#f-environment', 'prod');
  await Promise.all([page.waitForURL(/model=mini/), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.match(page.url(), /window=7d/);
  await page.getByRole('img', { name: 'Generations and errors, last 7d' }).waitFor();
  const want7 = trafficSQL('7 days', '6 hours', "request_model = 'mini' AND environment = 'prod'");
  const all7 = trafficSQL('7 days', '6 hours');
  assert.notDeepEqual(want7.map((r) => r.slice(0, 3)), all7.map((r) => r.slice(0, 3)));
  assert.deepEqual(await tableOf(page, 'traffic'), want7.map((r) => [r[0], r[1], r[2]]));

  // the CSV link downloads the same numbers as the table
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.locator('#traffic a[download]').click()]);
  const fs = await import('node:fs/promises');
  const csv = await fs.readFile(await dl.path(), 'utf8');
  const lines = csv.trim().split('\r\n').slice(1).map((l) => l.split(','));
  assert.deepEqual(lines, want7.map((r) => [r[0], r[1], r[2]]));
  await page.context().close();
});

test('overview on a phone-sized screen', async () => {
  const page = await newPage({ width: 390, height: 844 });
  await signin(page, 'admin');
  await page.goto(`${URL}/dash?window=24h&end=${encodeURIComponent(END)}`);
  await page.getByRole('img', { name: 'Latency percentiles, last 24h' }).waitFor();
  // charts scale to the screen: none is wider than the viewport
  const widths = await page.locator('svg.chart').evaluateAll((s) => s.map((e) => e.getBoundingClientRect().width));
  assert.ok(widths.length >= 8 && widths.every((w) => w > 200 && w <= 390), `chart widths ${widths}`);
  await page.screenshot({ path: path.join(SHOTS, 'dash-overview-phone.png'), fullPage: true });
  await page.context().close();
});

test('the flywheel page: charts by role and name, backlog equals the review tables', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.goto(`${URL}/dash`);
  await Promise.all([page.waitForURL(/\/dash\/flywheel$/),
    page.getByRole('link', { name: 'The flywheel' }).click()]);
  for (const name of ['Backlog per queue', 'Age of the oldest open item per queue',
    'Labels over time, last 30d', 'Labels per reviewer, last 30d', 'Agreement per field, last 30d',
    'Gold accuracy per field', 'Label coverage of generations, last 30d',
    'Dataset versions and their size']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const want = sql(`SELECT q.name, count(i.id) FILTER (WHERE i.status = 'pending' AND NOT i.is_gold),
      count(i.id) FILTER (WHERE i.status = 'labelled')
    FROM flywheel.review_queues q LEFT JOIN flywheel.review_items i ON i.queue_id = q.id
    GROUP BY q.name ORDER BY q.name`);
  assert.deepEqual((await tableOf(page, 'backlog')).map((r) => [r[0], r[1], r[3]]), want);
  assert.ok(want.some((r) => Number(r[2]) > 0), 'labelled items exist');
  await page.screenshot({ path: path.join(SHOTS, 'dash-flywheel.png'), fullPage: true });
  await page.context().close();
});

test('quality page: charts by role and name, tables equal SQL, a conversation opens its trace', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.goto(`${URL}/dash`);
  await Promise.all([page.waitForURL(/\/dash\/quality$/),
    page.getByRole('link', { name: 'Quality and feedback' }).click()]);
  await page.goto(`${URL}/dash/quality?window=24h&end=${encodeURIComponent(END)}`);
  for (const name of ['Thumbs-up rate and feedback coverage, last 24h', 'Mean score, last 24h',
    'Feedback events and corrections, last 24h', 'Quality by release, last 24h',
    'Mean score by release, last 24h', 'Generations, feedback and corrections by release, last 24h',
    'Quality by prompt version, last 24h', 'Errors by type, last 24h']) {
    await page.getByRole('img', { name }).waitFor();
  }
  // feedback events and corrections per hour, straight from flywheel.feedback
  const want = sql(`SELECT to_char(h AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
      (SELECT count(*) FROM flywheel.feedback f WHERE f.event_time >= h
         AND f.event_time < h + interval '1 hour'),
      (SELECT count(*) FROM flywheel.feedback f WHERE f.event_time >= h
         AND f.event_time < h + interval '1 hour' AND f.value_type = 'bool'),
      (SELECT count(*) FROM flywheel.feedback f WHERE f.event_time >= h
         AND f.event_time < h + interval '1 hour' AND f.correction IS NOT NULL)
    FROM generate_series(timestamptz '${END}' - interval '24 hours',
                         timestamptz '${END}' - interval '1 hour', interval '1 hour') h ORDER BY h`);
  assert.equal(want.length, 24);
  assert.deepEqual(await tableOf(page, 'feedback'), want);
  await page.screenshot({ path: path.join(SHOTS, 'dash-quality.png'), fullPage: true });
  // the top of the page, as shown in docs/dashboards.md
  await page.screenshot({ path: path.join(SHOTS, 'dash-quality-top.png'), fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: 1240 } });

  // the slowest conversation opens its read-only trace
  const first = page.locator('#slowest-data tbody tr').first().getByRole('link');
  assert.equal(await first.textContent(), 'dconv-agent');
  await Promise.all([page.waitForURL(/\/dash\/trace\/[0-9a-f-]{36}$/), first.click()]);
  await page.getByRole('img', { name: 'Timing of each call' }).waitFor();
  await page.getByRole('heading', { name: 'Trace of a conversation' }).waitFor();
  // the model's markup is shown as text, and runs nothing (no dialog: see after())
  await page.getByText('Order 42 has shipped. <script>alert("agent")</script> <b>Thanks</b>').waitFor();
  assert.equal(await page.locator('main b').count(), 0);
  const timing = sql(`SELECT round(ttft_ms::numeric, 1), round((duration_ms - ttft_ms)::numeric, 1)
    FROM flywheel.generations WHERE conversation_id = 'dconv-agent' ORDER BY event_time`);
  assert.deepEqual((await tableOf(page, 'timing')).map((r) => r.slice(1)), timing);
  await page.screenshot({ path: path.join(SHOTS, 'dash-trace.png'), fullPage: true });
  await page.context().close();
});

test('collector and ingest: charts by role and name, a dead letter, its replay', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.goto(`${URL}/dash`);
  await Promise.all([page.waitForURL(/\/dash\/ingest$/),
    page.getByRole('link', { name: 'Collector and ingest' }).click()]);
  await page.goto(`${URL}/dash/ingest?window=24h&end=${encodeURIComponent(END)}`);
  for (const name of ['Events per second, last 24h',
    'Ingest lag per partition (event time to stored), last 24h',
    "Seconds since each partition's offset moved", 'Dead letters by reason, last 24h']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const want = sql(`SELECT reason, count(*) FILTER (WHERE replayed_at IS NULL),
      count(*) FILTER (WHERE replayed_at IS NOT NULL) FROM flywheel.dead_letters
    WHERE received_at >= timestamptz '${END}' - interval '24 hours'
      AND received_at < timestamptz '${END}' GROUP BY 1 ORDER BY count(*) DESC, 1`);
  assert.deepEqual(await tableOf(page, 'reasons'), want);
  await page.screenshot({ path: path.join(SHOTS, 'dash-ingest.png'), fullPage: true });

  // a dead letter: the payload as hex and escaped ASCII, replay for an admin
  const id = sql('SELECT max(id) FROM flywheel.dead_letters')[0][0];
  await Promise.all([page.waitForURL(new RegExp(`/dash/deadletter/${id}$`)),
    page.locator('#deadletters-data').getByRole('link', { name: id }).click()]);
  assert.match(await page.locator('#payload').textContent(), /00 ff 3c 73 63 72 69 70 .*\|\.\.<script>alert\(\|/);
  await page.screenshot({ path: path.join(SHOTS, 'dash-deadletter.png'), fullPage: true });
  await Promise.all([page.waitForURL(/outcome=invalid$/),
    page.getByRole('button', { name: 'Replay' }).click()]);
  await page.getByText('Not replayed: it still fails validation.').waitFor();
  await page.context().close();
});
