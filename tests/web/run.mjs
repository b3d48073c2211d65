// The dashboard's run page end to end in headless Debian chromium
// (playwright-core), against the real bosund tests/integration/web_run.sh
// started.  One line per check: "PASS name" or "FAIL name: detail"; the
// shell script turns them into TAP.  Environment: BASE, TOKEN (an admin
// token), BOSUNCTL and SOCK, GATES (where the editor agent waits for its
// cues), WORK (the Claude runs' directory), SHOTS (screenshots).
import {report, check, launch} from './lib.mjs';
import {execFileSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, GATES, WORK, SHOTS} = process.env;
mkdirSync(SHOTS, {recursive: true});

function ctl(...args) {
  return JSON.parse(execFileSync(BOSUNCTL, ['-s', SOCK, ...args, '--json'], {encoding: 'utf8'}));
}
async function rest(method, path, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method, headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {status: res.status, json: await res.json().catch(() => null)};
}
// f() until it is truthy or ms passed (bounded: never a test that hangs).
async function until(f, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const runOf = async (id) => (await rest('GET', `/runs/${id}`)).json?.run || {};
const ended = async (id) => ['EXITED', 'FATAL', 'STOPPED', 'WAITING_INPUT'].includes((await runOf(id)).state);
const text = (page, sel) => page.locator(sel).allTextContents().then((t) => t.join('\n'), () => '');
// Markup from events made into elements, or run: what no payload may do.
const xssRan = (page) => page.evaluate(() => window.__xss !== undefined ||
  document.querySelectorAll('main img, main script, main i, main b').length > 0);
async function openRun(page, id) {
  await page.goto(`${BASE}/#/runs/${id}`);
  await page.waitForSelector(`main[data-ready="runs/${id}"]`);
}

const browser = await launch();
const context = await browser.newContext({viewport: {width: 1440, height: 900}});
const page = await context.newPage();
try {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));

  // --- sign in
  await page.goto(`${BASE}/`);
  await page.waitForSelector('main[data-ready="login"]');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');
  await page.waitForSelector('#conn[data-state="live"]');

  // --- changes: an exec agent in a worktree, edited on cue
  const ed = (await rest('POST', '/agents/editor/start', {})).json?.run?.run;
  report('the editor started', !!ed, 'no run');
  await until(async () => (await runOf(ed)).state === 'RUNNING');
  await openRun(page, ed);
  check('four tabs, Output first and selected', await page.evaluate(() =>
    [...document.querySelectorAll('[role=tablist] [role=tab]')].map((t) => `${t.textContent.trim().split(' ')[0]}:${t.getAttribute('aria-selected')}`).join(',')),
  'Output:true,Events:false,Changes:false,History:false');
  // By keyboard: focus the selected tab, two arrows right reach Changes.
  await page.focus('[role=tab][aria-selected="true"]');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  check('the arrow keys move to the Changes tab and show its panel', await page.evaluate(() => {
    const t = document.activeElement;
    const p = document.getElementById(t.getAttribute('aria-controls'));
    return `${t.dataset.tab}:${t.getAttribute('aria-selected')}:${!p.hidden}:${document.querySelector('[data-panel=output]').hidden}`;
  }), 'changes:true:true:true');
  report('the worktree is shown: its branch and path', await until(async () => {
    const w = await text(page, '.worktree');
    return w.includes(`bosun/notask-${ed}`) && w.includes(`worktrees/${ed}`) && /Keep\s*always/.test(w) && /in use/.test(w);
  }), await text(page, '.worktree'));
  writeFileSync(`${GATES}/edit1`, '');
  report('the first edit shows live: a.txt modified and the odd file name, untracked', await until(async () => {
    const t = await text(page, '.changed-files tbody');
    return /a\.txt\s*\.M modified\s*\+2\s*−0/.test(t) && t.includes('<img src=x onerror=window.__xss=3>.txt') && /\?\?\s*untracked/.test(t);
  }), await text(page, '.changed-files tbody'));
  const adds = await page.locator('pre.diff .d-add').allTextContents();
  report('the diff shows the added lines, markup as text', adds.includes('+two') && adds.includes('+<script>window.__xss=4</script>'),
    JSON.stringify(adds));
  writeFileSync(`${GATES}/edit2`, '');
  report('the second edit shows live: b.txt added, in the diff', await until(async () => {
    const t = await text(page, '.changed-files tbody');
    return /b\.txt\s*A\. added\s*\+1/.test(t) && (await page.locator('pre.diff .d-add', {hasText: '+second edit'}).count()) === 1;
  }), await text(page, '.changed-files tbody'));
  // (the diff itself may say /dev/null)
  const outside = await text(page, '.worktree, .snapshot > :not(pre)');
  report('no value shown as null or undefined', !/null|undefined/.test(outside), outside);
  check('the Changes tab counts the paths', (await page.textContent('[role=tab][data-tab=changes] .count')).trim(), '3');
  await page.screenshot({path: `${SHOTS}/run-changes.png`, fullPage: true});
  writeFileSync(`${GATES}/edit3`, '');
  report('the worktree\'s fate shows live when the run ends: kept', await until(async () =>
    /^kept .* · 0 commits ahead of the base$/.test(await text(page, '.wt-fate'))),
  await text(page, '.worktree'));
  report('nothing from the changes became markup', !(await xssRan(page)), 'an element or a script from the data');

  // --- events: Claude Code with tool calls, opened live
  const cc = await rest('POST', '/agents/cc/start', {prompt: `SCENARIO:xss DIR:${WORK}`});
  const ccRun = cc.json?.run?.run;
  report('the claude-code run started', /^[0-9A-Z]{26}$/.test(ccRun || ''), JSON.stringify(cc));
  await openRun(page, ccRun);
  await page.click('[role=tab][data-tab=events]');
  report('the result arrives live in the Events tab', await until(async () =>
    (await page.locator('.ev-result').count()) === 1, 90000), await text(page, '.run-events'));
  const tools = page.locator('details.tool');
  check('two tool calls, each one item', await tools.count(), 2);
  const first = tools.nth(0);
  report('a tool call is closed at first: its name and gist only',
    !(await first.evaluate((d) => d.open)) && !(await first.locator('.tool-input').isVisible()) &&
    /Tool Bash\s*<b>print<\/b> markup\s*·\s*done/.test(await first.locator('summary').textContent()),
    await first.locator('summary').textContent());
  await first.locator('summary').focus();
  await page.keyboard.press('Enter');
  report('Enter on it opens it: the input shows, as text', await first.locator('.tool-input').isVisible() &&
    (await first.locator('.tool-input').textContent()).includes(`"command": "printf '%s\\\\n' '<img src=x onerror=\\"window.__xss=5\\">'"`),
  await first.locator('.tool-input').textContent());
  check('and its result, paired by the tool id, as text', (await first.locator('.tool-output').textContent()).trim(),
    '<img src=x onerror="window.__xss=5">');
  const second = tools.nth(1);
  await second.locator('summary').click();
  report('a click opens the other one, with its own result', await second.locator('.tool-output').isVisible() &&
    (await second.locator('.tool-output').textContent()).includes('second call'), await second.textContent());
  await second.locator('summary').click();
  check('and a second click closes it', await second.evaluate((d) => d.open), false);
  const usage = await page.locator('.ev-usage').allTextContents();
  report('the usage of each turn (3 turns, the fake\'s tokens)', usage.length === 3 &&
    usage.every((u, i) => u.includes(`Turn ${i + 1} usage: 11 in`) && u.includes('cache 3 read, 2 written')), JSON.stringify(usage));
  report('the assistant\'s message, markup as text', (await text(page, '.ev-message .msg')).includes('Printed <script>window.__xss=6</script> as text.'),
    await text(page, '.ev-message'));
  const res = await text(page, '.ev-result');
  report('the result: success, its turns and cost', /Result: success · 3 turns · [0-9.]+ s · \$0\.\d{4}/.test(res), res);
  const r = await runOf(ccRun);
  report('the cost so far is the run\'s, in the header', await until(async () =>
    (await page.textContent('.run-head .cost')).trim() === `$${Number(r.cost_usd).toFixed(4)}`), await page.textContent('.run-head .cost'));
  report('the budget left is shown', await until(async () =>
    /usd per run: \$[0-9.]+ left of \$5\.0000/.test(await page.textContent('.run-head .budget'))), await page.textContent('.run-head .budget'));
  check('the Events tab counts its items', Number((await page.textContent('[role=tab][data-tab=events] .count')).trim()) >= 7, true);
  report('nothing from the events became markup', !(await xssRan(page)), 'an element or a script from the data');
  await page.screenshot({path: `${SHOTS}/run-events.png`, fullPage: true});

  // --- the resumed-from chain: a question, its answer, the resumed run
  const task = ctl('task', 'create', '--title', 'pick a colour', '--prompt', 'SCENARIO:ask', '--agent', 'cc');
  const asked = task.run;
  const input = await until(async () => ((await rest('GET', '/inputs?status=pending')).json?.items || [])
    .find((i) => i.run === asked), 90000);
  report('the asking run has a pending question', !!input, 'none');
  await until(async () => (await runOf(asked)).state === 'WAITING_INPUT' &&
    ((await rest('GET', `/events?subject=evt.run.cc.${asked}.exited`)).json?.items || []).length === 1, 90000);
  execFileSync(BOSUNCTL, ['-s', SOCK, 'input', 'answer', input.input, 'ANSWER: blue']);
  const next = await until(async () => ((await rest('GET', '/runs?agent=cc')).json?.items || [])
    .find((x) => x.resumed_from === asked), 30000);
  report('the answer resumed it as a new run', !!next, 'no run resumed from it');
  await until(() => ended(next.run), 90000);
  await openRun(page, next.run);
  await page.click('[role=tab][data-tab=history]');
  await page.waitForSelector('.chain ol');
  check('the resumed run\'s chain: the asking run linked, then this one',
    (await page.locator('.chain li').allTextContents()).map((t) => t.split(' ')[0]).join(','), `${asked},${next.run}`);
  await page.click(`.chain a[href="#/runs/${asked}"]`);
  await page.waitForSelector(`main[data-ready="runs/${asked}"]`);
  await page.click('[role=tab][data-tab=history]');
  await page.waitForSelector('.chain ol');
  report('from the asking run, the chain links on to the resumed one',
    (await page.locator(`.chain a[href="#/runs/${next.run}"]`).count()) === 1 &&
    (await page.locator('.chain [aria-current=page]').textContent()).includes(asked), await text(page, '.chain'));

  // --- history: a crashing exec agent restarted twice, then given up
  const cr = (await rest('POST', '/agents/crasher/start', {})).json?.run?.run;
  report('the crasher started', !!cr, 'no run');
  await openRun(page, cr);
  await page.click('[role=tab][data-tab=history]');
  report('the run ends FATAL after its restarts', await until(async () => (await runOf(cr)).state === 'FATAL', 30000),
    (await runOf(cr)).state);
  const rowsOf = async (kind) => page.locator(`table.history tr[data-kind=${kind}]`).allTextContents();
  report('History lists three starts: restart 0, 1 and 2', await until(async () =>
    (await rowsOf('spawn_started')).map((t) => (t.match(/restart (\d+)/) || [])[1]).join(',') === '0,1,2'),
  JSON.stringify(await rowsOf('spawn_started')));
  const exits = await rowsOf('exited');
  report('and three exits, each with its exit code', exits.length === 3 && exits.every((t) => /exit code 3/.test(t)), JSON.stringify(exits));
  const failed = await rowsOf('spawn_failed');
  report('each failure with its reason', failed.length === 3 && failed.every((t) => /exited with code 3 \(failed\)/.test(t)),
    JSON.stringify(failed));
  const states = (await page.locator('table.history tr[data-kind=state] td:nth-child(2)').allTextContents())
    .map((t) => t.replace(/^state /, ''));
  report('the states it went through, BACKOFF between, FATAL last', states.includes('BACKOFF') && states[states.length - 1] === 'FATAL',
    JSON.stringify(states));
  report('each row says how long ago', (await page.locator('table.history tr[data-kind] time[datetime]').count()) >= 9,
    await page.locator('table.history tr[data-kind] time').count());
  check('the History tab says the restarts', (await page.textContent('[role=tab][data-tab=history] .count')).trim(), '2 restarts');
  await page.click('[role=tab][data-tab=output]');
  report('the output lines stay in the output list, markup as text', await until(async () =>
    (await page.locator('.lines .row', {hasText: 'about to crash <i>here</i>'}).count()) >= 3), await text(page, '.lines'));
  report('nothing from the output became markup', !(await xssRan(page)), 'an element or a script from the data');
  await page.click('[role=tab][data-tab=history]');
  await page.screenshot({path: `${SHOTS}/run-history.png`, fullPage: true});

  // --- the phone: no horizontal scroll on any tab
  await page.setViewportSize({width: 375, height: 812});
  const wide = [];
  for (const tab of ['output', 'events', 'changes', 'history']) {
    await openRun(page, tab === 'events' ? ccRun : tab === 'changes' ? ed : cr);
    await page.click(`[role=tab][data-tab=${tab}]`);
    if (await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth)) wide.push(tab);
  }
  check('at 375x812 no tab scrolls sideways', wide.join(','), '');
  await page.screenshot({path: `${SHOTS}/run-phone.png`, fullPage: true});
  check('no errors in the console', problems.join(' | '), '');
} catch (e) {
  await page.screenshot({path: `${SHOTS}/run-failure.png`, fullPage: true}).catch(() => {});
  console.log(`# page text at the failure: ${(await page.textContent('body').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600)}`);
  report('the scenario ran to its end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : String(e));
} finally {
  await browser.close();
}
