// Shared by the dashboard's browser scenarios (tests/web/*.mjs): the check
// lines the shell scripts turn into TAP ("PASS name" or "FAIL name:
// detail"), a bounded wait, the phone-width check, and headless Debian
// chromium launched as the developers' guide says.
import {chromium} from 'playwright-core';

export function report(name, ok, detail) {
  console.log(ok ? `PASS ${name}` : `FAIL ${name}: ${detail}`);
}
export function check(name, got, want) {
  report(name, got === want, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
// f() until it gives something truthy, for ms at most; its last value.
export async function until(f, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
// No horizontal scroll at this viewport.
export async function fits(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
}
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
// Chromium at 1440x900 and one page, with problems: the console errors
// that are not expected (Chromium logs every 4xx as one: those that match
// expected are), exceptions included.
export async function openPage(expected) {
  const browser = await launch();
  const context = await browser.newContext({viewport: {width: 1440, height: 900}});
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return {browser, context, page, problems};
}
