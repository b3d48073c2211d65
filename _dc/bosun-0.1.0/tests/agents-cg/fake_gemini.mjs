// A fake Gemini API for the gemini tests, on 127.0.0.1:
// POST /v1beta/models/M:streamGenerateContent?alt=sse (SSE), :generateContent
// and :countTokens, scripted by a marker in the conversation's user text:
//   SCENARIO:plain   one text answer
//   SCENARIO:shell   run_shell_command (writing DIR/note.txt), then a text
//   SCENARIO:ask     bosun's MCP request_input (blocking), then a text; after
//                    the answer arrives as a user turn, a text naming it
//   SCENARIO:error   HTTP 400 INVALID_ARGUMENT
//   SCENARIO:loop    a shell call every turn (the turn limit ends it)
//   SCENARIO:slow    run_shell_command `sleep 60` (the test kills the CLI);
//                    after "you were interrupted" arrives, a text
// Requests without tools (the CLI's side requests: routing, checks) get a
// short JSON-or-text answer.  Every request is appended to LOG as one JSON
// line ({method, url, body}), and the port is written to PORT_FILE once
// listening.
//
// usage: node fake_gemini.mjs PORT_FILE LOG
import http from 'node:http';
import fs from 'node:fs';

const [portFile, logFile] = process.argv.slice(2);
const USAGE = { promptTokenCount: 90, candidatesTokenCount: 12, cachedContentTokenCount: 5,
                totalTokenCount: 102 };

const partsText = (c) => (c.parts || []).map((p) => (typeof p.text === 'string' ? p.text : '')).join('\n');
// User turns that people wrote (not function responses).
function userTexts(contents) {
  return contents.filter((c) => c.role === 'user' && (c.parts || []).some((p) => typeof p.text === 'string'))
    .map(partsText);
}
const responses = (contents) => contents.flatMap((c) => (c.parts || []).filter((p) => p.functionResponse));

function toolNames(body) {
  return (body.tools || []).flatMap((t) => (t.functionDeclarations || []).map((f) => f.name));
}

const text = (t) => ({ parts: [{ text: t }] });
const call = (name, args) => ({ parts: [{ functionCall: { name, args } }] });

function script(body) {
  const contents = Array.isArray(body.contents) ? body.contents : [];
  const names = toolNames(body);
  if (names.length === 0) return text('{"reasoning":"fake","model_choice":"flash"}');
  const users = userTexts(contents);
  const all = users.join('\n');
  const last = users.length ? users[users.length - 1] : '';
  const done = responses(contents);
  const scen = (all.match(/SCENARIO:(\w+)/) || [])[1] || 'plain';
  const dir = (all.match(/DIR:(\S+)/) || [])[1] || '/tmp';
  if (scen === 'error') return { error: 400 };
  if (scen === 'shell') {
    if (done.length === 0)
      return call('run_shell_command', { command: `echo hello > ${dir}/note.txt && cat ${dir}/note.txt`,
                                         description: 'write the note' });
    return text('The command ran.');
  }
  if (scen === 'slow') {
    if (/interrupted/i.test(last)) return text('Resumed after the interruption.');
    if (done.length === 0) return call('run_shell_command', { command: 'sleep 60', description: 'wait' });
    return text('The sleep ended.');
  }
  if (scen === 'loop') return call('run_shell_command', { command: 'true', description: 'again' });
  if (scen === 'ask') {
    if (/ANSWER:/.test(last)) return text('Thanks, the answer was: ' + last.trim());
    const name = names.find((n) => /request_input$/.test(n));
    if (!name) return text('bosun tool missing: ' + names.join(','));
    if (done.length === 0)
      return call(name, { question: 'Which colour should the button be?', blocking: true });
    return text('I asked; waiting for the answer.');
  }
  return text('Hello from the fake model.');
}

function chunk(content) {
  return { candidates: [{ content: { role: 'model', ...content }, finishReason: 'STOP', index: 0 }],
           usageMetadata: USAGE, modelVersion: 'fake' };
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
    const m = req.url.match(/^\/v1[a-z0-9]*\/models\/[^:/]+:(\w+)/);
    if (req.method !== 'POST' || !m) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 404, message: 'not here', status: 'NOT_FOUND' } }));
      return;
    }
    if (m[1] === 'countTokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ totalTokens: 100 }));
      return;
    }
    const turn = script(body);
    if (turn.error) {
      res.writeHead(turn.error, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: turn.error, message: 'the fake refuses this conversation',
                                        status: 'INVALID_ARGUMENT' } }));
      return;
    }
    if (m[1] === 'streamGenerateContent') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(turn))}\r\n\r\n`);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chunk(turn)));
  });
});
server.headersTimeout = 10000;
server.requestTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => process.exit(0));
