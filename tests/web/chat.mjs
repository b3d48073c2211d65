// The dashboard's Chat end to end in headless Debian chromium
// (playwright-core), against the real bosund and fake model API that
// tests/integration/web_chat.sh started.  One line per check: "PASS name"
// or "FAIL name: detail".  Environment: BASE, TOKEN (admin), BOSUNCTL and
// SOCK, RUN (the interactive llm run), PLAIN (an exec run), SHOTS.
import {report, check, until, fits, openPage} from './lib.mjs';
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';

const {BASE, TOKEN, BOSUNCTL, SOCK, RUN, PLAIN, SHOTS} = process.env;
mkdirSync(SHOTS, {recursive: true});

async function rest(method, path, body, type = 'application/json') {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method, headers: {Authorization: `Bearer ${TOKEN}`, 'Content-Type': type},
    body: body === undefined ? undefined : (type === 'application/json' ? JSON.stringify(body) : body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let json = null;
  try { json = JSON.parse(buf.toString('utf8')); } catch (e) { json = null; }
  return {status: res.status, json, text: buf.toString('utf8')};
}
const history = async () => ((await rest('GET', `/runs/${RUN}/messages?limit=1000`)).json || {}).items || [];
const FINAL = 'Wrote the file and ran the build.';
const ODD = '<img src=x onerror=window.__xss=3>.txt';

// The 401s of signing in with no session are expected, and the 413 of the
// message too long.
const {browser, page, problems} = await openPage(/status of 401|status of 413/);
try {
  // /ws through a route the test can cut: each connection forwarded to the
  // daemon, and while `blocked` a new one is closed at once.
  const sockets = [];
  let blocked = false;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) { ws.close({code: 1011, reason: 'cut by the test'}); return; }
    const server = ws.connectToServer();
    sockets.push({ws, server});
  });

  await page.goto(`${BASE}/`);
  await page.waitForSelector('main[data-ready="login"]');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');
  await page.waitForSelector('#conn[data-state="live"]');

  // --- the list of interactive llm runs, and the run pages' links
  await page.click('nav a[data-view="chat"]');
  await page.waitForSelector('main[data-ready="chat"]');
  const listed = await page.$$eval('ul.chats a', (as) => as.map((a) => a.getAttribute('href')));
  check('the Chat view lists the interactive llm run, and only it', JSON.stringify(listed), JSON.stringify([`#/chat/${RUN}`]));
  await page.goto(`${BASE}/#/runs/${PLAIN}`);
  await page.waitForSelector(`main[data-ready="runs/${PLAIN}"]`);
  await page.goto(`${BASE}/#/runs/${RUN}`);
  await page.waitForSelector(`main[data-ready="runs/${RUN}"]`);
  await page.waitForSelector('p.chat-link a', {timeout: 5000});
  report('the llm run\'s page links to its chat', true);
  await page.goto(`${BASE}/#/runs/${PLAIN}`);
  await page.waitForSelector(`main[data-ready="runs/${PLAIN}"]`);
  await page.waitForSelector('p.chat-link[data-checked="yes"]', {state: 'attached'}); // the agents' types are looked up after the page is drawn
  check('an exec run\'s page has no chat link', await page.locator('p.chat-link a').count(), 0);
  await page.goto(`${BASE}/#/runs/${RUN}`);
  await page.waitForSelector('p.chat-link a');
  await page.click('p.chat-link a');
  await page.waitForSelector(`main[data-ready="chat/${RUN}"]`);
  report('the link opens the chat page', true);
  await until(async () => /Idle/.test(await page.textContent('.chat-status')));
  const idleWords = await page.textContent('.chat-status');
  report('the status idle is said in words', /Idle: waiting for your message/.test(idleWords), idleWords);
  check('the status is a live region', await page.getAttribute('.chat-status', 'aria-live'), 'polite');
  check('Send is enabled while idle', await page.isEnabled('.chat-form button[type="submit"]'), true);

  // What the page shows over time: every status word (with Send's state
  // then) and every text of the reply being streamed.
  await page.evaluate(() => {
    window.__seen = {status: [], stream: []};
    const status = document.querySelector('.chat-status');
    const send = document.querySelector('.chat-form button[type="submit"]');
    new MutationObserver(() => window.__seen.status.push([status.textContent, send.disabled]))
      .observe(status, {childList: true, characterData: true, subtree: true});
    new MutationObserver(() => {
      const s = document.querySelector('.chat-log .streaming .msg-text');
      if (s) window.__seen.stream.push(s.textContent);
    }).observe(document.querySelector('.chat-log'), {childList: true, characterData: true, subtree: true});
  });

  // --- a message typed with a new line, sent with Enter
  await page.focus('#chat-input');
  await page.keyboard.type('please write');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('the notes');
  check('Shift+Enter makes a new line', await page.inputValue('#chat-input'), 'please write\nthe notes');
  await page.keyboard.press('Enter');
  await until(async () => (await history()).some((m) => m.role === 'user'));
  const sent = (await history()).find((m) => m.role === 'user');
  check('Enter sends the message (the daemon has it)', sent && sent.content, 'please write\nthe notes');
  await page.waitForSelector(`article.msg-user[data-seq="${sent.seq}"]`, {timeout: 5000});
  report('the sent message shows in the conversation', true);
  // A picture of the reply half-way, for a person to look at (no check).
  await page.waitForFunction(() => /^Wrote the/.test(document.querySelector('.chat-log .streaming .msg-text')?.textContent || ''),
                             null, {timeout: 30000}).then(() => page.screenshot({path: `${SHOTS}/chat-streaming.png`}))
    .catch(() => {});
  await page.waitForFunction((t) => [...document.querySelectorAll('article.msg-assistant:not(.streaming) .msg-text')]
    .some((e) => e.textContent === t), FINAL, {timeout: 30000});
  report('the reply arrives whole', true);
  const seen = await page.evaluate(() => window.__seen);
  const growing = [...new Set(seen.stream.filter((s) => s.startsWith('Wrote') && s !== FINAL))];
  report(`the reply was seen growing before its end (${growing.length} partial texts)`,
         growing.length >= 2 && growing.every((s) => FINAL.startsWith(s)), JSON.stringify(seen.stream));
  const words = seen.status.map(([w]) => w);
  report('the status said thinking', words.includes('Thinking…'), JSON.stringify(words));
  report('the status said which tool ran', words.includes('Running a tool: bash…'), JSON.stringify(words));
  check('and idle at the end', words[words.length - 1], 'Idle: waiting for your message.');
  report('Send was disabled while the run was not idle',
         seen.status.filter(([w]) => !w.startsWith('Idle')).every(([, d]) => d === true) &&
         seen.status.some(([w]) => w === 'Thinking…'), JSON.stringify(seen.status));
  check('the streaming bubble is gone', await page.locator('.chat-log .streaming').count(), 0);

  // --- tool calls: collapsed, with input and result
  const tools = page.locator('details.tool');
  check('each tool call is shown', await tools.count(), 2);
  check('collapsed at first', await page.$$eval('details.tool', (ds) => ds.filter((d) => d.open).length), 0);
  await page.click('details.tool[data-call="c1"] summary');
  const c1 = await page.textContent('details.tool[data-call="c1"]');
  report('opened: the write_file call with its input', c1.includes('write_file') && c1.includes('notes/hello.txt') &&
         (await page.$eval('details.tool[data-call="c1"]', (d) => d.open)), c1);
  await page.click('details.tool[data-call="c2"] summary');
  const c2 = await page.textContent('details.tool[data-call="c2"] .tool-result');
  report('the bash call with its result', c2.includes('built-ok'), c2);
  const h1 = await history();
  check('no message doubled: the page shows as many as the history (tool results inside their calls)',
        await page.locator('.chat-log article.msg').count(), h1.filter((m) => m.role !== 'tool').length);
  await page.screenshot({path: `${SHOTS}/chat.png`, fullPage: true});

  // --- the file the model wrote, its version, viewed and edited
  const file = page.locator('button.file[data-path="notes/hello.txt"]');
  await file.waitFor({timeout: 5000});
  const meta = await page.textContent('li:has(> button.file[data-path="notes/hello.txt"]) .meta');
  report('the file the model wrote is in the tree with its version', /^v\d+ · 23 bytes · by tool$/.test(meta), meta);
  report('  under its directory', (await page.textContent('li.dir .dirname')) === 'notes/', 'no notes/ directory');
  await file.click();
  await page.waitForSelector('.file-detail pre.file-view');
  check('the viewer shows it as text', await page.textContent('.file-detail pre.file-view'), 'first line\nsecond line\n');
  check('one version listed', await page.locator('.file-detail ol.versions li').count(), 1);
  await page.click('.file-detail button:text-is("Edit")');
  await page.fill('textarea.editor', 'first line\nedited by a person\n');
  await page.click('form.edit button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('.file-detail ol.versions li').length === 2, null, {timeout: 10000});
  report('saved: a new version appears in the list', true);
  const vs = (await rest('GET', `/runs/${RUN}/files?path=${encodeURIComponent('notes/hello.txt')}`)).json;
  const last = vs && vs.items && vs.items[vs.items.length - 1];
  report('the daemon has the new version, by human', vs.items.length === 2 && last.actor === 'human', JSON.stringify(vs));
  const content = await rest('GET', `/runs/${RUN}/files/${encodeURIComponent('notes/hello.txt')}`);
  check('  with the edited content', content.text, 'first line\nedited by a person\n');
  const cliOld = execFileSync(BOSUNCTL, ['-s', SOCK, 'files', RUN, 'notes/hello.txt', '--version', String(vs.items[0].version)],
                              {encoding: 'utf8'});
  check('  and the model\'s version is kept (bosunctl files --version)', cliOld, 'first line\nsecond line\n');
  check('the viewer shows the saved text', await page.textContent('.file-detail pre.file-view'), 'first line\nedited by a person\n');
  const first = vs.items[0].version;
  await page.click(`.file-detail button:text-is("View v${first}")`);
  await page.waitForSelector('.file-detail .meta:text-is("Version ' + first + '")');
  check('an old version can be viewed', await page.textContent('.file-detail pre.file-view'), 'first line\nsecond line\n');
  await page.click(`.file-detail button:text-is("Diff v${first} with current")`);
  await page.waitForSelector('.file-detail pre.diff');
  const diff = await page.$$eval('.file-detail pre.diff span', (ss) => ss.map((s) => s.textContent));
  report('and diffed against the current one', diff.includes('-second line') && diff.includes('+edited by a person') &&
         diff.includes(' first line'), JSON.stringify(diff));
  await page.screenshot({path: `${SHOTS}/chat-files.png`, fullPage: true});
  // Two versions that share nothing, past the page's bound on a diff.
  const lines = (p) => Array.from({length: 5000}, (_, i) => `${p} ${i}`).join('\n') + '\n';
  const big = encodeURIComponent('big.txt');
  const p1 = await rest('PUT', `/runs/${RUN}/files/${big}`, lines('old'), 'application/octet-stream');
  const p2 = await rest('PUT', `/runs/${RUN}/files/${big}`, lines('new'), 'application/octet-stream');
  check('two large versions put over REST', `${p1.status} ${p2.status}`, '200 200');
  await page.locator('button.file[data-path="big.txt"]').click({timeout: 5000});
  await page.click(`.file-detail button:text-is("Diff v${p1.json.version} with current")`, {timeout: 5000});
  await page.waitForSelector('.file-detail .diff-too-large', {timeout: 10000});
  report('versions too different are said too large to diff here',
         /too large to diff here/.test(await page.textContent('.file-detail .diff-too-large')), 'no words');

  // --- a binary file (put by another client) is said, not shown
  const put = await rest('PUT', `/runs/${RUN}/files/${encodeURIComponent('bin/blob.bin')}`,
                         Buffer.from([0, 1, 2, 255, 0, 7]), 'application/octet-stream');
  check('a binary file put over REST', put.status, 200);
  await page.locator('button.file[data-path="bin/blob.bin"]').click({timeout: 5000});
  await page.waitForFunction(() => /Binary or very large file \(6 bytes\): not shown/.test(
    document.querySelector('.file-detail').textContent), null, {timeout: 5000});
  report('the viewer says it is binary and shows no bytes', await page.locator('.file-detail pre.file-view').count() === 0,
         'a <pre> was drawn');

  // --- a message the daemon refuses: its words in the page
  await page.fill('#chat-input', 'x'.repeat(1024 * 1024 + 1));
  await page.click('.chat-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('.chat-form .error').textContent !== '', null, {timeout: 10000});
  const refused = await page.textContent('.chat-form .error');
  report('a message too long is refused in the daemon\'s words', /^Not sent: body too large/.test(refused), refused);
  check('  and kept in the box', (await page.inputValue('#chat-input')).length, 1024 * 1024 + 1);

  // --- XSS payloads in a reply and a file name stay text
  await page.fill('#chat-input', 'now the odd one');
  await page.click('.chat-form button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll('article.msg-assistant:not(.streaming) .msg-text')]
    .some((e) => e.textContent.endsWith(' done')), null, {timeout: 30000});
  const reply = await page.$$eval('article.msg-assistant .msg-text', (es) => es.map((e) => e.textContent).pop());
  check('a reply with markup is shown as text', reply, 'Here: <img src=x onerror="window.__xss=4"><script>window.__xss=5</script> done');
  const odd = page.locator(`button.file[data-path="${ODD.replace(/"/g, '\\"')}"]`);
  await odd.waitFor({timeout: 5000});
  check('a file name with markup is shown as text', await odd.textContent(), ODD);
  await odd.click();
  await until(async () => (await page.textContent('.file-detail h3 code')) === ODD, 5000);
  check('  in the viewer too', await page.textContent('.file-detail h3 code'), ODD);
  check('no script from the model ran', await page.evaluate(() => window.__xss), undefined);
  check('no element made from the model\'s text', await page.locator('main img, main script').count(), 0);

  // --- /ws cut: a message answered meanwhile shows once it is back
  await until(async () => /Idle/.test(await page.textContent('.chat-status')));
  blocked = true;
  for (const s of sockets.splice(0)) s.ws.close({code: 1011, reason: 'cut by the test'});
  await page.waitForSelector('#conn[data-state="reconnecting"]');
  report('the page says it is reconnecting', true);
  const before = (await history()).length;
  execFileSync(BOSUNCTL, ['-s', SOCK, 'chat', RUN, 'sent while the page was away'], {stdio: ['ignore', 'ignore', 'inherit']});
  await until(async () => (await history()).some((m) => m.content === 'answered while you were away'), 20000);
  report('the run answered meanwhile', (await history()).length === before + 2, JSON.stringify(await history()));
  blocked = false;
  await page.waitForSelector('#conn[data-state="live"]', {timeout: 40000});
  await page.waitForFunction(() => [...document.querySelectorAll('article.msg-assistant .msg-text')]
    .some((e) => e.textContent === 'answered while you were away'), null, {timeout: 10000});
  report('back live, the answer given meanwhile is shown', true);
  await new Promise((r) => setTimeout(r, 500)); // the replayed events too
  const h2 = await history();
  check('nothing missing or doubled after the reconnect',
        JSON.stringify(await page.$$eval('.chat-log article.msg', (as) => as.map((a) => Number(a.dataset.seq)))),
        JSON.stringify(h2.filter((m) => m.role !== 'tool').map((m) => m.seq)));
  check('no reply left half-streamed', await page.locator('.chat-log .streaming').count(), 0);

  // --- phone width, keyboard, focus
  await page.setViewportSize({width: 375, height: 812});
  report('no horizontal scroll at 375x812', await fits(page), 'scrollWidth > clientWidth');
  await page.screenshot({path: `${SHOTS}/chat-phone.png`, fullPage: true});
  await page.setViewportSize({width: 1440, height: 900});
  await page.focus('nav a[data-view="chat"]');
  const reached = new Map();
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const [key, outline] = await page.evaluate(() => {
      const a = document.activeElement;
      const s = getComputedStyle(a);
      return [`${a.tagName}:${(a.id || a.textContent || '').trim().slice(0, 24)}`, s.outlineStyle !== 'none' && s.outlineWidth !== '0px'];
    });
    reached.set(key, outline);
  }
  const want = ['TEXTAREA:chat-input', 'BUTTON:Send', 'BUTTON:Clear history', 'BUTTON:hello.txt'];
  report('the input, Send, Clear history and the files are reachable by keyboard',
         want.every((k) => reached.has(k)), [...reached.keys()].join(', '));
  report('  each with a visible focus', want.every((k) => reached.get(k)), JSON.stringify([...reached]));
  const labelled = await page.evaluate(() => [document.querySelector('.chat-log').getAttribute('aria-label'),
    document.querySelector('label[for="chat-input"]') !== null]);
  report('the conversation and the input are labelled', labelled[0] === 'Conversation' && labelled[1], JSON.stringify(labelled));

  // --- clear history
  await page.click('button:text-is("Clear history")');
  await page.click('button:text-is("Yes, clear it")');
  await page.waitForSelector('.chat-log p.empty', {timeout: 5000});
  check('cleared: the page and the daemon have no messages', (await history()).length, 0);
  check('no errors in the console', problems.join(' | '), '');
} catch (e) {
  await page.screenshot({path: `${SHOTS}/chat-failure.png`, fullPage: true}).catch(() => {});
  console.log(`# page text at the failure: ${(await page.textContent('body').catch(() => '')).replace(/\s+/g, ' ').slice(0, 600)}`);
  report('the scenario ran to its end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : String(e));
} finally {
  await browser.close();
}
