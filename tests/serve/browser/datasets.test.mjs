// Browser tests of the dataset and eval run pages (issue 15) in Debian's
// Chromium through playwright-core. Started by ../test_dash_datasets_browser.py,
// which records dataset versions and two eval runs, makes an admin account
// and starts the server. Every page: no CSP violation, no page error, charts
// found by role and name, tables equal SQL; a downloaded file has the sha256
// its version recorded. Full-page screenshots at 1280x800 go to FWT_SHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(process.env.FWT_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const URL = process.env.FWT_URL;
const DSN = process.env.FWT_DSN;
const ACC = JSON.parse(process.env.FWT_ACCOUNTS);
const SHOTS = process.env.FWT_SHOTS;

let browser;
const problems = [];

function sql(q) {
  const out = execFileSync('psql', ['-X', '-qA', '-F', '\t', '--no-align', '-t', '-v',
    'ON_ERROR_STOP=1', '-d', DSN, '-c', q], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

async function newPage(viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
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

// The rows of a table (a chart's "-data" table or a plain one), as text.
async function rowsOf(page, selector) {
  return page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) =>
    [...tr.children].map((c) => (c.textContent === '–' ? '' : c.textContent))));
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

test('datasets: the list, a version, its diff and a download', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.goto(`${URL}/dash`);
  await Promise.all([page.waitForURL(/\/dash\/datasets$/),
    page.getByRole('link', { name: 'Datasets' }).click()]);
  for (const name of ['Lines per split of every dataset version',
    'Rejected rows of every dataset version']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const want = sql(`SELECT dataset || ' v' || version, manifest #>> '{lines,train}',
      manifest #>> '{lines,validation}', manifest #>> '{lines,test}'
    FROM flywheel.dataset_versions ORDER BY dataset, version`);
  assert.equal(want.length, 3);
  assert.deepEqual(await rowsOf(page, '#versions-data'), want);
  await page.screenshot({ path: path.join(SHOTS, 'dash-datasets.png'), fullPage: true });

  // a version: charts, lineage, files; then the diff with v1
  await Promise.all([page.waitForURL(/\/dash\/datasets\/demo\/2$/),
    page.locator('#versions-list a[href="/dash/datasets/demo/2"]').click()]);
  for (const name of ['Lines per split', 'Rejected rows by reason']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const lines = sql(`SELECT s, manifest #>> ARRAY['lines', s] FROM flywheel.dataset_versions,
      unnest(ARRAY['train', 'validation', 'test']) s WHERE dataset = 'demo' AND version = 2`);
  assert.deepEqual(await rowsOf(page, '#splits-data'), lines);
  await page.selectOption('#f-diff', '1');
  await Promise.all([page.waitForURL(/diff=1/), page.getByRole('button', { name: 'Compare' }).click()]);
  const added = sql(`SELECT count(*) FROM flywheel.dataset_diff('demo', 1, 2)
    WHERE change = 'added'`)[0][0];
  assert.equal(await page.locator('#diff-added').textContent(), added);
  assert.ok(Number(added) > 0, 'v2 adds members');
  await page.screenshot({ path: path.join(SHOTS, 'dash-dataset-version.png'), fullPage: true });

  // a download: the bytes have the sha256 the version recorded
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.locator('#files a[download]').first().click()]);
  const file = dl.suggestedFilename().replace(/^demo-v2-/, '');
  const sha = createHash('sha256').update(await fs.readFile(await dl.path())).digest('hex');
  const recorded = sql(`SELECT f->>'sha256' FROM flywheel.dataset_versions,
      jsonb_array_elements(manifest->'files') f
    WHERE dataset = 'demo' AND version = 2 AND f->>'name' = '${file}'`);
  assert.deepEqual([[sha]], recorded, `sha256 of the downloaded ${file}`);
  await page.context().close();
});

test('eval runs: the list, a run and a comparison', async () => {
  const page = await newPage();
  await signin(page, 'admin');
  await page.goto(`${URL}/dash/datasets`);
  await Promise.all([page.waitForURL(/\/dash\/evals$/),
    page.getByRole('link', { name: 'Eval runs' }).click()]);
  await page.getByRole('img', { name: 'Mean score per scorer of every run' }).waitFor();
  const runs = sql(`SELECT r.name, (SELECT round(avg(s.score)::numeric, 3) FROM flywheel.eval_scores s
      WHERE s.run_id = r.id AND s.scorer = 'contains') FROM flywheel.eval_runs r
    ORDER BY r.created_at DESC, r.name`);
  assert.deepEqual((await rowsOf(page, '#scores-data')).map((r) => r.slice(0, 2)), runs);
  await page.screenshot({ path: path.join(SHOTS, 'dash-evals.png'), fullPage: true });

  // the comparison form preselects the newest run as B and the one before as A
  await Promise.all([page.waitForURL(/\/dash\/evals\/compare\?a=base&b=cand$/),
    page.getByRole('button', { name: 'Compare' }).click()]);
  for (const name of ['Mean score by scorer, A and B', 'Cases improved, regressed and unchanged']) {
    await page.getByRole('img', { name }).waitFor();
  }
  const outcomes = sql(`SELECT sa.scorer, count(*) FILTER (WHERE sb.score - sa.score > 1e-9),
      count(*) FILTER (WHERE sa.score - sb.score > 1e-9),
      count(*) FILTER (WHERE abs(sb.score - sa.score) <= 1e-9)
    FROM flywheel.eval_scores sa JOIN flywheel.eval_runs ra ON ra.id = sa.run_id AND ra.name = 'base'
    JOIN flywheel.eval_scores sb ON sb.case_id = sa.case_id AND sb.scorer = sa.scorer
    JOIN flywheel.eval_runs rb ON rb.id = sb.run_id AND rb.name = 'cand'
    WHERE sa.score IS NOT NULL AND sb.score IS NOT NULL GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(await rowsOf(page, '#outcomes-data'), outcomes);
  await page.screenshot({ path: path.join(SHOTS, 'dash-eval-compare.png'), fullPage: true });

  await Promise.all([page.waitForURL(/\/dash\/evals\/run\/cand$/),
    page.getByRole('link', { name: 'cand', exact: true }).first().click()]);
  await page.getByRole('img', { name: 'Mean score by scorer' }).waitFor();
  const cases = sql(`SELECT count(*) FROM flywheel.eval_cases c JOIN flywheel.eval_runs r
    ON r.id = c.run_id WHERE r.name = 'cand'`)[0][0];
  assert.equal(await page.locator('#cases tbody tr').count(), Number(cases));
  await page.screenshot({ path: path.join(SHOTS, 'dash-eval-run.png'), fullPage: true });
  await page.context().close();
});
