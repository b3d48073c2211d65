// Tabs as the WAI-ARIA pattern has them: a tablist of buttons, one panel
// shown.  Arrow keys, Home and End move between the tabs (and show the one
// reached), Tab goes on into the panel, so it all works by keyboard; the
// selected tab is told by aria-selected and by its weight, not by colour.
import {h} from './dom.js';

let serial = 0;

// tabs(label, [{name, title, panel}], onShow) -> {el, show(name), badge(name, text)}
// panel: the element shown under the tab; onShow(name) after one is shown.
export function tabs(label, items, onShow = () => {}) {
  const id = `tabs${++serial}`;
  const buttons = new Map();
  const panels = new Map();
  const list = h('div', {class: 'tablist', role: 'tablist', 'aria-label': label});
  const body = h('div', {class: 'tabpanels'});
  let current = null;

  function show(name, focus = false) {
    if (!buttons.has(name)) return;
    for (const [n, b] of buttons) {
      const on = n === name;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      panels.get(n).hidden = !on;
    }
    if (focus) buttons.get(name).focus();
    if (current !== name) {
      current = name;
      onShow(name);
    }
  }

  function onKey(ev) {
    const names = [...buttons.keys()];
    const at = names.indexOf(current);
    const to = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: names.length - 1}[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    show(names[(to + names.length) % names.length], true);
  }

  for (const it of items) {
    const b = h('button', {type: 'button', role: 'tab', id: `${id}-${it.name}`, class: 'tab',
                           'aria-controls': `${id}-${it.name}-panel`, dataset: {tab: it.name},
                           onclick: () => show(it.name), onkeydown: onKey},
      it.title, ' ', h('span', {class: 'count'}, ''));
    const p = h('section', {role: 'tabpanel', id: `${id}-${it.name}-panel`, tabindex: '0',
                            'aria-labelledby': b.id, class: 'tabpanel', dataset: {panel: it.name}}, it.panel);
    buttons.set(it.name, b);
    panels.set(it.name, p);
    list.append(b);
    body.append(p);
  }
  show(items[0].name);
  return {
    el: h('div', {class: 'tabs'}, list, body),
    show,
    // A small count on a tab (events, changed files, restarts); '' hides it.
    badge(name, text) {
      const c = buttons.get(name) && buttons.get(name).querySelector('.count');
      if (c) c.textContent = text === undefined || text === null ? '' : String(text);
    },
  };
}
