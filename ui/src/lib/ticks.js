// ticks.js: axis labels (pure, tested by ticks.test.mjs under node --test).

// logTicks labels powers of ten, and 2 and 5 times them, on a log axis.
// Zoomed inside one decade those may be absent or alone: then every tick
// is labelled, so that the axis always reads.
export function logTicks(u, vals) {
  const out = vals.map((v) => {
    if (v == null) return '';
    const e = Math.log10(v);
    if (Math.abs(e - Math.round(e)) < 1e-9) return v >= 1e4 || v < 1e-2 ? `1e${Math.round(e)}` : String(v);
    const m = v / 10 ** Math.floor(e);
    return Math.abs(m - 2) < 1e-9 || Math.abs(m - 5) < 1e-9 ? (v >= 1e4 || v < 1e-2 ? '' : String(+v.toPrecision(2))) : '';
  });
  if (out.filter(Boolean).length >= 2) return out;
  return vals.map((v) => (v == null ? '' : v >= 1e4 || v < 1e-2 ? v.toExponential(1) : String(+v.toPrecision(3))));
}
