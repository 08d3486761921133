// api.js: every call to the ExoHunter HTTP API goes through here. ui/README.md
// lists each endpoint, parameter and field used; keep it in step.

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
  if (t && method !== 'GET') headers.Authorization = `Bearer ${t}`;
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
 * Follows a background job: Server-Sent Events from /api/jobs/{id}/events,
 * opened only now that a job runs and closed when it ends. If the stream
 * fails, falls back to GET /api/jobs/{id} once a second until the job ends.
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
    const open = () => {
      if (done) return;
      if (typeof EventSource === 'undefined') { poll(); return; }
      es = new EventSource(`/api/jobs/${enc(jobId)}/events`);
      const onEvent = (ev) => {
        let job = null;
        try { job = JSON.parse(ev.data); } catch { return; }
        if (job && job.job) job = job.job;
        handle(job);
      };
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
