// ws_peer.mjs — the Node `ws` peer of bench_ws.sh: a server doing what
// bosund's /ws does in the benchmark, written the way a careful Node
// programmer would, so that the same client (ws_client.c) can be timed
// against both.
//
//   node ws_peer.mjs PORT TOKEN_FILE PING_INTERVAL SEND_QUEUE_MAX
//
// Listens on 127.0.0.1:PORT, path /ws (anything else: 404).  The protocol
// subset of DESIGN.md the benchmark uses:
//   - auth: first frame {"op":"auth","token"} within 10 s, compared in
//     constant time (SHA-256 of both, timingSafeEqual) with the token in
//     TOKEN_FILE -> {"op":"ready","principal":{...}}; else an error frame
//     and close 1008;
//   - {"op":"sub","sid","subject"} (NATS wildcards * and >) ->
//     {"op":"subscribed","sid","last_seq"}; {"op":"unsub","sid"};
//   - events -> {"op":"msg","sid","seq","subject","time","data"} to every
//     matching subscription; the part after "sid" is serialised once per
//     event, not once per client;
//   - an RFC 6455 ping every PING_INTERVAL seconds; a client that did not
//     answer the previous one is terminated (the ws heartbeat idiom);
//   - a client whose buffered output passes SEND_QUEUE_MAX bytes is closed
//     with 1013 "slow consumer".
// Commands on stdin, one a line, each answered by one line on stdout:
//   pub N SUBJECT      N events of 64 bytes of JSON data, published back to
//                      back: {"n":i,"pubns":CLOCK_REALTIME ns,"pad":"x…"}
//                      -> "published N"
//   spawn AGENT CMD…   runs CMD; each line it prints is an event on
//                      evt.run.AGENT.RUN.output with data {"run","agent",
//                      "stream":"stdout","n","text"} -> "spawned RUN", and
//                      "exited CODE" when it ends.
// Prints "listening PORT" once ready.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';
import { WebSocketServer } from 'ws';

const [port, tokenFile, pingInterval, sendQueueMax] = process.argv.slice(2);
if (!port || !tokenFile || !(Number(pingInterval) > 0) || !(Number(sendQueueMax) > 0)) {
  console.error('usage: node ws_peer.mjs PORT TOKEN_FILE PING_INTERVAL SEND_QUEUE_MAX');
  process.exit(64);
}
const sha = (s) => crypto.createHash('sha256').update(s).digest();
const tokenHash = sha(fs.readFileSync(tokenFile, 'utf8').trim());
const queueMax = Number(sendQueueMax);
let seq = 0;
const clients = new Set(); // authenticated
const everyone = new Set(); // pinged

function matches(pattern, subject) {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

// dataJson: the event's data, already serialised.
function publish(subject, dataJson) {
  const tail = `,"seq":${++seq},"subject":${JSON.stringify(subject)},"time":${Date.now() / 1000},"data":${dataJson}}`;
  for (const ws of clients) {
    for (const [sid, pattern] of ws.subs) {
      if (!matches(pattern, subject)) continue;
      if (ws.bufferedAmount > queueMax) {
        ws.close(1013, 'slow consumer');
        break;
      }
      ws.send(`{"op":"msg","sid":${JSON.stringify(sid)}${tail}`);
    }
  }
}

function onFrame(ws, text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return ws.close(1008, 'not JSON');
  }
  if (!ws.authed) {
    clearTimeout(ws.authTimer);
    const ok = m.op === 'auth' && typeof m.token === 'string' &&
      crypto.timingSafeEqual(sha(m.token), tokenHash);
    if (!ok) {
      ws.send(JSON.stringify({ op: 'error', error: { code: 'unauthorized', message: 'bad token' } }));
      return ws.close(1008, 'unauthorized');
    }
    ws.authed = true;
    clients.add(ws);
    return ws.send(JSON.stringify({ op: 'ready', principal: { kind: 'admin', id: 'bench' } }));
  }
  if (m.op === 'sub' && typeof m.sid === 'string' && typeof m.subject === 'string') {
    ws.subs.set(m.sid, m.subject);
    return ws.send(JSON.stringify({ op: 'subscribed', sid: m.sid, last_seq: seq }));
  }
  if (m.op === 'unsub' && typeof m.sid === 'string') return ws.subs.delete(m.sid);
  ws.send(JSON.stringify({ op: 'error', error: { code: 'bad_request', message: 'unknown op' } }));
}

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"code":"not_found","message":"no such route"}}');
});
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1 << 20, clientTracking: false });
wss.on('connection', (ws) => {
  ws.authed = false;
  ws.alive = true;
  ws.subs = new Map();
  ws.authTimer = setTimeout(() => ws.close(1008, 'auth timeout'), 10000);
  ws.on('pong', () => { ws.alive = true; });
  ws.on('message', (data, isBinary) => (isBinary ? ws.close(1003, 'text only') : onFrame(ws, data.toString())));
  ws.on('close', () => { clearTimeout(ws.authTimer); clients.delete(ws); everyone.delete(ws); });
  ws.on('error', () => {});
  everyone.add(ws);
});
setInterval(() => {
  for (const ws of everyone) {
    if (!ws.alive) { ws.terminate(); continue; }
    ws.alive = false;
    ws.ping();
  }
}, Number(pingInterval) * 1000);

function realNs() {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

// The same 64-byte data as the bosund side's publisher (bench_ws.sh).
function event64(n) {
  const head = `{"n":${n},"pubns":${realNs()},"pad":"`;
  return head + 'x'.repeat(Math.max(0, 64 - head.length - 2)) + '"}';
}

let runs = 0;
function command(line) {
  const w = line.trim().split(/\s+/);
  if (w[0] === 'pub' && Number(w[1]) > 0 && w[2]) {
    for (let i = 1; i <= Number(w[1]); i++) publish(w[2], event64(i));
    return console.log(`published ${w[1]}`);
  }
  if (w[0] === 'spawn' && w.length >= 3) {
    const run = `R${++runs}`;
    const child = spawn(w[2], w.slice(3), { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    readline.createInterface({ input: child.stdout }).on('line', (text) => {
      const data = { run, agent: w[1], stream: 'stdout', n: ++n, text };
      publish(`evt.run.${w[1]}.${run}.output`, JSON.stringify(data));
    });
    child.on('exit', (code) => console.log(`exited ${code}`));
    return console.log(`spawned ${run}`);
  }
  console.log(`error unknown command: ${w[0]}`);
}

server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${port}`);
  readline.createInterface({ input: process.stdin }).on('line', command);
});
