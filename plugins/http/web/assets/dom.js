// Building the page without ever parsing data as HTML: every string from
// the daemon (agents' output, questions, names) goes in as text, so a run
// that prints markup cannot script the page.

// h('button', {class: 'x', onclick: f}, 'text', child...) -> an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// The element's children replaced by these, nested arrays flattened and
// null/false left out as h() does (append() would write them as text).
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// "3 min ago", with the exact time in the title (hover) and, as the time
// takes focus (Tab, or a tap on a phone, where there is no hover), in the
// text itself (style.css) and in its accessible name.
export function when(seconds) {
  if (!seconds) return h('span', {}, '—');
  const t = new Date(seconds * 1000);
  const d = (Date.now() - t.getTime()) / 1000;
  let text;
  if (d < 0) text = 'in the future';
  else if (d < 10) text = 'just now';
  else if (d < 60) text = `${Math.floor(d)} s ago`;
  else if (d < 3600) text = `${Math.floor(d / 60)} min ago`;
  else if (d < 86400) text = `${Math.floor(d / 3600)} h ago`;
  else text = `${Math.floor(d / 86400)} d ago`;
  const exact = t.toLocaleString();
  return h('time', {datetime: t.toISOString(), title: exact, tabindex: 0, 'aria-label': `${text}, ${exact}`}, text);
}

// A state shown by word and by colour, never by colour alone.
export function badge(state) {
  const s = String(state || 'unknown');
  return h('span', {class: `badge st-${s.toLowerCase().replace(/[^a-z_]/g, '')}`}, s);
}
