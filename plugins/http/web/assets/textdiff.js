// A line diff of two texts made in the page (artifact and file versions),
// as unified-diff text for renderDiff (diff.js).  Myers' O(ND) algorithm
// with its edit distance bounded: two large texts that share little would
// cost O(N*D) time and memory, so past MAX_EDITS the page says the versions
// are too different to diff here instead of freezing the tab.
const MAX_LINES = 50000;
const MAX_EDITS = 4000;

function splitLines(text) {
  const s = String(text ?? '');
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// The edit script as [op, line] with op ' ', '-' or '+'; null when the
// edit distance passes MAX_EDITS.
function editScript(a, b) {
  const n = a.length, m = b.length, max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, v, a, b, d, off);
    }
  }
  return null;
}

function backtrack(trace, last, a, b, dEnd, off) {
  const out = [];
  let x = a.length, y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) ? k + 1 : k - 1;
    const prevX = v[off + prevK], prevY = prevX - prevK;
    while (x > prevX && y > prevY) out.push([' ', a[--x]]), y--;
    if (x === prevX) out.push(['+', b[--y]]);
    else out.push(['-', a[--x]]);
  }
  while (x > 0 && y > 0) out.push([' ', a[--x]]), y--;
  return out.reverse();
}

function hunks(script, context) {
  const out = [];
  let ai = 1, bi = 1, i = 0;
  while (i < script.length) {
    if (script[i][0] === ' ') { ai++; bi++; i++; continue; }
    // A change: take `context` lines before, then changes and runs of at
    // most 2*context unchanged lines, then `context` lines after.
    let start = i, a0 = ai, b0 = bi;
    for (let c = 0; c < context && start > 0 && script[start - 1][0] === ' '; c++) { start--; a0--; b0--; }
    let end = i, aN = ai, bN = bi;
    for (;;) {
      while (end < script.length && script[end][0] !== ' ') {
        if (script[end][0] === '-') aN++; else bN++;
        end++;
      }
      let run = 0;
      while (end + run < script.length && script[end + run][0] === ' ') run++;
      if (end + run < script.length && run <= 2 * context) { end += run; aN += run; bN += run; continue; }
      const tail = Math.min(run, context);
      end += tail; aN += tail; bN += tail;
      break;
    }
    const lines = script.slice(start, end).map(([op, l]) => op + l);
    const aLen = aN - a0, bLen = bN - b0;
    out.push(`@@ -${aLen ? a0 : a0 - 1},${aLen} +${bLen ? b0 : b0 - 1},${bLen} @@`, ...lines);
    ai = aN; bi = bN; i = end;
  }
  return out;
}

// unifiedDiff(oldText, newText, {oldName, newName, context}) ->
// {text, tooLarge}: text is '' when the two are the same.
export function unifiedDiff(oldText, newText, opts = {}) {
  const a = splitLines(oldText), b = splitLines(newText);
  if (a.length > MAX_LINES || b.length > MAX_LINES) return {text: '', tooLarge: true};
  const script = editScript(a, b);
  if (!script) return {text: '', tooLarge: true};
  const body = hunks(script, opts.context ?? 3);
  if (!body.length) return {text: '', tooLarge: false};
  const head = [`--- ${opts.oldName || 'a'}`, `+++ ${opts.newName || 'b'}`];
  return {text: head.concat(body).join('\n') + '\n', tooLarge: false};
}
