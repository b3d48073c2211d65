// The views: overview (what needs a person first), agents, runs.  Each
// render function fills `root` from the daemon's current state; the app
// calls them again when a live event says something changed.
import {api} from './api.js';
import {h, clear, when, badge} from './dom.js';

export function errorBox(e) {
  return h('p', {class: 'error', role: 'alert'}, e.message || String(e));
}

// A question, answered in place: a button per choice, or a text box.
export function inputCard(inp, refresh) {
  const status = h('p', {class: 'muted', role: 'status'});
  const answer = async (body) => {
    status.textContent = 'Sending…';
    try {
      await api('POST', `/inputs/${encodeURIComponent(inp.input)}/answer`, body);
      status.textContent = 'Answered.';
      refresh();
    } catch (e) {
      status.textContent = '';
      status.append(errorBox(e));
    }
  };
  const choices = Array.isArray(inp.choices) ? inp.choices : [];
  let form;
  if (choices.length) {
    form = h('div', {class: 'choices', role: 'group', 'aria-label': 'Choices'},
             choices.map((c, i) => h('button', {type: 'button', onclick: () => answer({choice: i + 1})}, c)));
  } else {
    const field = h('input', {type: 'text', name: 'answer', 'aria-label': 'Answer', required: true});
    form = h('form', {class: 'answer', onsubmit: (ev) => { ev.preventDefault(); if (field.value) answer({text: field.value}); }},
             field, h('button', {type: 'submit'}, 'Send'));
  }
  return h('article', {class: 'card attention', dataset: {input: inp.input}, 'aria-label': `Question from ${inp.agent || 'an agent'}`},
           h('h3', {}, 'Question'),
           h('p', {class: 'question'}, inp.question || ''),
           h('p', {class: 'meta'}, `agent ${inp.agent || '?'} · run ${inp.run || '?'}`,
             inp.machine ? ` · machine ${inp.machine}` : '', ' · ', when(inp.created_at || inp.time)),
           form, status);
}

function approvalCard(ap, refresh) {
  const status = h('p', {class: 'muted', role: 'status'});
  const decide = async (verb, always) => {
    status.textContent = 'Sending…';
    try {
      await api('POST', `/approvals/${encodeURIComponent(ap.id)}/${verb}`, always ? {always: true} : {});
      status.textContent = verb === 'allow' ? 'Allowed.' : 'Denied.';
      refresh();
    } catch (e) {
      status.textContent = '';
      status.append(errorBox(e));
    }
  };
  const input = ap.input === undefined ? '' : JSON.stringify(ap.input, null, 2);
  return h('article', {class: 'card attention', dataset: {approval: ap.id}, 'aria-label': `Approval for ${ap.tool || 'a tool'}`},
           h('h3', {}, 'Approval: ', h('code', {}, ap.tool || '?')),
           h('pre', {class: 'tool-input'}, input),
           h('p', {class: 'meta'}, `agent ${ap.agent || '?'} · run ${ap.run || '?'}`),
           h('div', {class: 'choices'},
             h('button', {type: 'button', class: 'allow', onclick: () => decide('allow')}, 'Allow'),
             h('button', {type: 'button', class: 'always', title: 'Allow this exact call from now on',
                          onclick: () => decide('allow', true)}, 'Always allow'),
             h('button', {type: 'button', class: 'deny', onclick: () => decide('deny')}, 'Deny')),
           status);
}

function runsTable(runs, {actions, refresh, caption = 'Runs'}) {
  if (!runs.length) return h('p', {class: 'muted'}, 'No runs yet.');
  const act = async (run, verb, out) => {
    try {
      await api('POST', `/runs/${encodeURIComponent(run.run)}/${verb}`, {});
      refresh();
    } catch (e) {
      clear(out).append(errorBox(e));
    }
  };
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'runs'},
      h('caption', {class: 'sr-only'}, caption),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Run'), h('th', {scope: 'col'}, 'Agent'),
                      h('th', {scope: 'col'}, 'State'), h('th', {scope: 'col'}, 'Machine'),
                      h('th', {scope: 'col'}, 'Started'), actions ? h('th', {scope: 'col'}, 'Actions') : null)),
      h('tbody', {}, runs.map((r) => {
        const out = h('span', {});
        const live = ['RUNNING', 'STARTING', 'BACKOFF', 'WAITING_INPUT'].includes(r.state);
        return h('tr', {dataset: {run: r.run}},
          h('td', {}, h('a', {href: `#/runs/${encodeURIComponent(r.run)}`}, h('code', {}, r.run))), h('td', {}, r.agent || ''), h('td', {}, badge(r.state)),
          h('td', {}, r.machine || 'local'), h('td', {}, when(r.started_at || r.created_at)),
          actions ? h('td', {class: 'actions'},
            live ? h('button', {type: 'button', 'aria-label': `Stop run ${r.run}`, onclick: () => act(r, 'stop', out)}, 'Stop') : null,
            h('button', {type: 'button', 'aria-label': `Restart run ${r.run}`, onclick: () => act(r, 'restart', out)}, 'Restart'), out) : null);
      }))));
}

async function loadAttention() {
  const [inputs, approvals] = await Promise.all([
    api('GET', '/inputs?status=pending'),
    api('GET', '/approvals'),
  ]);
  return {inputs: inputs.items || [], approvals: approvals.items || []};
}

export async function renderOverview(root, ctx) {
  const [att, runs, machines] = await Promise.all([
    loadAttention(),
    api('GET', '/runs?limit=100'),
    api('GET', '/machines').catch(() => ({items: []})),
  ]);
  ctx.setPending(att.inputs.length + att.approvals.length);
  const counts = {};
  for (const r of runs.items || []) counts[r.state] = (counts[r.state] || 0) + 1;
  clear(root).append(
    h('h1', {}, 'Overview'),
    h('section', {'aria-labelledby': 'att-h'},
      h('h2', {id: 'att-h'}, 'Needs you', ' ', h('span', {class: 'count'}, String(att.inputs.length + att.approvals.length))),
      att.inputs.length + att.approvals.length
        ? h('div', {class: 'cards'}, att.inputs.map((i) => inputCard(i, ctx.refresh)),
            att.approvals.map((a) => approvalCard(a, ctx.refresh)))
        : h('p', {class: 'muted'}, 'Nothing is waiting for an answer.')),
    h('section', {'aria-labelledby': 'counts-h'},
      h('h2', {id: 'counts-h'}, 'Runs by state'),
      h('ul', {class: 'counts'}, Object.entries(counts).map(([s, n]) => h('li', {}, badge(s), ' ', String(n))))),
    h('section', {'aria-labelledby': 'mach-h'},
      h('h2', {id: 'mach-h'}, 'Machines'),
      (machines.items || []).length
        ? h('ul', {class: 'machines'}, machines.items.map((m) =>
            h('li', {}, h('strong', {}, m.name || m.hostname || m.id), ' ', badge(m.online ? 'online' : 'offline'), m.this ? ' this daemon' : [' last seen ', when(m.last_seen)])))
        : h('p', {class: 'muted'}, 'This daemon only (no machines registered).')),
    h('section', {'aria-labelledby': 'recent-h'},
      h('h2', {id: 'recent-h'}, 'Recent runs'),
      runsTable((runs.items || []).slice(0, 20), {actions: false, refresh: ctx.refresh, caption: 'The 20 most recent runs'})));
}

// GET /agents lists one row per instance slot of this daemon: one card
// per agent.  Agents only other machines have are added by addRemote.
function groupAgents(slots) {
  const byName = new Map();
  for (const s of slots) {
    const g = byName.get(s.agent) || {name: s.agent, slots: 0, running: 0, machine: s.machine, local: true, remote: []};
    g.slots++;
    if (s.state === 'RUNNING' || s.state === 'WAITING_INPUT') g.running++;
    byName.set(s.agent, g);
  }
  return byName;
}

// A fleet hub's machines (GET /machines, not this daemon) with the agents
// each is configured with, as its last coming online said them (the
// register's list, in evt.machine.ID.online).  Each machine's list is
// read once and then kept from the live online events: the view is drawn
// again on every heartbeat, which must not cost a request per machine.
const machineAgents = new Map();
const agentNames = (list) => (Array.isArray(list) ? list : [])
  .map((a) => (typeof a === 'string' ? a : a && a.name)).filter(Boolean);

async function remoteMachines() {
  const list = await api('GET', '/machines').catch(() => ({items: []}));
  const others = (list.items || []).filter((m) => !m.this && !m.revoked);
  return Promise.all(others.map(async (m) => {
    if (!machineAgents.has(m.id)) {
      const subject = `evt.machine.${m.id}.online`;
      const ev = await api('GET', `/events?subject=${encodeURIComponent(subject)}&tail=1`).catch(() => null);
      const last = ev && (ev.items || []).slice(-1)[0];
      if (ev) machineAgents.set(m.id, agentNames(last && last.data && last.data.agents));
    }
    return {id: m.id, name: m.name || m.id, online: m.status === 'online' || m.online === true,
            agents: machineAgents.get(m.id) || []};
  }));
}

// evt.machine.ID.online carries the machine's agents as it registers.
const ONLINE = /^evt\.machine\.([^.]+)\.online$/;
function machineOnline(f) {
  const m = ONLINE.exec(f.subject || '');
  if (m && f.data) machineAgents.set(m[1], agentNames(f.data.agents));
  return false; // the app draws the view again
}

function addRemote(byName, machines) {
  for (const m of machines)
    for (const name of m.agents) {
      const g = byName.get(name) || {name, slots: 0, running: 0, local: false, remote: []};
      g.remote.push(m);
      byName.set(name, g);
    }
  return [...byName.values()];
}

// Where to start it, when there is a choice: this daemon (no "machine"
// in the request) or a machine that has the agent; offline ones are
// listed, said and not choosable.
const chosen = new Map();
function machineSelect(a, id) {
  const opts = [];
  if (a.local) opts.push(h('option', {value: ''}, 'this daemon'));
  for (const m of a.remote)
    opts.push(h('option', {value: m.id, disabled: !m.online}, m.online ? m.name : `${m.name} (offline)`));
  if (!opts.some((o) => !o.disabled)) opts.push(h('option', {value: '', disabled: true, selected: true}, 'no machine online'));
  const select = h('select', {id, name: 'machine', onchange: (ev) => chosen.set(a.name, ev.target.value)}, opts);
  if (chosen.has(a.name) && opts.some((o) => o.value === chosen.get(a.name) && !o.disabled))
    select.value = chosen.get(a.name); // a live re-render keeps the choice
  return h('span', {class: 'machine-choice'}, h('label', {for: id}, 'Machine '), select);
}

// The last start of each agent, so that a live re-render keeps saying it.
const started = new Map();

let cardSeq = 0; // ids for the labels' "for"

function agentCard(a, ctx, choose) {
  const prompt = h('textarea', {name: 'prompt', rows: 2, 'aria-label': `Prompt for ${a.name}`});
  const pick = choose ? machineSelect(a, `machine-${++cardSeq}`) : null;
  const select = pick ? pick.querySelector('select') : null;
  const status = h('p', {class: 'muted', role: 'status'});
  const last = started.get(a.name);
  if (last) {
    status.textContent = `Started run ${last}`;
    status.dataset.run = last;
  }
  const start = async (ev) => {
    ev.preventDefault();
    status.textContent = 'Starting…';
    delete status.dataset.run;
    try {
      const body = prompt.value ? {prompt: prompt.value} : {};
      if (select && select.value) body.machine = select.value;
      const res = await api('POST', `/agents/${encodeURIComponent(a.name)}/start`, body);
      const run = res.run ? res.run.run : '';
      started.set(a.name, run);
      status.textContent = `Started run ${run}`;
      status.dataset.run = run;
      ctx.refresh();
    } catch (e) {
      status.textContent = '';
      status.append(errorBox(e));
    }
  };
  const where = a.remote.map((m) => `${m.name}${m.online ? '' : ' (offline)'}`);
  return h('article', {class: 'card', dataset: {agent: a.name}, 'aria-label': `Agent ${a.name}`},
    h('h3', {}, a.name),
    h('p', {class: 'meta'}, a.local ? `${a.running} of ${a.slots} running here` : 'not on this daemon',
      where.length ? ` · on ${where.join(', ')}` : ''),
    ctx.admin ? h('form', {onsubmit: start, 'aria-label': `Start ${a.name}`}, prompt, pick,
                  h('button', {type: 'submit'}, 'Start')) : null, status);
}

export async function renderAgents(root, ctx) {
  const [slots, machines] = await Promise.all([api('GET', '/agents'), remoteMachines()]);
  const agents = addRemote(groupAgents(slots.items || []), machines);
  // More than one machine known: this daemon and at least one other.
  const choose = machines.length > 0;
  cardSeq = 0;
  clear(root).append(h('h1', {}, 'Agents'),
    agents.length ? h('div', {class: 'cards'}, agents.map((a) => agentCard(a, ctx, choose)))
      : h('p', {class: 'muted'}, 'No agents are configured (bosun.yaml, agents:).'));
  return {onEvent: machineOnline};
}

// The runs list's filters, kept across live re-renders; the daemon filters
// (GET /runs?agent=&state=&task=&machine=).
const runFilters = {agent: '', state: '', task: '', machine: ''};
const STATES = ['', 'STARTING', 'RUNNING', 'WAITING_INPUT', 'BACKOFF', 'STOPPING', 'STOPPED', 'EXITED', 'FATAL'];

export async function renderRuns(root, ctx) {
  const q = Object.entries(runFilters).filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
  let list;
  try {
    const runs = await api('GET', `/runs?limit=200${q}`);
    list = runsTable(runs.items || [], {actions: ctx.admin, refresh: ctx.refresh});
  } catch (e) {
    list = errorBox(e); // a filter the daemon refuses says why, the form stays
  }
  const field = (key, label) => h('label', {}, label, ' ',
    h('input', {type: 'text', name: key, value: runFilters[key], size: 12,
                onchange: (ev) => { runFilters[key] = ev.target.value.trim(); ctx.refresh(); }}));
  const state = h('select', {name: 'state', onchange: (ev) => { runFilters.state = ev.target.value; ctx.refresh(); }},
    STATES.map((st) => h('option', {value: st, selected: st === runFilters.state}, st || 'any state')));
  clear(root).append(h('h1', {}, 'Runs'),
    h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter runs', onsubmit: (ev) => ev.preventDefault()},
      field('agent', 'Agent'), h('label', {}, 'State ', state), field('task', 'Task'), field('machine', 'Machine')),
    list);
}
