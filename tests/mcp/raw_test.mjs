// Protocol edge cases that a well-behaved SDK never sends, written straight
// to `bosunctl mcp`: the right JSON-RPC error each time, and the session
// goes on.
//
//   node raw_test.mjs MCP_CONFIG
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { plan, ok, is, done } from './tap.mjs';

const server = JSON.parse(readFileSync(process.argv[2], 'utf8')).mcpServers.bosun;
const child = spawn(server.command, server.args, { env: { ...process.env, ...server.env }, stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout });
const queue = [];
const waiters = [];
lines.on('line', (l) => {
  let msg;
  try { msg = JSON.parse(l); } catch { msg = { unparsable: l }; }
  if (waiters.length) waiters.shift()(msg); else queue.push(msg);
});
const next = (ms = 5000) => new Promise((resolve) => {
  if (queue.length) return resolve(queue.shift());
  // A waiter that timed out must not swallow a later line.
  const w = (m) => { clearTimeout(t); resolve(m); };
  const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); resolve({ timeout: true }); }, ms);
  waiters.push(w);
});
const send = (obj) => child.stdin.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n');

plan(21);
send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
let m = await next();
ok(m.error && m.id === 1, 'a request before initialize gets an error', m);
send({ jsonrpc: '2.0', id: 2, method: 'ping' });
m = await next();
ok(m.result && m.id === 2, 'ping works before initialize', m);
send({ jsonrpc: '2.0', id: 3, method: 'server/discover' });
m = await next();
// 2026-07-28 asks for the revision in params._meta: without it, the
// request is malformed (its result would say nothing a 2025 client reads).
is(m.error?.code, -32602, 'server/discover without params._meta: -32602');

send({ jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
m = await next();
is(m.result?.protocolVersion, '2024-11-05', 'an older supported version is echoed');
send({ jsonrpc: '2.0', method: 'notifications/initialized' });

send('{"jsonrpc": "2.0", "id": 5, "method": ');
m = await next();
ok(m.error?.code === -32700 && m.id === null, 'malformed JSON: -32700 with id null', m);
send([{ jsonrpc: '2.0', id: 6, method: 'ping' }]);
m = await next();
is(m.error?.code, -32600, 'a batch array: -32600');
send({ jsonrpc: '2.0', id: 7, method: 'no/such/method' });
m = await next();
ok(m.error?.code === -32601 && m.id === 7, 'unknown method: -32601 with its id', m);
send({ id: 8, method: 'ping' });
m = await next();
is(m.error?.code, -32600, 'missing jsonrpc: -32600');
send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'report_status' } });
m = await next();
ok(m.id === 9 && !m.error && m.result?.isError === true &&
  /invalid arguments for report_status: 'state' is required/.test(m.result?.content?.[0]?.text),
  'tools/call without required arguments: an isError result saying what is missing', m);
send({ jsonrpc: '2.0', id: 91, method: 'tools/call', params: { name: 'report_status', arguments: [1] } });
m = await next();
ok(m.id === 91 && m.result?.isError === true && /'arguments' must be an object/.test(m.result?.content?.[0]?.text),
  'tools/call with arguments that are not an object: an isError result', m);
send({ jsonrpc: '2.0', id: 92, method: 'tools/call', params: { arguments: {} } });
m = await next();
ok(m.id === 92 && m.error?.code === -32602, 'tools/call without a name: still -32602', m);
send({ jsonrpc: '2.0', id: 93, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } });
m = await next();
ok(m.id === 93 && m.error?.code === -32602, 'an unknown tool: still -32602', m);
send({ jsonrpc: '2.0', id: 10, method: 'ping', params: { pad: 'x'.repeat(2 * 1024 * 1024) } });
m = await next();
is(m.error?.code, -32600, 'an oversized message: -32600');

// Replies are matched by id: a slow call and a fast one overlap.
send({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'request_input', arguments: { question: 'raw slow', wait_seconds: 1 } } });
send({ jsonrpc: '2.0', id: 'fast', method: 'ping' });
const a = await next(), b = await next();
is(a.id, 'fast', 'the fast reply comes first');
is(b.id, 'slow', 'the slow one after it, with its own id');

// Cancellation: no reply for the cancelled request.
send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'request_input', arguments: { question: 'raw cancel', wait_seconds: 30 }, _meta: { progressToken: 'p11' } } });
send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 11, reason: 'test' } });
send({ jsonrpc: '2.0', id: 12, method: 'ping' });
m = await next();
while (m.method === 'notifications/progress') m = await next();
is(m.id, 12, 'after cancelling, the next reply is for the next request');
m = await next(1500);
ok(m.timeout, 'and the cancelled request never gets a reply', m);

// Progress notifications while request_input waits.
send({ jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'request_input', arguments: { question: 'raw progress', wait_seconds: 3 }, _meta: { progressToken: 'tok13' } } });
const seen = [];
for (;;) { m = await next(6000); seen.push(m); if (m.id === 13 || m.timeout) break; }
ok(seen.some((x) => x.method === 'notifications/progress' && x.params?.progressToken === 'tok13'),
  'progress notifications carry the progressToken while waiting', seen);
is(seen.at(-1).id, 13, 'then the result');

send({ jsonrpc: '2.0', id: 14, method: 'ping' });
m = await next();
is(m.id, 14, 'the session is still alive after all that');
child.stdin.end();
const code = await new Promise((resolve) => child.on('exit', resolve));
is(code, 0, 'bosunctl mcp exits cleanly when stdin closes');
done();
