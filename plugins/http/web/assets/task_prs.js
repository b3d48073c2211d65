// A task's linked pull requests (bosun-github(7)): state in words, checks,
// review decision, head and base, author, a link to GitHub; the diff and
// the changed files loaded when asked for.  Titles, paths and patches are
// strangers' text: never parsed as HTML.
import {api, apiBytes, hasBearer} from './api.js';
import {h, clear, fill, when, badge} from './dom.js';
import {renderDiff} from './diff.js';
import {errorBox} from './views.js';

// open, draft, closed or merged: one word, as GitHub shows it.
export function prState(pr) {
  if (!pr) return 'unknown';
  if (pr.merged) return 'merged';
  if (pr.state === 'open' && pr.draft) return 'draft';
  return pr.state || 'unknown';
}

function checksWords(pr) {
  const c = pr.checks;
  if (c && c.total) {
    const parts = [`${c.success} passed`, `${c.failure} failed`, `${c.pending} pending`];
    return `${c.conclusion}: ${parts.join(', ')} of ${c.total}`;
  }
  if (pr.status && pr.status.total) return `status ${pr.status.state} (${pr.status.total})`;
  if (c === null) return 'not readable with this token';
  return 'none';
}

function reviewWords(pr) {
  const d = pr.review_decision || 'none';
  return d.replace(/_/g, ' ') + (pr.requested_reviewers ? ` · ${pr.requested_reviewers} requested` : '');
}

function query(item) {
  return `?pr=${item.number}&repo=${encodeURIComponent(`${item.owner}/${item.repo}`)}`;
}

function summary(item) {
  const pr = item.pr;
  const ref = `${item.owner}/${item.repo}#${item.number}`;
  // Only a web address is a link: a javascript: URL from GitHub's answer
  // would run in this page.
  const web = (u) => (typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null);
  const link = (pr && web(pr.html_url)) || web(item.url);
  const title = h('h3', {}, h('a', {href: link, rel: 'noopener noreferrer', target: '_blank', class: 'pr-title'},
    pr && pr.title ? pr.title : ref), ' ', h('span', {class: 'muted'}, ref));
  if (!pr) return [title, h('p', {class: 'muted'}, 'Not fetched from GitHub yet.')];
  return [title,
    h('dl', {class: 'facts'},
      h('dt', {}, 'State'), h('dd', {class: 'pr-state'}, badge(prState(pr)),
        pr.mergeable === false ? ' · not mergeable' : ''),
      h('dt', {}, 'Checks'), h('dd', {class: 'pr-checks'}, checksWords(pr)),
      h('dt', {}, 'Review'), h('dd', {class: 'pr-review'}, reviewWords(pr)),
      h('dt', {}, 'Branches'), h('dd', {class: 'pr-refs'}, h('code', {}, (pr.head && pr.head.ref) || '?'), ' → ',
        h('code', {}, (pr.base && pr.base.ref) || '?')),
      h('dt', {}, 'Author'), h('dd', {class: 'pr-author'}, pr.author || '—'),
      h('dt', {}, 'Fetched'), h('dd', {}, when(item.fetched_at)))];
}

// A button that shows and hides a panel, loading it the first time.
function toggle(label, panel, load) {
  let loaded = false;
  const b = h('button', {type: 'button', 'aria-expanded': 'false'}, `Show ${label}`);
  b.addEventListener('click', async () => {
    const open = b.getAttribute('aria-expanded') !== 'true';
    b.setAttribute('aria-expanded', String(open));
    b.textContent = `${open ? 'Hide' : 'Show'} ${label}`;
    panel.hidden = !open;
    if (open && !loaded) {
      loaded = true;
      clear(panel).append(h('p', {class: 'muted'}, 'Loading…'));
      try { await load(); } catch (e) { loaded = false; clear(panel).append(errorBox(e)); }
    }
  });
  return b;
}

function fileRow(f) {
  const path = f.previous_path ? `${f.previous_path} → ${f.path}` : f.path;
  const patch = h('details', {class: 'patch'}, h('summary', {}, 'Patch'));
  patch.addEventListener('toggle', () => { // drawn when opened: 3000 files stay light
    if (patch.open && patch.childElementCount === 1)
      patch.append(f.patch == null ? h('p', {class: 'muted'}, 'GitHub gives no patch (binary or very large).')
        : renderDiff(f.patch, {label: `Changes to ${f.path}`}));
  });
  return h('li', {class: 'pr-file', dataset: {path: f.path}},
    h('code', {class: 'path'}, path), ' ', badge(f.status), ' ',
    h('span', {class: 'adds'}, `+${f.additions}`), ' ', h('span', {class: 'dels'}, `−${f.deletions}`), patch);
}

function prCard(task, item) {
  const enc = encodeURIComponent(task);
  const head = h('div', {}, summary(item));
  const diffPanel = h('div', {class: 'pr-diff', hidden: true});
  const filesPanel = h('div', {class: 'pr-files', hidden: true});
  const loadDiff = async () => {
    const {bytes, headers} = await apiBytes('GET', `/tasks/${enc}/pr-diff${query(item)}`);
    const text = new TextDecoder().decode(bytes);
    clear(diffPanel).append(renderDiff(text, {label: `Diff of ${item.owner}/${item.repo}#${item.number}`,
                                              cut: headers.get('X-Bosun-Truncated') === 'true'}));
  };
  const loadFiles = async () => {
    const res = await api('GET', `/tasks/${enc}/pr-files${query(item)}`);
    const files = res.items || [];
    const adds = files.reduce((n, f) => n + (f.additions || 0), 0);
    const dels = files.reduce((n, f) => n + (f.deletions || 0), 0);
    clear(filesPanel).append(
      h('p', {class: 'muted'}, `${files.length} file${files.length === 1 ? '' : 's'}, +${adds} −${dels}`,
        res.truncated ? ' (GitHub lists no more than 3000)' : ''),
      h('ul', {class: 'plain pr-file-list'}, files.map(fileRow)));
  };
  const el = h('article', {class: 'card pr', dataset: {pr: `${item.owner}/${item.repo}#${item.number}`}},
    head, h('div', {class: 'actions'}, toggle('diff', diffPanel, loadDiff), toggle('files', filesPanel, loadFiles)),
    diffPanel, filesPanel);
  return {el, update: (next) => fill(head, summary(next))};
}

// Whether the github plugin runs, from /status (kept a minute): without
// it the PR routes answer 503, which a browser logs as an error.  null
// when this identity may not read the status (a share link): then ask.
let githubKnown = null, githubAt = 0;
async function githubRuns() {
  if (hasBearer()) return null; // a share link reads its task only
  if (Date.now() - githubAt < 60000) return githubKnown;
  try {
    const st = await api('GET', '/status');
    githubKnown = Array.isArray(st.plugins) ? st.plugins.includes('github') : null;
  } catch (e) { githubKnown = null; }
  githubAt = Date.now();
  return githubKnown;
}

const NO_GITHUB = 'The github plugin is not running: no pull requests.';

// The section; refresh() after evt.pr.<task>.* redraws each summary and
// keeps the diff and files already open.
export function taskPrs(task) {
  const list = h('div', {class: 'cards prs'});
  const note = h('div', {});
  const cards = new Map();
  const el = h('section', {'aria-labelledby': 'tpr-h'}, h('h2', {id: 'tpr-h'}, 'Pull requests'), note, list);
  const refresh = async () => {
    let res;
    if (await githubRuns() === false) {
      fill(note, h('p', {class: 'muted'}, NO_GITHUB));
      return;
    }
    try {
      res = await api('GET', `/tasks/${encodeURIComponent(task)}/prs`);
    } catch (e) {
      clear(list);
      cards.clear();
      // 403: an identity the daemon shows no pull requests to (an agent's
      // token; a share link reads its own task's, bosun-http(7)).
      fill(note, e.status === 503 ? h('p', {class: 'muted'}, NO_GITHUB)
        : e.status === 403 ? h('p', {class: 'muted', dataset: {refused: 'prs'}}, `Pull requests are not shown here: ${e.message}`)
          : errorBox(e));
      return;
    }
    const items = res.items || [];
    fill(note, items.length ? null : h('p', {class: 'muted'}, 'None linked.'));
    const seen = new Set();
    for (const item of items) {
      const key = `${item.owner}/${item.repo}#${item.number}`;
      seen.add(key);
      if (cards.has(key)) cards.get(key).update(item);
      else cards.set(key, prCard(task, item));
    }
    for (const key of [...cards.keys()]) if (!seen.has(key)) cards.delete(key);
    list.replaceChildren(...[...cards.values()].map((c) => c.el));
  };
  return {el, refresh};
}
