// scatter.js: a scatter plot on uPlot (axes, log scales, drag-to-zoom,
// double-click to reset) with our own point layer: points coloured by
// category, highlighted rings, hover tooltip and click, and an optional
// underlay (the habitable-zone bands).
import uPlot from 'uplot';
import { h } from './dom.js';
import { logTicks } from './ticks.js';

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}



/**
 * scatter(container, opts) -> {update(points), destroy(), drawn}
 * opts: {x:{label,log,reverse}, y:{label,log}, colorOf(p), isHidden(p), highlight(p),
 *        underlay(u, ctx), tip(p) -> string[], onClick(p), height}
 * points: [{x, y, ...}]
 */
export function scatter(container, opts) {
  let points = [];
  let pix = []; // [cssX, cssY, point] for hit testing
  const tip = h('div', { class: 'chart-tip', role: 'tooltip', hidden: true });
  let hovered = null;

  const axisStroke = cssVar('--muted', '#9aa7b4');
  const gridStroke = cssVar('--grid', 'rgba(255,255,255,0.07)');
  const font = '11px system-ui, sans-serif';
  const labelFont = '12px system-ui, sans-serif';

  const axis = (a, side) => ({
    label: a.label, stroke: axisStroke, font, labelFont, side,
    grid: { stroke: gridStroke, width: 1 }, ticks: { stroke: gridStroke, width: 1 },
    values: a.log ? logTicks : undefined, labelSize: 22, size: side === 3 ? 54 : 40,
  });

  // Axis extent: all points, or with opts.<axis>.robust the 0.5-99.5 percentile
  // range widened to include opts.<axis>.include (so a few absurd catalog
  // values do not squash the region of interest); points outside are counted.
  function extent(key, log, axisOpts) {
    let lo = Infinity;
    let hi = -Infinity;
    const vals = [];
    for (const p of points) {
      const v = p[key];
      if (v == null || !Number.isFinite(v) || (log && v <= 0)) continue;
      vals.push(v);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (axisOpts.robust && vals.length > 20) {
      vals.sort((a, b) => a - b);
      lo = vals[Math.floor(vals.length * 0.005)];
      hi = vals[Math.ceil(vals.length * 0.995) - 1];
      if (log) { lo /= 1.5; hi *= 1.5; }
      if (axisOpts.include) { lo = Math.min(lo, axisOpts.include[0]); hi = Math.max(hi, axisOpts.include[1]); }
    }
    if (!Number.isFinite(lo)) return log ? [1, 10] : [0, 1];
    if (lo === hi) return log ? [lo / 2, hi * 2] : [lo - 1, hi + 1];
    return [lo, hi];
  }

  function drawPoints(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const dpr = uPlot.pxRatio || window.devicePixelRatio || 1;
    const r = 2.4 * dpr;
    pix = [];
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    if (opts.underlay) opts.underlay(u, ctx);
    const byColor = new Map();
    const rings = [];
    for (const p of points) {
      if (p.x == null || p.y == null || (opts.x.log && p.x <= 0) || (opts.y.log && p.y <= 0)) continue;
      if (opts.isHidden && opts.isHidden(p)) continue;
      const cx = u.valToPos(p.x, 'x', true);
      const cy = u.valToPos(p.y, 'y', true);
      if (cx < left || cx > left + width || cy < top || cy > top + height) continue;
      const c = opts.colorOf(p);
      if (!byColor.has(c)) byColor.set(c, new Path2D());
      const path = byColor.get(c);
      path.moveTo(cx + r, cy);
      path.arc(cx, cy, r, 0, 2 * Math.PI);
      if (opts.highlight && opts.highlight(p)) rings.push([cx, cy]);
      pix.push([(cx - left) / dpr, (cy - top) / dpr, p]);
    }
    ctx.globalAlpha = 0.72;
    for (const [c, path] of byColor) { ctx.fillStyle = c; ctx.fill(path); }
    ctx.globalAlpha = 1;
    if (rings.length) {
      ctx.lineWidth = 1.4 * dpr;
      ctx.strokeStyle = cssVar('--text', '#e6edf3');
      const ring = new Path2D();
      for (const [cx, cy] of rings) { ring.moveTo(cx + r * 2, cy); ring.arc(cx, cy, r * 2, 0, 2 * Math.PI); }
      ctx.stroke(ring);
    }
    ctx.restore();
    container.dataset.points = String(pix.length);
    api.drawn = pix.length;
  }

  const width = Math.max(280, container.clientWidth || 600);
  const height = opts.height || 340;
  const u = new uPlot({
    width, height,
    legend: { show: false },
    cursor: { drag: { x: true, y: true, uni: 40 }, points: { show: false }, x: false, y: false },
    scales: {
      x: { time: false, distr: opts.x.log ? 3 : 1, dir: opts.x.reverse ? -1 : 1, range: opts.x.range },
      y: { distr: opts.y.log ? 3 : 1, range: opts.y.range },
    },
    axes: [axis(opts.x, 2), axis(opts.y, 3)],
    series: [{}, { stroke: 'transparent', points: { show: false }, paths: () => null }],
    hooks: { draw: [drawPoints] },
  }, [[0, 1], [0, 1]], container);
  u.over.append(tip);

  const nearest = (mx, my) => {
    let best = null;
    let bd = 64; // 8 px radius
    for (const [x, y, p] of pix) {
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < bd) { bd = d; best = p; }
    }
    return best;
  };
  u.over.addEventListener('mousemove', (e) => {
    const rect = u.over.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const my = e.clientY - rect.top;
    const p = nearest(mx, my);
    hovered = p;
    u.over.style.cursor = p ? 'pointer' : '';
    if (!p) { tip.hidden = true; return; }
    tip.textContent = '';
    for (const line of opts.tip(p)) tip.append(h('div', {}, line));
    tip.hidden = false;
    const tw = tip.offsetWidth;
    tip.style.left = `${Math.min(mx + 12, rect.width - tw - 4)}px`;
    tip.style.top = `${Math.max(0, my - tip.offsetHeight - 10)}px`;
  });
  u.over.addEventListener('mouseleave', () => { tip.hidden = true; hovered = null; });
  u.over.addEventListener('click', () => { if (hovered && opts.onClick) opts.onClick(hovered); });

  const ro = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
  });
  ro.observe(container);

  const api = {
    drawn: 0,
    outside: 0,
    u,
    update(next) {
      points = next || [];
      const [x0, x1] = extent('x', opts.x.log, opts.x);
      const [y0, y1] = extent('y', opts.y.log, opts.y);
      api.outside = points.filter((p) => p.x != null && p.y != null && (p.x < x0 || p.x > x1 || p.y < y0 || p.y > y1)).length;
      u.setData([[x0, x1], [y0, y1]], true);
    },
    redraw() { u.redraw(false, false); },
    destroy() { ro.disconnect(); u.destroy(); },
  };
  return api;
}
