// One run: its state, cost and history, its live output (a virtual list),
// and the structured events of the agent CLIs (messages, tool calls with
// input and result, usage), collapsible.  Live: the app hands every event
// to onEvent; those of this run update the page in place.
import {api} from './api.js';
import {h, clear, when, badge} from './dom.js';
import {VirtualLines} from './lines.js';
import {llmAgents} from './chat.js';

const STRUCTURED = new Set(['session', 'message', 'thinking', 'tool_use', 'tool_result', 'usage', 'result',
                            'status', 'changes', 'chat']);

function lineOf(data) {
  if (typeof data.text === 'string') return data.text;
  if (typeof data.base64 === 'string') return `[${data.base64.length * 3 / 4 | 0} bytes, not text]`;
  return JSON.stringify(data);
}

function eventItem(e) {
  const kind = e.subject.split('.').slice(4).join('.');
  const d = e.data || {};
  const summary = kind === 'tool_use' ? `tool_use ${d.name || ''}` :
    kind === 'message' ? `message: ${String(d.text || '').slice(0, 120)}` : kind;
  return h('li', {},
    h('details', {}, h('summary', {}, when(e.time), ' ', summary),
      h('pre', {}, JSON.stringify(d, null, 2))));
}

function header(run) {
  const tokens = run.tokens || {};
  return h('div', {class: 'run-head'},
    h('h1', {}, 'Run ', h('code', {}, run.run)),
    h('p', {}, badge(run.state), ` agent ${run.agent}`, run.task ? [' · task ', h('a', {href: `#/tasks/${encodeURIComponent(run.task)}`}, run.task)] : '',
      ` · machine ${run.machine || 'local'}`),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Started'), h('dd', {}, when(run.started_at || run.created_at)),
      h('dt', {}, 'Restarts'), h('dd', {}, String(run.restarts || 0)),
      h('dt', {}, 'Cost'), h('dd', {}, run.cost_usd == null ? '—' : `$${Number(run.cost_usd).toFixed(4)}`),
      h('dt', {}, 'Tokens'), h('dd', {}, `${tokens.input_tokens || 0} in · ${tokens.output_tokens || 0} out`),
      h('dt', {}, 'Session'), h('dd', {}, run.session_id ? h('code', {}, run.session_id) : '—'),
      h('dt', {}, 'Resumed from'), h('dd', {}, run.resumed_from ? h('a', {href: `#/runs/${encodeURIComponent(run.resumed_from)}`}, run.resumed_from) : '—'),
      run.reason ? [h('dt', {}, 'Reason'), h('dd', {}, run.reason)] : null));
}

export async function renderRun(root, ctx, id) {
  const [one, logs, evs] = await Promise.all([
    api('GET', `/runs/${encodeURIComponent(id)}`),
    api('GET', `/runs/${encodeURIComponent(id)}/logs?tail=10000`),
    api('GET', `/events?subject=${encodeURIComponent(`evt.run.*.${id}.>`)}&tail=500`).catch(() => ({items: []})),
  ]);
  const run = one.run || one;
  const out = new VirtualLines(`Output of run ${id}`);
  let lastSeq = 0;
  for (const l of logs.items || []) {
    out.push((l.data || {}).stream, lineOf(l.data || {}));
    lastSeq = Math.max(lastSeq, l.seq || 0);
  }
  const list = h('ol', {class: 'events'}, (evs.items || [])
    .filter((e) => STRUCTURED.has(e.subject.split('.')[4])).map(eventItem));
  const head = h('div', {}, header(run));
  const chat = h('p', {class: 'chat-link'}); // an llm run's conversation, when it is one
  llmAgents().then((a) => {
    if (run.agent in a) chat.append(h('a', {href: `#/chat/${encodeURIComponent(id)}`}, 'Chat'), ' with this run');
  }).catch(() => {}).finally(() => { chat.dataset.checked = 'yes'; });
  const count = h('span', {class: 'count', 'aria-live': 'off'}, String(out.count));
  clear(root).append(head, chat,
    h('section', {'aria-labelledby': 'out-h'}, h('h2', {id: 'out-h'}, 'Output ', count), out.el),
    h('section', {'aria-labelledby': 'ev-h'}, h('h2', {id: 'ev-h'}, 'Events'),
      list.childElementCount ? list : h('p', {class: 'muted'}, 'No structured events (an exec agent prints only output).')));
  out.draw();
  return {
    onEvent(f) {
      const parts = (f.subject || '').split('.');
      // Nothing else on this page changes with other events (the app keeps
      // the pending count itself): never a re-render that loses the scroll.
      if (parts[0] !== 'evt' || parts[1] !== 'run' || parts[3] !== id) return true;
      if (parts[4] === 'output') {
        if (f.seq && f.seq <= lastSeq) return true; // in the tail already
        out.push((f.data || {}).stream, lineOf(f.data || {}));
        count.textContent = String(out.count);
        return true;
      }
      if (parts[4] === 'state') {
        api('GET', `/runs/${encodeURIComponent(id)}`).then((r) => clear(head).append(header(r.run || r))).catch(() => {});
        return true;
      }
      if (STRUCTURED.has(parts[4])) {
        list.append(eventItem(f));
        return true;
      }
      return true;
    },
  };
}
