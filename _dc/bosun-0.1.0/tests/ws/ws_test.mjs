// /ws test client on Node's `ws` (tests/integration/ws*.sh drive it).
//
//   node ws_test.mjs CASE URL TOKEN [ARGS...]
//
// TOKEN goes in an Authorization: Bearer header ("-" for none).  Each case
// prints one JSON object on stdout and exits 0; the shell test judges it.
// Every wait is bounded (DEADLINE_MS at most per case: $WS_DEADLINE
// seconds, default 60).
import WebSocket from 'ws';

const [kase, url, token, ...args] = process.argv.slice(2);
const DEADLINE_MS = 1000 * Number(process.env.WS_DEADLINE || 60);

// $WS_LOCAL: the local address to connect from (the failed-auth limit
// counts per address).
function open(opts = {}) {
  const headers = token && token !== '-' ? { Authorization: `Bearer ${token}` } : {};
  const local = process.env.WS_LOCAL ? { localAddress: process.env.WS_LOCAL } : {};
  return new WebSocket(url, { headers, ...local, ...opts });
}

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

// Frames in arrival order; waitFor(pred) resolves with the first frame
// matching pred (already received or to come), or null at the deadline.
function collector(ws) {
  const frames = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const f = isBinary ? { binary: true } : JSON.parse(data.toString());
    frames.push(f);
    for (const w of waiters.splice(0)) if (!w(f)) waiters.push(w);
  });
  const waitFor = (pred, ms = DEADLINE_MS) =>
    new Promise((resolve) => {
      const had = frames.find(pred);
      if (had) return resolve(had);
      const t = setTimeout(() => resolve(null), ms);
      waiters.push((f) => (pred(f) ? (clearTimeout(t), resolve(f), true) : false));
    });
  return { frames, waitFor };
}

function closed(ws, ms = DEADLINE_MS) {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ code: null, reason: 'still open' }), ms);
    ws.on('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
    ws.on('error', () => {});
  });
}

const opened = (ws) =>
  new Promise((resolve) => {
    ws.on('open', () => resolve(true));
    ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
    ws.on('error', () => resolve(false));
  });

// follow PATTERN SINCE COUNT [noq]: sub, read COUNT msgs (replay, then
// live), then ask the store for the same range (not with noq: the shell
// pages through it); got and stored must be equal.
async function follow() {
  const [pattern, since, count, noq] = args;
  const ws = open();
  const { frames, waitFor } = collector(ws);
  await opened(ws);
  const ready = await waitFor((f) => f.op === 'ready');
  const sub = { op: 'sub', sid: 'f1', subject: pattern };
  if (since !== '-') sub.since = Number(since);
  ws.send(JSON.stringify(sub));
  const want = Number(count);
  const subscribed = await waitFor((f) => f.op === 'subscribed');
  await waitFor(() => frames.filter((f) => f.op === 'msg').length >= want);
  const msgs = frames.filter((f) => f.op === 'msg');
  const got = msgs.map((m) => m.seq);
  const q = { subject: pattern, since: since === '-' ? 0 : Number(since), limit: 10000 };
  if (!noq) ws.send(JSON.stringify({ op: 'req', id: 'q', subject: 'cmd.store.events', data: q }));
  const reply = noq ? null : await waitFor((f) => f.op === 'reply' && f.id === 'q');
  const stored = (reply ? reply.data.events : []).map((e) => e.seq);
  const firstLive = msgs.findIndex((m) => m.seq > (subscribed ? subscribed.last_seq : 0));
  done({
    ready: ready && ready.principal,
    last_seq: subscribed && subscribed.last_seq,
    n: got.length,
    got,
    stored: stored.slice(0, got.length),
    sids_ok: msgs.every((m) => m.sid === 'f1' && typeof m.subject === 'string' && 'data' in m),
    subjects: [...new Set(msgs.map((m) => m.subject.split('.').slice(0, 3).join('.')))],
    live_after_subscribed: firstLive,
    errors: frames.filter((f) => f.op === 'error'),
  });
}

// live PATTERN: sub without since: from the store's last seq on; the
// first msg after "subscribed" (the shell publishes once it sees
// "subscribed" on stderr).
async function live() {
  const ws = open();
  const { waitFor } = collector(ws);
  await opened(ws);
  ws.send(JSON.stringify({ op: 'sub', sid: 'l', subject: args[0] }));
  const s = await waitFor((f) => f.op === 'subscribed' || f.op === 'error');
  process.stderr.write('subscribed\n');
  const m = await waitFor((f) => f.op === 'msg', 20000);
  done({ last_seq: s && s.last_seq, seq: m && m.seq, data: m && m.data });
}

// count PATTERN COUNT: the fast reader of the slow-consumer test.
async function count() {
  const [pattern, n] = args;
  const ws = open();
  const { frames, waitFor } = collector(ws);
  await opened(ws);
  ws.send(JSON.stringify({ op: 'sub', sid: 'c', subject: pattern }));
  await waitFor((f) => f.op === 'subscribed');
  process.stderr.write('subscribed\n');
  await waitFor(() => frames.filter((f) => f.op === 'msg').length >= Number(n));
  const seqs = frames.filter((f) => f.op === 'msg').map((m) => m.seq);
  const increasing = seqs.every((s, i) => i === 0 || s > seqs[i - 1]);
  done({ n: seqs.length, increasing, open: ws.readyState === WebSocket.OPEN });
}

// frame SIZE: one text frame of SIZE bytes (a JSON string); the close.
async function frame() {
  const ws = open();
  await opened(ws);
  const c = closed(ws, 10000);
  ws.send(JSON.stringify('x'.repeat(Math.max(0, Number(args[0]) - 2))));
  // a small frame after it shows whether the connection lived
  ws.send(JSON.stringify({ op: 'nope' }));
  const { waitFor } = collector(ws);
  const err = await waitFor((f) => f.op === 'error', 3000);
  if (err) ws.close(1000);
  done({ ...(await c), answered: !!err });
}

// binary: a binary frame gets 1003.
async function binary() {
  const ws = open();
  await opened(ws);
  const c = closed(ws, 10000);
  ws.send(Buffer.from([1, 2, 3]));
  done(await c);
}

// errors: frames the server must answer with error frames, the
// connection staying open.
async function errors() {
  const ws = open();
  const { frames, waitFor } = collector(ws);
  await opened(ws);
  await waitFor((f) => f.op === 'ready');
  const sent = [
    'not json',
    '[1,2]',
    '{"op":"fly"}',
    '{"op":"sub","subject":"evt.>"}',
    '{"op":"sub","sid":"s","subject":"evt..x"}',
    '{"op":"sub","sid":"s","subject":"evt.>","since":-4}',
    '{"op":"unsub","sid":"nope"}',
    '{"op":"req","id":"r1"}',
    '{"op":"req","id":"r2","subject":"cmd.nobody.here","data":{}}',
    '{"op":"auth","token":"x"}',
    '{"op":"sub","sid":"d","subject":"evt.>","sid":"e"}',
  ];
  for (const s of sent) ws.send(s);
  await waitFor(() => frames.filter((f) => f.op === 'error').length >= sent.length, 15000);
  done({ errors: frames.filter((f) => f.op === 'error'), open: ws.readyState === WebSocket.OPEN });
}

// req SUBJECT DATA: the reply (or error) frame.
async function req() {
  const ws = open();
  const { waitFor } = collector(ws);
  await opened(ws);
  ws.send(JSON.stringify({ op: 'req', id: 7, subject: args[0], data: JSON.parse(args[1]) }));
  done(await waitFor((f) => f.id === 7, 15000));
}

// sub PATTERN: the first answer to a subscription (subscribed or error).
async function sub() {
  const ws = open();
  const { waitFor } = collector(ws);
  await opened(ws);
  const ready = await waitFor((f) => f.op === 'ready', 10000);
  ws.send(JSON.stringify({ op: 'sub', sid: 'x', subject: args[0], since: 0 }));
  const f = await waitFor((f) => f.op === 'subscribed' || f.op === 'error', 15000);
  done({ ready: ready && ready.principal, frame: f });
}

// subs N: N subscriptions on one connection: how many were taken, and
// the errors of the others.
async function subs() {
  const ws = open();
  const { frames, waitFor } = collector(ws);
  await opened(ws);
  const n = Number(args[0]);
  for (let i = 0; i < n; i++)
    ws.send(JSON.stringify({ op: 'sub', sid: `s${i}`, subject: `evt.k${i}.>` }));
  const answered = () => frames.filter((f) => f.op === 'subscribed' || f.op === 'error').length;
  await waitFor(() => answered() >= n, 15000);
  done({
    subscribed: frames.filter((f) => f.op === 'subscribed').length,
    errors: frames.filter((f) => f.op === 'error').map((f) => f.error.code),
  });
}

// pings SECS: server pings seen (answered by ws itself) over SECS.
async function pings() {
  const ws = open();
  await opened(ws);
  let n = 0;
  ws.on('ping', () => n++);
  const c = closed(ws, Number(args[0]) * 1000);
  const r = await c;
  done({ pings: n, open: r.code === null });
}

// nopong: a client that does not answer pings gets closed.
async function nopong() {
  const ws = open({ autoPong: false });
  await opened(ws);
  let n = 0;
  ws.on('ping', () => n++);
  const t0 = Date.now();
  const r = await closed(ws, 20000);
  done({ ...r, pings: n, secs: (Date.now() - t0) / 1000 });
}

// cookie COOKIE ORIGIN: an upgrade with the session cookie (TOKEN "-"):
// the HTTP status when refused, else the ready frame.
async function cookie() {
  const ws = open({ headers: { Cookie: args[0] }, origin: args[1] });
  const { waitFor } = collector(ws);
  const r = await opened(ws);
  if (r !== true) done({ result: r });
  const f = await waitFor((f) => f.op === 'ready', 10000);
  ws.close(1000);
  done({ result: 101, ready: f && f.principal });
}

// upgrade: whether the upgrade is refused, and with what status.
async function upgrade() {
  const ws = open();
  const r = await opened(ws);
  done({ result: r });
}

const cases = { follow, live, cookie, subs, count, frame, binary, errors, req, sub, pings, nopong, upgrade };
if (!cases[kase]) {
  process.stderr.write(`unknown case ${kase}\n`);
  process.exit(2);
}
setTimeout(() => done({ timeout: true }), DEADLINE_MS + 5000).unref();
cases[kase]();
