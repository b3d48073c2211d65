// MCP Streamable HTTP at bosund's /mcp, driven with the official MCP
// TypeScript SDK's StreamableHTTPClientTransport from the HTTP MCP config
// bosund wrote for a real run (mcp-http.json), then with raw fetch for what
// the SDK never sends wrong (tokens, sessions, sizes, Accept).
//
//   node http_test.mjs MCP_HTTP_CONFIG TASK ADMIN_TOKEN SHARE_TOKEN MAX_BYTES
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { plan, ok, is, done } from './tap.mjs';

const [cfgFile, task, adminToken, shareToken, maxBytes] = process.argv.slice(2);
const server = JSON.parse(readFileSync(cfgFile, 'utf8')).mcpServers.bosun;
const url = new URL(server.url);
const auth = server.headers.Authorization;

plan(36);
is(server.type, 'http', 'the config names an http server');
ok(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/.test(server.url), 'on the loopback listener, path /mcp', server.url);
ok(/^Bearer bat_[A-Za-z0-9_-]{43}$/.test(auth), 'with the agent token as a Bearer header');

const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: auth } } });
const client = new Client({ name: 'bosun-http-test', version: '1.0.0' });
await client.connect(transport);
is(client.getServerVersion()?.name, 'bosun', 'initialize over HTTP: the server is bosun');
ok(/^[A-Za-z0-9]{32}$/.test(transport.sessionId || ''), 'an Mcp-Session-Id came back', transport.sessionId);

const { tools } = await client.listTools();
ok(tools.some((t) => t.name === 'request_input') && tools.some((t) => t.name === 'approve'),
  'tools/list over HTTP lists request_input and approve', tools.map((t) => t.name));

let r = await client.callTool({ name: 'get_task', arguments: {} });
is(r.structuredContent?.task?.id, task, 'get_task: the run\'s task');
r = await client.callTool({ name: 'report_status', arguments: { state: 'working', message: 'over http' } });
ok(!r.isError, 'report_status succeeds', r);

// A blocking wait answered by bosunctl (the shell answers it): progress
// notifications come on the POST's event stream before the answer.
const progress = [];
r = await client.callTool({ name: 'request_input', arguments: { question: 'HTTP: answer me', wait_seconds: 60 } },
  undefined, { onprogress: (p) => progress.push(p), timeout: 90000, resetTimeoutOnProgress: true });
is(r.structuredContent?.status, 'answered', 'request_input over HTTP is answered', r);
is(r.structuredContent?.answer, 'from bosunctl', '  with the answer given by bosunctl');
ok(progress.length >= 1, `progress notifications arrived while it waited (${progress.length})`, progress);

// --- raw requests
const sid = transport.sessionId;
const base = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
const post = (headers, body) => fetch(url, { method: 'POST', headers: { ...base, ...headers }, body });
const ping = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'ping' });
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

let res = await post({ Authorization: auth, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' }, ping);
is(res.status, 200, 'a ping in the session: 200');
is(res.headers.get('content-type'), 'application/json', '  as application/json');
is((await res.json()).id, 99, '  answering its id');

res = await post({ Authorization: auth, 'Mcp-Session-Id': sid },
  JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
is(res.status, 202, 'a notification: 202 Accepted');

res = await post({ 'Mcp-Session-Id': sid }, ping);
is(res.status, 401, 'no token: 401');
res = await post({ Authorization: 'Bearer bat_' + 'x'.repeat(43), 'Mcp-Session-Id': sid }, ping);
is(res.status, 401, 'a wrong agent token: 401');
res = await post({ Authorization: `Bearer ${adminToken}` }, init);
is(res.status, 403, 'an admin token: 403');
res = await post({ Authorization: `Bearer ${shareToken}` }, init);
is(res.status, 403, 'a share token: 403');

res = await post({ Authorization: auth, 'Mcp-Session-Id': 'A'.repeat(32) }, ping);
is(res.status, 404, 'an unknown session: 404');
res = await post({ Authorization: auth }, ping);
is(res.status, 400, 'no Mcp-Session-Id on a request other than initialize: 400');
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' }, ping);
is(res.status, 400, 'an unsupported MCP-Protocol-Version: 400');
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid, Accept: 'application/json' }, ping);
is(res.status, 406, 'Accept without text/event-stream: 406');
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid }, '{"jsonrpc":"2.0",');
is(res.status, 400, 'a body that is not JSON: 400');
is((await res.json()).error?.code, -32700, '  with a JSON-RPC parse error');
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid }, `[${ping}]`);
is(res.status, 400, 'a batch: 400');
const big = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call',
  params: { name: 'log_event', arguments: { kind: 'big', data: { pad: 'x'.repeat(Number(maxBytes)) } } } });
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid }, big);
is(res.status, 413, `a body over max_message_bytes (${maxBytes}): 413`);

// A second session of the same token, then another token's view of it.
res = await post({ Authorization: auth }, init);
const sid2 = res.headers.get('mcp-session-id');
ok(res.status === 200 && sid2 && sid2 !== sid, 'a second initialize opens another session', res.status);

res = await fetch(url, { method: 'GET', headers: { Authorization: auth, 'Mcp-Session-Id': sid2, Accept: 'text/event-stream' } });
is(res.headers.get('content-type'), 'text/event-stream', 'GET /mcp opens an event stream');
await res.body.cancel();

res = await fetch(url, { method: 'DELETE', headers: { Authorization: auth, 'Mcp-Session-Id': sid2 } });
is(res.status, 204, 'DELETE ends the session: 204');
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid2 }, ping);
is(res.status, 404, '  after which it is unknown: 404');

await transport.terminateSession();
res = await post({ Authorization: auth, 'Mcp-Session-Id': sid }, ping);
is(res.status, 404, 'the SDK\'s terminateSession (DELETE) ended the first: 404');

// At 8 sessions a token's next initialize closes its least recently used
// idle one (a CLI restarted in its run leaves one behind each time).
const opened = [];
for (let i = 0; i < 9; i++) {
  res = await post({ Authorization: auth }, init);
  opened.push([res.status, res.headers.get('mcp-session-id')]);
  await res.text();
}
ok(opened.every(([st, id]) => st === 200 && id), 'nine initializes of one token each open a session', opened);
res = await post({ Authorization: auth, 'Mcp-Session-Id': opened[0][1] }, ping);
is(res.status, 404, '  the ninth closed the oldest idle one: 404');
res = await post({ Authorization: auth, 'Mcp-Session-Id': opened[8][1] }, ping);
is(res.status, 200, '  the newest answers');
await client.close();
done();
