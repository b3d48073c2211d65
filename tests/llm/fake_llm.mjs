// A fake model API for the llm tests and benchmark: OpenAI-compatible Chat
// Completions (POST /v1/chat/completions) and Anthropic Messages (POST
// /v1/messages) on 127.0.0.1, streamed (SSE, when the request says
// "stream": true) or whole, scripted by a JSON file.  Node's http only.
//
// usage: node fake_llm.mjs --script FILE --port-file FILE [--log FILE] [--timing FILE] [--port N]
//   The port is written to the port file once listening (write it to a new
//   name and rename, so a reader never sees half of it).
//
// Script: {"key": "K", "turns": [TURN, ...], "after": "repeat_last" | "error"}
//   key     optional: a request without this key (Authorization: Bearer K
//           or x-api-key: K) is answered 401, the message quoting the key
//           it got (as real APIs partly do) so tests see it is redacted.
//   after   when the turns are used up: "repeat_last" serves the last turn
//           again; "error" (the default) answers 500 "script exhausted".
// Each request takes the next TURN (both APIs share the list):
//   repeat          serve this turn N times (default 1)
//   delay_ms        wait before the response head (counted as scripted)
//   status          answer this HTTP status with the API's error body instead
//   error           that body's message (default "scripted error")
//   headers         extra response headers, e.g. {"Retry-After": "1"}
//   text            array of text chunks (one delta each)
//   thinking        array of thinking chunks (Anthropic thinking_delta,
//                   OpenAI delta.reasoning_content), before the text
//   tool_calls      array of {id, name, arguments, chunks}: arguments an
//                   object (sent as its JSON) or a string sent as is
//                   (malformed JSON); chunks = pieces its text is cut in
//                   (default 2)
//   interleave      the calls' pieces alternate (parallel calls streamed
//                   together, as OpenAI does), instead of one call after
//                   the other
//   stop            neutral stop reason: end_turn (default without tool
//                   calls), tool_use (default with), max_tokens
//   usage           {input_tokens, output_tokens, cache_read_tokens,
//                   cache_write_tokens} (default 10/5/0/0)
//   chunk_delay_ms  wait before every event after the first (scripted)
//   cut_after       close the connection after N events (a cut stream:
//                   the chunked body never ends)
//   stall_after     send N events, then nothing more (the connection stays
//                   open until the client gives up)
//   stream_error    {type, message}: after the events, an error event
//                   (Anthropic "event: error"; OpenAI a chunk with "error")
//                   and the end of the body
//   no_done         end the body without the end marker ([DONE] or
//                   message_stop)
//   raw             send this text as the SSE body, verbatim
//
// Timing (--timing FILE, for the benchmark): one JSON line per request once
//   its response has ended: {n, in, out, slept_ms}: when the request's last
//   byte was read, when the response's was written (s, sub-ms), and how
//   long the scripted waits really took (a timer fires late by up to a
//   millisecond or two).  in[i+1] - out[i] is then the client's own time
//   between an answer and its next request, with none of the fake's.
// Log (--log): one JSON line per request: {n, time (s, sub-ms), api, method, path,
//   headers, key_ok, body, turn, scripted_ms}; the key's headers
//   (authorization, x-api-key) show "[present]" instead of their value.
import http from 'node:http';
import fs from 'node:fs';

function args(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  return o;
}

const opt = args(process.argv.slice(2));
const script = JSON.parse(fs.readFileSync(opt.script, 'utf8'));
const queue = [];
for (const t of script.turns || []) for (let i = 0; i < (t.repeat || 1); i++) queue.push(t);
let served = 0;
let count = 0;

function nextTurn() {
  if (served < queue.length) return queue[served++];
  if (script.after === 'repeat_last' && queue.length) return queue[queue.length - 1];
  return { status: 500, error: 'script exhausted' };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowSecs = () => (performance.timeOrigin + performance.now()) / 1000;
// The scripted waits of the request being served, as really slept (ms).
async function sleepTimed(ms, t) {
  const t0 = performance.now();
  await sleep(ms);
  t.slept_ms += performance.now() - t0;
}

function keyOf(req) {
  const a = req.headers.authorization;
  if (a && a.startsWith('Bearer ')) return a.slice(7);
  return req.headers['x-api-key'];
}

function logRequest(entry) {
  if (opt.log) fs.appendFileSync(opt.log, JSON.stringify(entry) + '\n');
}

function logTiming(t) {
  if (opt.timing) fs.appendFileSync(opt.timing, JSON.stringify({ ...t, out: nowSecs() }) + '\n');
}

function errorBody(api, status, message) {
  if (api === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error'
      : status >= 500 ? 'api_error' : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  }
  return { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'error', code: null } };
}

function usageOf(turn) {
  return Object.assign({ input_tokens: 10, output_tokens: 5, cache_read_tokens: 0,
                         cache_write_tokens: 0 }, turn.usage || {});
}

function stopOf(turn) {
  return turn.stop || ((turn.tool_calls || []).length ? 'tool_use' : 'end_turn');
}

function argText(c) {
  return typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {});
}

function pieces(text, n) {
  n = Math.max(1, n || 2);
  const size = Math.max(1, Math.ceil(text.length / n));
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

// The events of one streamed turn, as [event name or null, data object or string].
function openaiEvents(turn, model) {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model };
  const chunk = (delta, finish = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  const ev = [[null, chunk({ role: 'assistant', content: '' })]];
  for (const t of turn.thinking || []) ev.push([null, chunk({ reasoning_content: t })]);
  for (const t of turn.text || []) ev.push([null, chunk({ content: t })]);
  const calls = turn.tool_calls || [];
  const parts = calls.map((c) => pieces(argText(c), c.chunks));
  const head = (c, i) => [null, chunk({ tool_calls: [{ index: i, id: c.id, type: 'function',
                                                        function: { name: c.name, arguments: '' } }] })];
  const piece = (i, p) => [null, chunk({ tool_calls: [{ index: i, function: { arguments: p } }] })];
  if (turn.interleave) {
    calls.forEach((c, i) => ev.push(head(c, i)));
    const most = Math.max(0, ...parts.map((p) => p.length));
    for (let k = 0; k < most; k++) parts.forEach((p, i) => { if (k < p.length) ev.push(piece(i, p[k])); });
  } else {
    calls.forEach((c, i) => { ev.push(head(c, i)); for (const p of parts[i]) ev.push(piece(i, p)); });
  }
  const finish = { end_turn: 'stop', tool_use: 'tool_calls', max_tokens: 'length' }[stopOf(turn)] || stopOf(turn);
  ev.push([null, chunk({}, finish)]);
  const u = usageOf(turn);
  ev.push([null, { ...base, choices: [], usage: {
    prompt_tokens: u.input_tokens + u.cache_read_tokens, completion_tokens: u.output_tokens,
    total_tokens: u.input_tokens + u.cache_read_tokens + u.output_tokens,
    prompt_tokens_details: { cached_tokens: u.cache_read_tokens } } }]);
  return ev;
}

function anthropicEvents(turn, model) {
  const u = usageOf(turn);
  const ev = [['message_start', { type: 'message_start', message: {
    id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], stop_reason: null,
    stop_sequence: null, usage: { input_tokens: u.input_tokens, output_tokens: 1,
                                  cache_read_input_tokens: u.cache_read_tokens,
                                  cache_creation_input_tokens: u.cache_write_tokens } } }],
              ['ping', { type: 'ping' }]];
  let index = 0;
  const block = (start, deltas) => {
    ev.push(['content_block_start', { type: 'content_block_start', index, content_block: start }]);
    for (const d of deltas) ev.push(['content_block_delta', { type: 'content_block_delta', index, delta: d }]);
    ev.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  };
  if ((turn.thinking || []).length)
    block({ type: 'thinking', thinking: '' }, turn.thinking.map((t) => ({ type: 'thinking_delta', thinking: t })));
  if ((turn.text || []).length)
    block({ type: 'text', text: '' }, turn.text.map((t) => ({ type: 'text_delta', text: t })));
  for (const c of turn.tool_calls || [])
    block({ type: 'tool_use', id: c.id, name: c.name, input: {} },
          pieces(argText(c), c.chunks).map((p) => ({ type: 'input_json_delta', partial_json: p })));
  ev.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stopOf(turn), stop_sequence: null },
                              usage: { output_tokens: u.output_tokens } }]);
  return ev;
}

function wholeBody(api, turn, model) {
  const u = usageOf(turn);
  const text = (turn.text || []).join('');
  const calls = turn.tool_calls || [];
  if (api === 'anthropic') {
    const content = [];
    if (text) content.push({ type: 'text', text });
    for (const c of calls) {
      let input = c.arguments;
      if (typeof input === 'string') { try { input = JSON.parse(input); } catch { input = {}; } }
      content.push({ type: 'tool_use', id: c.id, name: c.name, input: input ?? {} });
    }
    return { id: 'msg_fake', type: 'message', role: 'assistant', model, content,
             stop_reason: stopOf(turn), stop_sequence: null,
             usage: { input_tokens: u.input_tokens, output_tokens: u.output_tokens,
                      cache_read_input_tokens: u.cache_read_tokens,
                      cache_creation_input_tokens: u.cache_write_tokens } };
  }
  const message = { role: 'assistant', content: text || null };
  if (calls.length)
    message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function',
                                             function: { name: c.name, arguments: argText(c) } }));
  const finish = { end_turn: 'stop', tool_use: 'tool_calls', max_tokens: 'length' }[stopOf(turn)] || stopOf(turn);
  return { id: 'chatcmpl-fake', object: 'chat.completion', created: 1, model,
           choices: [{ index: 0, message, finish_reason: finish }],
           usage: { prompt_tokens: u.input_tokens + u.cache_read_tokens, completion_tokens: u.output_tokens,
                    total_tokens: u.input_tokens + u.cache_read_tokens + u.output_tokens,
                    prompt_tokens_details: { cached_tokens: u.cache_read_tokens } } };
}

function sse(api, name, data) {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return (api === 'anthropic' && name ? `event: ${name}\n` : '') + `data: ${text}\n\n`;
}

async function stream(res, api, turn, model, t) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache',
                       ...(turn.headers || {}) });
  if (turn.raw !== undefined) { res.end(turn.raw); return 0; }
  const events = api === 'anthropic' ? anthropicEvents(turn, model) : openaiEvents(turn, model);
  let scripted = 0;
  for (let i = 0; i < events.length; i++) {
    if (turn.cut_after !== undefined && i >= turn.cut_after) { res.socket.end(); return scripted; }
    if (turn.stall_after !== undefined && i >= turn.stall_after) return scripted; // left open
    if (i > 0 && turn.chunk_delay_ms) { await sleepTimed(turn.chunk_delay_ms, t); scripted += turn.chunk_delay_ms; }
    if (res.destroyed) return scripted;
    res.write(sse(api, events[i][0], events[i][1]));
  }
  if (turn.stream_error) {
    const e = { type: turn.stream_error.type || 'api_error', message: turn.stream_error.message || 'stream error' };
    res.end(sse(api, 'error', api === 'anthropic' ? { type: 'error', error: e } : { error: e }));
    return scripted;
  }
  if (!turn.no_done)
    res.write(api === 'anthropic' ? sse(api, 'message_stop', { type: 'message_stop' }) : sse(api, null, '[DONE]'));
  res.end();
  return scripted;
}

function redactedHeaders(h) {
  const o = { ...h };
  for (const k of ['authorization', 'x-api-key']) if (k in o) o[k] = '[present]';
  return o;
}

async function handle(req, res, raw, t) {
  const api = req.url.startsWith('/v1/messages') ? 'anthropic'
    : req.url.startsWith('/v1/chat/completions') ? 'openai' : null;
  let body = null;
  try { body = JSON.parse(raw); } catch { /* logged as null */ }
  const n = ++count;
  t.n = n;
  const key = keyOf(req);
  const keyOk = script.key === undefined ? null : key === script.key;
  const entry = { n, time: (performance.timeOrigin + performance.now()) / 1000, api, method: req.method, path: req.url,
                  headers: redactedHeaders(req.headers), key_ok: keyOk, body, turn: null, scripted_ms: 0 };
  const reply = (status, obj, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(obj));
  };
  if (!api || req.method !== 'POST') { logRequest(entry); reply(404, errorBody(api, 404, 'no such route')); return; }
  if (keyOk === false) {
    logRequest(entry);
    reply(401, errorBody(api, 401, `Incorrect API key provided: ${key ?? '(none)'}`));
    return;
  }
  const turn = nextTurn();
  entry.turn = served;
  if (turn.delay_ms) { await sleepTimed(turn.delay_ms, t); entry.scripted_ms += turn.delay_ms; }
  if (turn.status && turn.status !== 200) {
    logRequest(entry);
    reply(turn.status, errorBody(api, turn.status, turn.error || 'scripted error'), turn.headers || {});
    return;
  }
  const model = (body && body.model) || 'fake';
  if (body && body.stream === true) {
    logRequest(entry);
    await stream(res, api, turn, model, t);
    return;
  }
  logRequest(entry);
  reply(200, wholeBody(api, turn, model), turn.headers || {});
}

const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    const t = { n: 0, in: nowSecs(), slept_ms: 0 };
    res.on('finish', () => logTiming(t));
    handle(req, res, Buffer.concat(parts).toString('utf8'), t).catch((e) => {
      process.stderr.write(`fake_llm: ${e.stack}\n`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(opt.port || 0), '127.0.0.1', () => {
  if (opt['port-file']) {
    fs.writeFileSync(opt['port-file'] + '.tmp', String(server.address().port));
    fs.renameSync(opt['port-file'] + '.tmp', opt['port-file']);
  }
});
process.on('SIGTERM', () => process.exit(0));
