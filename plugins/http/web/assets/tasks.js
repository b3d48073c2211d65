// Tasks: the index (sortable, searchable) and one task with its runs,
// questions and answers, artifacts and versions, and its timeline.
import {api} from './api.js';
import {h, clear, when, badge} from './dom.js';
import {inputCard} from './views.js';

const COLUMNS = [['title', 'Title'], ['status', 'Status'], ['owner', 'Owner'], ['pending', 'Waiting'],
                 ['updated_at', 'Updated']];

export async function renderTasks(root) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) { // at most 2,000 tasks here; the API pages the rest
    const res = await api('GET', `/tasks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...(res.items || []));
    cursor = res.next;
    if (!cursor) break;
  }
  let sortKey = 'updated_at', asc = false, query = '';
  const body = h('tbody', {});
  const draw = () => {
    const q = query.toLowerCase();
    const rows = items.filter((t) => !q || `${t.title || ''} ${t.task} ${t.owner || ''}`.toLowerCase().includes(q))
      .sort((a, b) => {
        const x = sortKey === 'pending' ? (a.has_pending_requests ? 1 : 0) : a[sortKey];
        const y = sortKey === 'pending' ? (b.has_pending_requests ? 1 : 0) : b[sortKey];
        return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1);
      });
    clear(body).append(...rows.map((t) => h('tr', {dataset: {task: t.task}},
      h('td', {}, h('a', {href: `#/tasks/${encodeURIComponent(t.task)}`}, t.title || t.task)),
      h('td', {}, badge(t.status)), h('td', {}, t.owner || ''),
      h('td', {}, t.has_pending_requests ? h('strong', {}, 'yes') : 'no'), h('td', {}, when(t.updated_at)))));
  };
  const head = h('tr', {}, COLUMNS.map(([key, label]) => h('th', {scope: 'col', 'aria-sort': key === sortKey ? (asc ? 'ascending' : 'descending') : 'none'},
    h('button', {type: 'button', class: 'sort', onclick: (ev) => {
      if (sortKey === key) asc = !asc; else { sortKey = key; asc = key === 'title'; }
      for (const th of head.children) th.setAttribute('aria-sort', 'none');
      ev.currentTarget.parentElement.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      draw();
    }}, label))));
  const search = h('input', {type: 'search', 'aria-label': 'Search tasks', placeholder: 'Search tasks',
                             oninput: (ev) => { query = ev.target.value; draw(); }});
  clear(root).append(h('h1', {}, 'Tasks'), search,
    h('div', {class: 'table-wrap'}, h('table', {class: 'tasks'},
      h('caption', {class: 'sr-only'}, 'Tasks; the column buttons sort'), h('thead', {}, head), body)));
  draw();
}

export async function renderTask(root, ctx, id) {
  const enc = encodeURIComponent(id);
  const [one, runs, inputs, arts, evs] = await Promise.all([
    api('GET', `/tasks/${enc}`),
    api('GET', `/runs?task=${enc}&limit=100`),
    api('GET', `/inputs?task=${enc}`).catch(() => ({items: []})),
    api('GET', `/tasks/${enc}/artifacts`).catch(() => ({items: []})),
    api('GET', `/events?task=${enc}&tail=200`).catch(() => ({items: []})),
  ]);
  const t = one.task && typeof one.task === 'object' ? one.task : one;
  const pending = (inputs.items || []).filter((i) => i.status === 'pending');
  clear(root).append(
    h('h1', {}, t.title || id),
    h('p', {}, badge(t.status), ` owner ${t.owner || '—'} · updated `, when(t.updated_at)),
    t.prompt ? h('pre', {class: 'prompt'}, t.prompt) : null,
    pending.length && ctx.mayAnswer ? h('section', {'aria-labelledby': 'tp-h'}, h('h2', {id: 'tp-h'}, 'Waiting for an answer'),
      h('div', {class: 'cards'}, pending.map((i) => inputCard(i, ctx.refresh)))) : null,
    h('section', {'aria-labelledby': 'tq-h'}, h('h2', {id: 'tq-h'}, 'Questions'),
      (inputs.items || []).length ? h('ul', {class: 'plain'}, inputs.items.map((i) =>
        h('li', {}, h('span', {class: 'question'}, i.question || ''), ' ', badge(i.status),
          i.answer != null ? [' → ', h('strong', {}, String(i.answer))] : ''))) : h('p', {class: 'muted'}, 'None.')),
    h('section', {'aria-labelledby': 'ta-h'}, h('h2', {id: 'ta-h'}, 'Artifacts'),
      (arts.items || []).length ? h('ul', {class: 'plain'}, arts.items.map((a) =>
        h('li', {}, h('a', {href: `/api/v1/tasks/${enc}/artifacts/${encodeURIComponent(a.name)}`, download: a.name}, a.name),
          ` · version ${a.version || 1}`, a.size != null ? ` · ${a.size} bytes` : ''))) : h('p', {class: 'muted'}, 'None.')),
    h('section', {'aria-labelledby': 'tr-h'}, h('h2', {id: 'tr-h'}, 'Runs'),
      (runs.items || []).length ? h('ul', {class: 'plain'}, runs.items.map((r) =>
        h('li', {}, h('a', {href: `#/runs/${encodeURIComponent(r.run)}`}, r.run), ' ', badge(r.state), ` ${r.agent}`))) : h('p', {class: 'muted'}, 'None.')),
    h('section', {'aria-labelledby': 'tt-h'}, h('h2', {id: 'tt-h'}, 'Timeline'),
      h('ol', {class: 'events'}, (evs.items || []).map((e) => h('li', {},
        h('details', {}, h('summary', {}, when(e.time), ' ', e.subject), h('pre', {}, JSON.stringify(e.data, null, 2))))))));
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
