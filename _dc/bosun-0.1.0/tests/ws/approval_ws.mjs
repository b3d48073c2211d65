// /ws approval client on Node's `ws` (tests/integration/approval_ws.sh).
//
//   node approval_ws.mjs URL TOKEN MODE [DECISION]
//
// Subscribes to evt.approval.> (TOKEN as Bearer at the upgrade), prints
// {"subscribed":true} once it is, then waits for one request's
// "requested" and "decided" events.  MODE "watch" only watches; "answer"
// sends {"op":"req","subject":"cmd.approval.answer"} with DECISION for the
// request it saw.  Prints one JSON line {requested, decided, reply} and
// exits 0.  Every wait is bounded by $WS_DEADLINE seconds (default 60).
import WebSocket from 'ws';

const [url, token, mode, decision = 'allow'] = process.argv.slice(2);
const DEADLINE_MS = 1000 * Number(process.env.WS_DEADLINE || 60);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
const timer = setTimeout(() => {
  out({ error: 'deadline', result });
  process.exit(1);
}, DEADLINE_MS);
const result = { requested: null, decided: null, reply: null };

function finish() {
  if (!result.requested || !result.decided || (mode === 'answer' && !result.reply)) return;
  clearTimeout(timer);
  out(result);
  ws.close();
  process.exit(0);
}

ws.on('error', (e) => {
  out({ error: String(e) });
  process.exit(1);
});
ws.on('message', (data) => {
  const f = JSON.parse(data.toString());
  if (f.op === 'ready') ws.send(JSON.stringify({ op: 'sub', sid: 'a', subject: 'evt.approval.>' }));
  else if (f.op === 'subscribed') out({ subscribed: true });
  else if (f.op === 'msg' && f.subject.endsWith('.requested') && !result.requested) {
    result.requested = f;
    if (mode === 'answer')
      ws.send(
        JSON.stringify({
          op: 'req',
          id: 'ans1',
          subject: 'cmd.approval.answer',
          data: { id: f.data.id, decision, by: 'node-ws' },
        }),
      );
  } else if (f.op === 'msg' && f.subject.endsWith('.decided') && result.requested &&
             f.data.id === result.requested.data.id) {
    result.decided = f;
  } else if ((f.op === 'reply' || f.op === 'error') && f.id === 'ans1') {
    result.reply = f;
  }
  finish();
});
