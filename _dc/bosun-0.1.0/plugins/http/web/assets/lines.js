// A run's output as a virtual list: only the lines in view are in the
// DOM, so 100,000 lines scroll as smoothly as 100.  Lines are fixed-height
// (long ones are cut to one row; the full text is in the title), appended
// live, and the view follows the end while the reader is at the bottom.
const ROW = 18;          // px, matches .lines .row in style.css
const KEEP = 200000;     // lines held; older ones are dropped (the store keeps all)

export class VirtualLines {
  constructor(label) {
    this.lines = [];
    this.dropped = 0;
    this.el = document.createElement('div');
    this.el.className = 'lines';
    this.el.tabIndex = 0;
    this.el.setAttribute('role', 'log');
    this.el.setAttribute('aria-label', label);
    this.spacer = document.createElement('div');
    this.spacer.className = 'spacer';
    this.el.append(this.spacer);
    this.follow = true;
    this.pending = false;
    this.el.addEventListener('scroll', () => {
      this.follow = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - ROW;
      this.schedule();
    });
  }

  push(stream, text) {
    this.lines.push({stream, text});
    if (this.lines.length > KEEP) {
      const cut = this.lines.length - KEEP;
      this.lines.splice(0, cut);
      this.dropped += cut;
    }
    this.schedule();
  }

  get count() { return this.lines.length + this.dropped; }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const total = this.lines.length;
    this.spacer.style.height = `${total * ROW}px`;
    if (this.follow) this.el.scrollTop = this.el.scrollHeight;
    const first = Math.max(0, Math.floor(this.el.scrollTop / ROW) - 20);
    const last = Math.min(total, first + Math.ceil((this.el.clientHeight || 400) / ROW) + 40);
    for (const old of this.el.querySelectorAll('.row')) old.remove();
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const l = this.lines[i];
      const row = document.createElement('div');
      row.className = l.stream === 'stderr' ? 'row err' : 'row';
      row.style.top = `${i * ROW}px`;
      row.textContent = l.text;
      if (l.text.length > 200) row.title = l.text.slice(0, 4000);
      frag.append(row);
    }
    this.el.append(frag);
  }
}
