// A unified diff (git's, GitHub's, or one made in the page) shown as text:
// one row per line, marked by a class and by its own first character (+, -,
// @@), so a change is never told by colour alone.  The text goes in as text,
// never as HTML: a diff is agents' and strangers' output.
import {h} from './dom.js';

const MAX_LINES = 20000; // past this a browser slows; the rest is said, not drawn

function kindOf(line) {
  if (line.startsWith('@@')) return 'hunk';
  if (/^(diff |index |--- |\+\+\+ |new file|deleted file|similarity |rename |old mode|new mode|Binary files)/.test(line))
    return 'meta';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  if (line.startsWith('\\')) return 'note';
  return 'ctx';
}

// renderDiff(text, {label, cut}) -> <pre class="diff">; cut: the server said
// the diff was cut at its size cap (shown as a last line, in words).
export function renderDiff(text, opts = {}) {
  const lines = String(text || '').replace(/\n$/, '').split('\n');
  const pre = h('pre', {class: 'diff', tabindex: '0', role: 'region',
                        'aria-label': opts.label || 'Changes (unified diff)'});
  if (!text) {
    pre.append(h('span', {class: 'd-note'}, 'No changes.'));
    return pre;
  }
  const shown = Math.min(lines.length, MAX_LINES);
  for (let i = 0; i < shown; i++)
    pre.append(h('span', {class: `d-${kindOf(lines[i])}`}, lines[i]), '\n');
  if (lines.length > shown)
    pre.append(h('span', {class: 'd-note'}, `… ${lines.length - shown} more lines not shown`), '\n');
  if (opts.cut) pre.append(h('span', {class: 'd-note'}, '… the diff was cut at its size limit'), '\n');
  return pre;
}
