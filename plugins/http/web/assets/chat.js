// Chat with an interactive llm run (bosun-llm(7), CHAT): the history from
// the messages API, a box to send the next message, the reply streamed as
// its deltas arrive over /ws, tool calls with their input and result
// (collapsible), the run's status in words, and its workspace files
// (files.js).  Everything the model says is inserted as text.
import {api} from './api.js';
import {h, clear, when, badge} from './dom.js';
import {FilesPanel} from './files.js';

const HISTORY_LIMIT = 1000; // the API's page size at most: older messages are said, not shown

const STATUS_WORDS = {
  thinking: () => 'Thinking…',
  executing: (d) => `Running a tool${d.tool ? `: ${d.tool}` : ''}…`,
  idle: () => 'Idle: waiting for your message.',
  error: (d) => `Error${d.reason ? `: ${d.reason}` : ''}.`,
};

// The configured agents of type llm, {name: interactive?}, from their last
// evt.agent.NAME.configured (the agents route does not carry the type).
export async function llmAgents() {
  const r = await api('GET', `/events?subject=${encodeURIComponent('evt.agent.*.*')}&tail=500`);
  const agents = {};
  for (const e of r.items || []) {
    const d = e.data || {};
    if (e.subject.endsWith('.removed')) delete agents[d.agent];
    else if (e.subject.endsWith('.configured') && d.type === 'llm') {
      const i = (d.config || {}).interactive;
      agents[d.agent] = i === true || i === 'true';
    } else if (e.subject.endsWith('.configured')) delete agents[d.agent];
  }
  return agents;
}

// #/chat: the interactive llm runs to pick from.
export async function renderChats(root) {
  const agents = await llmAgents();
  const names = Object.keys(agents).filter((a) => agents[a]);
  const lists = await Promise.all(names.map((a) => api('GET', `/runs?agent=${encodeURIComponent(a)}&limit=50`)));
  const runs = lists.flatMap((l) => l.items || []).sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
  clear(root).append(h('h1', {}, 'Chat'),
    runs.length ? h('ul', {class: 'plain chats', 'aria-label': 'Interactive llm runs'}, runs.map((r) => h('li', {},
      h('a', {href: `#/chat/${encodeURIComponent(r.run)}`}, h('code', {}, r.run)), ' ', badge(r.state),
      ` agent ${r.agent} · started `, when(r.started_at || r.created_at))))
      : h('p', {class: 'muted'}, names.length ? 'No runs of the interactive llm agents yet: start one from Agents.'
        : 'No interactive llm agent is configured (type: llm with interactive: true, see bosun-llm(7)).'));
  return {onEvent(f) { return !/\.state$|^evt\.agent\./.test(f.subject || ''); }};
}

function contentText(c) {
  if (c === null || c === undefined) return '';
  return typeof c === 'string' ? c : JSON.stringify(c, null, 2);
}

function toolCall(call) {
  const result = h('div', {class: 'tool-result'}, h('p', {class: 'muted'}, 'Waiting for the result…'));
  const summary = h('summary', {}, 'Tool call: ', h('code', {}, String(call.name || '?')));
  const el = h('details', {class: 'tool', dataset: {call: String(call.id || '')}}, summary,
    h('h4', {}, 'Input'), h('pre', {}, contentText(call.arguments)), h('h4', {}, 'Result'), result);
  return {el, summary, result};
}

export async function renderChat(root, ctx, id) {
  const enc = encodeURIComponent(id);
  const [one, statusEv] = await Promise.all([
    api('GET', `/runs/${enc}`),
    api('GET', `/events?subject=${encodeURIComponent(`evt.run.*.${id}.status`)}&tail=1`).catch(() => ({items: []})),
  ]);
  let run = one.run || one;
  let status = ((statusEv.items || [])[0] || {}).data || null;
  const seen = new Set(); // the seqs of the messages shown
  const calls = new Map(); // tool call id -> its parts, for the result
  let lastTime = 0; // the newest message's time: deltas before it are in it already
  let stream = null; // the reply being streamed: {el, text, since}

  const log = h('div', {class: 'chat-log', role: 'log', 'aria-label': 'Conversation', tabindex: '0'});
  const statusLine = h('p', {class: 'chat-status', role: 'status', 'aria-live': 'polite'});
  const error = h('p', {class: 'error', role: 'alert'});
  const input = h('textarea', {id: 'chat-input', rows: '3', 'aria-describedby': 'chat-help',
                               placeholder: 'Message the agent'});
  const send = h('button', {type: 'submit'}, 'Send');
  const clearBox = h('span', {class: 'actions'});
  const files = new FilesPanel(id, {admin: ctx.admin});
  const older = h('p', {class: 'muted'});

  // Follows the conversation unless the reader scrolled up to read.
  let follow = true;
  log.addEventListener('scroll', () => { follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 40; });
  function scrollDown() { if (follow) log.scrollTop = log.scrollHeight; }

  function message(m) {
    const role = m.role || 'assistant';
    const who = {user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool'}[role] || role;
    const el = h('article', {class: `msg msg-${role}`, dataset: {seq: String(m.seq)}, 'aria-label': `${who}, message ${m.seq}`},
      h('header', {class: 'meta'}, h('strong', {}, who), ' · ', when(m.time)));
    const text = contentText(m.content);
    if (text) el.append(h('div', {class: 'msg-text'}, text));
    for (const c of m.tool_calls || []) {
      const t = toolCall(c);
      calls.set(String(c.id), t);
      el.append(t.el);
    }
    return el;
  }

  function toolResult(m) {
    const t = calls.get(String(m.tool_call_id));
    const body = h('pre', {class: m.is_error ? 'tool-error' : ''}, contentText(m.content));
    if (!t) { // its call is older than the page: on its own
      return h('details', {class: 'tool', dataset: {seq: String(m.seq)}},
        h('summary', {}, 'Tool result: ', h('code', {}, String(m.name || '?'))), body);
    }
    clear(t.result).append(...(m.is_error ? [h('p', {class: 'error'}, 'The tool failed:')] : []), body);
    if (m.is_error) t.summary.append(' (failed)');
    else t.summary.append(' (done)');
    return null;
  }

  function add(m) {
    if (typeof m.seq === 'number') {
      if (seen.has(m.seq)) return;
      seen.add(m.seq);
    }
    lastTime = Math.max(lastTime, m.time || 0);
    if (m.role === 'assistant' && stream) { stream.el.remove(); stream = null; }
    const el = m.role === 'tool' ? toolResult(m) : message(m);
    if (el) log.insertBefore(el, stream ? stream.el : null);
    scrollDown();
  }

  function delta(f) {
    if (f.time && f.time <= lastTime) return; // part of a message already shown
    if (!stream) {
      const text = h('div', {class: 'msg-text'});
      const el = h('article', {class: 'msg msg-assistant streaming', 'aria-busy': 'true', 'aria-label': 'Assistant, replying'},
        h('header', {class: 'meta'}, h('strong', {}, 'Assistant'), ' · replying…'), text);
      stream = {el, text, value: '', since: f.time || 0};
      log.append(el);
    }
    stream.value += String((f.data || {}).text || '');
    stream.text.textContent = stream.value;
    stream.el.dataset.deltas = String(Number(stream.el.dataset.deltas || 0) + 1);
    scrollDown();
  }

  function showStatus() {
    const st = status && status.status;
    const running = run.state === 'RUNNING';
    let words;
    if (!running) words = `The run is ${String(run.state || 'unknown').toLowerCase()}: it answers no message now.`;
    else if (st && STATUS_WORDS[st]) words = STATUS_WORDS[st](status);
    else words = 'Starting…';
    if (!ctx.admin) words += ' (Only an admin may send messages.)';
    statusLine.textContent = words;
    statusLine.dataset.status = running ? (st || 'starting') : 'down';
    const idle = running && st === 'idle';
    send.disabled = !idle || !ctx.admin;
    input.setAttribute('aria-disabled', String(!idle));
  }

  async function loadHistory() {
    const r = await api('GET', `/runs/${enc}/messages?limit=${HISTORY_LIMIT}`);
    const keep = stream;
    seen.clear();
    calls.clear();
    lastTime = 0;
    stream = null;
    clear(log);
    older.textContent = r.next ? `Older messages are not shown (only the last ${HISTORY_LIMIT}).` : '';
    for (const m of r.items || []) add(m);
    // A reply still streaming when the page reloaded: not in the history yet.
    if (keep && keep.since > lastTime) { stream = keep; log.append(keep.el); }
    if (!(r.items || []).length && !stream) log.append(h('p', {class: 'muted empty'}, 'No messages yet.'));
  }

  async function submit(ev) {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim()) { error.textContent = 'Write a message first.'; return; }
    send.disabled = true;
    error.textContent = '';
    try {
      await api('POST', `/runs/${enc}/messages`, {text});
      input.value = '';
      for (const p of log.querySelectorAll('p.empty')) p.remove();
    } catch (e) {
      error.textContent = `Not sent: ${e.message}`;
    } finally {
      showStatus();
    }
  }

  function askClear() {
    const yes = h('button', {type: 'button', class: 'deny', onclick: async () => {
      try {
        const r = await api('POST', `/runs/${enc}/messages/clear`);
        error.textContent = '';
        statusLine.textContent = `History cleared (${r.cleared} messages).`;
        await loadHistory();
      } catch (e) {
        error.textContent = `Not cleared: ${e.message}`;
      }
      drawClear();
    }}, 'Yes, clear it');
    clear(clearBox).append(h('span', {}, 'Clear the whole conversation?'), yes,
      h('button', {type: 'button', onclick: drawClear}, 'Keep it'));
    yes.focus();
  }
  function drawClear() {
    clear(clearBox);
    if (ctx.admin) clearBox.append(h('button', {type: 'button', class: 'deny', onclick: askClear}, 'Clear history'));
  }

  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      if (!send.disabled) form.requestSubmit();
    }
  });
  const form = h('form', {class: 'chat-form', onsubmit: submit},
    h('label', {for: 'chat-input'}, 'Your message'), input,
    h('p', {id: 'chat-help', class: 'meta'}, 'Enter sends, Shift+Enter starts a new line.'),
    h('div', {class: 'actions'}, send, clearBox), error);

  await loadHistory();
  drawClear();
  showStatus();
  clear(root).append(
    h('h1', {}, 'Chat with run ', h('code', {}, id)),
    h('p', {class: 'meta'}, `agent ${run.agent} · `, h('a', {href: `#/runs/${enc}`}, 'the run page')),
    h('div', {class: 'chat-layout'},
      h('section', {class: 'chat', 'aria-labelledby': 'chat-h'}, h('h2', {id: 'chat-h'}, 'Conversation'),
        statusLine, older, log, form),
      files.el));
  scrollDown();
  await files.load();

  return {
    onEvent(f) {
      const parts = (f.subject || '').split('.');
      if (parts[0] !== 'evt' || parts[1] !== 'run' || parts[3] !== id) return true;
      const kind = parts.slice(4).join('.');
      const d = f.data || {};
      if (kind === 'chat.message') add(d);
      else if (kind === 'chat.cleared') loadHistory().catch((e) => { error.textContent = e.message; });
      else if (kind === 'message_delta') delta(f);
      else if (kind === 'message' && stream) { stream.value = String(d.text || ''); stream.text.textContent = stream.value; }
      else if (kind === 'status') { status = d; showStatus(); }
      else if (kind === 'file') files.onFileEvent(d);
      else if (kind === 'state') { run = d; showStatus(); }
      return true;
    },
    // Back on /ws after a drop: the history again, so nothing is missing or doubled.
    onLive() {
      loadHistory().catch((e) => { error.textContent = e.message; });
      api('GET', `/runs/${enc}`).then((r) => { run = r.run || r; showStatus(); }).catch(() => {});
    },
  };
}
