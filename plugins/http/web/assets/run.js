// One run: its state, cost and budget in a header, and four tabs: its
// live output (a virtual list), the structured events of the agent CLIs
// (run_events.js), its git changes and worktree (run_changes.js) and its
// history (run_history.js).  Live: the app hands every event to onEvent;
// those of this run update the page in place, never re-rendering the
// output list (the scroll and the reader's place stay).
import {api} from './api.js';
import {h, clear, when, badge} from './dom.js';
import {VirtualLines} from './lines.js';
import {llmAgents} from './chat.js';
import {tabs} from './tabs.js';
import {RunEvents, EVENT_KINDS, usd} from './run_events.js';
import {RunChanges} from './run_changes.js';
import {RunHistory, HISTORY_KINDS} from './run_history.js';

const enc = encodeURIComponent;

function lineOf(data) {
  if (typeof data.text === 'string') return data.text;
  if (typeof data.base64 === 'string') return `[${data.base64.length * 3 / 4 | 0} bytes, not text]`;
  return JSON.stringify(data);
}

// What is left of each budget that applies (the agent's row of
// GET /agents has them while this is its instance's run).
function budgetLeft(b) {
  if (!b || typeof b !== 'object' || !Object.keys(b).length) return 'none';
  return Object.entries(b).map(([k, v]) => {
    const tok = k === 'tokens_per_run';
    const f = (x) => (tok ? `${Number(x) || 0} tokens` : usd(Number(x) || 0));
    return `${k.replace(/_/g, ' ')}: ${f(v.left)} left of ${f(v.limit)}`;
  }).join(' · ');
}

function header(run, extra) {
  const tokens = run.tokens || {};
  return h('div', {class: 'run-head'},
    h('h1', {}, 'Run ', h('code', {}, run.run)),
    h('p', {}, badge(run.state), ` agent ${run.agent}`, run.task ? [' · task ', h('a', {href: `#/tasks/${enc(run.task)}`}, run.task)] : '',
      ` · machine ${run.machine || 'local'}`),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Started'), h('dd', {}, when(run.started_at || run.created_at)),
      run.ended_at ? [h('dt', {}, 'Ended'), h('dd', {}, when(run.ended_at))] : null,
      h('dt', {}, 'Restarts'), h('dd', {}, String(run.restarts || 0)),
      h('dt', {}, 'Cost so far'), h('dd', {class: 'cost'}, run.cost_usd == null ? '—' : usd(Number(run.cost_usd))),
      h('dt', {}, 'Budget'), h('dd', {class: 'budget'}, extra.budget ? `${extra.budget.budget} reached: ${extra.budget.spent} spent of ${extra.budget.limit}` : budgetLeft(extra.limits)),
      h('dt', {}, 'Tokens'), h('dd', {}, `${tokens.input_tokens || 0} in · ${tokens.output_tokens || 0} out`),
      h('dt', {}, 'Session'), h('dd', {}, run.session_id ? h('code', {}, run.session_id) : '—'),
      h('dt', {}, 'Resumed from'), h('dd', {}, run.resumed_from ? h('a', {href: `#/runs/${enc(run.resumed_from)}`}, run.resumed_from) : '—'),
      run.reason ? [h('dt', {}, 'Reason'), h('dd', {}, run.reason)] : null));
}

// The stored events of these kinds of the run, merged in seq order (one
// request per kind: a pattern of one kind skips the output lines, which
// are most of a run's events).
async function stored(id, kinds, tail) {
  const got = await Promise.all(kinds.map((k) =>
    api('GET', `/events?subject=${enc(`evt.run.*.${id}.${k}`)}&tail=${tail}`).then((r) => r.items || [], () => [])));
  return got.flat().sort((a, b) => a.seq - b.seq);
}

export async function renderRun(root, ctx, id) {
  const [one, logs, evs, hist, changes] = await Promise.all([
    api('GET', `/runs/${enc(id)}`),
    api('GET', `/runs/${enc(id)}/logs?tail=10000`),
    stored(id, EVENT_KINDS, 1000),
    stored(id, [...HISTORY_KINDS, 'worktree'], 500),
    api('GET', `/runs/${enc(id)}/changes?tail=1`).catch(() => ({latest: null, items: []})),
  ]);
  let run = one.run || one;
  const out = new VirtualLines(`Output of run ${id}`);
  let lastSeq = 0;
  for (const l of logs.items || []) {
    out.push((l.data || {}).stream, lineOf(l.data || {}));
    lastSeq = Math.max(lastSeq, l.seq || 0);
  }
  const events = new RunEvents();
  for (const e of evs) events.add(e);
  const ch = new RunChanges();
  const history = new RunHistory(id);
  const extra = {budget: null, limits: null};
  for (const e of hist) {
    if (e.subject.endsWith('.worktree')) ch.setWorktree(e.data || {}, e.time);
    else history.add(e);
    if (e.subject.endsWith('.budget')) extra.budget = e.data;
  }
  const snap = (changes.items || []).slice(-1)[0];
  if (changes.latest) ch.setSnapshot(changes.latest, snap && snap.seq, snap && snap.time);

  const head = h('div', {}, header(run, extra));
  const chat = h('p', {class: 'chat-link'}); // an llm run's conversation, when it is one
  llmAgents().then((a) => {
    if (run.agent in a) chat.append(h('a', {href: `#/chat/${encodeURIComponent(id)}`}, 'Chat'), ' with this run');
  }).catch(() => {}).finally(() => { chat.dataset.checked = 'yes'; });
  const count = h('span', {class: 'count', 'aria-live': 'off'}, String(out.count));
  const t = tabs(`Run ${id}`, [
    {name: 'output', title: 'Output', panel: [h('h2', {id: 'out-h'}, 'Output ', count), out.el]},
    {name: 'events', title: 'Events', panel: [h('h2', {id: 'ev-h'}, 'Events'), events.el]},
    {name: 'changes', title: 'Changes', panel: [h('h2', {id: 'ch-h'}, 'Changes'), ch.el]},
    {name: 'history', title: 'History', panel: [h('h2', {id: 'hi-h'}, 'History'), history.el]},
  ], (name) => { if (name === 'output') out.draw(); });
  const badges = () => {
    t.badge('events', events.count || '');
    t.badge('changes', ch.files || '');
    t.badge('history', run.restarts ? `${run.restarts} restarts` : '');
  };
  badges();
  clear(root).append(head, chat, t.el);
  out.draw();

  // What comes after the first paint: the budgets left and the chain of
  // the session's runs; neither holds the page up.
  let headTimer = null, asked = 0;
  const refreshHead = () => {
    if (headTimer) return;
    headTimer = setTimeout(async () => {
      headTimer = null;
      const mine = ++asked;
      try {
        const [r, ag] = await Promise.all([api('GET', `/runs/${enc(id)}`), api('GET', '/agents?limit=1000').catch(() => null)]);
        if (mine !== asked) return; // a later answer is on its way
        run = r.run || r;
        const row = ag && (ag.items || []).find((a) => a.run === id);
        if (row) extra.limits = row.budget || null;
        clear(head).append(header(run, extra));
        badges();
      } catch (e) { /* the header stays as it was */ }
    }, 300);
  };
  refreshHead();
  api('GET', `/runs?agent=${enc(run.agent)}&limit=500`).then((r) => history.setChain(run, r.items || []),
    () => history.setChain(run, []));

  return {
    onEvent(f) {
      const parts = (f.subject || '').split('.');
      if (parts[0] !== 'evt' || parts[1] !== 'run' || parts[3] !== id) return true;
      const kind = parts[4];
      if (kind === 'output') {
        if (f.seq && f.seq <= lastSeq) return true; // in the tail already
        out.push((f.data || {}).stream, lineOf(f.data || {}));
        count.textContent = String(out.count);
      } else if (kind === 'changes') {
        ch.setSnapshot(f.data, f.seq, f.time);
      } else if (kind === 'worktree') {
        ch.setWorktree(f.data || {}, f.time);
      } else if (EVENT_KINDS.includes(kind)) {
        events.add(f);
        if (kind === 'usage' || kind === 'result') refreshHead(); // the cost so far moved
      } else if (HISTORY_KINDS.includes(kind)) {
        history.add(f);
        if (kind === 'budget') extra.budget = f.data;
        if (kind === 'state' && f.data && f.data.run === id) { // the whole run object: shown at once
          run = {...run, ...f.data, cost_usd: f.data.cost_usd ?? run.cost_usd};
          clear(head).append(header(run, extra));
        }
        if (kind === 'state' || kind === 'budget') refreshHead();
      }
      badges();
      return true;
    },
  };
}
