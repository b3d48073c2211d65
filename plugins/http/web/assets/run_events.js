// The structured events of an agent CLI's run (claude-code, codex, gemini,
// llm; bosun-bus(7), "Run events"): the session, the assistant's messages,
// its thinking (closed), each tool call with its input and, paired by the
// tool's id, its result (both closed until opened), the usage of each
// turn and the result.  All of it is agents' output: text, never HTML.
import {h, when} from './dom.js';

export const EVENT_KINDS = ['session', 'message', 'thinking', 'tool_use', 'tool_result', 'usage', 'result', 'status'];
const KEEP = 2000; // items shown; older ones go (the store keeps all)

const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
export const usd = (v) => (typeof v === 'number' && isFinite(v) ? `$${v.toFixed(4)}` : '—');

// An event of the run once: {kind, d, time}, or null when its seq was
// seen (the stored tail and /ws overlap); seen holds the last few thousand.
export function take(seen, e) {
  if (e.seq) {
    if (seen.has(e.seq)) return null;
    seen.add(e.seq);
    if (seen.size > 4 * KEEP) seen.delete(seen.values().next().value);
  }
  return {kind: String(e.subject || '').split('.')[4], d: e.data && typeof e.data === 'object' ? e.data : {},
          time: e.time || Date.now() / 1000};
}

function asText(v) {
  if (typeof v === 'string') return v;
  try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); }
}

// A tool call's one-line gist: its description, else its command or path.
function gist(input) {
  if (!input || typeof input !== 'object') return '';
  const s = input.description || input.command || input.file_path || input.path || input.url || input.pattern;
  return typeof s === 'string' ? s.slice(0, 100) : '';
}

function tokens(d) {
  return `${num(d.input_tokens)} in · ${num(d.output_tokens)} out · cache ${num(d.cache_read_tokens)} read, ` +
    `${num(d.cache_write_tokens)} written`;
}

export class RunEvents {
  constructor() {
    this.list = h('ol', {class: 'events run-events', 'aria-label': 'Structured events'});
    this.empty = h('p', {class: 'muted'}, 'No structured events (an exec agent prints only output).');
    this.el = h('div', {}, this.empty, this.list);
    this.tools = new Map(); // tool id -> its item's parts, for the result
    this.seen = new Set();  // seqs shown (the stored tail and /ws may overlap)
    this.turns = 0;
    this.count = 0;
  }

  // add(event): a stored event {seq,time,subject,data} or a /ws frame.
  add(e) {
    const ev = take(this.seen, e);
    const item = ev && this.item(ev.kind, ev.d, ev.time);
    if (!item) return false;
    this.empty.hidden = true;
    this.list.append(item);
    this.count++;
    while (this.list.childElementCount > KEEP) this.list.firstElementChild.remove();
    return true;
  }

  item(kind, d, time) {
    const li = (cls, ...body) => h('li', {class: `ev ev-${cls}`, dataset: {kind: cls}}, when(time), ' ', ...body);
    switch (kind) {
    case 'session':
      return li('session', h('strong', {}, 'Session '), h('code', {}, String(d.session_id || '—')),
        d.model ? ` · model ${d.model}` : '', d.cwd ? [' · in ', h('code', {}, String(d.cwd))] : '',
        Array.isArray(d.tools) ? ` · ${d.tools.length} tools` : '',
        Array.isArray(d.mcp_servers) && d.mcp_servers.length
          ? ` · MCP: ${d.mcp_servers.map((s) => `${s && s.name} (${s && s.status})`).join(', ')}` : '');
    case 'message':
      return li('message', h('strong', {}, 'Assistant'), h('div', {class: 'msg'}, String(d.text || '')));
    case 'thinking':
      return li('thinking', h('details', {}, h('summary', {}, `Thinking (${String(d.text || '').length} characters)`),
        h('div', {class: 'msg'}, String(d.text || ''))));
    case 'tool_use':
      return this.toolUse(li, d);
    case 'tool_result':
      return this.toolResult(li, d);
    case 'usage':
      this.turns++;
      return li('usage', h('strong', {}, `Turn ${this.turns} usage: `), tokens(d), d.model ? ` · ${d.model}` : '');
    case 'result': {
      const u = d.usage && typeof d.usage === 'object' ? d.usage : null;
      return li('result', h('strong', {}, 'Result: '), String(d.status || '?'),
        d.subtype && d.subtype !== d.status ? ` (${asText(d.subtype)})` : '',
        d.turns != null ? ` · ${num(d.turns)} turns` : '',
        d.duration_ms != null ? ` · ${(num(d.duration_ms) / 1000).toFixed(1)} s` : '',
        d.cost_usd != null ? ` · ${usd(d.cost_usd)}` : '', u ? ` · ${tokens(u)}` : '',
        d.permission_denials ? ` · ${num(d.permission_denials)} permission denials` : '',
        d.error ? h('div', {class: 'error'}, asText(d.error)) : '');
    }
    case 'status':
      return li('status', h('strong', {}, 'Status: '), String(d.state || d.status || ''),
        d.message ? ` — ${asText(d.message)}` : '', d.tool ? ` (${asText(d.tool)})` : '',
        d.reason ? ` — ${asText(d.reason)}` : '');
    default:
      return null;
    }
  }

  toolUse(li, d) {
    const id = String(d.id || '');
    const state = h('span', {class: 'tool-state'}, 'running');
    const result = h('div', {class: 'tool-result'}, h('p', {class: 'muted'}, 'No result yet.'));
    const item = li('tool', h('details', {class: 'tool'},
      h('summary', {}, h('strong', {}, `Tool ${d.name || '?'}`), ' ', h('span', {class: 'muted'}, gist(d.input)), ' · ', state),
      h('h4', {}, 'Input'), h('pre', {class: 'tool-input'}, asText(d.input === undefined ? {} : d.input)),
      h('h4', {}, 'Result'), result));
    if (id) {
      this.tools.set(id, {state, result});
      if (this.tools.size > KEEP) this.tools.delete(this.tools.keys().next().value);
    }
    return item;
  }

  // A result goes under its call; one whose call is not shown (before the
  // tail, or an attached session's) is an item of its own.
  toolResult(li, d) {
    const parts = this.tools.get(String(d.id || ''));
    const body = [d.is_error ? h('p', {class: 'error'}, 'Error') : null,
      h('pre', {class: 'tool-output'}, asText(d.content === undefined ? '' : d.content)),
      d.truncated ? h('p', {class: 'muted'}, `Cut: ${num(d.size)} bytes in all.`) : null];
    if (parts) {
      parts.state.textContent = d.is_error ? 'error' : 'done';
      parts.state.className = d.is_error ? 'tool-state error' : 'tool-state';
      parts.result.replaceChildren(...body.filter(Boolean));
      return null;
    }
    return li('tool', h('details', {class: 'tool'},
      h('summary', {}, h('strong', {}, `Tool result ${d.name || ''}`), ' ', h('code', {}, String(d.id || '')),
        ' · ', d.is_error ? 'error' : 'done'), ...body));
  }
}
