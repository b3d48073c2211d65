// An llm run's workspace as the files API keeps it (bosun-http(7)): the
// tree of paths with their latest version, one file's versions, a viewer
// (text as text; binary said, never shown), a plain editor whose Save is a
// PUT (a new version by "human"), and a version diffed against the
// current one.  File names and contents are the model's output: text only.
import {api, apiBytes} from './api.js';
import {h, clear, when} from './dom.js';
import {unifiedDiff} from './textdiff.js';
import {renderDiff} from './diff.js';

const VIEW_MAX = 1024 * 1024; // past this a file is said, not drawn

// Bytes -> text, or null when they are not UTF-8 text (a NUL, or invalid).
export function textOf(bytes) {
  if (bytes.includes(0)) return null;
  try { return new TextDecoder('utf-8', {fatal: true}).decode(bytes); } catch (e) { return null; }
}

function fileUrl(run, path, version) {
  const q = version ? `?version=${version}` : '';
  return `/runs/${encodeURIComponent(run)}/files/${encodeURIComponent(path)}${q}`;
}

// Paths -> nested {dirs: Map, files: [item]}, so the list reads as a tree.
function treeOf(items) {
  const root = {dirs: new Map(), files: []};
  for (const it of items) {
    const parts = String(it.path).split('/');
    let node = root;
    for (const d of parts.slice(0, -1)) {
      if (!node.dirs.has(d)) node.dirs.set(d, {dirs: new Map(), files: []});
      node = node.dirs.get(d);
    }
    node.files.push({name: parts[parts.length - 1], item: it});
  }
  return root;
}

function versionWords(it) {
  return `v${it.version}${it.deleted ? ' (deleted)' : ''} · ${it.deleted ? '' : `${it.size} bytes · `}by ${it.actor || '?'}`;
}

export class FilesPanel {
  constructor(run, {admin}) {
    this.run = run;
    this.admin = admin;
    this.selected = null; // the path shown
    this.versions = [];
    this.current = null; // {version, text|null, size}
    this.tree = h('div', {class: 'file-tree'});
    this.detail = h('div', {class: 'file-detail'});
    this.status = h('p', {class: 'muted', role: 'status', 'aria-live': 'polite'});
    this.el = h('section', {class: 'files', 'aria-labelledby': 'files-h'},
      h('h2', {id: 'files-h'}, 'Workspace files'), this.tree, this.status, this.detail);
    this.timer = null;
    this.pending = new Map(); // path -> the newest version an event told, until the redraw
  }

  async load() {
    try {
      const r = await api('GET', `/runs/${encodeURIComponent(this.run)}/files`);
      this.drawTree(r.items || []);
    } catch (e) {
      clear(this.tree).append(h('p', {class: 'error', role: 'alert'}, `Cannot list the files: ${e.message}`));
    }
  }

  drawTree(items) {
    clear(this.tree);
    if (!items.length) {
      this.tree.append(h('p', {class: 'muted'}, 'No files yet.'));
      return;
    }
    const list = (node) => h('ul', {class: 'tree'},
      [...node.dirs.keys()].sort().map((d) => h('li', {class: 'dir'}, h('span', {class: 'dirname'}, `${d}/`),
                                                 list(node.dirs.get(d)))),
      node.files.sort((a, b) => (a.name < b.name ? -1 : 1)).map(({name, item}) => h('li', {},
        h('button', {type: 'button', class: 'file', 'aria-pressed': String(item.path === this.selected),
                     dataset: {path: item.path}, onclick: () => this.open(item.path)}, name),
        ' ', h('span', {class: 'meta'}, versionWords(item)))));
    this.tree.append(list(treeOf(items)));
  }

  // A file version was recorded (evt.run.*.RUN.file): redraw, debounced.
  onFileEvent(data) {
    if (this.editing && data && data.path === this.selected) {
      this.status.textContent = `${data.path} changed meanwhile (version ${data.version} by ${data.actor || '?'}): ` +
        'Save replaces it with your text.';
      this.status.className = 'error';
    }
    if (data && data.path) this.pending.set(data.path, Math.max(this.pending.get(data.path) || 0, data.version || 0));
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const newest = this.pending.get(this.selected) || 0;
      this.pending.clear();
      this.load();
      // Reopened only for a version not listed yet (not for one this page
      // saved and already shows), so what the reader opened stays.
      const known = this.versions.length ? this.versions[this.versions.length - 1].version : 0;
      if (this.selected && newest > known && !this.editing) this.open(this.selected);
    }, 150);
  }

  async fetchText(path, version) {
    const {bytes, headers} = await apiBytes('GET', fileUrl(this.run, path, version));
    return {text: bytes.length > VIEW_MAX ? null : textOf(bytes), size: bytes.length,
            version: Number(headers.get('X-Bosun-File-Version')) || version || null};
  }

  async open(path) {
    this.selected = path;
    this.editing = false;
    for (const b of this.tree.querySelectorAll('button.file'))
      b.setAttribute('aria-pressed', String(b.dataset.path === path));
    this.status.textContent = `Loading ${path}…`;
    this.status.className = 'muted';
    try {
      const vs = await api('GET', `/runs/${encodeURIComponent(this.run)}/files?path=${encodeURIComponent(path)}`);
      this.versions = vs.items || [];
      const last = this.versions[this.versions.length - 1];
      this.current = last && !last.deleted ? await this.fetchText(path, null) : null;
      this.status.textContent = '';
      this.drawDetail();
    } catch (e) {
      this.status.textContent = `Cannot open ${path}: ${e.message}`;
      this.status.className = 'error';
    }
  }

  viewer(label, file) {
    if (!file) return h('p', {class: 'muted'}, 'Deleted at this version.');
    if (file.text === null)
      return h('p', {class: 'muted'}, `Binary or very large file (${file.size} bytes): not shown.`);
    return h('pre', {class: 'file-view', tabindex: '0', role: 'region', 'aria-label': label}, file.text);
  }

  drawDetail() {
    const path = this.selected;
    const cur = this.current;
    const body = h('div', {class: 'file-body'}, this.viewer(`Content of ${path}`, cur));
    const tools = h('div', {class: 'actions'});
    if (this.admin && cur && cur.text !== null)
      tools.append(h('button', {type: 'button', onclick: () => this.edit(body, tools)}, 'Edit'));
    const latest = this.versions.length ? this.versions[this.versions.length - 1].version : null;
    const versions = h('ol', {class: 'versions', 'aria-label': `Versions of ${path}`},
      this.versions.map((v) => h('li', {dataset: {version: String(v.version)}},
        h('span', {}, versionWords(v), ' · ', when(v.time), v.version === latest ? ' (current)' : ''), ' ',
        v.deleted ? null : h('button', {type: 'button', class: 'small',
                                        onclick: () => this.showVersion(body, v.version)}, `View v${v.version}`),
        v.deleted || v.version === latest || !cur ? null
          : h('button', {type: 'button', class: 'small',
                         onclick: () => this.showDiff(body, v.version, latest)}, `Diff v${v.version} with current`))));
    clear(this.detail).append(h('h3', {}, h('code', {}, path)), tools, body,
      h('h4', {}, 'Versions'), versions);
  }

  async showVersion(body, version) {
    try {
      const f = await this.fetchText(this.selected, version);
      clear(body).append(h('p', {class: 'meta'}, `Version ${version}`), this.viewer(`${this.selected} at version ${version}`, f));
    } catch (e) {
      clear(body).append(h('p', {class: 'error', role: 'alert'}, `Cannot read version ${version}: ${e.message}`));
    }
  }

  async showDiff(body, version, latest) {
    try {
      const old = await this.fetchText(this.selected, version);
      const cur = this.current;
      if (old.text === null || cur.text === null) {
        clear(body).append(h('p', {class: 'muted'}, 'A binary file: no diff shown.'));
        return;
      }
      const d = unifiedDiff(old.text, cur.text, {oldName: `${this.selected} (v${version})`,
                                                  newName: `${this.selected} (v${latest})`});
      clear(body).append(h('p', {class: 'meta'}, `Version ${version} against the current version ${latest}`),
        d.tooLarge ? h('p', {class: 'muted diff-too-large'}, 'The versions are too large to diff here.')
          : renderDiff(d.text, {label: `Changes from version ${version} to ${latest}`}));
    } catch (e) {
      clear(body).append(h('p', {class: 'error', role: 'alert'}, `Cannot diff: ${e.message}`));
    }
  }

  edit(body, tools) {
    this.editing = true;
    const area = h('textarea', {class: 'editor', rows: '14', spellcheck: 'false',
                                'aria-label': `Edit ${this.selected}`});
    area.value = this.current.text;
    const said = h('p', {class: 'muted', role: 'status'});
    const save = h('button', {type: 'submit'}, 'Save');
    const form = h('form', {class: 'edit', onsubmit: async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      said.textContent = 'Saving…';
      said.className = 'muted';
      try {
        const {bytes} = await apiBytes('PUT', fileUrl(this.run, this.selected), area.value);
        const r = JSON.parse(new TextDecoder().decode(bytes) || '{}');
        this.status.textContent = `Saved ${this.selected} as version ${r.version}.`;
        this.status.className = 'muted';
        this.editing = false;
        await this.load();
        await this.open(this.selected);
      } catch (e) {
        save.disabled = false;
        said.textContent = `Not saved: ${e.message}`;
        said.className = 'error';
      }
    }},
    area, h('div', {class: 'actions'}, save,
      h('button', {type: 'button', onclick: () => { this.editing = false; this.drawDetail(); }}, 'Cancel')), said);
    tools.hidden = true;
    clear(body).append(form);
    area.focus();
  }
}
