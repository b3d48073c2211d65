// The dashboard in headless Debian chromium (playwright-core from
// tests/web) against a bosund that bench_dashboard.sh filled: navigation to
// an interactive overview (the page's own performance mark), the JS heap
// then, the bytes of a first load, and the delay from an output line's
// event (its bus time) to the line in the page, over BENCH_TICKS lines.
// Prints "name value" lines for the shell script.
import {writeFileSync} from 'node:fs';
import {chromium} from '../web/node_modules/playwright-core/index.mjs';

const {BASE, TOKEN, TICK_AGENT, ROUNDS = '3'} = process.env;
const out = (k, v) => console.log(`${k} ${v}`);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
});
try {
  const ctx = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('main[data-ready="login"]');
  await page.fill('#token', TOKEN);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('main[data-ready="overview"]');
  // Cold loads: a fresh context each (no cache), the cookie carried over.
  const cookies = await ctx.cookies();
  for (let i = 0; i < Number(ROUNDS); i++) {
    const c = await browser.newContext({viewport: {width: 1440, height: 900}});
    await c.addCookies(cookies);
    const p = await c.newPage();
    await p.goto(`${BASE}/`);
    await p.waitForSelector('main[data-ready="overview"]', {timeout: 60000});
    const m = await p.evaluate(() => {
      const mark = performance.getEntriesByName('bosun:ready:overview')[0];
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const files = [nav, ...res.filter((r) => !r.name.includes('/api/'))];
      return {ms: mark ? mark.startTime : -1, bytes: files.reduce((n, r) => n + (r.transferSize || 0), 0),
              api: res.filter((r) => r.name.includes('/api/')).reduce((n, r) => n + (r.transferSize || 0), 0),
              heap: performance.memory ? performance.memory.usedJSHeapSize : -1};
    });
    out('interactive_ms', m.ms.toFixed(1));
    out('first_load_bytes', m.bytes);
    out('api_bytes', m.api);
    out('heap_bytes', m.heap);
    await c.close();
  }
  // Event -> DOM: the tick agent prints "tick <epoch ms>" lines; the page
  // records when each one is drawn.
  const start = await page.evaluate(async (agent) => {
    const r = await fetch(`/api/v1/agents/${agent}/start`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
    return (await r.json()).run.run;
  }, TICK_AGENT);
  await page.goto(`${BASE}/#/runs/${start}`);
  await page.waitForSelector(`main[data-ready="runs/${start}"]`);
  // The tick agent waits for GO_FILE, made once the observer is on, so no
  // line's delay includes the navigation.  The virtual list draws its rows
  // anew on every frame; a line counts when its first row is added.  The
  // observer is on <main>, not on the list: a refresh the overview asked
  // for just before the navigation can draw the run page once more (about
  // 1 run in 4 on 2026-12-04), and the list it watched would be gone.
  await page.evaluate(() => {
    window.__delays = [];
    const seen = new Set();
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records) {
        if (!(r.target instanceof Element) || !r.target.matches('.lines')) continue;
        for (const row of r.addedNodes) {
          const m = /^tick (\d+)$/.exec(row.textContent || '');
          if (m && !seen.has(m[1])) { seen.add(m[1]); window.__delays.push(now - Number(m[1])); }
        }
      }
    }).observe(document.querySelector('main'), {childList: true, subtree: true});
  });
  if (process.env.GO_FILE) writeFileSync(process.env.GO_FILE, '');
  const want = Number(process.env.TICKS || 1000);
  const end = Date.now() + 120000;
  while (Date.now() < end && (await page.evaluate(() => window.__delays.length)) < want)
    await new Promise((r) => setTimeout(r, 200));
  const d = (await page.evaluate(() => window.__delays)).sort((a, b) => a - b);
  const q = (f) => d.length ? d[Math.min(d.length - 1, Math.floor(f * d.length))] : 'n/a';
  out('ticks_seen', d.length);
  out('last_row', JSON.stringify(await page.evaluate(() => [...document.querySelectorAll('.lines .row')].slice(-1).map((r) => r.textContent)[0] || '')));
  out('event_dom_p50_ms', q(0.5));
  out('event_dom_p99_ms', q(0.99));
} finally {
  await browser.close();
}
