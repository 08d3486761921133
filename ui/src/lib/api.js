// api.js: every call to the ExoHunter HTTP API goes through here. ui/README.md
// lists each endpoint, parameter and field used; keep it in step.
//
// The token (key button in the header) goes on every request when it is set:
// a server may protect reads (EXOHUNTER_PROTECT_READS) and the console, not
// only writes. Two things cannot carry a header, so they change when a token
// is set: job progress is read from a fetch() stream instead of EventSource,
// and download links (<a href="/api/…" download>) are fetched and saved here.

import { toast } from './dom.js';

const TOKEN_KEY = 'exohunter.token';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'error';
    this.details = Array.isArray(details) ? details : details ? [details] : [];
  }
  /** The endpoint does not exist on this server (yet): 404, 405 or 501. */
  get missing() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

export function token() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}
export function setToken(t) {
  try { t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ }
}

/** Builds a query string, dropping empty values; arrays repeat the key. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

export function enc(s) {
  return encodeURIComponent(s);
}

async function errorFrom(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  if (e && typeof e === 'object') return new ApiError(res.status, e.code, e.message, e.details);
  if (e && typeof e === 'string') return new ApiError(res.status, 'error', e);
  return new ApiError(res.status, 'error', `${res.status} ${res.statusText || 'error'}`);
}

/** JSON request. Throws ApiError on non-2xx, with the server's error envelope. */
export async function api(path, { method = 'GET', body, query, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let res;
  try {
    res = await fetch(path + qs(query), init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The ExoHunter server could not be reached. Is `exohunter serve` running?');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const ct = res.headers.get('content-type') || '';
  return ct.includes('json') ? res.json() : res.text();
}

/** Lists may come as {"items":[…]} (documented) or a bare array. */
export function items(x, ...keys) {
  if (Array.isArray(x)) return x;
  if (!x || typeof x !== 'object') return [];
  for (const k of ['items', ...keys]) if (Array.isArray(x[k])) return x[k];
  return [];
}

/** Counts of GET /api/runs/{id}/counts as {value: count}: read from [{"value","count"}] (documented) or an object. */
export function countMap(res) {
  const c = res && res.counts;
  if (Array.isArray(c)) return Object.fromEntries(c.map((r) => [r.value, r.count]));
  return c && typeof c === 'object' ? { ...c } : {};
}

/**
 * Multipart upload with real progress (XHR upload events; fetch has none).
 * Returns {promise, abort}. onProgress(fraction|null, phase).
 */
export function upload(path, file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    const t = token();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.lengthComputable ? e.loaded / e.total : null, 'upload', e.loaded, e.total);
    xhr.upload.onload = () => onProgress && onProgress(null, 'server');
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload failed: the server could not be reached.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve({ status: xhr.status, body });
      const e = body && body.error;
      reject(e ? new ApiError(xhr.status, e.code, e.message, e.details)
        : new ApiError(xhr.status, 'error', `${xhr.status} ${xhr.statusText}`));
    };
    const form = new FormData();
    for (const [k, v] of Object.entries(fields || {})) if (v) form.append(k, v);
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * Reads a Server-Sent Events stream with fetch(), which, unlike EventSource,
 * can send the Authorization header. Calls onEvent({type, data}) for each
 * event and resolves when the server closes the stream.
 */
async function readEventStream(path, signal, onEvent) {
  const headers = { Accept: 'text/event-stream' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, { headers, signal, cache: 'no-store' });
  if (!res.ok || !res.body) throw await errorFrom(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const dispatch = (block) => {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let v = c < 0 ? '' : line.slice(c + 1);
      if (v.startsWith(' ')) v = v.slice(1);
      if (field === 'event') type = v;
      else if (field === 'data') data.push(v);
    }
    if (data.length) onEvent({ type, data: data.join('\n') });
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      dispatch(buf.slice(0, i));
      buf = buf.slice(i + 2);
    }
  }
  if (buf.trim()) dispatch(buf);
}

/**
 * Follows a background job: Server-Sent Events from /api/jobs/{id}/events,
 * opened only now that a job runs and closed when it ends (EventSource, or a
 * fetch() stream when a token must be sent). If the stream fails, falls back
 * to GET /api/jobs/{id} once a second until the job ends.
 * Returns {promise (final job), cancel}.
 */
export function followJob(jobId, onUpdate) {
  let es = null;
  let timer = null;
  let done = false;
  let cancel;
  const terminal = (s) => s === 'complete' || s === 'failed' || s === 'canceled' || s === 'cancelled';
  const promise = new Promise((resolve, reject) => {
    const finish = (job) => {
      if (done) return;
      done = true;
      if (es) es.close();
      clearTimeout(timer);
      resolve(job);
    };
    cancel = () => { done = true; if (es) es.close(); clearTimeout(timer); };
    const handle = (job) => {
      if (!job || done) return;
      onUpdate && onUpdate(job);
      if (terminal(job.status)) finish(job);
    };
    const poll = async () => {
      if (done) return;
      try {
        handle(await api(`/api/jobs/${enc(jobId)}`));
      } catch (err) {
        done = true;
        reject(err);
        return;
      }
      if (!done) timer = setTimeout(poll, 1000);
    };
    const onEvent = (ev) => {
      let job = null;
      try { job = JSON.parse(ev.data); } catch { return; }
      if (job && job.job) job = job.job;
      handle(job);
    };
    const openFetch = () => {
      const ctrl = new AbortController();
      es = { close: () => ctrl.abort() };
      readEventStream(`/api/jobs/${enc(jobId)}/events`, ctrl.signal, onEvent).then(
        () => { if (!done) { es = null; poll(); } }, // ended without a final event: ask
        () => { if (!done) { es = null; poll(); } });
    };
    const open = () => {
      if (done) return;
      if (token() && typeof ReadableStream !== 'undefined') { openFetch(); return; }
      if (typeof EventSource === 'undefined') { poll(); return; }
      es = new EventSource(`/api/jobs/${enc(jobId)}/events`);
      for (const name of ['message', 'progress', 'status', 'job', 'complete', 'failed', 'canceled', 'done']) es.addEventListener(name, onEvent);
      es.onerror = () => {
        if (done) return;
        es.close();
        es = null;
        poll(); // the stream ended or failed: ask once, and keep asking only while it runs
      };
    };
    // Ask once first: a small job may already have ended, and then no stream is needed.
    api(`/api/jobs/${enc(jobId)}`).then((job) => { handle(job); open(); }, () => open());
  });
  return { promise, cancel: () => cancel && cancel() };
}

/** The file name of a Content-Disposition header, or ''. */
function dispositionName(cd) {
  if (!cd) return '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) { try { return decodeURIComponent(star[1]); } catch { /* fall through */ } }
  const m = /filename="?([^";]+)"?/i.exec(cd);
  return m ? m[1] : '';
}

/**
 * Download links stay plain links, so the browser streams big files to disk.
 * A link cannot send the Authorization header, though: when a token is set,
 * a click on an API download link fetches it here and saves the blob.
 */
async function downloadWithToken(href, t) {
  try {
    const res = await fetch(href, { headers: { Authorization: `Bearer ${t}` } });
    if (!res.ok) throw await errorFrom(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = dispositionName(res.headers.get('content-disposition')) || 'download';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (err) {
    toast(`Download failed: ${err.message}`, 'error');
  }
}

if (typeof document !== 'undefined') {
  document.addEventListener('click', (ev) => {
    const t = token();
    if (!t || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target && ev.target.closest ? ev.target.closest('a[download][href^="/api/"]') : null;
    if (!a) return;
    ev.preventDefault();
    downloadWithToken(a.getAttribute('href'), t);
  });
}
