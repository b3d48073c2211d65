// A fake Anthropic Messages API for the claude-code tests: POST /v1/messages
// with SSE streaming (and plain JSON when "stream" is false), on 127.0.0.1,
// scripted by a marker in the conversation's first user text:
//   SCENARIO:plain   one text answer
//   SCENARIO:tools   Bash, then Read, then Edit of DIR/note.txt, then text
//   SCENARIO:ask     mcp__bosun__request_input (blocking), then text; after
//                    the answer arrives as a user turn, a text naming it
//   SCENARIO:askgate as ask, but the text after the question waits (60 s at
//                    most) for the file GATE:PATH names: the CLI still runs
//                    while the test answers
//   SCENARIO:slow    the answer starts streaming and then stalls (the test
//                    kills the CLI meanwhile); once "you were interrupted"
//                    arrives, a text
//   SCENARIO:xss     Bash printing an <img onerror> tag, a second Bash, then text
//                    with a <script> tag (the dashboard must show all as text)
//   SCENARIO:bigread Read of DIR/big.txt (the test makes it large), then text
//   SCENARIO:perm    Bash "mkdir -p DIR/made", Bash "rm -rf DIR/victim", Bash
//                    "touch DIR/asked", then Bash "touch DIR/asked" again,
//                    then a text (the approval tests: allowed by a rule,
//                    denied by a rule, asked, and asked again)
//   SCENARIO:error   HTTP 400 invalid_request_error
//   SCENARIO:turns   TURNS:N (default 50, at most 1000) tool turns, Bash
//                    `true` and Read of DIR/small.txt in turn, then text
//                    (the supervision-overhead benchmark)
//   SCENARIO:costly  a Bash call (sleep 1) every turn, 30 turns, each turn
//                    reporting 60000 input tokens (budgets stop it mid-run)
//   SCENARIO:pricey  one text answer reporting 1000000 input tokens
//   SCENARIO:hold    a Bash call (90 s of tail -f), then a text: a live run with
//                    one turn reported (the test stops it meanwhile)
// Requests with no tools (the CLI's side requests: titles, checks) get a
// short text.  Every request body is appended to LOG as one JSON line, and
// the port is written to PORT_FILE once listening.  With FAKE_LOG=sizes in
// the environment each line holds the body's size ("bytes") instead of the
// body: what a benchmark needs, without the fake spending its CPU (about
// 0.25 s over a 50-turn run, on the CPUs the CLI runs on) writing 3 MB of
// bodies, which would add the same time to every way and so shrink the
// ratios the benchmark reports.
//
// usage: [FAKE_LOG=sizes] node fake_anthropic.mjs PORT_FILE LOG
import http from 'node:http';
import fs from 'node:fs';

const [portFile, logFile] = process.argv.slice(2);
const logSizes = process.env.FAKE_LOG === 'sizes';
const USAGE = { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 3,
                cache_creation_input_tokens: 2 };

function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => (b.type === 'text' ? b.text
    : b.type === 'tool_result' ? textOf(b.content) : '')).join('\n');
}

function firstUserText(messages) {
  const m = messages.find((x) => x.role === 'user');
  return m ? textOf(m.content) : '';
}

function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i].role === 'user') return textOf(messages[i].content);
  return '';
}

function text(t) { return [{ type: 'text', text: t }]; }
function tool(id, name, input) { return [{ type: 'tool_use', id, name, input }]; }

// The assistant turn for a request: content blocks and the stop reason.
function script(body) {
  const msgs = body.messages || [];
  if (!Array.isArray(body.tools) || body.tools.length === 0)
    return { content: text('ok'), stop: 'end_turn' };
  const first = firstUserText(msgs);
  const last = lastUserText(msgs);
  const step = msgs.filter((m) => m.role === 'assistant').length;
  const scen = (first.match(/SCENARIO:(\w+)/) || [])[1] || 'plain';
  const dir = (first.match(/DIR:(\S+)/) || [])[1] || '/tmp';
  if (scen === 'error') return { error: 400 };
  if (scen === 'tools') {
    const f = dir + '/note.txt';
    const steps = [
      () => tool('toolu_bash1', 'Bash', { command: `echo hello > ${f}`, description: 'write the note' }),
      () => tool('toolu_read1', 'Read', { file_path: f }),
      () => tool('toolu_edit1', 'Edit', { file_path: f, old_string: 'hello', new_string: 'edited' }),
    ];
    if (step < steps.length) return { content: steps[step](), stop: 'tool_use' };
    return { content: text('All three tools ran.'), stop: 'end_turn' };
  }
  if (scen === 'xss') { // markup in a tool's input, its result and the text: the dashboard shows it as text
    const steps = [
      () => tool('toolu_xss1', 'Bash', { command: `printf '%s\\n' '<img src=x onerror="window.__xss=5">'`,
        description: '<b>print</b> markup' }),
      () => tool('toolu_xss2', 'Bash', { command: 'echo second call', description: 'a second call' }),
    ];
    if (step < steps.length) return { content: steps[step](), stop: 'tool_use' };
    return { content: text('Printed <script>window.__xss=6</script> as text.'), stop: 'end_turn' };
  }
  if (scen === 'perm') {
    const steps = [
      () => tool('toolu_perm1', 'Bash', { command: `mkdir -p ${dir}/made`, description: 'allowed by a rule' }),
      () => tool('toolu_perm2', 'Bash', { command: `rm -rf ${dir}/victim`, description: 'denied by a rule' }),
      () => tool('toolu_perm3', 'Bash', { command: `touch ${dir}/asked`, description: 'asked' }),
      () => tool('toolu_perm4', 'Bash', { command: `touch ${dir}/asked`, description: 'asked again' }),
    ];
    if (step < steps.length) return { content: steps[step](), stop: 'tool_use' };
    return { content: text('Permissions done.'), stop: 'end_turn' };
  }
  if (scen === 'turns') {
    const n = Math.min(parseInt((first.match(/TURNS:(\d+)/) || [])[1] || '50', 10), 1000);
    if (step < n)
      return { content: step % 2 === 0
        ? tool('toolu_t' + step, 'Bash', { command: 'true', description: 'nothing' })
        : tool('toolu_t' + step, 'Read', { file_path: dir + '/small.txt' }), stop: 'tool_use' };
    return { content: text(`All ${n} tool turns ran.`), stop: 'end_turn' };
  }
  if (scen === 'bigread') {
    if (step === 0) return { content: tool('toolu_big1', 'Read', { file_path: dir + '/big.txt' }), stop: 'tool_use' };
    return { content: text('Read the big file.'), stop: 'end_turn' };
  }
  if (scen === 'ask' || scen === 'askgate') {
    if (/ANSWER:/.test(last)) return { content: text('Thanks, the answer was: ' + last.trim()), stop: 'end_turn' };
    if (step === 0)
      return { content: tool('toolu_ask1', 'mcp__bosun__request_input',
        { question: 'Which colour should the button be?', blocking: true }), stop: 'tool_use' };
    const gate = scen === 'askgate' ? (first.match(/GATE:(\S+)/) || [])[1] : undefined;
    return { content: text('I asked; waiting for the answer.'), stop: 'end_turn', gate };
  }
  if (scen === 'costly') {
    const usage = { ...USAGE, input_tokens: 60000 };
    if (step < 30)
      return { content: tool('toolu_cost' + step, 'Bash', { command: `sleep 1; echo turn ${step}`,
        description: 'one more turn' }), stop: 'tool_use', usage };
    return { content: text('Done spending.'), stop: 'end_turn', usage };
  }
  if (scen === 'hold') {
    if (step === 0)
      return { content: tool('toolu_hold1', 'Bash', { command: 'timeout 90 tail -f /dev/null; echo held', description: 'hold' }),
        stop: 'tool_use' };
    return { content: text('Held.'), stop: 'end_turn' };
  }
  if (scen === 'pricey')
    return { content: text('An expensive answer.'), stop: 'end_turn',
      usage: { ...USAGE, input_tokens: 1000000 } };
  if (scen === 'slow') {
    if (/interrupted/i.test(last)) return { content: text('Resumed after the interruption.'), stop: 'end_turn' };
    return { stall: true };
  }
  return { content: text('Hello from the fake model.'), stop: 'end_turn' };
}

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
}

function stream(res, body, turn) {
  const usage = turn.usage || USAGE;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const id = 'msg_' + Math.random().toString(36).slice(2, 12);
  sse(res, 'message_start', { message: { id, type: 'message', role: 'assistant', model: body.model,
    content: [], stop_reason: null, stop_sequence: null,
    usage: { ...usage, output_tokens: 1 } } });
  turn.content.forEach((b, i) => {
    if (b.type === 'text') {
      sse(res, 'content_block_start', { index: i, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { index: i, delta: { type: 'text_delta', text: b.text } });
    } else {
      sse(res, 'content_block_start', { index: i,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      sse(res, 'content_block_delta', { index: i,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    sse(res, 'content_block_stop', { index: i });
  });
  sse(res, 'message_delta', { delta: { stop_reason: turn.stop, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens } });
  sse(res, 'message_stop', {});
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
    const entry = logSizes ? { method: req.method, url: req.url, bytes: Buffer.byteLength(raw) }
      : { method: req.method, url: req.url, body };
    fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
    if (req.method !== 'POST' || !req.url.startsWith('/v1/messages')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not here' } }));
      return;
    }
    if (req.url.startsWith('/v1/messages/count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: 100 }));
      return;
    }
    const turn = script(body);
    if (turn.error) {
      res.writeHead(turn.error, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error',
        message: 'the fake refuses this conversation' } }));
      return;
    }
    if (turn.stall) {
      // Headers and the first event, then nothing: the CLI waits mid-answer.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(res, 'message_start', { message: { id: 'msg_stall', type: 'message', role: 'assistant',
        model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: USAGE } });
      setTimeout(() => res.end(), 120000).unref();
      return;
    }
    if (turn.gate) {
      const until = Date.now() + 60000;
      const poll = () => {
        if (fs.existsSync(turn.gate) || Date.now() > until) {
          delete turn.gate;
          return reply(res, body, turn);
        }
        setTimeout(poll, 50);
      };
      return poll();
    }
    reply(res, body, turn);
  });
});

function reply(res, body, turn) {
  if (body.stream) return stream(res, body, turn);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'msg_plain', type: 'message', role: 'assistant', model: body.model,
    content: turn.content, stop_reason: turn.stop, stop_sequence: null,
    usage: turn.usage || USAGE }));
}
server.headersTimeout = 10000;
server.requestTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => process.exit(0));
