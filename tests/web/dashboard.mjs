// The dashboard end to end in headless Debian chromium (playwright-core),
// against the real bosund tests/integration/web_dashboard.sh started.
// One line per check: "PASS name" or "FAIL name: detail"; the shell script
// turns them into TAP.  Environment: BASE (http://127.0.0.1:PORT), TOKEN
// (an admin token), BOSUNCTL and SOCK (to act as another client would),
// TASK (a task for the asker), SHOTS (a directory for screenshots).
import {report, check, until, fits, openPage} from './lib.mjs';
import {execFileSync, spawn} from 'node:child_process';
import {mkdirSync, openSync, writeFileSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, TASK, SHOTS, BOSUND, CONFIG, DAEMON_PID, DAEMON_LOG, PID2} = process.env;
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

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

// The 401s of signing in with no or a wrong session are expected, and so
// are the refused connections while the daemon restarts; anything else (a
// CSP violation, an exception, a 500) is a problem.
const {browser, context, page, problems} = await openPage(/status of 401|ERR_CONNECTION_REFUSED/);
try {
  // Every event frame the page receives, over every connection it makes.
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', ({payload}) => {
    try {
      const f = JSON.parse(payload);
      if (f.op === 'msg') frames.push(f.seq);
    } catch (e) { /* not JSON: the page would ignore it too */ }
  }));

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

  // --- an approval: shown with its tool and input, allowed "always" in the page
  const ask = (cmd) => new Promise((resolve) => {
    const c = spawn(BOSUNCTL, ['-s', SOCK, 'request', 'cmd.approval.request',
      JSON.stringify({agent: 'claude-code:attached', tool: 'Bash', input: {command: cmd}}), '--json', '--timeout', '60']);
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('close', () => { try { resolve(JSON.parse(out).data); } catch (e) { resolve({raw: out}); } });
  });
  const first = ask(`make ${XSS}`);
  const card = await page.waitForSelector('article[data-approval]', {timeout: 10000});
  const shown = await card.textContent();
  report('the approval shows its tool and input as text', shown.includes('Bash') && shown.includes('<img src=x'), shown.slice(0, 120));
  check('no script from the tool input ran', await page.evaluate(() => window.__xss), undefined);
  await page.screenshot({path: `${SHOTS}/overview-approval.png`});
  await card.$eval('button.always', (b) => b.click());
  const decided = await first;
  check('allowed in the page, the agent is told allow', decided.behavior, 'allow');
  await page.waitForSelector('article[data-approval]', {state: 'detached', timeout: 5000});
  const repeat = await ask(`make ${XSS}`);
  check('"always": the same call is allowed at once by the rule it made', `${repeat.behavior} ${repeat.decided_by}`.startsWith('allow rule'), true);

  // --- agents: start one with a prompt
  await page.goto(`${BASE}/#/agents`);
  await page.waitForSelector('main[data-ready="agents"]');
  await page.fill('article[data-agent="talker"] textarea', 'say hello');
  await page.click('article[data-agent="talker"] button[type="submit"]');
  await page.waitForSelector('article[data-agent="talker"] [role="status"][data-run]');
  const talkRun = await page.getAttribute('article[data-agent="talker"] [role="status"]', 'data-run');
  const tr = await rest('GET', `/runs/${talkRun}`);
  check('the page started the agent (daemon side)', tr.json && tr.json.run && tr.json.run.agent, 'talker');
  await page.screenshot({path: `${SHOTS}/agents.png`});

  // --- runs: listed live
  await page.goto(`${BASE}/#/runs`);
  await page.waitForSelector(`tr[data-run="${talkRun}"]`);
  report('the runs view lists the new run', true);
  await page.fill('form.filters input[name="agent"]', 'asker');
  await page.press('form.filters input[name="agent"]', 'Enter');
  await page.dispatchEvent('form.filters input[name="agent"]', 'change');
  await page.waitForSelector(`tr[data-run="${talkRun}"]`, {state: 'detached', timeout: 5000});
  const agents = await page.$$eval('table.runs tbody tr td:nth-child(2)', (tds) => [...new Set(tds.map((t) => t.textContent))]);
  check('filtered by agent, the daemon lists only that agent', agents.join(','), 'asker');
  await page.fill('form.filters input[name="agent"]', '');
  await page.dispatchEvent('form.filters input[name="agent"]', 'change');
  await page.waitForSelector(`tr[data-run="${talkRun}"]`);
  await page.screenshot({path: `${SHOTS}/runs.png`});

  // --- a run's page: its output as text, live
  await page.goto(`${BASE}/#/runs/${talkRun}`);
  await page.waitForSelector(`main[data-ready="runs/${talkRun}"]`);
  await page.waitForSelector('.lines .row:has-text("line 30")', {timeout: 10000});
  const row = await page.textContent('.lines .row:has-text("line 30")');
  check('the run page shows its output as text', row, 'line 30 <b>bold</b>');
  check('no element made from the output', await page.locator('.lines b').count(), 0);

  // --- a fast writer: every line arrives live, the DOM stays small
  const fast = (await rest('POST', '/agents/fast/start', {})).json.run.run;
  await page.goto(`${BASE}/#/runs/${fast}`);
  await page.waitForSelector(`main[data-ready="runs/${fast}"]`);
  const want = 20000;
  const got = await until(async () => Number(await page.textContent('#out-h .count')) >= want, 90000);
  report(`all ${want} lines of a fast writer arrive live`, got, await page.textContent('#out-h .count'));
  const rows = await page.locator('.lines .row').count();
  report(`only the lines in view are in the DOM (${rows})`, rows > 0 && rows < 300, String(rows));
  await page.evaluate(() => { const l = document.querySelector('.lines'); l.scrollTop = l.scrollHeight / 2; });
  await page.waitForSelector('.lines .row:has-text("row 10000")', {timeout: 5000});
  report('scrolled to the middle, the middle lines are drawn', true);
  await page.screenshot({path: `${SHOTS}/run.png`});

  // --- tasks: the index, search, one task with its answered question
  await page.goto(`${BASE}/#/tasks`);
  await page.waitForSelector(`tr[data-task="${TASK}"]`);
  await page.fill('input[type="search"]', 'no such title at all');
  check('search hides tasks that do not match', await page.locator(`tr[data-task="${TASK}"]`).count(), 0);
  await page.fill('input[type="search"]', 'web test');
  check('and shows those that do', await page.locator(`tr[data-task="${TASK}"]`).count(), 1);
  await page.click(`tr[data-task="${TASK}"] a`);
  await page.waitForSelector(`main[data-ready="tasks/${TASK}"]`);
  const qs = await page.textContent('section[aria-labelledby="tq-h"]');
  report('the task page shows its question and the answer', qs.includes('Deploy?') && qs.includes('yes'), qs.slice(0, 200));
  await page.screenshot({path: `${SHOTS}/task.png`});

  // --- events, filtered by subject
  await page.goto(`${BASE}/#/events`);
  await page.waitForSelector('main[data-ready="events"]');
  await page.fill('input[name="subject"]', 'evt.input.>');
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('ol.events[data-subject="evt.input.>"]', {timeout: 10000});
  const subs = await page.$$eval('ol.events summary', (els) => els.map((e) => e.textContent));
  report('the events view filters by subject', subs.length > 0 && subs.every((t) => t.includes('evt.input.')), subs.slice(0, 3).join(' | '));

  // --- a share link: its one task, live, answered from the link, revoked at once
  const sh = (await rest('POST', '/shares', {task: TASK, can_answer: true})).json;
  const shareCtx = await browser.newContext({viewport: {width: 375, height: 812}});
  const sp = await shareCtx.newPage();
  sp.on('pageerror', (e) => problems.push(`share page: ${e}`));
  await sp.goto(sh.url);
  await sp.waitForSelector(`main[data-ready="tasks/${TASK}"]`);
  report('a share link opens its task', true);
  report('the token is taken out of the address bar', !sp.url().includes('share='), sp.url());
  check('the other views are not offered', await sp.isVisible('nav'), false);
  await sp.waitForSelector('#conn[data-state="live"]');
  const run3 = (await rest('POST', '/agents/asker/start', {task: TASK})).json.run.run;
  await until(async () => (await rest('GET', `/runs/${run3}`)).json?.run?.state === 'RUNNING');
  const in3 = ctl('request', 'cmd.input.create',
                  JSON.stringify({run: run3, question: 'Ship it?', choices: ['ship', 'wait'], blocking: false})).data.input;
  await sp.waitForSelector(`article[data-input="${in3}"]`, {timeout: 10000});
  report('a question asked now shows on the shared page, live', true);
  await sp.screenshot({path: `${SHOTS}/share-phone.png`, fullPage: true});
  await sp.click(`article[data-input="${in3}"] .choices button >> nth=1`);
  await sp.waitForSelector(`article[data-input="${in3}"]`, {state: 'detached', timeout: 10000});
  const ans3 = ((await rest('GET', '/inputs?status=answered')).json.items || []).find((i) => i.input === in3);
  check('answered from the link, by the link', ans3 && `${ans3.answer} ${ans3.answered_by}`, `wait ${sh.share.id}`);
  await rest('DELETE', `/shares/${sh.share.id}`);
  await sp.waitForSelector('form.login', {timeout: 10000});
  const gone = await sp.textContent('form.login [role="status"]');
  report('revoked, the shared page stops at once and says why', /revoked/.test(gone), gone);
  await shareCtx.close();

  // --- the daemon restarts: the page reconnects and misses no event
  await page.goto(`${BASE}/#/`);
  await page.waitForSelector('main[data-ready="overview"]');
  await page.waitForSelector('#conn[data-state="live"]');
  const firstSeq = frames.length ? Math.min(...frames) : 0;
  process.kill(Number(DAEMON_PID), 'SIGTERM');
  await page.waitForSelector('#conn[data-state="reconnecting"]', {timeout: 20000});
  report('the page says it is reconnecting', true);
  await until(async () => { try { process.kill(Number(DAEMON_PID), 0); return false; } catch (e) { return true; } }, 30000);
  const log = openSync(DAEMON_LOG, 'a');
  const d2 = spawn(BOSUND, ['-c', CONFIG], {detached: true, stdio: ['ignore', log, log]});
  writeFileSync(PID2, String(d2.pid));
  d2.unref();
  await page.waitForSelector('#conn[data-state="live"]', {timeout: 30000});
  report('and comes back live by itself', true);
  const again = (await rest('POST', '/agents/talker/start', {})).json;
  await until(async () => (await rest('GET', `/runs/${again.run.run}/logs?tail=30`)).json?.items?.length === 30, 10000);
  const stored = [];
  for (let since = firstSeq - 1; ;) {
    const r = await rest('GET', `/events?since=${since}&limit=1000`);
    const items = r.json.items || [];
    stored.push(...items.map((e) => e.seq));
    if (!r.json.next || !items.length) break;
    since = items[items.length - 1].seq;
  }
  const last = stored.length ? Math.max(...stored) : 0;
  await until(async () => frames.includes(last), 10000);
  const seen = new Set(frames);
  const missing = stored.filter((q) => !seen.has(q));
  check(`no event missing across the restart (${stored.length} stored since #${firstSeq})`, missing.length, 0);
  check('and none twice', frames.length - seen.size, 0);

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
