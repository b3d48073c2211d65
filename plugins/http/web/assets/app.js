// The dashboard's entry: who is logged in, the login form otherwise, the
// views by location hash, and the live connection that refreshes them.
import {api, ApiError, setUnauthorizedHandler, setBearer} from './api.js';
import {h, clear} from './dom.js';
import {Live} from './live.js';
import {renderOverview, renderAgents, renderRuns} from './views.js';
import {renderRun} from './run.js';
import {renderTasks, renderTask, renderEvents} from './tasks.js';
import {renderChats, renderChat} from './chat.js';
import {renderCost} from './cost.js';

const main = document.getElementById('main');
const conn = document.getElementById('conn');
const who = document.getElementById('who');
const logout = document.getElementById('logout');
const announce = document.getElementById('announce');
// #/name or #/name/id: the list views, and one run or task.
const views = {overview: renderOverview, agents: renderAgents, runs: renderRuns, tasks: renderTasks,
               events: renderEvents, chat: renderChats, cost: renderCost};
const pages = {runs: renderRun, tasks: renderTask, chat: renderChat};
let current = null; // what the view returned: its own live handler, if any
let live = null;
let identity = null;
// Opened by a share link (?share=TOKEN): that token, kept for this tab
// only and taken out of the address bar at once.
let share = new URLSearchParams(location.search).get('share');
if (share) {
  sessionStorage.setItem('bosun_share', share);
  history.replaceState(null, '', location.pathname + location.hash);
} else {
  share = sessionStorage.getItem('bosun_share');
}
if (share) setBearer(share);
// Back from "Sign in with GitHub" with a refusal (/?login_error=CODE,
// bosun-http(7)): said in words on the login form, the address cleaned.
const loginError = new URLSearchParams(location.search).get('login_error');
if (loginError) history.replaceState(null, '', location.pathname + location.hash);
const LOGIN_ERRORS = {
  access_denied: 'GitHub did not authorise the sign-in: it was cancelled or refused on GitHub.',
  forbidden: 'Your GitHub account is not allowed on this bosun (neither an allowed user nor a member of an allowed organisation).',
  bad_state: 'The GitHub sign-in expired or was started in another browser; sign in again.',
  unavailable: 'GitHub could not be reached or failed to answer; try again later.',
  bad_request: 'GitHub sent the browser back without what the sign-in needs; try again.',
};
let refreshTimer = null;
let rendering = false, again = false;
let lastPending = null;

function setPending(n) {
  // A screen reader hears of a new question or approval wherever it is.
  if (lastPending !== null && n > lastPending)
    announce.textContent = `${n} waiting for you: a new question or approval.`;
  lastPending = n;
  document.title = n > 0 ? `(${n}) bosun` : 'bosun';
  const icon = document.getElementById('favicon');
  icon.href = n > 0 ? badgeIcon(n) : '/favicon.svg';
}

function badgeIcon(n) {
  const label = n > 9 ? '9+' : String(n);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f4e79"/>` +
    `<circle cx="22" cy="10" r="10" fill="#c62828"/><text x="22" y="14" font-size="12" text-anchor="middle" fill="#fff" font-family="sans-serif">${label}</text></svg>`;
  return 'data:image/svg+xml,' + encodeURIComponent(svg);
}

function currentView() {
  if (identity && identity.credential === 'share') // a share sees its task, nothing else
    return {name: 'tasks', id: identity.task, render: (root, ctx) => renderTask(root, ctx, identity.task)};
  const [name, ...rest] = (location.hash.replace(/^#\/?/, '') || 'overview').split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : null;
  if (id && pages[name]) return {name, id, render: (root, ctx) => pages[name](root, ctx, id)};
  return views[name] ? {name, id: null, render: views[name]} : {name: 'overview', id: null, render: renderOverview};
}

async function render() {
  if (rendering) { again = true; return; }
  rendering = true;
  // A refresh asked for before this render is covered by it (it reads the
  // data afresh; events from now on are queued for the view): left
  // pending, it would draw the page a second time, e.g. a run page just
  // navigated to, losing the rows of its live output drawn meanwhile.
  if (refreshTimer) { clearTimeout(refreshTimer); refreshTimer = null; }
  const view = currentView();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === view.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    current = null;
    early = early || [];
    const admin = !!identity && identity.role === 'admin';
    current = await view.render(main, {setPending, refresh, admin,
                                       mayAnswer: admin || (!!identity && identity.can_answer === true)});
    const missed = early || [];
    early = null;
    for (const f of missed) deliver(f);
    main.dataset.ready = view.id ? `${view.name}/${view.id}` : view.name;
    performance.mark(`bosun:ready:${view.name}`); // navigation -> interactive, for the benchmark
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401))
      clear(main).append(h('p', {class: 'error', role: 'alert'}, e.message || String(e)));
  } finally {
    early = null;
    rendering = false;
    if (again) { again = false; render(); }
  }
}

// Events that change what the views show; output lines do not.
const RELEVANT = /^evt\.(input|approval|machine|agent|task)\.|^evt\.run\.[^.]+\.[^.]+\.state$/;
// The count in the title and favicon, whatever the view.
let pendingTimer = null;
function updatePending() {
  if (pendingTimer) return;
  pendingTimer = setTimeout(async () => {
    pendingTimer = null;
    try {
      const [i, a] = await Promise.all([api('GET', '/inputs?status=pending'), api('GET', '/approvals')]);
      setPending((i.items || []).length + (a.items || []).length);
    } catch (e) { /* shown by the views */ }
  }, 100);
}

// Events that arrive while a view is being drawn (after it read its data,
// before it can follow): kept and handed to it once it is up, so a page
// misses none of them; past the bound, the view is drawn again instead.
let early = null;
const EARLY_MAX = 10000;
function onEvent(f) {
  if (/^evt\.(input|approval)\./.test(f.subject || '')) updatePending();
  if (early) {
    if (early.length < EARLY_MAX) early.push(f);
    else again = true;
    return;
  }
  deliver(f);
}

function deliver(f) {
  if (current && current.onEvent && current.onEvent(f)) return; // the view updated itself
  if (RELEVANT.test(f.subject || '')) refresh();
}

// Live events arrive in bursts: one render per 100 ms at most.
function refresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; render(); }, 100);
}

function showConn(state, why) {
  const words = {connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…',
                 unauthorized: 'Signed out', error: why ? `Error: ${why}` : 'Error'};
  conn.textContent = words[state] || state;
  conn.dataset.state = state;
  if (state === 'live' && current && current.onLive) current.onLive(); // a view that reloads after a drop
  if (state === 'unauthorized') showLogin();
}

function showLogin(message, error = false) {
  if (share) { // a share link that stopped working: say so, and forget it
    sessionStorage.removeItem('bosun_share');
    share = null;
    setBearer(null);
    document.body.classList.remove('shared');
    message = 'This share link has expired or was revoked.';
  }
  if (live) live.stop();
  live = null;
  identity = null;
  who.textContent = '';
  logout.hidden = true;
  setPending(0);
  lastPending = null;
  const token = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true});
  const status = h('p', {role: error ? 'alert' : 'status', id: 'login-status', class: error ? 'error' : 'muted'}, message || '');
  const form = h('form', {class: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    status.textContent = 'Signing in…';
    try {
      await api('POST', '/auth/login', {token: token.value});
      token.value = '';
      await boot();
    } catch (e) {
      status.textContent = e.message;
      status.className = 'error';
    }
  }},
    h('h1', {}, 'Sign in to bosun'),
    h('label', {for: 'token'}, 'Admin token'), token,
    h('button', {type: 'submit'}, 'Sign in'),
    h('p', {class: 'muted'}, 'Make one on the daemon\'s machine with ', h('code', {}, 'bosunctl token create --name me'), '.'),
    status);
  clear(main).append(form);
  main.dataset.ready = 'login';
  token.focus();
  offerGithub(form, status);
}

// "Sign in with GitHub" when the daemon says it can (GET /auth/methods);
// the view asked for is kept for the way back (the callback ends at /).
async function offerGithub(form, status) {
  let methods = {};
  try { methods = await api('GET', '/auth/methods'); } catch (e) { return; }
  if (!methods.github || !form.isConnected) return;
  const link = h('a', {class: 'button github', href: '/api/v1/auth/github/start', id: 'github-login',
                       onclick: () => sessionStorage.setItem('bosun_after_login', location.hash)},
                 'Sign in with GitHub');
  form.insertBefore(h('div', {class: 'or'}, h('p', {class: 'muted'}, 'or'), link), status);
}

async function boot() {
  let me;
  try {
    me = await api('GET', '/auth/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401)
      return showLogin(loginError ? LOGIN_ERRORS[loginError] ||
        `Signing in with GitHub failed (${/^[a-z_]{1,32}$/.test(loginError) ? loginError : 'an error'}).` : undefined,
        !!loginError);
    clear(main).append(h('p', {class: 'error', role: 'alert'}, e.message));
    return;
  }
  identity = me.identity || {};
  const back = sessionStorage.getItem('bosun_after_login');
  if (back !== null) {
    sessionStorage.removeItem('bosun_after_login');
    if (back && !location.hash) history.replaceState(null, '', location.pathname + back);
  }
  const shared = identity.credential === 'share';
  document.body.classList.toggle('shared', shared);
  who.textContent = shared ? `shared task${identity.can_answer ? ' (may answer)' : ' (read only)'}`
    : `${identity.kind || ''} ${identity.id || ''}${identity.role ? ' (' + identity.role + ')' : ''}`;
  logout.hidden = shared;
  // A share's subscription is narrowed to its task by the daemon.
  live = new Live({onEvent, onState: showConn, subject: 'evt.>',
                   token: shared ? share : null});
  live.start();
  if (!shared) updatePending();
  await render();
}

setUnauthorizedHandler(() => showLogin('Your session ended; sign in again.'));
logout.addEventListener('click', async () => {
  try { await api('POST', '/auth/logout'); } catch (e) { /* signed out either way */ }
  showLogin('Signed out.');
});
window.addEventListener('hashchange', () => { if (identity) render(); });
// The skip link moves the focus, not the location (the hash names views).
document.getElementById('skip').addEventListener('click', (ev) => { ev.preventDefault(); main.focus(); });
boot();
