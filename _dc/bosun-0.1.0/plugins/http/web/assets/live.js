// One /ws connection for the whole page: every stored event after the last
// one seen, then live (the daemon replays from "since", so a phone that
// slept misses nothing), and a reconnect with back-off when it drops.
export class Live {
  // subject: what to follow ('evt.>'; a share link follows its task);
  // token: a credential to send first (a page opened by a share link has
  // no cookie, and a browser's WebSocket cannot send a header).
  constructor({onEvent, onState, subject = 'evt.>', token = null}) {
    this.subject = subject;
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastSeq = null;
    this.delay = 1000;
    this.ws = null;
    this.stopped = false;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    this.onState('connecting');
    ws.onopen = () => { if (this.token) ws.send(JSON.stringify({op: 'auth', token: this.token})); };
    ws.onmessage = (m) => this.frame(m.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (e.code === 1008 || e.code === 4401) {
        this.onState('unauthorized');
        return;
      }
      this.onState('reconnecting');
      const wait = this.delay * (0.8 + Math.random() * 0.4);
      this.delay = Math.min(this.delay * 2, 30000);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  frame(text) {
    let f;
    try { f = JSON.parse(text); } catch (e) { return; }
    if (f.op === 'ready') {
      const sub = {op: 'sub', sid: 'all', subject: this.subject};
      if (this.lastSeq !== null) sub.since = this.lastSeq;
      this.ws.send(JSON.stringify(sub));
    } else if (f.op === 'subscribed') {
      this.delay = 1000;
      if (this.lastSeq === null) this.lastSeq = f.last_seq;
      this.onState('live');
    } else if (f.op === 'msg') {
      if (typeof f.seq === 'number') {
        if (this.lastSeq !== null && f.seq <= this.lastSeq) return; // seen before a reconnect
        this.lastSeq = f.seq;
      }
      this.onEvent(f);
    } else if (f.op === 'error') {
      this.onState('error', f.error && f.error.message);
    }
  }
}
