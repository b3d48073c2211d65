// A task's timeline: its stored events (the task's own, questions and
// answers, approvals, runs' states and what agents reported of their
// status, artifacts, pull requests),
// newest first, each said in words with its relative time and opened to
// its data.  Live events are put on top as they come.
import {h, when} from './dom.js';

const SHOWN = 300;

function str(v) { return v == null ? '' : String(v); }

// "what happened" for one event, from its subject and data.
export function eventWords(e) {
  const p = str(e.subject).split('.');
  const d = e.data || {};
  switch (p[1]) {
  case 'task':
    return d.title ? `Task created: ${d.title}` : `Task is ${str(d.status)}`;
  case 'input':
    if (p[3] === 'requested') return `Question from ${str(d.agent) || 'an agent'}: ${str(d.question)}`;
    if (p[3] === 'answered') return `Answered by ${str(d.answered_by) || '?'}: ${str(d.answer)}`;
    return `Question ${p[3] || ''}${d.reason ? `: ${d.reason}` : ''}`;
  case 'approval':
    return p[3] === 'requested' ? `Approval asked for ${str(d.tool)}`
      : `Approval for ${str(d.tool)}: ${str(d.decision || d.behavior)}`;
  case 'run': {
    const kind = p.slice(4).join('.');
    if (kind === 'state') return `Run ${p[3]} (${p[2]}) is ${str(d.state)}${d.reason ? `: ${d.reason}` : ''}`;
    if (kind === 'status') return `Run ${p[3]} reports ${str(d.state)}${d.message ? `: ${d.message}` : ''}`;
    return `Run ${p[3]}: ${kind}`;
  }
  case 'artifact':
    return `Artifact ${str(d.name)} v${str(d.version)} added (${str(d.size)} bytes)`;
  case 'pr': {
    const ref = d.owner && d.repo && d.number ? `${d.owner}/${d.repo}#${d.number}` : 'a pull request';
    if (p[3] === 'linked') return `Pull request ${ref} linked`;
    if (p[3] === 'updated') return `Pull request ${ref} updated${d.pr && d.pr.title ? `: ${d.pr.title}` : ''}`;
    return `Pull request ${ref}: ${p[3] || ''}${d.state ? ` ${d.state}` : ''}`;
  }
  default:
    return e.subject;
  }
}

function item(e) {
  return h('li', {dataset: {seq: e.seq}},
    h('details', {}, h('summary', {}, when(e.time), ' ', h('span', {class: 'what'}, eventWords(e)),
      ' ', h('code', {class: 'meta'}, e.subject)),
    h('pre', {}, JSON.stringify(e.data, null, 2))));
}

// {el, add(event)}: add puts a live event on top, once.
export function taskTimeline(events) {
  const list = h('ol', {class: 'events timeline', reversed: true});
  let last = 0;
  for (const e of [...events].reverse()) {
    list.append(item(e));
    last = Math.max(last, e.seq || 0);
  }
  const empty = h('p', {class: 'muted'}, 'Nothing yet.');
  const el = h('section', {'aria-labelledby': 'tt-h'}, h('h2', {id: 'tt-h'}, 'Timeline'),
    h('p', {class: 'muted'}, `Newest first; the last ${SHOWN} events of the task.`), events.length ? null : empty, list);
  if (!events.length) list.hidden = true;
  return {
    el,
    add(e) {
      if (!e.seq || e.seq <= last) return;
      last = e.seq;
      empty.remove();
      list.hidden = false;
      list.prepend(item(e));
      while (list.childElementCount > SHOWN) list.lastElementChild.remove();
    },
  };
}

export const TIMELINE_TAIL = SHOWN;
