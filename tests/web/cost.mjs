// The Cost view, "Sign in with GitHub", the machine choice at Start and
// the keyboard/names pass, in headless Debian chromium (playwright-core),
// against the hub and machine tests/integration/web_cost.sh started.
// One line per check: "PASS name" or "FAIL name: detail".  Environment:
// BASE, TOKEN (admin), BOSUNCTL, SOCK (the hub's), M1SOCK (the machine's),
// M1PID (its bosund, stopped here to see it offline), GH (the fake
// GitHub), TASK, WORK (the agents' workdir), SHOTS.
import {report, launch} from './lib.mjs';
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, M1SOCK, M1PID, GH, TASK, WORK, SHOTS} = process.env;
mkdirSync(SHOTS, {recursive: true});

function check(name, got, want) {
  report(name, JSON.stringify(got) === JSON.stringify(want), `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
function ctl(sock, ...args) {
  return JSON.parse(execFileSync(BOSUNCTL, ['-s', sock, ...args, '--json'], {encoding: 'utf8'}));
}
async function until(f, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
// The view's own formatting of a sum (cost.js usd()).
function usd(v) {
  const n = Number(v) || 0;
  const a = Math.abs(n);
  return `$${a === 0 || a >= 0.01 ? n.toFixed(2) : a >= 0.0001 ? n.toFixed(4) : n.toPrecision(2)}`;
}
const today = new Date().toISOString().slice(0, 10);
const since30 = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);

const browser = await launch();
const problems = [];
async function newPage(viewport = {width: 1440, height: 900}) {
  const context = await browser.newContext({viewport});
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403)|ERR_CONNECTION_REFUSED/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return page;
}
async function signIn(page) {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('main[data-ready="login"]');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');
}
// Rows of a cost table as {key: text of its Cost cell}.
async function tableCosts(page, by) {
  return page.$$eval(`table.cost[data-cost="${by}"] tbody tr`, (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.key, r.querySelector('td').textContent])));
}
async function shownTotal(page) {
  return page.textContent('#cost-total');
}

let page;
try {
  page = await newPage();
  await signIn(page);

  // --- the Cost view against bosunctl cost --json
  await page.click('nav a[data-view="cost"]');
  await page.waitForSelector('main[data-ready="cost"]');
  await page.click('input[name="period"][value="30d"]');
  await until(async () => (await page.getAttribute('.summary', 'data-since')) === since30);
  for (const by of ['agent', 'task', 'day', 'machine']) {
    const want = ctl(SOCK, 'cost', '--by', by, '--since', since30);
    const shown = await tableCosts(page, by);
    const expect = Object.fromEntries(want.items.map((it) => [it.key || '', usd(it.cost_usd)]));
    check(`by ${by}: every row's cost is bosunctl cost --by ${by}'s`, shown, expect);
  }
  const agents = ctl(SOCK, 'cost', '--by', 'agent', '--since', since30);
  check('the total is bosunctl\'s', await shownTotal(page), usd(agents.total.cost_usd));
  const barWidths = await page.$$eval('table.cost[data-cost="agent"] tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.key, parseFloat(r.querySelector('.bar-fill').style.width)])));
  const maxCost = Math.max(...agents.items.map((it) => it.cost_usd));
  check('each agent\'s bar is its share of the largest',
        barWidths, Object.fromEntries(agents.items.map((it) => [it.key, Number((it.cost_usd / maxCost * 100).toFixed(1))])));
  check('the task row links to its task', await page.getAttribute(`table.cost[data-cost="task"] tr[data-key="${TASK}"] a`, 'href'),
        `#/tasks/${TASK}`);

  // budgets: words, not only colour
  const b = await page.$eval('table.budgets tr[data-agent="cc_b"][data-budget="usd_per_day"]', (tr) => tr.textContent);
  report('cc_b\'s day budget says "exceeded" in words, its limit $0.0000010', /exceeded/.test(b) && b.includes(usd(0.000001)), b);
  const a = await page.$eval('table.budgets tr[data-agent="cc_a"][data-budget="usd_per_day"]', (tr) =>
    [...tr.children].map((c) => c.textContent.trim()));
  const ccA = agents.items.find((it) => it.key === 'cc_a');
  check('cc_a\'s day budget: spent, limit, left and "within"',
        [a[2], a[3], a[4], a[6]], [usd(ccA.cost_usd), usd(500), usd(500 - ccA.cost_usd), 'within']);
  const global = await page.$eval('table.budgets tr[data-budget="global usd_per_day"]', (tr) => tr.textContent);
  report('the global day budget is listed for every agent', /every agent/.test(global) && /within/.test(global), global);
  await page.screenshot({path: `${SHOTS}/cost.png`, fullPage: true});
  await page.setViewportSize({width: 360, height: 780});
  report('no horizontal scroll on a 360 px wide phone', await page.evaluate(() =>
    document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'scrollWidth > clientWidth');
  await page.screenshot({path: `${SHOTS}/cost-phone.png`, fullPage: true});
  await page.setViewportSize({width: 1440, height: 900});

  // today: the period is the API's since
  await page.click('input[name="period"][value="today"]');
  await until(async () => (await page.getAttribute('.summary', 'data-since')) === today);
  check('"Today" asks from today (UTC)', await page.getAttribute('.summary', 'data-since'), today);

  // live: a new run's cost shows without a reload
  const before = ctl(SOCK, 'cost', '--since', today).total.cost_usd;
  const run = execFileSync(BOSUNCTL, ['-s', SOCK, 'start', 'cc_a', '--prompt', `SCENARIO:plain DIR:${WORK} tag_live`],
                           {encoding: 'utf8'}).trim();
  const after = await until(async () => {
    const t = ctl(SOCK, 'cost', '--since', today).total.cost_usd;
    return t > before ? t : null;
  }, 120000);
  const liveShown = await until(async () => ((await shownTotal(page)) === usd(after) ? true : null), 30000);
  report(`a new run (${run}) is counted live: ${usd(after)}`, liveShown === true && after > before,
         `shown ${await shownTotal(page)}, bosunctl ${after} (was ${before})`);

  // --- names and the keyboard on every main view
  const views = ['overview', 'agents', 'runs', 'tasks', 'cost'];
  const unnamed = [];
  const unfocusable = [];
  const noRing = [];
  for (const v of views) {
    await page.goto(`${BASE}/#/${v}`);
    await page.waitForSelector(`main[data-ready="${v}"]`);
    // every control has an accessible name (label, aria-label(ledby), text, title)
    unnamed.push(...await page.$$eval('button, input:not([type=hidden]), select, textarea, a[href]', (els) =>
      els.filter((e) => e.offsetParent !== null).filter((e) => {
        if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.getAttribute('title')) return false;
        if (e.labels && e.labels.length && [...e.labels].some((l) => l.textContent.trim())) return false;
        if (e.tagName === 'INPUT' && e.type !== 'submit') return true;
        return !e.textContent.trim();
      }).map((e) => `${location.hash} ${e.outerHTML.slice(0, 80)}`)));
    // Tab through: every visible control is reached, each with an outline
    // (a group of radio buttons is one Tab stop: its checked one; arrows move in it)
    const controls = await page.$$eval('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])', (els) =>
      els.filter((e) => e.offsetParent !== null && !e.disabled && !(e.type === 'radio' && !e.checked)).length);
    const reached = new Set();
    await page.focus('body').catch(() => {});
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    for (let i = 0; i < controls + 5 && i < 400; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        if (!e.dataset.tabSeen) e.dataset.tabSeen = String(Math.random());
        const s = getComputedStyle(e);
        return {id: e.dataset.tabSeen, ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                what: `${e.tagName}:${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 24)}`};
      });
      if (!f) continue;
      reached.add(f.id);
      if (!f.ring) noRing.push(`#/${v} ${f.what}`);
    }
    if (reached.size < controls) unfocusable.push(`#/${v}: ${reached.size} of ${controls}`);
    if (v !== 'cost') await page.screenshot({path: `${SHOTS}/a11y-${v}.png`, fullPage: true});
  }
  check('every control on overview, agents, runs, tasks and cost has a name', unnamed, []);
  check('every control is reached by Tab', unfocusable, []);
  check('every focused control shows a focus ring (outline of 2 px or more)', [...new Set(noRing)], []);
  // the skip link comes first (a fresh load) and moves the focus to the content
  await page.goto('about:blank');
  await page.goto(`${BASE}/#/cost`);
  await page.waitForSelector('main[data-ready="cost"]');
  await page.keyboard.press('Tab');
  check('the first Tab stop is the skip link', await page.evaluate(() => document.activeElement.id), 'skip');
  await page.keyboard.press('Enter');
  check('  which moves the focus to the content, the view stays', await page.evaluate(() => [document.activeElement.id, location.hash]),
        ['main', '#/cost']);
  // a relative time shows its exact time when focused (a tap on a phone)
  await page.goto(`${BASE}/#/runs`);
  await page.waitForSelector('main[data-ready="runs"] time[tabindex]');
  await page.focus('main time[tabindex]');
  const after2 = await page.$eval('main time[tabindex]', (t) => [getComputedStyle(t, '::after').content, t.title]);
  report('a focused time shows its exact time in the text', after2[0].includes(after2[1]) && after2[1].length > 0, after2.join(' | '));
  const reduced = await newPage();
  await reduced.emulateMedia({reducedMotion: 'reduce'});
  await reduced.goto(`${BASE}/`);
  await reduced.waitForSelector('main[data-ready="login"]');
  const motion = await reduced.evaluate(() => {
    const probe = document.createElement('div');
    probe.style.transition = 'opacity 2s';
    document.body.append(probe);
    return getComputedStyle(probe).transitionDuration;
  });
  check('with reduced motion asked, transitions are off', motion, '0s');
  await reduced.context().close();

  // --- machine choice at Start
  await page.goto(`${BASE}/#/agents`);
  await page.waitForSelector('main[data-ready="agents"] article[data-agent="builder"] select');
  const opts = await page.$$eval('article[data-agent="builder"] select option', (os) => os.map((o) => [o.value, o.textContent, o.disabled]));
  check('builder (hub and m1): this daemon and m1 to choose from', opts, [['', 'this daemon', false], ['m1', 'm1', false]]);
  const ro = await page.$$eval('article[data-agent="remote_only"] select option', (os) => os.map((o) => o.value));
  check('remote_only (m1 only): m1 alone', ro, ['m1']);
  await page.selectOption('article[data-agent="builder"] select', 'm1');
  await page.fill('article[data-agent="builder"] textarea', 'on m1');
  await page.click('article[data-agent="builder"] button[type="submit"]');
  const started = await until(async () => page.getAttribute('article[data-agent="builder"] [data-run]', 'data-run'), 20000);
  const onM1 = await until(async () => ctl(M1SOCK, 'ps').some((r) => r.run === started && r.agent === 'builder'), 20000);
  report(`Start with m1 chosen ran builder on m1 (${started})`, !!started && onM1 === true,
         `run ${started}; m1 ps ${JSON.stringify(ctl(M1SOCK, 'ps').map((r) => [r.agent, r.run]))}`);
  const onHub = ctl(SOCK, 'ps').filter((r) => r.agent === 'builder' && r.run === started && r.machine !== 'm1');
  check('  and not on the hub itself', onHub.length, 0);
  await page.screenshot({path: `${SHOTS}/agents-machines.png`, fullPage: true});
  process.kill(Number(M1PID), 'SIGTERM'); // the test's own machine daemon
  const offline = await until(async () => {
    await page.reload();
    await page.waitForSelector('main[data-ready="agents"] article[data-agent="builder"] select');
    const o = await page.$$eval('article[data-agent="builder"] select option', (os) => os.map((x) => [x.value, x.textContent, x.disabled]));
    return JSON.stringify(o) === JSON.stringify([['', 'this daemon', false], ['m1', 'm1 (offline)', true]]) ? o : null;
  }, 30000);
  report('m1 gone: said offline and not choosable', !!offline, 'm1 still shown online');

  // --- Sign in with GitHub, end to end, back to the view asked for
  const gh = await newPage();
  await gh.goto(`${BASE}/#/cost`);
  await gh.waitForSelector('main[data-ready="login"]');
  const link = await gh.waitForSelector('#github-login', {timeout: 5000}).catch(() => null);
  report('the login form offers "Sign in with GitHub"', !!link && (await link.textContent()) === 'Sign in with GitHub', 'no link');
  await gh.click('#github-login');
  await gh.waitForSelector('main[data-ready="cost"]', {timeout: 20000});
  check('  which comes back signed in as github:alice, on the view asked for',
        [(await gh.textContent('#who')).trim(), new URL(gh.url()).hash], ['user github:alice (admin)', '#/cost']);
  await gh.click('#logout');
  await gh.waitForSelector('main[data-ready="login"]');
  await fetch(`${GH}/_fake/config`, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                      body: JSON.stringify({user: 'eve', orgs: []})});
  await gh.waitForSelector('#github-login');
  await gh.click('#github-login');
  await gh.waitForSelector('#login-status.error', {timeout: 20000});
  const said = await gh.textContent('#login-status');
  report('a refused GitHub user is told why on the login page, in words', /not allowed on this bosun/.test(said), said);
  check('  and the address no longer carries the error', new URL(gh.url()).search, '');
  await gh.screenshot({path: `${SHOTS}/login-github-refused.png`, fullPage: true});
  check('no errors in the console', problems.join(' | '), '');
} catch (e) {
  if (page) await page.screenshot({path: `${SHOTS}/cost-failure.png`, fullPage: true}).catch(() => {});
  console.log(`# page text at the failure: ${page ? (await page.textContent('body').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600) : ''}`);
  report('the scenario ran to its end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : String(e));
} finally {
  await browser.close();
}
