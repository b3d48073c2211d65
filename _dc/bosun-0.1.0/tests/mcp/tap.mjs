// Minimal TAP output for the MCP tests, read by automake's tap-driver.
// Embedded in a shell test (TAP_OFFSET set), numbering continues from the
// offset, no plan is printed, and the count is written to TAP_COUNT_FILE.
import { writeFileSync } from 'node:fs';

const embedded = process.env.TAP_OFFSET !== undefined;
let n = embedded ? Number(process.env.TAP_OFFSET) : 0;
let failed = 0;
export function plan(count) {
  if (!embedded) console.log(`1..${count}`);
}
export function ok(cond, desc, detail) {
  n++;
  if (cond) {
    console.log(`ok ${n} - ${desc}`);
  } else {
    failed++;
    console.log(`not ok ${n} - ${desc}`);
    if (detail !== undefined) {
      const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
      for (const line of String(text).split('\n')) console.log(`#   ${line}`);
    }
  }
  return cond;
}
export function is(got, want, desc) {
  return ok(got === want, desc, `got: ${JSON.stringify(got)}\nexpected: ${JSON.stringify(want)}`);
}
export function done() {
  if (process.env.TAP_COUNT_FILE) writeFileSync(process.env.TAP_COUNT_FILE, `${n} ${failed}\n`);
  process.exitCode = failed ? 1 : 0;
}
