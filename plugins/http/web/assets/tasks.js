// Tasks: the index (sortable, searchable, paged with the daemon's cursor)
// and one task: its questions and answers, runs, pull requests
// (task_prs.js), artifacts with versions (task_artifacts.js) and timeline
// (task_timeline.js), each section kept up to date live on its own.
import {api} from './api.js';
import {h, clear, fill, when, badge} from './dom.js';
import {inputCard} from './views.js';
import {taskPrs} from './task_prs.js';
import {taskArtifacts} from './task_artifacts.js';
import {taskTimeline, TIMELINE_TAIL} from './task_timeline.js';

const COLUMNS = [['title', 'Title'], ['status', 'Status'], ['owner', 'Owner'], ['pending', 'Waiting'],
                 ['updated_at', 'Updated']];
const STATUSES = ['open', 'running', 'waiting_input', 'done', 'failed', 'stopped'];
const PAGE = 100;

function sortValue(t, key) {
  if (key === 'pending') return t.pending_inputs || 0;
  if (key === 'updated_at') return t.updated_at || 0;
  if (key === 'title') return String(t.title || t.task).toLowerCase();
  return String(t[key] || '').toLowerCase();
}

// Live events that change the index: a task's own and its questions'.
const INDEX_EVENTS = /^evt\.(task|input)\./;

export async function renderTasks(root) {
  let items = [], cursor = null, pages = 1, status = '';
  let sortKey = 'updated_at', asc = false, query = '';
  const body = h('tbody', {});
  const note = h('p', {class: 'muted', role: 'status', id: 'tasks-note'});
  const more = h('button', {type: 'button', class: 'more'}, `Load ${PAGE} more`);
  const page = async (after) => api('GET', `/tasks?limit=${PAGE}${status ? `&status=${status}` : ''}` +
                                           `${after ? `&cursor=${encodeURIComponent(after)}` : ''}`);
  const add = (list) => { // a task updated while paging may come again
    const have = new Set(items.map((t) => t.task));
    items.push(...list.filter((t) => !have.has(t.task)));
  };
  const draw = () => {
    const q = query.trim().toLowerCase();
    const rows = items.filter((t) => !q || `${t.title || ''} ${t.task}`.toLowerCase().includes(q))
      .sort((a, b) => {
        const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
        return (x > y ? 1 : x < y ? -1 : (a.task > b.task ? 1 : -1)) * (asc ? 1 : -1);
      });
    clear(body).append(...rows.map((t) => h('tr', {dataset: {task: t.task}},
      h('td', {}, h('a', {href: `#/tasks/${encodeURIComponent(t.task)}`}, t.title || t.task)),
      h('td', {}, badge(t.status)), h('td', {}, t.owner || ''),
      h('td', {class: 'pending'}, t.pending_inputs > 0 ? h('strong', {}, `yes (${t.pending_inputs})`) : 'no'),
      h('td', {}, when(t.updated_at)))));
    note.textContent = `${q ? `${rows.length} of ` : ''}${items.length} task${items.length === 1 ? '' : 's'} loaded` +
      (cursor ? ', more on the daemon.' : ', all of them.') +
      ' Sorting and search work on the tasks loaded here: the daemon has no search by title.';
    more.hidden = !cursor;
  };
  // Again from the start, as many pages as were loaded (a live change).
  // The rows shown stay until the new ones are all in.
  const reload = async () => {
    const got = [];
    let next = null;
    for (let i = 0; i < pages; i++) {
      const res = await page(next);
      got.push(...(res.items || []));
      next = res.next;
      if (!next) break;
    }
    items = [];
    add(got);
    cursor = next;
    draw();
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const res = await page(cursor);
      add(res.items || []);
      cursor = res.next;
      pages++;
      draw();
    } catch (e) { note.textContent = e.message; } finally { more.disabled = false; }
  });
  const head = h('tr', {}, COLUMNS.map(([key, label]) => h('th', {scope: 'col', 'aria-sort': key === sortKey ? (asc ? 'ascending' : 'descending') : 'none'},
    h('button', {type: 'button', class: 'sort', dataset: {sort: key}, onclick: (ev) => {
      if (sortKey === key) asc = !asc; else { sortKey = key; asc = key === 'title' || key === 'owner' || key === 'status'; }
      for (const th of head.children) th.setAttribute('aria-sort', 'none');
      ev.currentTarget.parentElement.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      draw();
    }}, label))));
  const search = h('input', {type: 'search', 'aria-label': 'Search tasks by title or ID', placeholder: 'Search by title or ID',
                             'aria-describedby': 'tasks-note', oninput: (ev) => { query = ev.target.value; draw(); }});
  const filter = h('select', {name: 'status', 'aria-label': 'Status', onchange: async (ev) => {
    status = ev.target.value;
    pages = 1;
    await reload();
  }}, h('option', {value: ''}, 'any status'), STATUSES.map((s) => h('option', {value: s}, s)));
  clear(root).append(h('h1', {}, 'Tasks'), h('div', {class: 'filters'}, search, filter), note,
    h('div', {class: 'table-wrap'}, h('table', {class: 'tasks'},
      h('caption', {class: 'sr-only'}, 'Tasks; the column buttons sort'), h('thead', {}, head), body)), more);
  await reload();
  let timer = null;
  return {
    onEvent(f) {
      if (INDEX_EVENTS.test(f.subject || '') && !timer)
        timer = setTimeout(() => { timer = null; reload().catch(() => {}); }, 300);
      return true; // the search typed and the pages loaded stay
    },
  };
}

// ------------------------------------------------------------ one task

function headerOf(t, id) {
  return [h('h1', {}, t.title || id),
    h('p', {class: 'task-facts'}, badge(t.status), ` owner ${t.owner || '—'} · updated `, when(t.updated_at),
      t.cost_usd ? ` · spent $${Number(t.cost_usd).toFixed(4)}` : '', ' · ', h('code', {}, id)),
    t.prompt ? h('pre', {class: 'prompt'}, t.prompt) : null];
}

function questionItem(i) {
  return h('li', {dataset: {input: i.input}},
    h('span', {class: 'question'}, i.question || ''), ' ', badge(i.status), ' ',
    h('span', {class: 'meta'}, `asked by ${i.agent || '?'} `, when(i.created_at)),
    i.answer != null ? h('div', {class: 'answer-given'}, '→ ', h('strong', {}, String(i.answer)),
      h('span', {class: 'meta'}, ` by ${i.answered_by || '?'} `, when(i.answered_at))) : null,
    i.reason ? h('div', {class: 'meta'}, i.reason) : null);
}

function runsTable(runs) {
  if (!runs.length) return h('p', {class: 'muted'}, 'None.');
  return h('div', {class: 'table-wrap'}, h('table', {class: 'task-runs'},
    h('thead', {}, h('tr', {}, ['Run', 'Agent', 'State', 'Started', 'Cost'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, runs.map((r) => h('tr', {dataset: {run: r.run}},
      h('td', {}, h('a', {href: `#/runs/${encodeURIComponent(r.run)}`}, h('code', {}, r.run))), h('td', {}, r.agent || ''),
      h('td', {}, badge(r.state)), h('td', {}, when(r.started_at || r.created_at)),
      h('td', {}, r.cost_usd == null ? '—' : `$${Number(r.cost_usd).toFixed(4)}`))))));
}

// What the task's own row says: header, questions waiting, questions and
// answers, runs; redrawn together when one of them changes.
function summaryOf(one, id, ctx, runIds) {
  const t = one.task && typeof one.task === 'object' ? one.task : one;
  const inputs = one.inputs || [], runs = one.runs || [];
  for (const r of runs) runIds.add(r.run);
  const pending = inputs.filter((i) => i.status === 'pending');
  return [h('div', {class: 'task-head'}, headerOf(t, id)),
    pending.length && ctx.mayAnswer ? h('section', {'aria-labelledby': 'tp-h'}, h('h2', {id: 'tp-h'}, 'Waiting for an answer'),
      h('div', {class: 'cards'}, pending.map((i) => inputCard(i, ctx.refresh)))) : null,
    h('section', {'aria-labelledby': 'tq-h'}, h('h2', {id: 'tq-h'}, 'Questions and answers'),
      inputs.length ? h('ul', {class: 'plain questions'}, inputs.map(questionItem)) : h('p', {class: 'muted'}, 'None.')),
    h('section', {'aria-labelledby': 'tr-h'}, h('h2', {id: 'tr-h'}, 'Runs'), runsTable(runs))];
}

// The task's events for its timeline, kind by kind: one query for all of
// them would be filled by a chatty run's output lines.
const TIMELINE_SUBJECTS = ['evt.task.>', 'evt.input.>', 'evt.approval.>', 'evt.artifact.>', 'evt.pr.>',
                           'evt.run.*.*.state', 'evt.run.*.*.status'];
async function timelineEvents(enc) {
  const lists = await Promise.all(TIMELINE_SUBJECTS.map((s) =>
    api('GET', `/events?task=${enc}&subject=${encodeURIComponent(s)}&tail=${TIMELINE_TAIL}`)
      .then((r) => r.items || [], () => [])));
  return lists.flat().sort((a, b) => a.seq - b.seq).slice(-TIMELINE_TAIL);
}

export async function renderTask(root, ctx, id) {
  const enc = encodeURIComponent(id);
  const [one, evs] = await Promise.all([api('GET', `/tasks/${enc}`), timelineEvents(enc)]);
  const runIds = new Set();
  let timer = null;
  // An answer given here redraws the summary only, not the open diffs.
  const schedule = () => { if (!timer) timer = setTimeout(redraw, 150); };
  const here = {...ctx, refresh: schedule};
  const summary = h('div', {class: 'task-summary'}, summaryOf(one, id, here, runIds));
  const prs = taskPrs(id), arts = taskArtifacts(id);
  const timeline = taskTimeline(evs);
  clear(root).append(summary, prs.el, arts.el, timeline.el);
  await Promise.all([prs.refresh(), arts.refresh()]);
  async function redraw() {
    timer = null;
    try { fill(summary, summaryOf(await api('GET', `/tasks/${enc}`), id, here, runIds)); } catch (e) { /* kept as it was */ }
  }
  return {
    onEvent(f) {
      const p = String(f.subject || '').split('.');
      const d = f.data || {};
      const mine = d.task === id || (['task', 'pr', 'artifact'].includes(p[1]) && p[2] === id) ||
        (p[1] === 'run' && runIds.has(p[3]));
      if (!mine || (p[1] === 'run' && !['state', 'status'].includes(p[4]))) return true;
      timeline.add(f);
      if (p[1] === 'pr') prs.refresh();
      else if (p[1] === 'artifact') arts.refresh();
      else schedule();
      return true;
    },
  };
}

export async function renderEvents(root) {
  const form = h('form', {class: 'answer'});
  const subject = h('input', {type: 'text', name: 'subject', value: 'evt.>', 'aria-label': 'Subject pattern'});
  const list = h('ol', {class: 'events'});
  const status = h('p', {role: 'status', class: 'muted'});
  let asked = 0; // only the answer to the last question is shown
  const load = async () => {
    status.textContent = '';
    const mine = ++asked;
    try {
      const res = await api('GET', `/events?subject=${encodeURIComponent(subject.value || 'evt.>')}&tail=200`);
      if (mine !== asked) return;
      list.dataset.subject = subject.value || 'evt.>';
      clear(list).append(...(res.items || []).map((e) => h('li', {dataset: {seq: e.seq}},
        h('details', {}, h('summary', {}, `#${e.seq} `, when(e.time), ' ', e.subject), h('pre', {}, JSON.stringify(e.data, null, 2))))));
    } catch (e) {
      status.textContent = e.message;
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  form.append(subject, h('button', {type: 'submit'}, 'Show'));
  clear(root).append(h('h1', {}, 'Events'), form, status, list);
  await load();
  // Shown on request, not live: a re-render would reset the pattern typed.
  return {onEvent: () => true};
}
