// Drives `bosunctl mcp` with the official MCP TypeScript SDK client, the way
// an agent does: the server command, arguments and environment come from the
// MCP config file bosund wrote for a real run.
//
//   node client_test.mjs MCP_CONFIG_OF_RUN_A TASK_A MCP_CONFIG_OF_RUN_B REQUEST_ID_OF_TASK_B
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { plan, ok, is, done } from './tap.mjs';

const [cfgA, taskA, cfgB, otherRequest] = process.argv.slice(2);

function transportFor(file, extraEnv = {}) {
  const server = JSON.parse(readFileSync(file, 'utf8')).mcpServers.bosun;
  return new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: { ...getDefaultEnvironment(), ...server.env, ...extraEnv },
    stderr: 'pipe',
  });
}

async function connect(file, extraEnv) {
  const client = new Client({ name: 'bosun-test', version: '1.0.0' });
  await client.connect(transportFor(file, extraEnv));
  return client;
}

const text = (r) => (r.content || []).map((c) => c.text || '').join('');

plan(34);
const client = await connect(cfgA);
is(client.getServerVersion()?.name, 'bosun', 'server names itself bosun');
ok(client.getServerCapabilities()?.tools, 'server offers tools');

// --- tools/list: every tool, each with a JSON Schema object
const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
is(names.join(','), 'add_artifact,approve,check_input,get_task,link_pr,log_event,report_status,request_input',
  'all eight tools listed');
for (const t of tools) {
  ok(t.inputSchema && t.inputSchema.type === 'object' && typeof t.inputSchema.properties === 'object',
    `${t.name}: inputSchema is a JSON Schema object`, t.inputSchema);
}
ok(tools.every((t) => t.title && t.description), 'every tool has a title and a description');

// --- each tool
let r = await client.callTool({ name: 'get_task', arguments: {} });
ok(!r.isError && r.structuredContent?.task?.id === taskA, 'get_task returns the run\'s task', r);
is(r.structuredContent?.task?.title, 'MCP test task', 'get_task: title');

r = await client.callTool({ name: 'report_status', arguments: { state: 'working', message: 'reading the code' } });
ok(!r.isError, 'report_status succeeds', r);

r = await client.callTool({ name: 'log_event', arguments: { kind: 'checkpoint', data: { step: 3, api_key: 'sk-secret' } } });
ok(!r.isError, 'log_event succeeds', r);

r = await client.callTool({ name: 'link_pr', arguments: { url: 'https://github.com/acme/widgets/pull/42' } });
ok(!r.isError, 'link_pr accepts a pull-request URL', r);
r = await client.callTool({ name: 'link_pr', arguments: { url: 'https://example.com/acme/widgets/pull/42' } });
ok(r.isError === true, 'link_pr refuses a URL that is not a GitHub pull request (isError)', r);

r = await client.callTool({ name: 'add_artifact', arguments: { name: 'notes.md', content: '# v1\n' } });
is(r.structuredContent?.version, 1, 'add_artifact: first version is 1');
r = await client.callTool({ name: 'add_artifact', arguments: { name: 'notes.md', content: '# v2\n', mime_type: 'text/markdown' } });
is(r.structuredContent?.version, 2, 'add_artifact: second write is version 2');
r = await client.callTool({ name: 'add_artifact', arguments: { name: 'from-file.txt', path: process.env.ARTIFACT_FILE } });
is(r.structuredContent?.version, 1, 'add_artifact with a path: read by the client side and stored');
r = await client.callTool({ name: 'add_artifact', arguments: { name: 'missing', path: '/nonexistent/file' } });
ok(r.isError === true && /cannot read/.test(text(r)), 'add_artifact with an unreadable path: isError', r);

r = await client.callTool({ name: 'request_input', arguments: { question: 'Which branch?', choices: ['main', 'dev'] } });
const rid = r.structuredContent?.request_id;
ok(!r.isError && typeof rid === 'string' && r.structuredContent?.status === 'pending',
  'request_input (non-blocking, no wait) returns a pending request id', r);
r = await client.callTool({ name: 'check_input', arguments: { request_id: rid } });
is(r.structuredContent?.status, 'pending', 'check_input: still pending');

// Answered by the test script while we wait (it watches for this question).
const t0 = Date.now();
r = await client.callTool({ name: 'request_input', arguments: { question: 'Answer me within 10 s', wait_seconds: 10 } });
is(r.structuredContent?.status, 'answered', 'request_input with wait_seconds returns the answer');
is(r.structuredContent?.answer, 'here you go', 'the answer text');
ok(Date.now() - t0 < 9000, 'it returned when answered, not at the timeout');

r = await client.callTool({ name: 'check_input', arguments: { request_id: otherRequest } });
ok(r.isError === true && /another task/.test(text(r)), 'check_input on another task\'s request is refused', r);

// --- protocol errors through the SDK
await client.callTool({ name: 'no_such_tool', arguments: {} }).then(
  (res) => ok(false, 'unknown tool: -32602', res),
  (e) => is(e.code, -32602, 'unknown tool: -32602'));
// Arguments that do not fit the schema: a tool execution error the model
// reads (2025-11-25, SEP-1303), not a protocol error.
await client.callTool({ name: 'report_status', arguments: { state: 42 } }).then(
  (res) => ok(res.isError === true && /invalid arguments for report_status: .*state/.test(text(res)),
    'bad arguments: an isError result naming the argument', res),
  (e) => ok(false, 'bad arguments: an isError result naming the argument', e));
await client.request({ method: 'tools/list', params: { cursor: 'not-a-cursor' } },
  (await import('@modelcontextprotocol/sdk/types.js')).ListToolsResultSchema).then(
  (res) => ok(false, 'bad cursor: -32602', res),
  (e) => is(e.code, -32602, 'bad cursor: -32602'));
ok(await client.ping().then(() => true, () => false), 'ping');
await client.close();

// --- a token used for another run
const wrong = new Client({ name: 'bosun-test', version: '1.0.0' });
await wrong.connect(transportFor(cfgA, { BOSUN_RUN_ID: JSON.parse(readFileSync(cfgB, 'utf8')).mcpServers.bosun.env.BOSUN_RUN_ID })).then(
  () => ok(false, 'a token used for another run is refused'),
  (e) => ok(/another run/.test(String(e.message)), 'a token used for another run is refused', String(e.message)));

// --- no token, bad token
for (const [desc, env] of [['no token', { BOSUN_AGENT_TOKEN: '' }], ['a bad token', { BOSUN_AGENT_TOKEN: 'bat_' + 'x'.repeat(43) }]]) {
  const c = new Client({ name: 'bosun-test', version: '1.0.0' });
  const server = JSON.parse(readFileSync(cfgA, 'utf8')).mcpServers.bosun;
  const tr = new StdioClientTransport({ command: server.command, args: ['mcp'],
    env: { ...getDefaultEnvironment(), ...server.env, ...env }, stderr: 'pipe' });
  await c.connect(tr).then(
    () => ok(false, `${desc}: refused with a JSON-RPC error`),
    (e) => ok(e.code === -32001 && /token/.test(String(e.message)), `${desc}: refused with a JSON-RPC error`, `${e.code} ${e.message}`));
  await c.close().catch(() => {});
}
done();
