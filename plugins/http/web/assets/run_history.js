// A run's history: its processes (each start, exit with code or signal,
// and why it was restarted or gave up), its states with how long ago, the
// budget that stopped it, and the resumed-from chain (the runs of the same
// session before and after this one, bosun-bus(7) resumed_from).
import {h, when} from './dom.js';
import {take} from './run_events.js';

export const HISTORY_KINDS = ['spawn_requested', 'spawn_started', 'spawn_failed', 'spawn_completed', 'exited',
                              'state', 'budget', 'stop_escalated', 'group_stopping', 'adopted', 'orphan_stopping'];
const KEEP = 2000;

function exitWords(d) {
  if (d.exit_signal != null) return `killed by signal ${d.exit_signal}`;
  if (d.exit_code != null) return `exit code ${d.exit_code}`;
  return d.note ? String(d.note) : 'exit status unknown';
}

// [what, details] for one event, or null for one not shown.
function describe(kind, d) {
  switch (kind) {
  case 'spawn_requested': return ['start requested', `restart ${Number(d.restarts) || 0}`];
  case 'spawn_started': return ['started', `pid ${d.pid} · restart ${Number(d.restarts) || 0}`];
  case 'exited': return ['exited', `${exitWords(d)}${d.duration != null ? ` after ${Number(d.duration).toFixed(1)} s` : ''}`];
  case 'spawn_failed': return ['failed', `${d.reason || ''}${d.class ? ` (${d.class})` : ''}`];
  case 'spawn_completed': return ['completed', `${d.reason || ''}${d.waiting_input ? ` · waits on question ${d.waiting_input}` : ''}`];
  case 'state': return [`state ${d.state}`, d.reason ? String(d.reason) : ''];
  case 'budget': return ['budget reached', `${d.budget}: spent ${d.spent} of ${d.limit}`];
  case 'stop_escalated': return ['stop escalated', `pid ${d.pid} sent SIGKILL`];
  case 'group_stopping': return ['group stopping', `pgid ${d.pgid} · SIG${d.signal}`];
  case 'adopted': return ['adopted', `pid ${d.pid} · was ${d.previous_state}`];
  case 'orphan_stopping': return ['orphan stopping', `pid ${d.pid} · was ${d.previous_state}`];
  default: return null;
  }
}

export class RunHistory {
  constructor(id) {
    this.id = id;
    this.chain = h('div', {class: 'chain'}, h('p', {class: 'muted'}, 'Looking for runs of the same session…'));
    this.rows = h('tbody', {});
    this.table = h('table', {class: 'history'}, h('caption', {class: 'muted'}, 'Newest last'),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'When'), h('th', {scope: 'col'}, 'What'),
        h('th', {scope: 'col'}, 'Details'))), this.rows);
    this.el = h('div', {}, h('h3', {}, 'Resumed-from chain'), this.chain,
      h('h3', {}, 'Processes and states'), h('div', {class: 'table-wrap'}, this.table));
    this.seen = new Set();
    this.lastState = null;
    this.restarts = 0;
  }

  add(e) {
    const ev = take(this.seen, e);
    if (!ev) return false;
    const {kind, d} = ev;
    if (kind === 'state') { // the whole run object each time: a row when the state moved
      if (d.state === this.lastState) return false;
      this.lastState = d.state;
    }
    const what = describe(kind, d);
    if (!what) return false;
    if (kind === 'spawn_started' && Number(d.restarts) > this.restarts) this.restarts = Number(d.restarts);
    this.rows.append(h('tr', {class: `h-${kind}`, dataset: {kind}},
      h('td', {}, when(ev.time)), h('td', {}, what[0]), h('td', {}, what[1])));
    while (this.rows.childElementCount > KEEP) this.rows.firstElementChild.remove();
    return true;
  }

  // runs: the agent's runs (GET /runs?agent=); the chain is followed both
  // ways by resumed_from from this run.
  setChain(run, runs) {
    const by = new Map(runs.map((r) => [r.run, r]));
    by.set(run.run, run);
    const next = new Map();
    for (const r of by.values()) if (r.resumed_from) next.set(r.resumed_from, r);
    const before = [];
    for (let r = run, n = 0; r && r.resumed_from && n < 100; n++) {
      const prev = by.get(r.resumed_from);
      before.unshift(prev || {run: r.resumed_from});
      r = prev;
    }
    const after = [];
    for (let r = next.get(run.run), n = 0; r && n < 100; r = next.get(r.run), n++) after.push(r);
    const all = [...before, run, ...after];
    if (all.length === 1) {
      this.chain.replaceChildren(h('p', {class: 'muted'}, 'Not resumed from another run, and not resumed since.'));
      return;
    }
    this.chain.replaceChildren(h('ol', {class: 'plain', 'aria-label': 'Runs of this session, oldest first'},
      all.map((r) => h('li', {},
        r.run === run.run ? h('strong', {'aria-current': 'page'}, h('code', {}, r.run), ' (this run)')
          : h('a', {href: `#/runs/${encodeURIComponent(r.run)}`}, h('code', {}, r.run)),
        r.state ? [' ', r.state] : ' (not known here)', r.created_at ? [' · ', when(r.created_at)] : ''))));
  }
}
