// The dashboard's task pages end to end in headless Debian chromium
// (playwright-core), against the real bosund, github plugin and fake
// GitHub that tests/integration/web_task.sh started.  One line per check:
// "PASS name" or "FAIL name: detail".  Environment: BASE, TOKEN, BOSUNCTL,
// SOCK, TASK (the task with PRs, artifacts, a run and questions), TITLES (a
// JSON array of the titles of the tasks made after the fillers), FILLERS
// (how many filler tasks came before), PENDING (the question left open),
// XSS (the payload in the PR's title, a file's path and an artifact's
// name), PLAN1..PLAN3 (the versions of notes/plan.md), BIN1 (base64 of the
// binary artifact's first version), GH and HOOK_SECRET (the fake GitHub
// and the webhook's secret), SHOTS.
import {report, launch} from './lib.mjs';
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, TASK, SHOTS, GH, HOOK_SECRET, XSS, PLAN1, PLAN2, PLAN3, BIN1, PENDING} = process.env;
const TITLES = JSON.parse(process.env.TITLES);
const FILLERS = Number(process.env.FILLERS);
mkdirSync(SHOTS, {recursive: true});

function check(name, got, want) {
  const a = JSON.stringify(got), b = JSON.stringify(want);
  report(name, a === b, `got ${a}, want ${b}`);
}
function ctl(...args) {
  return JSON.parse(execFileSync(BOSUNCTL, ['-s', SOCK, ...args, '--json'], {encoding: 'utf8'}));
}
async function rest(path) {
  const res = await fetch(`${BASE}/api/v1${path}`, {headers: {Authorization: `Bearer ${TOKEN}`}});
  return res.json();
}
const rowTitles = (page) => page.$$eval('table.tasks tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));

const browser = await launch();
const context = await browser.newContext({viewport: {width: 1440, height: 900}, acceptDownloads: true});
const page = await context.newPage();
try {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  await page.goto(`${BASE}/`);
  await page.waitForSelector('main[data-ready="login"]');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');

  // --- the index: the first page, then the next with the cursor
  await page.goto(`${BASE}/#/tasks`);
  await page.waitForSelector('main[data-ready="tasks"]');
  const total = FILLERS + TITLES.length;
  check('the index shows the first page of 100', await page.locator('table.tasks tbody tr').count(), 100);
  report('it says more are on the daemon', /more on the daemon/.test(await page.textContent('#tasks-note')),
         await page.textContent('#tasks-note'));
  await page.click('button.more');
  await page.waitForFunction((n) => document.querySelectorAll('table.tasks tbody tr').length === n, total);
  check('"Load more" pages on with the cursor, each task once', await page.locator('table.tasks tbody tr').count(), total);
  check('  and then no more to load', await page.isVisible('button.more'), false);
  const task = page.locator(`tr[data-task="${TASK}"]`);
  check('the task is listed with its pending question', await task.locator('td.pending').textContent(), 'yes (1)');
  const cells = await task.locator('td').allTextContents();
  const row = (await rest(`/tasks/${TASK}`)).task;
  check('  with its status and owner as the daemon has them', [cells[1], cells[2]], [row.status, row.owner]);
  report('  and when it was updated, relative', /ago|just now/.test(cells[4]), cells[4]);

  // --- sorting by a column's header button, said by aria-sort
  await page.click('th button[data-sort="title"]');
  const asc = await rowTitles(page);
  const sorted = [...asc].sort((a, b) => (a.toLowerCase() > b.toLowerCase() ? 1 : a.toLowerCase() < b.toLowerCase() ? -1 : 0));
  check('sorted by title, A to Z', asc, sorted);
  check('  aria-sort says ascending', await page.getAttribute('th:has(button[data-sort="title"])', 'aria-sort'), 'ascending');
  check('  the other headers none', await page.getAttribute('th:has(button[data-sort="updated_at"])', 'aria-sort'), 'none');
  await page.click('th button[data-sort="title"]');
  check('again: Z to A', await rowTitles(page), [...sorted].reverse());
  check('  aria-sort says descending', await page.getAttribute('th:has(button[data-sort="title"])', 'aria-sort'), 'descending');
  // the keyboard: from the search box, Tab to the Owner header, Enter
  await page.focus('input[type="search"]');
  let onOwner = false;
  for (let i = 0; i < 10 && !onOwner; i++) {
    await page.keyboard.press('Tab');
    onOwner = await page.evaluate(() => document.activeElement && document.activeElement.dataset.sort === 'owner');
  }
  if (onOwner) await page.keyboard.press('Enter');
  check('a header is sorted by keyboard too', await page.getAttribute('th:has(button[data-sort="owner"])', 'aria-sort'), 'ascending');
  await page.click('th button[data-sort="pending"]');
  check('by "Waiting": the task with a question first', await page.getAttribute('table.tasks tbody tr:first-child', 'data-task'), TASK);

  // --- searching by title and by id
  await page.fill('input[type="search"]', 'ZULU');
  check('search by title (any case) keeps the matching task', await rowTitles(page), TITLES.filter((t) => /zulu/i.test(t)));
  report('  and says it searched what was loaded', /of \d+ tasks loaded/.test(await page.textContent('#tasks-note')),
         await page.textContent('#tasks-note'));
  await page.fill('input[type="search"]', TASK.slice(-8));
  check('search by ID', await page.$$eval('table.tasks tbody tr', (r) => r.map((x) => x.dataset.task)), [TASK]);
  await page.fill('input[type="search"]', 'no such task anywhere');
  check('no match, no rows', await page.locator('table.tasks tbody tr').count(), 0);
  await page.fill('input[type="search"]', '');
  await page.selectOption('select[name="status"]', 'waiting_input');
  await page.waitForFunction(() => document.querySelectorAll('table.tasks tbody tr').length < 10);
  const waiting = ((await rest('/tasks?status=waiting_input')).items || []).map((t) => t.task);
  check('the status filter is the daemon\'s', await page.$$eval('table.tasks tbody tr', (r) => r.map((x) => x.dataset.task)), waiting);
  await page.selectOption('select[name="status"]', '');
  await page.waitForFunction((n) => document.querySelectorAll('table.tasks tbody tr').length === n, 100);
  const fresh = await (await fetch(`${BASE}/api/v1/tasks`, {method: 'POST', body: JSON.stringify({title: 'arrived live'}),
    headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json'}})).json();
  await page.waitForSelector(`tr[data-task="${fresh.task}"]`, {timeout: 10000});
  report('a task made elsewhere shows in the index, live', true);
  await page.screenshot({path: `${SHOTS}/task-index.png`});

  // --- the task page
  await page.click(`tr[data-task="${TASK}"] a`);
  await page.waitForSelector(`main[data-ready="tasks/${TASK}"]`);
  await page.waitForSelector('article.pr[data-pr="acme/widgets#7"]');
  const pr7 = page.locator('article.pr[data-pr="acme/widgets#7"]');
  check('the PR\'s title is text, payload and all', await pr7.locator('a.pr-title').textContent(), XSS);
  check('  linked to GitHub', await pr7.locator('a.pr-title').getAttribute('href'), 'https://github.com/acme/widgets/pull/7');
  check('  state in words', await pr7.locator('.pr-state .badge').textContent(), 'open');
  check('  checks summarised', await pr7.locator('.pr-checks').textContent(), 'failure: 1 passed, 1 failed, 0 pending of 2');
  check('  review decision', await pr7.locator('.pr-review').textContent(), 'approved');
  check('  head and base', await pr7.locator('.pr-refs').textContent(), 'feature → main');
  check('  author', await pr7.locator('.pr-author').textContent(), 'octocat');
  check('a draft says draft', await page.textContent('article.pr[data-pr="acme/widgets#8"] .pr-state .badge'), 'draft');
  check('a merged one says merged', await page.textContent('article.pr[data-pr="acme/widgets#9"] .pr-state .badge'), 'merged');

  // its diff and files, on demand
  check('the diff is not loaded before it is asked for', await pr7.locator('.pr-diff pre.diff').count(), 0);
  await pr7.locator('button:has-text("Show diff")').click();
  await pr7.locator('.pr-diff pre.diff').waitFor();
  check('the diff: its added lines', await pr7.locator('.pr-diff .d-add').allTextContents(), ['+new line one', '+new line two']);
  check('  its removed line', await pr7.locator('.pr-diff .d-del').allTextContents(), ['-old line']);
  check('  the button says it is open', await pr7.locator('button:has-text("Hide diff")').getAttribute('aria-expanded'), 'true');
  await pr7.locator('button:has-text("Show files")').click();
  await pr7.locator('li.pr-file').first().waitFor();
  const files = await pr7.locator('li.pr-file code.path').allTextContents();
  check('the files: each path, the payload as text', files, ['src/frob.c', `docs/${XSS}.md`]);
  check('  status and +/-', (await pr7.locator('li.pr-file').first().textContent()).replace(/Patch.*/s, ''),
        'src/frob.c modified +2 −1');
  check('  the patch is drawn only when opened', await pr7.locator('li.pr-file details.patch pre').count(), 0);
  await pr7.locator('li.pr-file').first().locator('details.patch summary').click();
  await pr7.locator('li.pr-file').first().locator('details.patch pre.diff').waitFor();
  check('  opened, the file\'s patch', await pr7.locator('li.pr-file').first().locator('.d-add').allTextContents(),
        ['+int frob(void) { return 2; }', '+/* two */']);
  await page.screenshot({path: `${SHOTS}/task-prs.png`, fullPage: true});

  // --- artifacts with versions
  const plan = page.locator('details.artifact[data-artifact="notes/plan.md"]');
  report('plan.md says its 3 versions', /3 versions/.test(await plan.locator('summary').textContent()),
         await plan.locator('summary').textContent());
  await plan.locator('summary').click();
  await plan.locator('table.versions tbody tr').first().waitFor();
  check('opened: every version, newest first', await plan.locator('table.versions tbody tr').evaluateAll((r) => r.map((x) => x.dataset.version)),
        ['3', '2', '1']);
  await plan.locator('tr[data-version="1"] button.view').click();
  await plan.locator('pre.artifact-text[data-version="1"]').waitFor();
  check('a version is shown as text', await plan.locator('pre.artifact-text').textContent(), PLAN1);
  await plan.locator('select[name="from"]').selectOption('1');
  await plan.locator('select[name="to"]').selectOption('3');
  await plan.locator('form.diff-form button[type="submit"]').click();
  await plan.locator('pre.diff').waitFor();
  check('v1 against v3: the removed line', await plan.locator('pre.diff .d-del').allTextContents(), ['-step two']);
  check('  the added lines', await plan.locator('pre.diff .d-add').allTextContents(), ['+step 2 (revised)', '+step four']);
  check('  named by version', await plan.locator('pre.diff .d-meta').allTextContents(),
        ['--- notes/plan.md v1', '+++ notes/plan.md v3']);
  await page.screenshot({path: `${SHOTS}/task-artifact-diff.png`, fullPage: true});
  const link = plan.locator('tr[data-version="2"] a.download');
  check('the download link is the REST route', await link.getAttribute('href'),
        `/api/v1/tasks/${TASK}/artifacts/notes%2Fplan.md?version=2`);
  const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
  check('downloading v2 saves its name', dl.suggestedFilename(), 'plan.md');
  check('  and its bytes', readFileSync(await dl.path(), 'utf8'), PLAN2);

  const bin = page.locator('details.artifact[data-artifact="blob.bin"]');
  await bin.locator('summary').click();
  await bin.locator('tr[data-version="1"] button.view').click();
  await bin.locator('p.binary').waitFor();
  report('binary content is said, with its size', /Binary content .*6 bytes/.test(await bin.locator('p.binary').textContent()),
         await bin.locator('p.binary').textContent());
  const [dl2] = await Promise.all([page.waitForEvent('download'), bin.locator('tr[data-version="1"] a.download').click()]);
  check('  downloaded, its exact bytes', readFileSync(await dl2.path()).toString('base64'), BIN1);

  const big = page.locator('details.artifact[data-artifact="big.txt"]');
  await big.locator('summary').click();
  await big.locator('form.diff-form button[type="submit"]').click();
  await big.locator('p.too-large').waitFor();
  report('versions too different to diff in the page are said so', !(await big.locator('pre.diff').count()),
         'a diff was drawn');

  const evil = page.locator('details.artifact .name', {hasText: 'onerror'});
  check('an artifact\'s name is text, payload and all', await evil.textContent(), `${XSS}.txt`);

  // --- questions and answers, runs, the timeline
  const qa = await page.textContent('section[aria-labelledby="tq-h"]');
  report('questions with their answers', qa.includes('Which colour?') && qa.includes('blue') && qa.includes('Ship it?'), qa.slice(0, 200));
  report('the open question can be answered here', await page.isVisible(`article[data-input="${PENDING}"]`), 'no card');
  check('the runs', await page.locator('section[aria-labelledby="tr-h"] tbody tr').count(), 1);
  const said = await page.$$eval('ol.timeline .what', (els) => els.map((e) => e.textContent));
  const has = (re) => said.some((t) => re.test(t));
  report('the timeline says what happened', has(/^Question from worker: Which colour\?/) && has(/^Answered by .*: blue$/) &&
         has(/^Artifact notes\/plan\.md v3 added/) && has(/^Pull request acme\/widgets#7 linked/) && has(/^Task created/),
         said.slice(0, 12).join(' | '));
  report('  with relative times', (await page.$$eval('ol.timeline time', (t) => t.map((x) => x.textContent)))
    .every((t) => /ago|just now/.test(t)), 'a time not relative');
  const order = await page.$$eval('ol.timeline li', (li) => li.map((x) => Number(x.dataset.seq)));
  report('  newest first', order.length > 5 && order.every((s, i) => i === 0 || s < order[i - 1]), order.join(','));

  // --- live: a new version and an answer given elsewhere, in place
  ctl('request', 'cmd.store.artifacts.put', JSON.stringify({task: TASK, name: 'notes/plan.md', mime_type: 'text/markdown',
                                                           text: `${PLAN3}step five\n`}));
  await page.waitForSelector('details.artifact[data-artifact="notes/plan.md"] tr[data-version="4"]', {timeout: 10000});
  report('a new version shows live in the open artifact', true);
  check('  the PR diff opened before stays open', await pr7.locator('.pr-diff pre.diff').count(), 1);
  await page.waitForSelector('ol.timeline .what:has-text("notes/plan.md v4 added")', {timeout: 10000});
  report('  and on top of the timeline', (await page.textContent('ol.timeline li:first-child .what')).includes('v4'), 'not first');
  execFileSync('curl', ['-s', '-o', '/dev/null', '-H', `Authorization: Bearer ${TOKEN}`, '-H', 'Content-Type: application/json',
                        '-d', '{"text":"tomorrow"}', `${BASE}/api/v1/inputs/${PENDING}/answer`]);
  await page.waitForSelector(`article[data-input="${PENDING}"]`, {state: 'detached', timeout: 10000});
  report('a question answered elsewhere leaves the page', (await page.textContent('section[aria-labelledby="tq-h"]')).includes('tomorrow'),
         'the answer is not shown');

  // --- a webhook says the draft is ready: its card changes, the open diff stays
  await fetch(`${GH}/_fake/pull`, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                   body: JSON.stringify({owner: 'acme', repo: 'widgets', number: 8, draft: false})});
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const hook = await (await fetch(`${GH}/_fake/webhook`, {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({url: `${BASE}/api/v1/github/webhook`, secret: HOOK_SECRET, event: 'pull_request',
      payload: {action: 'ready_for_review', pull_request: {number: 8, updated_at: now},
                repository: {name: 'widgets', owner: {login: 'acme'}}, sender: {login: 'alice'}}})})).json();
  check('the fake delivered a signed webhook', hook.status, 200);
  await page.waitForFunction(() => (document.querySelector('article.pr[data-pr="acme/widgets#8"] .pr-state .badge') || {}).textContent === 'open',
                             null, {timeout: 15000});
  report('the draft made ready shows open, live', true);
  check('  the PR diff opened before is still there', await pr7.locator('.pr-diff pre.diff .d-add').count(), 2);

  // --- no markup from agents or GitHub ran or became an element
  check('no script ran', await page.evaluate(() => window.__xss), undefined);
  check('no element made from the payloads', await page.locator('main img, main script').count(), 0);

  // --- the phone
  await page.setViewportSize({width: 375, height: 812});
  report('no horizontal scroll at 375x812', await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
         'scrollWidth > clientWidth');
  await page.screenshot({path: `${SHOTS}/task-phone.png`, fullPage: true});
  // --- a share link: the task read with its token, a version downloaded with it
  const share = await (await fetch(`${BASE}/api/v1/shares`, {method: 'POST',
    headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json'}, body: JSON.stringify({task: TASK})})).json();
  const shareCtx = await browser.newContext({viewport: {width: 375, height: 812}, acceptDownloads: true});
  const sp = await shareCtx.newPage();
  sp.on('pageerror', (e) => problems.push(`share page: ${e}`));
  await sp.goto(share.url);
  await sp.waitForSelector(`main[data-ready="tasks/${TASK}"]`);
  // A share reads its task's pull requests (GET .../prs is "read, task"),
  // their titles as text, and no other task's.
  await sp.waitForFunction(() => document.querySelectorAll('article.pr').length === 3);
  check('the shared page lists its task\'s three PRs', await sp.locator('article.pr').count(), 3);
  check('  a PR title with markup stays text there', await sp.evaluate(() => window.__xss), undefined);
  const shareToken = new URL(share.url).searchParams.get('share');
  const asShare = (path) => fetch(`${BASE}/api/v1${path}`, {headers: {Authorization: `Bearer ${shareToken}`}});
  check('  its token reads the PR diff', (await asShare(`/tasks/${TASK}/pr-diff?pr=7`)).status, 200);
  check('  but not another task\'s PRs', (await asShare('/tasks/01ZZZZZZZZZZZZZZZZZZZZZZZZ/prs')).status, 404);
  const splan = sp.locator('details.artifact[data-artifact="notes/plan.md"]');
  await splan.locator('summary').click();
  const [dl3] = await Promise.all([sp.waitForEvent('download'), splan.locator('tr[data-version="3"] a.download').click()]);
  check('a version downloaded from the shared page (its token, no cookie)', readFileSync(await dl3.path(), 'utf8'), PLAN3);
  check('  and named', dl3.suggestedFilename(), 'plan.md');
  await sp.screenshot({path: `${SHOTS}/task-share-phone.png`, fullPage: true});
  await shareCtx.close();
  check('no errors in the console', problems.join(' | '), '');
} catch (e) {
  await page.screenshot({path: `${SHOTS}/task-failure.png`, fullPage: true}).catch(() => {});
  console.log(`# page text at the failure: ${(await page.textContent('body').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600)}`);
  report('the scenario ran to its end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : String(e));
} finally {
  await browser.close();
}
