// A task's artifacts with their versions: each version viewed (text as
// text, anything else said with its size), downloaded from the REST route,
// and two chosen versions diffed in the page.  Names and contents come
// from agents: they go in as text, never as HTML.
import {api, apiBytes, hasBearer} from './api.js';
import {h, clear, fill, when} from './dom.js';
import {renderDiff} from './diff.js';
import {unifiedDiff} from './textdiff.js';
import {errorBox} from './views.js';

const VIEW_MAX = 4 * 1024 * 1024; // past this a version is downloaded, not shown
const PAGE = 100;

function url(task, name, version) {
  return `/tasks/${encodeURIComponent(task)}/artifacts/${encodeURIComponent(name)}` +
    (version ? `?version=${version}` : '');
}

function sizeWords(n) {
  if (n == null) return '? bytes';
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB (${n} bytes)`;
  return `${(n / 1048576).toFixed(1)} MiB (${n} bytes)`;
}

// The bytes as text when they are UTF-8 without NULs, else null.
function asText(bytes) {
  if (bytes.includes(0)) return null;
  try { return new TextDecoder('utf-8', {fatal: true}).decode(bytes); } catch (e) { return null; }
}

async function fetchVersion(task, name, v) {
  if (v.size != null && v.size > VIEW_MAX) return {tooLarge: true};
  const {bytes} = await apiBytes('GET', url(task, name, v.version));
  return {bytes, text: asText(bytes)};
}

// A link the browser downloads (the route sends an inline disposition for
// text, so the download attribute says to save it).  A share link's page
// has no cookie: it fetches with its token and saves that instead.
function downloadLink(task, name, v) {
  const file = name.split('/').pop() || 'artifact';
  const href = `/api/v1${url(task, name, v.version)}`;
  const a = h('a', {href, download: file, class: 'download', 'aria-label': `Download ${name} version ${v.version}`},
    'Download');
  a.addEventListener('click', async (ev) => {
    if (!hasBearer()) return;
    ev.preventDefault();
    let bytes;
    try {
      ({bytes} = await apiBytes('GET', url(task, name, v.version)));
    } catch (e) {
      a.after(errorBox(e));
      return;
    }
    const blob = URL.createObjectURL(new Blob([bytes], {type: 'application/octet-stream'}));
    const tmp = h('a', {href: blob, download: file});
    document.body.append(tmp);
    tmp.click();
    tmp.remove();
    setTimeout(() => URL.revokeObjectURL(blob), 10000);
  });
  return a;
}

async function allVersions(task, name) {
  const out = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) { // 1,000 versions at most here
    const q = `?name=${encodeURIComponent(name)}&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await api('GET', `/tasks/${encodeURIComponent(task)}/artifacts${q}`);
    out.push(...(res.items || []));
    cursor = res.next;
    if (!cursor) break;
  }
  return {versions: out, more: !!cursor};
}

function versionSelect(label, versions, chosen) {
  return h('label', {}, `${label} `, h('select', {name: label.toLowerCase()},
    versions.map((v) => h('option', {value: String(v.version), selected: v.version === chosen}, `v${v.version}`))));
}

// One artifact: its versions loaded when opened, a viewer, a diff form.
function artifactItem(task, a) {
  const body = h('div', {class: 'artifact-body'});
  const out = h('div', {class: 'artifact-out', 'aria-live': 'polite'});
  const item = h('details', {class: 'artifact', dataset: {artifact: a.name}},
    h('summary', {}, h('span', {class: 'name'}, a.name),
      ` · ${a.versions || 1} version${(a.versions || 1) === 1 ? '' : 's'} · latest v${a.version} · ${sizeWords(a.size)} · `,
      when(a.created_at)),
    body, out);
  let loaded = false, loading = false;
  const show = async (v) => {
    clear(out).append(h('p', {class: 'muted'}, `Loading v${v.version}…`));
    try {
      const got = await fetchVersion(task, a.name, v);
      const head = h('h4', {}, `${a.name} v${v.version}`);
      if (got.tooLarge) clear(out).append(head, h('p', {}, `Too large to show here: ${sizeWords(v.size)}; download it.`));
      else if (got.text === null)
        clear(out).append(head, h('p', {class: 'binary'}, `Binary content (${v.mime_type || 'unknown type'}), ${sizeWords(got.bytes.length)}: download it to open it.`));
      else clear(out).append(head, h('pre', {class: 'artifact-text', tabindex: '0', dataset: {version: v.version}}, got.text));
    } catch (e) { clear(out).append(errorBox(e)); }
  };
  const diff = async (oldV, newV) => {
    clear(out).append(h('p', {class: 'muted'}, `Comparing v${oldV.version} with v${newV.version}…`));
    try {
      const [x, y] = await Promise.all([fetchVersion(task, a.name, oldV), fetchVersion(task, a.name, newV)]);
      const head = h('h4', {}, `${a.name}: v${oldV.version} → v${newV.version}`);
      if (x.tooLarge || y.tooLarge) return clear(out).append(head, h('p', {}, 'A version is too large to compare here.'));
      if (x.text === null || y.text === null)
        return clear(out).append(head, h('p', {class: 'binary'}, 'Binary content is not compared as text: ' +
          `v${oldV.version} is ${sizeWords(x.bytes.length)}, v${newV.version} is ${sizeWords(y.bytes.length)}` +
          (oldV.sha256 && oldV.sha256 === newV.sha256 ? ', the same bytes.' : '.')));
      const d = unifiedDiff(x.text, y.text, {oldName: `${a.name} v${oldV.version}`, newName: `${a.name} v${newV.version}`});
      if (d.tooLarge) return clear(out).append(head, h('p', {class: 'too-large'}, 'These versions differ too much (or are too long) to diff in the page; download both to compare them.'));
      clear(out).append(head, d.text ? renderDiff(d.text, {label: `Changes from v${oldV.version} to v${newV.version}`})
        : h('p', {class: 'muted'}, 'The two versions are the same.'));
    } catch (e) { clear(out).append(errorBox(e)); }
  };
  const load = async () => {
    loading = true;
    clear(body).append(h('p', {class: 'muted'}, 'Loading versions…'));
    try {
      const {versions, more} = await allVersions(task, a.name);
      const rows = versions.map((v) => h('tr', {dataset: {version: v.version}},
        h('td', {}, `v${v.version}`), h('td', {}, sizeWords(v.size)), h('td', {}, v.mime_type || ''),
        h('td', {}, v.run ? h('a', {href: `#/runs/${encodeURIComponent(v.run)}`}, v.run) : '—'), h('td', {}, when(v.created_at)),
        h('td', {class: 'actions'}, h('button', {type: 'button', class: 'view', onclick: () => show(v)}, 'View'),
          downloadLink(task, a.name, v))));
      const table = h('div', {class: 'table-wrap'}, h('table', {class: 'versions'},
        h('caption', {class: 'muted'}, `Versions of ${a.name}, newest first${more ? ' (the newest 1,000)' : ''}`),
        h('thead', {}, h('tr', {}, ['Version', 'Size', 'Type', 'Run', 'Made', ''].map((c) => h('th', {scope: 'col'}, c)))),
        h('tbody', {}, rows)));
      let form = null;
      if (versions.length > 1) {
        const oldSel = versionSelect('From', versions, versions[1].version);
        const newSel = versionSelect('To', versions, versions[0].version);
        form = h('form', {class: 'filters diff-form', 'aria-label': `Compare versions of ${a.name}`, onsubmit: (ev) => {
          ev.preventDefault();
          const pick = (sel) => versions.find((v) => String(v.version) === sel.querySelector('select').value);
          diff(pick(oldSel), pick(newSel));
        }}, oldSel, newSel, h('button', {type: 'submit'}, 'Compare'));
      }
      fill(body, table, form);
      loaded = true;
    } catch (e) { clear(body).append(errorBox(e)); } finally { loading = false; }
  };
  const open = () => { if (item.open && !loaded && !loading) load(); };
  item.addEventListener('toggle', open);
  return {el: item, open: () => { item.open = true; open(); }};
}

// The section; refresh() after evt.artifact.<task>.added keeps what is
// open and re-reads the versions of those.
export function taskArtifacts(task) {
  const list = h('div', {class: 'artifacts'});
  const items = new Map();
  const el = h('section', {'aria-labelledby': 'ta-h'}, h('h2', {id: 'ta-h'}, 'Artifacts'), list);
  const refresh = async () => {
    let res;
    try {
      res = await api('GET', `/tasks/${encodeURIComponent(task)}/artifacts?limit=${PAGE}`);
    } catch (e) { clear(list).append(errorBox(e)); return; }
    const arts = res.items || [];
    if (!arts.length) { clear(list).append(h('p', {class: 'muted'}, 'None.')); items.clear(); return; }
    const next = new Map();
    for (const a of arts) {
      const old = items.get(a.name);
      if (old && old.version === a.version) { next.set(a.name, old); continue; }
      const it = artifactItem(task, a);
      if (old && old.item.el.open) it.open(); // a new version: its versions read again, still open
      next.set(a.name, {version: a.version, item: it});
    }
    items.clear();
    for (const [k, v] of next) items.set(k, v);
    fill(list, [...items.values()].map((v) => v.item.el),
      res.next ? h('p', {class: 'muted'}, `The first ${PAGE} artifacts by name are shown.`) : null);
  };
  return {el, refresh};
}
