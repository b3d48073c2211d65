// fleet_sim.mjs — N simulated machines against one hub's /fleet (see
// tests/bench/README, bench_fleet.sh).  Each link does what the uplink
// plugin does (tests/fleet protocol, man bosun-fleet(7)): registers with a
// registration token (then its machine token), heartbeats, forwards
// machine.events in seq order with a window of unacknowledged events, and
// reconnects as the uplink does: after the loss of a registered link a
// random splay uniform in [0, SIM_SPLAY] (uplink.reconnect_splay), then the
// back-off (1 s, x2, cap 60 s, +-20 % jitter, each wait with a fresh splay
// added until the machine is registered again, reset after a successful
// register).
//
//   node fleet_sim.mjs HUB_HTTP_URL REG_TOKENS_FILE HUB_PID_FILE RESTART_CMD
//
// REG_TOKENS_FILE holds one registration token a line, SIM_N at least.
//
// Environment: SIM_N (1000) machines, SIM_AGENTS (10) agents each,
// SIM_HEARTBEAT (30) s, SIM_IDLE (30) s of steady heartbeat measured,
// SIM_SPLAY (10, the uplink's default reconnect_splay) s, SIM_RATE (10) events/s per machine for SIM_RATE_SECS (30) s, SIM_FLOOD_SECS
// (15) s of forwarding as fast as the acks allow (SIM_WINDOW, 4096, events
// in flight per machine), SIM_FLOOD_REPS (3) times,
// SIM_DEADLINE (1800) s for everything.  SIM_COUNT_CMD, run with sh before
// and after each flood, prints the hub store's committed events and
// commits ("EVENTS COMMITS"); SIM_LIMIT_CMD, run with the hub's mean
// events per commit as its argument after each flood, prints "key value"
// lines (the store's own limit), echoed as limit_R_key.  RESTART_CMD is run with sh when the hub is to be restarted;
// it must stop the hub, start it again and write its new PID to
// HUB_PID_FILE.  Prints "key value" lines; exits 1 when a phase timed out.
import { readFileSync } from 'node:fs';
import { execSync, spawn } from 'node:child_process';
import WebSocket from 'ws';

const [httpUrl, tokensFile, pidFile, restartCmd] = process.argv.slice(2);
if (!restartCmd) {
  console.error('usage: fleet_sim.mjs HUB_HTTP_URL REG_TOKENS_FILE HUB_PID_FILE RESTART_CMD');
  process.exit(64);
}
const env = (k, d) => Number(process.env[k] ?? d);
const N = env('SIM_N', 1000);
const AGENTS = env('SIM_AGENTS', 10);
const HB = env('SIM_HEARTBEAT', 30) * 1000;
const IDLE = env('SIM_IDLE', 30) * 1000;
const RATE = env('SIM_RATE', 10);
const RATE_SECS = env('SIM_RATE_SECS', 30);
const FLOOD_SECS = env('SIM_FLOOD_SECS', 15);
const SPLAY = env('SIM_SPLAY', 10) * 1000;
const FLOOD_REPS = env('SIM_FLOOD_REPS', 3);
const COUNT_CMD = process.env.SIM_COUNT_CMD ?? '';
const LIMIT_CMD = process.env.SIM_LIMIT_CMD ?? '';
const WINDOW = env('SIM_WINDOW', 4096); // the uplink's UPLINK_WINDOW
const BATCH = 256;
const wsUrl = httpUrl.replace(/^http/, 'ws') + '/fleet';
const t0 = Date.now();
const deadline = t0 + env('SIM_DEADLINE', 1800) * 1000;
setTimeout(() => { out('error', 'deadline'); process.exit(1); }, deadline - t0).unref();

function out(k, v) { console.log(`${k} ${v}`); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Times are seconds since the epoch, as the uplink sends them (bosun_now).
const nowSecs = () => Date.now() / 1000;

// /proc of the hub: RSS in kB and CPU seconds.
const hubPid = () => readFileSync(pidFile, 'utf8').trim();
function rssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hubPid()}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
function cpuSecs() {
  const s = readFileSync(`/proc/${hubPid()}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // CLK_TCK is 100 on Linux
}
async function cpuOver(ms) {
  const c = cpuSecs();
  const w = Date.now();
  await sleep(ms);
  return (100 * (cpuSecs() - c)) / ((Date.now() - w) / 1000);
}

// Registration tokens made beforehand (bench_fleet.sh, bosunctl).
function regTokens(n) {
  const toks = readFileSync(tokensFile, 'utf8').split('\n').filter((l) => l.startsWith('bsn_reg_'));
  if (toks.length < n) throw new Error(`${tokensFile}: ${toks.length} tokens, not ${n}`);
  return toks.slice(0, n);
}

const attempts = []; // ms times of connection attempts (after the restart)
let recording = false;

class Machine {
  constructor(i, token) {
    this.i = i;
    this.id = `sim-${i}`;
    this.token = token;
    this.seq = 0; // last produced
    this.acked = 0;
    this.sent = 0; // last sent on this link
    this.online = false;
    this.backoff = 1000;
    this.rid = 0;
    this.onRegister = null;
  }
  connect() {
    if (recording) attempts.push(Date.now());
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: 10000 });
    this.ws = ws;
    ws.on('open', () => {
      this.send({
        subject: 'machine.register', reply: `r.${++this.rid}`,
        data: {
          token: this.token, machine_id: this.id, name: this.id, version: 'sim',
          agents: Array.from({ length: AGENTS }, (_, k) => ({ name: `agent-${k}`, type: 'exec' })),
        },
      });
    });
    ws.on('message', (buf) => this.message(JSON.parse(buf.toString())));
    ws.on('error', () => {});
    ws.on('close', () => this.closed());
  }
  send(m) {
    m.time = nowSecs();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }
  message(m) {
    if (m.subject?.startsWith('r.')) {
      const d = m.data ?? {};
      if (!d.ok) { out('register_error', `${this.id} ${JSON.stringify(d.error)}`); return; }
      if (d.machine_token) this.token = d.machine_token;
      this.acked = Number(d.acked_seq ?? 0);
      this.sent = this.acked;
      this.online = true;
      this.splaying = false;
      this.backoff = 1000;
      this.hb = setInterval(() => this.heartbeat(), HB);
      this.onRegister?.(this);
      this.pump();
    } else if (m.subject === 'machine.ack') {
      this.acked = Math.max(this.acked, Number(m.data?.seq ?? 0));
      this.pump();
    }
  }
  heartbeat() {
    this.send({ subject: 'machine.heartbeat', data: { agents_running: AGENTS, load: [0.1, 0.1, 0.1], version: 'sim' } });
  }
  // Sends produced events not yet sent, within the window, in batches.
  pump() {
    if (!this.online) return;
    while (this.sent < this.seq && this.sent - this.acked < WINDOW) {
      const n = Math.min(BATCH, this.seq - this.sent, WINDOW - (this.sent - this.acked));
      const events = [];
      for (let k = 1; k <= n; k++) {
        const s = this.sent + k;
        events.push(this.event(s));
      }
      this.sent += n;
      this.send({ subject: 'machine.events', data: { events } });
    }
  }
  // Event s as the uplink forwards a stored output line (uplink_forward.c):
  // seq, subject, time in seconds, the machine's data, its run beside.
  // sqlite_insert's "machines" mode writes rows of the same shape.
  event(s) {
    const k = s % AGENTS;
    const run = `01SIMRUN${String(this.i % 1000000).padStart(6, '0')}AGENT${String(k).padStart(7, '0')}`;
    const text = `${s} simulated output line of machine ${this.id} `.padEnd(99, 'x');
    return { seq: s, subject: `evt.run.agent-${k}.${run}.output`, time: nowSecs(), run,
      data: { stream: 'stdout', n: s, text, run, agent: `agent-${k}`, task: null, machine: this.id } };
  }
  produce(n) { this.seq += n; this.pump(); }
  closed() {
    clearInterval(this.hb);
    const lost = this.online;
    this.online = false;
    this.ws = null;
    if (stopping) return;
    let wait;
    if (lost) this.splaying = SPLAY > 0;
    if (lost && SPLAY > 0) {
      wait = SPLAY * Math.random();
    } else {
      wait = this.backoff * (0.8 + 0.4 * Math.random());
      this.backoff = Math.min(this.backoff * 2, 60000);
      if (this.splaying) wait += SPLAY * Math.random();
    }
    setTimeout(() => this.connect(), wait);
  }
}
let stopping = false;

async function until(what, cond, ms, quiet = false) {
  const end = Math.min(Date.now() + ms, deadline);
  while (!cond()) {
    if (Date.now() > end) { if (!quiet) out('error', `timeout: ${what}`); return false; }
    await sleep(20);
  }
  return true;
}
const ackedTotal = (ms) => ms.reduce((a, m) => a + m.acked, 0);

async function main() {
  const rss0 = rssKb();
  out('hub_rss_kb_before', rss0);
  const tokens = regTokens(N);

  // 1. registration of all
  const ms = tokens.map((t, i) => new Machine(i, t));
  let registered = 0;
  for (const m of ms) m.onRegister = () => registered++;
  const r0 = Date.now();
  for (const m of ms) m.connect();
  if (!(await until('all registered', () => registered >= N, 120000))) return 1;
  out('register_all_secs', ((Date.now() - r0) / 1000).toFixed(3));
  for (const m of ms) m.onRegister = null;

  // 2. idle links at steady heartbeat
  await sleep(2000);
  const rss1 = rssKb();
  out('hub_rss_kb_idle', rss1);
  out('hub_rss_kb_per_link', ((rss1 - rss0) / N).toFixed(2));
  out('hub_cpu_pct_idle', (await cpuOver(IDLE)).toFixed(2));

  // 3. each machine forwarding RATE events/s
  const a0 = ackedTotal(ms);
  const tick = setInterval(() => { for (const m of ms) m.produce(RATE / 10); }, 100);
  const cpuRate = await cpuOver(RATE_SECS * 1000);
  clearInterval(tick);
  out('hub_cpu_pct_forwarding', cpuRate.toFixed(2));
  // A hub that stores nothing acknowledges nothing: the forwarding
  // figures are then left out, the rest still measured.
  const acking = (await until('a first ack', () => ackedTotal(ms) > a0, 10000, true)) &&
    (await until('rate phase acked', () => ms.every((m) => m.acked >= m.seq), 60000));
  out('events_acked', acking ? 1 : 0);
  out('rate_phase_events_stored', ackedTotal(ms) - a0);
  if (acking && !(await floodPhase(ms))) return 1;

  // 5. hub restart: time until all are back, attempts per second
  return restartPhase(ms);
}

// The hub's store: "EVENTS COMMITS" from SIM_COUNT_CMD (its
// cmd.store.status), so that what is counted is what the hub committed.
function storeCount() {
  if (!COUNT_CMD) return null;
  const [events, commits] = execSync(COUNT_CMD, { encoding: 'utf8', timeout: 30000 }).trim().split(/\s+/).map(Number);
  return { events, commits, at: Date.now() };
}
function loadLine() {
  const l = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return l;
}

async function floodPhase(ms) {
  // 4. flood, FLOOD_REPS times: every machine keeps its window full, the
  // acks set the pace.  After each, SIM_LIMIT_CMD TXN (the store's own
  // limit with the hub's mean transaction) runs while the links are idle,
  // so that the two take turns on the loaded machine.
  for (let r = 1; r <= FLOOD_REPS; r++) {
    out(`flood_${r}_load`, loadLine().replace(/ /g, ','));
    const f0 = ackedTotal(ms);
    const c0 = storeCount();
    const fw = Date.now();
    const flood = setInterval(() => { for (const m of ms) if (m.seq - m.acked < WINDOW) m.produce(BATCH); }, 50);
    await sleep(FLOOD_SECS * 1000);
    clearInterval(flood);
    const c1 = storeCount();
    const acked = ackedTotal(ms) - f0;
    out(`flood_${r}_events_acked`, acked);
    out(`flood_${r}_acked_per_sec`, (acked / ((Date.now() - fw) / 1000)).toFixed(0));
    if (c0 && c1) {
      const ev = c1.events - c0.events;
      const cm = c1.commits - c0.commits;
      out(`flood_${r}_events_stored`, ev);
      out(`flood_${r}_stored_per_sec`, (ev / ((c1.at - c0.at) / 1000)).toFixed(0));
      out(`flood_${r}_commits`, cm);
      out(`flood_${r}_txn_mean`, cm > 0 ? Math.round(ev / cm) : 0);
    }
    out(`flood_${r}_hub_rss_kb`, rssKb());
    // Every window is full at the end: N x 4,096 events to drain, at the
    // rate the hub just showed (a loaded machine makes that slow).
    const left = ms.reduce((a, m) => a + m.seq - m.acked, 0);
    const rate = Math.max(1000, acked / FLOOD_SECS);
    if (!(await until('flood acked', () => ms.every((m) => m.acked >= m.seq), Math.max(120000, (3000 * left) / rate)))) return false;
    if (LIMIT_CMD && c0 && c1) {
      const txn = Math.max(1, Math.round((c1.events - c0.events) / Math.max(1, c1.commits - c0.commits)));
      const res = execSync(`${LIMIT_CMD} ${txn}`, { encoding: 'utf8', timeout: 300000 });
      for (const line of res.split('\n').filter(Boolean)) out(`limit_${r}_${line.split(' ')[0]}`, line.split(' ').slice(1).join(','));
    }
  }
  out('events_produced', ackedTotal(ms));
  return true;
}

async function restartPhase(ms) {
  let registered = 0;
  for (const m of ms) m.onRegister = () => registered++;
  recording = true;
  const k0 = Date.now();
  const rc = await new Promise((res) => spawn('sh', ['-c', restartCmd], { stdio: 'inherit' }).on('exit', res));
  if (rc !== 0) { out('error', `restart command exit ${rc}`); return 1; }
  const up = Date.now();
  out('hub_restart_cmd_secs', ((up - k0) / 1000).toFixed(2));
  if (!(await until('all back online', () => registered >= N && ms.every((m) => m.online), 300000))) return 1;
  out('back_online_secs', ((Date.now() - k0) / 1000).toFixed(3));
  recording = false;
  // All attempts, and those the hub sees: made once it listens again.
  const spread = (name, ts) => {
    const per = new Map();
    for (const t of ts) { const s = Math.floor((t - k0) / 1000); per.set(s, (per.get(s) ?? 0) + 1); }
    const peak = Math.max(0, ...per.values());
    out(`${name}_attempts`, ts.length);
    out(`${name}_peak_per_sec`, peak);
    out(`${name}_peak_share`, ts.length ? (peak / ts.length).toFixed(3) : 'n/a');
    out(`${name}_histogram`, [...per.entries()].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}:${c}`).join(','));
  };
  spread('reconnect_all', attempts);
  spread('reconnect_seen', attempts.filter((t) => t >= up));
  out('acked_after_restart_ok', ms.every((m) => m.acked === m.seq) ? 1 : 0);
  // Without acks the unacknowledged events are resent: that is expected.
  stopping = true;
  for (const m of ms) m.ws?.close(1000);
  return 0;
}
main().then((rc) => process.exit(rc), (e) => { out('error', e.message); process.exit(1); });
