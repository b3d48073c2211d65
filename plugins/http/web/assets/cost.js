// Cost: what runs spent by UTC day, agent, task and machine over a chosen
// period (GET /api/v1/cost), and the budgets in force with what is left
// (GET /api/v1/budgets).  Bars are an element's width: no chart library.
import {api} from './api.js';
import {h, clear} from './dom.js';

const PERIODS = [['today', 'Today', 1], ['7d', 'Last 7 days', 7], ['30d', 'Last 30 days', 30]];
const GROUPS = [['day', 'By day (UTC)', 'Day'], ['agent', 'By agent', 'Agent'],
                ['task', 'By task', 'Task'], ['machine', 'By machine', 'Machine']];
const ROWS_MAX = 200; // a group's rows shown; the total covers them all
let period = '7d'; // kept across live re-renders

// The first UTC day of the period, as the API takes it (YYYY-MM-DD).
export function periodStart(key, now = Date.now()) {
  const days = (PERIODS.find((p) => p[0] === key) || PERIODS[1])[2];
  return new Date(now - (days - 1) * 86400000).toISOString().slice(0, 10);
}

// Cents, four places below a cent, two significant digits below that (a
// limit of $0.000001 must not read $0.0000).
export function usd(v) {
  const n = Number(v) || 0;
  const a = Math.abs(n);
  return `$${a === 0 || a >= 0.01 ? n.toFixed(2) : a >= 0.0001 ? n.toFixed(4) : n.toPrecision(2)}`;
}

const tokens = (it) => (it.input_tokens || 0) + (it.output_tokens || 0) + (it.cache_read_tokens || 0) +
  (it.cache_creation_tokens || 0);

// A bar as wide as the share of the largest; its figure is in the row's
// text, so the bar itself is decoration for assistive technology.
function bar(value, max) {
  const pct = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  const fill = h('span', {class: 'bar-fill'});
  fill.style.width = `${pct.toFixed(1)}%`; // through the CSSOM: the CSP refuses style attributes
  return h('span', {class: 'bar-track', 'aria-hidden': 'true'}, fill);
}

function groupTable(by, caption, column, res) {
  const items = (res.items || []).slice(0, ROWS_MAX);
  if (!items.length) return h('p', {class: 'muted', dataset: {cost: by}}, `${caption}: nothing spent in this period.`);
  const max = Math.max(...items.map((it) => Number(it.cost_usd) || 0));
  const label = (it) => {
    if (by === 'task') return it.key ? h('a', {href: `#/tasks/${encodeURIComponent(it.key)}`}, it.key) : h('em', {}, 'no task');
    return it.key || h('em', {}, 'none');
  };
  const total = res.total || {};
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'cost', dataset: {cost: by}},
      h('caption', {class: 'sr-only'}, caption), // the section's heading says it on screen
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, column), h('th', {scope: 'col'}, 'Cost'),
                      h('th', {scope: 'col', class: 'bar-col'}, 'Share'), h('th', {scope: 'col'}, 'Tokens'),
                      h('th', {scope: 'col'}, 'Runs'))),
      h('tbody', {}, items.map((it) => h('tr', {dataset: {key: it.key || ''}},
        h('th', {scope: 'row'}, label(it)), h('td', {class: 'num', dataset: {usd: it.cost_usd}}, usd(it.cost_usd)),
        h('td', {class: 'bar-col'}, bar(Number(it.cost_usd) || 0, max)),
        h('td', {class: 'num'}, tokens(it).toLocaleString()), h('td', {class: 'num'}, String(it.runs || 0))))),
      h('tfoot', {}, h('tr', {}, h('th', {scope: 'row'}, 'Total'),
        h('td', {class: 'num', dataset: {usd: total.cost_usd || 0}}, usd(total.cost_usd)), h('td', {class: 'bar-col'}),
        h('td', {class: 'num'}, tokens(total).toLocaleString()), h('td', {class: 'num'}, String(total.runs || 0))))));
}

const PER = {day: 'per UTC day', task: 'per task', run: 'per run'};

// A budget's state in words: colour only repeats it.
function budgetState(b) {
  if (b.exceeded === true) return h('strong', {class: 'badge st-exceeded'}, 'exceeded');
  if (b.exceeded === false) return h('span', {class: 'badge st-ok'}, 'within');
  return h('span', {class: 'muted'}, 'checked on each run');
}

function amount(b, v) {
  if (v === null || v === undefined) return '—';
  return b.unit === 'tokens' ? `${Math.round(v).toLocaleString()} tokens` : usd(v);
}

function budgetsTable(res) {
  const items = res.items || [];
  if (!items.length) return h('p', {class: 'muted', id: 'budgets-none'}, 'No budgets are configured (bosun.yaml, budget:).');
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'budgets'},
      h('caption', {}, 'Budgets in force on this daemon, today (UTC)'),
      h('thead', {}, h('tr', {}, ['Budget', 'Applies to', 'Spent', 'Limit', 'Left', 'Used', 'State']
        .map((c) => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, items.map((b) => {
        const used = b.spent === null || b.spent === undefined ? null : (b.limit > 0 ? b.spent / b.limit : 0);
        return h('tr', {dataset: {budget: b.budget, agent: b.agent || '', exceeded: String(b.exceeded)},
                        class: b.exceeded ? 'over' : null},
          h('th', {scope: 'row'}, b.budget),
          h('td', {}, b.agent ? `agent ${b.agent}` : 'every agent', ` · ${PER[b.per] || b.per}`),
          h('td', {class: 'num'}, amount(b, b.spent)), h('td', {class: 'num'}, amount(b, b.limit)),
          h('td', {class: 'num'}, amount(b, b.left)),
          h('td', {class: 'bar-col'}, used === null ? '' : [bar(Math.min(used, 1), 1), ` ${Math.round(used * 100)} %`]),
          h('td', {}, budgetState(b)));
      }))));
}

// Spending changes with these: a turn's usage, a run's result, a budget hit.
const SPEND = /^evt\.run\.[^.]+\.[^.]+\.(usage|result|budget)$/;

export async function renderCost(root, ctx) {
  const since = periodStart(period);
  const [groups, budgets] = await Promise.all([
    Promise.all(GROUPS.map(([by]) => api('GET', `/cost?by=${by}&since=${since}&limit=${ROWS_MAX}`))),
    api('GET', '/budgets').catch((e) => ({error: e})),
  ]);
  const choose = h('fieldset', {class: 'period'},
    h('legend', {}, 'Period'),
    PERIODS.map(([key, label]) => h('label', {},
      h('input', {type: 'radio', name: 'period', value: key, checked: key === period,
                  onchange: () => { period = key; ctx.refresh(); }}), ' ', label)));
  const total = groups[1].total || {};
  clear(root).append(
    h('h1', {}, 'Cost'),
    choose,
    h('p', {class: 'summary', dataset: {since}}, 'Spent since ', h('time', {datetime: since}, since), ' (UTC): ',
      h('strong', {id: 'cost-total'}, usd(total.cost_usd)), ` over ${total.runs || 0} runs, `,
      `${tokens(total).toLocaleString()} tokens.`),
    h('section', {'aria-labelledby': 'budgets-h'}, h('h2', {id: 'budgets-h'}, 'Budgets'),
      budgets.error ? h('p', {class: 'error', role: 'alert'}, budgets.error.message) : budgetsTable(budgets)),
    ...GROUPS.map(([by, caption, column], i) => h('section', {'aria-labelledby': `cost-${by}-h`},
      h('h2', {id: `cost-${by}-h`}, caption), groupTable(by, caption, column, groups[i]))));
  // Live: re-read at most every 2 s while usage streams in (a run reports
  // each turn), not on every event.
  let timer = null;
  return {onEvent: (f) => {
    if (SPEND.test(f.subject || '') && !timer)
      timer = setTimeout(() => { timer = null; ctx.refresh(); }, 2000);
    return SPEND.test(f.subject || '');
  }};
}
