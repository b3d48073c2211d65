// The dashboard end to end in headless Debian chromium (playwright-core),
// against the real bosund tests/integration/web_dashboard.sh started.
// One line per check: "PASS name" or "FAIL name: detail"; the shell script
// turns them into TAP.  Environment: BASE (http://127.0.0.1:PORT), TOKEN
// (an admin token), BOSUNCTL and SOCK (to act as another client would),
// TASK (a task for the asker), SHOTS (a directory for screenshots).
import {chromium} from 'playwright-core';
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, TASK, SHOTS} = process.env;
mkdirSync(SHOTS, {recursive: true});

function report(name, ok, detail) {
  console.log(ok ? `PASS ${name}` : `FAIL ${name}: ${detail}`);
}
function check(name, got, want) {
  report(name, got === want, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
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
async function until(f, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
// No horizontal scroll at this viewport.
async function fits(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext({viewport: {width: 1440, height: 900}});
const page = await context.newPage();
try {
  const problems = [];
  // Chromium logs every 4xx as a console error: the 401s of signing in
  // with no or a wrong session are expected; anything else (a CSP
  // violation, an exception, a 500) is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  // --- the page and its headers
  const res = await page.goto(`${BASE}/`);
  const csp = res.headers()['content-security-policy'] || '';
  report('the page is served with a strict CSP', /script-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp)
         && !/unsafe-inline|unsafe-eval/.test(csp), csp);
  check('nosniff', res.headers()['x-content-type-options'], 'nosniff');
  await page.waitForSelector('main[data-ready="login"]');
  report('without a session the login form shows', true);
  await page.screenshot({path: `${SHOTS}/login.png`});

  // --- a wrong token is refused in words, the right one signs in
  await page.fill('#token', 'bsn_adm_wrong');
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('form.login .error');
  const refused = await page.textContent('form.login .error');
  report('a wrong token is refused in words', refused.length > 5, refused);
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');
  report('the right token signs in to the overview', true);
  const who = await page.textContent('#who');
  report('the principal and role are shown', /admin/.test(who), who);
  const cookies = await context.cookies();
  report('the session is an HttpOnly cookie', cookies.some((c) => c.httpOnly && c.sameSite === 'Strict'),
         JSON.stringify(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])));
  await page.waitForSelector('#conn[data-state="live"]');
  report('the live connection comes up', true);

  // --- a question appears at once, safely, and is answered in two taps
  const start = await rest('POST', '/agents/asker/start', {task: TASK});
  const run = start.json && start.json.run && start.json.run.run;
  report('the asker started', start.status === 201 && !!run, JSON.stringify(start));
  await until(async () => (await rest('GET', `/runs/${run}`)).json?.run?.state === 'RUNNING');
  const t0 = Date.now();
  const made = ctl('request', 'cmd.input.create',
                   JSON.stringify({run, question: `Deploy? ${XSS}`, choices: ['yes', XSS], blocking: true}));
  const input = made.data.input;
  report('a question was asked', !!input, JSON.stringify(made));
  await page.waitForSelector(`article[data-input="${input}"]`, {timeout: 5000});
  const shownMs = Date.now() - t0;
  report(`the question shows in the overview (${shownMs} ms)`, shownMs < 5000, `${shownMs} ms`);
  const qtext = await page.textContent(`article[data-input="${input}"] .question`);
  report('the question is shown as text, markup and all', qtext.includes('<img src=x'), qtext);
  const xss = await page.evaluate(() => window.__xss);
  check('no script from the question ran', xss, undefined);
  const imgs = await page.locator(`article[data-input="${input}"] img`).count();
  check('no element made from the question', imgs, 0);
  await until(async () => (await page.title()) === '(1) bosun', 3000);
  check('the title carries the pending count', await page.title(), '(1) bosun');
  const icon = await page.getAttribute('#favicon', 'href');
  report('the favicon carries a badge', icon.startsWith('data:image/svg+xml'), icon);
  await page.screenshot({path: `${SHOTS}/overview-question.png`});
  await page.click(`article[data-input="${input}"] .choices button >> nth=0`);
  await page.waitForSelector(`article[data-input="${input}"]`, {state: 'detached', timeout: 5000});
  report('answered, the question goes away', true);
  const answered = await rest('GET', `/inputs?status=answered`);
  const it = (answered.json.items || []).find((i) => i.input === input);
  check('the daemon has the answer', it && it.answer, 'yes');
  await until(async () => (await page.title()) === 'bosun', 3000);
  check('the title loses the count', await page.title(), 'bosun');

  // --- answered elsewhere, it disappears here too
  const run2 = (await rest('POST', '/agents/asker/start', {task: TASK})).json.run.run;
  await until(async () => (await rest('GET', `/runs/${run2}`)).json?.run?.state === 'RUNNING');
  const in2 = ctl('request', 'cmd.input.create',
                  JSON.stringify({run: run2, question: 'Elsewhere?', blocking: false})).data.input;
  await page.waitForSelector(`article[data-input="${in2}"]`, {timeout: 5000});
  await rest('POST', `/inputs/${in2}/answer`, {text: 'from curl'});
  await page.waitForSelector(`article[data-input="${in2}"]`, {state: 'detached', timeout: 5000});
  report('a question answered from another client disappears', true);

  // --- agents: start one with a prompt
  await page.goto(`${BASE}/#/agents`);
  await page.waitForSelector('main[data-ready="agents"]');
  await page.fill('article[data-agent="talker"] textarea', 'say hello');
  await page.click('article[data-agent="talker"] button[type="submit"]');
  await page.waitForSelector('article[data-agent="talker"] [role="status"]:has-text("Started run")');
  const started = await page.textContent('article[data-agent="talker"] [role="status"]');
  const talkRun = started.replace(/.*Started run\s*/, '').trim();
  const tr = await rest('GET', `/runs/${talkRun}`);
  check('the page started the agent (daemon side)', tr.json && tr.json.run && tr.json.run.agent, 'talker');
  await page.screenshot({path: `${SHOTS}/agents.png`});

  // --- runs: listed live
  await page.goto(`${BASE}/#/runs`);
  await page.waitForSelector(`tr[data-run="${talkRun}"]`);
  report('the runs view lists the new run', true);
  await page.screenshot({path: `${SHOTS}/runs.png`});

  // --- phone layout and the keyboard
  await page.setViewportSize({width: 375, height: 812});
  await page.goto(`${BASE}/#/`);
  await page.waitForSelector('main[data-ready="overview"]');
  report('no horizontal scroll at 375x812', await fits(page), 'scrollWidth > clientWidth');
  await page.screenshot({path: `${SHOTS}/overview-phone.png`, fullPage: true});
  await page.setViewportSize({width: 1440, height: 900});
  report('no horizontal scroll at 1440x900', await fits(page), 'scrollWidth > clientWidth');
  await page.goto(`${BASE}/#/agents`);
  await page.waitForSelector('main[data-ready="agents"]');
  const reached = new Set();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => {
      const a = document.activeElement;
      return a ? `${a.tagName}:${a.textContent.trim().slice(0, 20)}` : '';
    }));
  }
  report('Start and Log out are reachable by keyboard',
         [...reached].some((s) => s.startsWith('BUTTON:Start')) && [...reached].some((s) => s === 'BUTTON:Log out'),
         [...reached].join(', '));

  // --- log out: back to the login, and the cookie no longer works
  await page.click('#logout');
  await page.waitForSelector('main[data-ready="login"]');
  const after = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
  check('after logout the session is refused', after, 401);
  check('no errors in the console', problems.join(' | '), '');
} catch (e) {
  await page.screenshot({path: `${SHOTS}/failure.png`, fullPage: true}).catch(() => {});
  console.log(`# page text at the failure: ${(await page.textContent('body').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600)}`);
  report('the scenario ran to its end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : String(e));
} finally {
  await browser.close();
}
