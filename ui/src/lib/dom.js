// Tiny DOM helpers: h() builds elements, never parses HTML from data.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') {
        for (const [sk, sv] of Object.entries(v)) {
          if (sk.startsWith('--')) el.style.setProperty(sk, sv);
          else el.style[sk] = sv;
        }
      }
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'indeterminate') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

let uid = 0;
export function id(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form control: <label>text <control></label> with an optional hint. */
export function field(label, control, hint) {
  const cid = control.id || id('f');
  control.id = cid;
  const parts = [h('label', { for: cid }, label), control];
  if (hint) {
    const hid = id('hint');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('small', { id: hid, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function select(options, value, attrs = {}) {
  const s = h('select', attrs);
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value: v, selected: String(v) === String(value ?? '') }, text));
  }
  return s;
}

export function debounce(fn, ms) {
  let t;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

export function toast(message, kind = 'info', ms = 5000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), ms);
}

/** A progress bar; value in [0,1], or null for indeterminate. */
export function progressBar(label) {
  const bar = h('div', { class: 'bar-fill' });
  const text = h('span', { class: 'bar-text' });
  const el = h('div', {
    class: 'progress', role: 'progressbar', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100',
  }, bar, text);
  el.set = (value, message) => {
    if (value === null || value === undefined || Number.isNaN(value)) {
      el.classList.add('indeterminate');
      el.removeAttribute('aria-valuenow');
      bar.style.width = '100%';
    } else {
      const pct = Math.max(0, Math.min(100, value * 100));
      el.classList.remove('indeterminate');
      el.setAttribute('aria-valuenow', pct.toFixed(0));
      bar.style.width = `${pct}%`;
    }
    text.textContent = message ?? (value == null ? '' : `${Math.round(value * 100)}%`);
    el.setAttribute('aria-valuetext', text.textContent);
  };
  return el;
}

/** Renders a "not available yet" panel for features whose endpoints answer 404. */
export function notAvailable(title, text) {
  return h('section', { class: 'panel empty-state', 'data-testid': 'not-available' },
    h('h2', {}, title),
    h('p', {}, text));
}

/** A panel that says why a page has nothing to show yet and what to do (not an error). */
export function emptyState(title, text, testid = 'empty-state', ...extra) {
  return h('section', { class: 'panel empty-state', 'data-testid': testid },
    h('h2', {}, title),
    h('p', {}, text), ...extra);
}

export function errorBox(err, title = 'Something went wrong') {
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, title), ' ', err && err.message ? err.message : String(err));
}
