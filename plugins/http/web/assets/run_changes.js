// A run's git changes: its worktree (from the .worktree events: path,
// branch, base, keep and, once the run ended, whether it was kept or
// removed) and its latest change snapshot (the .changes events,
// bosun-bus(7)): the paths with their status and --stat counts, and the
// diff drawn by renderDiff, with what was cut said in words.
import {h, when} from './dom.js';
import {renderDiff} from './diff.js';

// The two letters of git status --porcelain=v2, in words too.
const STATUS = {M: 'modified', A: 'added', D: 'deleted', R: 'renamed', C: 'copied', U: 'unmerged', T: 'type changed', '?': 'untracked'};

function statusWords(xy) {
  const s = String(xy || '');
  if (s === '??') return 'untracked';
  const words = [...new Set([...s].filter((c) => STATUS[c]).map((c) => STATUS[c]))];
  return words.join(', ') || s;
}

const count = (v) => (v === null ? 'binary' : String(v ?? 0));

export class RunChanges {
  constructor() {
    this.wt = h('div', {class: 'worktree'});
    this.snap = h('div', {class: 'snapshot'}, h('p', {class: 'muted'},
      'No change snapshot: the run\'s directory is not a git work tree, or nothing changed yet.'));
    this.el = h('div', {}, h('h3', {}, 'Worktree'), this.wt, h('h3', {}, 'Latest snapshot'), this.snap);
    this.wt.append(h('p', {class: 'muted'}, 'No worktree of its own (no worktree in its agent\'s configuration).'));
    this.worktree = null;
    this.seq = 0;
    this.files = 0;
  }

  // A .worktree event's data: created first, then kept or removed.
  setWorktree(d, time) {
    this.worktree = {...(this.worktree || {}), ...d, time};
    const w = this.worktree;
    const fate = w.action === 'created' ? 'in use' : w.action === 'kept' ? 'kept' : w.action === 'removed' ? 'removed' : String(w.action || '?');
    this.wt.replaceChildren(h('dl', {class: 'facts'},
      h('dt', {}, 'Path'), h('dd', {}, h('code', {}, String(w.path || '—'))),
      h('dt', {}, 'Repository'), h('dd', {}, h('code', {}, String(w.repo || '—'))),
      h('dt', {}, 'Branch'), h('dd', {}, h('code', {}, String(w.branch || '—'))),
      h('dt', {}, 'Base'), h('dd', {}, String(w.base || '—'), w.base_commit ? [' at ', h('code', {}, String(w.base_commit).slice(0, 12))] : ''),
      w.keep ? [h('dt', {}, 'Keep'), h('dd', {}, String(w.keep))] : null,
      h('dt', {}, 'Fate'), h('dd', {class: 'wt-fate'}, fate, ' ', when(time),
        w.reason ? ` (${w.reason})` : '',
        w.commits_ahead != null ? ` · ${w.commits_ahead} commits ahead of the base` : '',
        w.changed != null ? (w.changed ? ' · held uncommitted changes' : ' · no uncommitted changes') : '')));
  }

  // A snapshot's data (diff included); an older one than shown is ignored.
  setSnapshot(d, seq, time) {
    if (!d || typeof d !== 'object') return false;
    if (seq && seq <= this.seq) return false;
    this.seq = seq || this.seq;
    const ok = (f) => f && typeof f === 'object' && typeof f.path === 'string';
    const files = Array.isArray(d.files) ? d.files.filter(ok) : [];
    const stat = new Map((Array.isArray(d.numstat) ? d.numstat.filter(ok) : []).map((n) => [n.path, n]));
    const paths = new Map(files.map((f) => [f.path, f]));
    for (const p of stat.keys()) if (!paths.has(p)) paths.set(p, {path: p, status: 'committed'});
    this.files = paths.size;
    const rows = [...paths.values()].map((f) => {
      const n = stat.get(f.path);
      return h('tr', {},
        h('td', {}, h('code', {}, String(f.path)), f.orig ? [' ← ', h('code', {}, String(f.orig))] : ''),
        h('td', {}, h('code', {}, String(f.status)), ' ', h('span', {class: 'muted'}, f.status === 'committed' ? '' : statusWords(f.status))),
        h('td', {class: 'num'}, n ? `+${count(n.added)}` : '—'),
        h('td', {class: 'num'}, n ? `−${count(n.deleted)}` : '—'));
    });
    this.snap.replaceChildren(...[
      h('p', {class: 'meta'}, d.final ? 'Taken when the run ended ' : 'Taken ', when(time),
        ` · base ${String(d.base || '—').slice(0, 12)} · HEAD ${d.head ? String(d.head).slice(0, 12) : '—'}`,
        ` · ${paths.size} paths, +${Number(d.added) || 0} −${Number(d.deleted) || 0}`),
      rows.length ? h('div', {class: 'table-wrap'}, h('table', {class: 'changed-files'},
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Path'), h('th', {scope: 'col'}, 'Status'),
          h('th', {scope: 'col'}, 'Added'), h('th', {scope: 'col'}, 'Deleted'))),
        h('tbody', {}, rows))) : h('p', {class: 'muted'}, 'No changed paths.'),
      d.files_truncated || d.numstat_truncated ? h('p', {class: 'muted'}, 'The list of paths was cut at its limit (changes.files_max).') : null,
      renderDiff(d.diff || '', {cut: !!d.diff_truncated, label: 'Diff since the base'})].filter(Boolean));
    return true;
  }
}
