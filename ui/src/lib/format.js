// format.js: numbers, sizes and ages as a scientist expects to read them.

/**
 * A number with `digits` significant digits, or more where fewer would
 * round it onto or across one of `near` (the thresholds its column is
 * compared with): 2.19963 next to a threshold of 2.2 reads 2.1996, not 2.2,
 * which would look like a value on the threshold.
 */
export function num(v, digits = 4, near = []) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const n = typeof v === 'number' ? v : Number(v);
  if (typeof v === 'string' && (Number.isNaN(n) || v.trim() === '')) return v;
  if (!Number.isFinite(n)) return String(v);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return n.toLocaleString('en-US');
  let d = digits;
  // note: 17 significant digits give the double itself, which is on the right side.
  while (d < 17 && near.some((t) => Math.sign(Number(n.toPrecision(d)) - t) !== Math.sign(n - t))) d += 1;
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return n.toExponential(d - 1);
  return Number(n.toPrecision(d)).toLocaleString('en-US', { maximumFractionDigits: 20 });
}

/** part of total as a percentage with one decimal; a non-zero share below 0.1 % reads "<0.1%", not "0.0%". */
export function percent(part, total) {
  if (!total) return '';
  const p = (100 * part) / total;
  return part > 0 && p < 0.05 ? '<0.1%' : `${p.toFixed(1)}%`;
}

export function count(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** A size in decimal units (1 MB = 1,000,000 bytes), as disks and `ls -h --si` count. */
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = Number(n);
  while (x >= 1000 && i < u.length - 1) { x /= 1000; i += 1; }
  return `${x.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

export function age(iso) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function ms(v) {
  if (v === null || v === undefined) return '—';
  const n = Number(v);
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}

/**
 * Any JSON value as display text with numbers in full (JavaScript's
 * shortest exact form: 9.48803557, 1234567.891), for places where a value
 * is read rather than scanned: the detail drawer and the console. num()'s
 * four significant digits would put a transit epoch an hour off.
 */
export function exact(v) {
  if (typeof v === 'number') return String(v);
  return value(v);
}

/** Any JSON value as display text; `near` as for num(). */
export function value(v, near) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return num(v, 4, near);
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
