// A fake OpenAI Responses API for the codex tests: POST /v1/responses with
// SSE streaming, on 127.0.0.1, scripted by a marker in the conversation's
// user text:
//   SCENARIO:plain   one text answer
//   SCENARIO:shell   exec_command (a shell command writing DIR/note.txt),
//                    then a text naming its output
//   SCENARIO:ask     a call to bosun's MCP request_input (blocking), then a
//                    text; after the answer arrives as a user turn, a text
//                    naming it
//   SCENARIO:slow    exec_command `sleep 60` (the test kills the CLI); after
//                    "you were interrupted" arrives, a text
//   SCENARIO:error   response.failed with an error (the turn fails)
// Every request is appended to LOG as one JSON line ({method, url, body}),
// and the port is written to PORT_FILE once listening.
//
// usage: node fake_openai.mjs PORT_FILE LOG
import http from 'node:http';
import fs from 'node:fs';

const [portFile, logFile] = process.argv.slice(2);
const USAGE = { input_tokens: 120, input_tokens_details: { cached_tokens: 20 },
                       output_tokens: 30, output_tokens_details: { reasoning_tokens: 0 },
                       total_tokens: 150 };

function textOf(item) {
  if (!item || !Array.isArray(item.content)) return '';
  return item.content.map((c) => (typeof c.text === 'string' ? c.text : '')).join('\n');
}

function userTexts(input) {
  return input.filter((i) => i.type === 'message' && i.role === 'user').map(textOf);
}

// How to call bosun's request_input tool: the CLI offers MCP tools in a
// namespace (type "namespace", name "mcp__bosun", tools [...]); a call names
// the tool and its namespace.
function askTool(tools) {
  const ns = (tools || []).find((x) => x.type === 'namespace' && /bosun/.test(x.name || ''));
  if (!ns || !(ns.tools || []).some((t) => t.name === 'request_input')) return null;
  return { name: 'request_input', namespace: ns.name };
}

const text = (t) => ({ text: t });
const call = (name, args, namespace) => ({ call: { name, args, namespace } });

// The model's turn for a request: a text, a function call, or an error.
function script(body) {
  const input = Array.isArray(body.input) ? body.input : [];
  const users = userTexts(input);
  const all = users.join('\n');
  const last = users.length ? users[users.length - 1] : '';
  const outputs = input.filter((i) => i.type === 'function_call_output');
  const scen = (all.match(/SCENARIO:(\w+)/) || [])[1] || 'plain';
  const dir = (all.match(/DIR:(\S+)/) || [])[1] || '/tmp';
  if (scen === 'error') return { error: 'the fake refuses this conversation' };
  if (scen === 'shell') {
    if (outputs.length === 0)
      return call('exec_command', { cmd: `echo hello > ${dir}/note.txt && cat ${dir}/note.txt` });
    return text('The command ran.');
  }
  if (scen === 'slow') {
    if (/interrupted/i.test(last)) return text('Resumed after the interruption.');
    if (outputs.length === 0) return call('exec_command', { cmd: 'sleep 60' });
    return text('The sleep ended.');
  }
  if (scen === 'ask') {
    if (/ANSWER:/.test(last)) return text('Thanks, the answer was: ' + last.trim());
    const tool = askTool(body.tools);
    if (!tool) return text('bosun tool missing');
    if (outputs.length === 0)
      return call(tool.name, { question: 'Which colour should the button be?', blocking: true },
                  tool.namespace);
    return text('I asked; waiting for the answer.');
  }
  return text('Hello from the fake model.');
}

function sse(res, data) {
  res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
}

let seq = 0;
function stream(res, body, turn) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const rid = 'resp_' + ++seq;
  sse(res, { type: 'response.created', response: { id: rid } });
  if (turn.error) {
    sse(res, { type: 'response.failed', response: { id: rid,
      error: { code: 'server_error', message: turn.error } } });
    res.end();
    return;
  }
  let item;
  if (turn.text !== undefined) {
    item = { type: 'message', role: 'assistant', id: 'msg_' + seq,
             content: [{ type: 'output_text', text: turn.text, annotations: [] }] };
    sse(res, { type: 'response.output_item.added', output_index: 0, item: { ...item, content: [] } });
    sse(res, { type: 'response.output_text.delta', item_id: item.id, output_index: 0,
               content_index: 0, delta: turn.text });
  } else {
    item = { type: 'function_call', id: 'fc_' + seq, call_id: 'call_' + seq,
             name: turn.call.name, arguments: JSON.stringify(turn.call.args) };
    if (turn.call.namespace) item.namespace = turn.call.namespace;
    sse(res, { type: 'response.output_item.added', output_index: 0, item });
  }
  sse(res, { type: 'response.output_item.done', output_index: 0, item });
  sse(res, { type: 'response.completed', response: { id: rid, usage: USAGE } });
  res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => { size += c.length; if (size <= 32 << 20) chunks.push(c); });
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let body = {};
    try { body = raw ? JSON.parse(raw) : {}; } catch { body = { unparsed: raw.slice(0, 200) }; }
    fs.appendFileSync(logFile, JSON.stringify({ method: req.method, url: req.url, body }) + '\n');
    if (req.method !== 'POST' || !req.url.startsWith('/v1/responses')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'not_found', message: 'not here' } }));
      return;
    }
    stream(res, body, script(body));
  });
});
server.headersTimeout = 10000;
server.requestTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => process.exit(0));
