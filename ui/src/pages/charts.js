// Charts: period–radius (log–log, by category), insolation–Teff with the
// Kopparapu (2014) habitable zone, category counts, radius distribution.
// All respect the current result filters. Scatter plots draw a server-side
// sample when the matching set exceeds the point budget, and say so.
import { h, replace, errorBox } from '../lib/dom.js';
import { api, enc, countMap } from '../lib/api.js';
import { count, num, percent } from '../lib/format.js';
import { CATEGORIES, categoryColor, humanizeCategory } from '../lib/meta.js';
import { loadDictionary, categoryText } from '../lib/dict.js';
import { state, onRunChange, setHashParams, filtersFromParams, filterParams, getFilters, setFilters, runFromParams } from '../lib/state.js';
import { filterBar, hasParameterSets, countNouns } from '../lib/filters.js';
import { openDetail } from '../lib/drawer.js';
import { scatter } from '../lib/scatter.js';
import { boundary } from '../lib/hz.js';
import { has } from '../lib/capabilities.js';

const POINT_BUDGET = 5000;

export async function render(root, params) {
  runFromParams(params);
  let filters = params.toString() ? filtersFromParams(params) : getFilters();
  setFilters(filters);
  const hidden = new Set();
  let charts = [];
  let seq = 0;
  // pseq orders the scatter points' loads: load() and legend toggles.
  let pseq = 0;
  // The radius histogram's bins, and the width it was drawn at.
  let histBins = [];
  let histW = 0;
  // What the histogram's bars count (its y axis): objects, or rows
  // (parameter sets) in a run with several sets per planet.
  let histWhat = 'objects';

  const bar = filterBar({ filters, onChange: (f) => { filters = f; setFilters(f); load(); } });
  const legend = h('div', { class: 'cat-legend', role: 'group', 'aria-label': 'Categories shown (toggle)' });
  const prBox = h('div', { class: 'chart', 'data-testid': 'chart-period-radius', role: 'img', 'aria-label': 'Period–radius diagram, log–log, coloured by category' });
  const hzBox = h('div', { class: 'chart', 'data-testid': 'chart-insolation-teff', role: 'img', 'aria-label': 'Insolation versus stellar effective temperature with habitable-zone boundaries' });
  const prNote = h('p', { class: 'chart-note', 'data-testid': 'pr-note' });
  const hzNote = h('p', { class: 'chart-note', 'data-testid': 'hz-note' });
  const countsBox = h('div', { class: 'chart-counts', 'data-testid': 'chart-counts' });
  const histBox = h('div', { class: 'chart-hist', 'data-testid': 'chart-radius-hist' });
  const histNote = h('p', { class: 'chart-note', 'data-testid': 'hist-note' });
  const countsNote = h('p', { class: 'chart-note' });
  const countsTitle = h('h2', { id: 'counts-title' }, 'Objects per category');

  const noRun = h('p', { class: 'empty', hidden: true }, 'No run selected. ', h('a', { href: '#/run' }, 'Run a dataset'), ' first, or pick a run in the header.');
  const grid = h('div', { class: 'chart-grid' },
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'pr-title' },
        h('header', { class: 'panel-head' }, h('h2', { id: 'pr-title' }, 'Period – radius'), h('span', { class: 'muted small' }, 'drag to zoom · double-click to reset · click a point for details')),
        prBox, prNote),
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'hz-title' },
        h('header', { class: 'panel-head' }, h('h2', { id: 'hz-title' }, 'Insolation – stellar temperature'),
          h('span', { class: 'hz-key' },
            h('span', { class: 'hz-swatch opt' }), 'optimistic HZ ', h('span', { class: 'hz-swatch cons' }), 'conservative HZ ', h('span', { class: 'hz-ring' }), 'tagged habitable_zone_candidate')),
        hzBox, hzNote),
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'counts-title' },
        h('header', { class: 'panel-head' }, countsTitle), countsBox, countsNote),
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'hist-title' },
        h('header', { class: 'panel-head' }, h('h2', { id: 'hist-title' }, 'Planet radius distribution')), histBox, histNote));
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Charts'), h('p', { class: 'muted', id: 'charts-run' })),
    bar, legend, noRun, grid);

  await loadDictionary();

  const colorOf = (p) => categoryColor(p.category);
  const isHidden = (p) => hidden.has(p.category);
  const isHz = (p) => p.hz === true || p.category === 'habitable_zone_candidate';
  const open = (p) => openDetail(state.run, p.object_id, null);

  function renderLegend(byCat) {
    replace(legend, CATEGORIES.map((c) => h('button', {
      type: 'button', class: 'legend-btn', 'aria-pressed': hidden.has(c) ? 'false' : 'true', title: categoryText(c),
      onclick: (e) => {
        hidden.has(c) ? hidden.delete(c) : hidden.add(c);
        e.currentTarget.setAttribute('aria-pressed', hidden.has(c) ? 'false' : 'true');
        for (const ch of charts) ch.redraw();
        // note: the sample is then drawn again from the categories shown,
        // so hiding a large category does not leave a thinned-out plot.
        reloadPoints();
      },
    }, h('span', { class: 'swatch', style: { background: categoryColor(c) } }), humanizeCategory(c), byCat ? h('span', { class: 'muted' }, ` ${count(byCat[c] ?? 0)}`) : null)));
  }

  function destroyCharts() { for (const c of charts) c.destroy(); charts = []; }

  function makeCharts() {
    destroyCharts();
    replace(prBox);
    replace(hzBox);
    const pr = scatter(prBox, {
      // note: robust, as the insolation chart: the KOI table's false
      // positives reach radii of 200,000 R⊕ and periods near 1e5 d, which
      // would squash the planets (and the radius valley) into a third of
      // the plot. The note under the chart counts the points left outside.
      x: { label: 'Orbital period [days]', log: true, robust: true, include: [0.5, 500] },
      y: { label: 'Planet radius [R⊕]', log: true, robust: true, include: [0.5, 20] },
      colorOf, isHidden, highlight: null,
      tip: (p) => [p.object_id, humanizeCategory(p.category), `P = ${num(p.x)} d`, `Rp = ${num(p.y)} R⊕`],
      onClick: open,
    });
    const hz = scatter(hzBox, {
      x: { label: 'Insolation [S⊕]', log: true, reverse: true, robust: true, include: [0.1, 2] },
      y: { label: 'Stellar Teff [K]', log: false, robust: true, include: [2600, 7200] },
      colorOf, isHidden, highlight: isHz,
      underlay: drawHz,
      tip: (p) => [p.object_id, humanizeCategory(p.category), `S = ${num(p.x)} S⊕`, `Teff = ${num(p.y)} K`, isHz(p) ? 'in the habitable zone' : ''].filter(Boolean),
      onClick: open,
    });
    charts = [pr, hz];
    return { pr, hz };
  }
  let { pr, hz } = makeCharts();
  const onTheme = () => { ({ pr, hz } = makeCharts()); load(); };
  window.addEventListener('themechange', onTheme);

  // shownFilters: the filters with the categories hidden in the legend left
  // out, or null when none is left to show.
  function shownFilters() {
    const query = filterParams(filters);
    if (hidden.size) {
      const base = query.category ? String(query.category).split(',') : CATEGORIES;
      const visible = base.filter((c) => !hidden.has(c));
      if (!visible.length) return null;
      query.category = visible.join(',');
    }
    return query;
  }

  async function points(x, y) {
    const query = shownFilters();
    if (!query) return { points: [], total: 0, sampled: false };
    const res = await api(`/api/runs/${enc(state.run)}/points`, { query: { x, y, limit: POINT_BUDGET, ...query } });
    const list = Array.isArray(res.points) ? res.points : [];
    // Points come as arrays in the order of res.fields (default object_id, x, y, category, hz) or as objects.
    const fields = Array.isArray(res.fields) && res.fields.length ? res.fields : ['object_id', 'x', 'y', 'category', 'hz'];
    const asObj = (p) => {
      if (!Array.isArray(p)) return p;
      const o = {};
      fields.forEach((f, i) => { o[f] = p[i]; });
      return o;
    };
    return { points: list.map(asObj), total: res.total ?? list.length, sampled: !!res.sampled };
  }

  // nouns: what the counts of the run and filters shown count, [one, many]
  // (countNouns); hasParameterSets is asked once per run and never rejects.
  async function nouns() {
    const f = filters;
    return countNouns(await hasParameterSets(state.run), f);
  }

  function note(el, r, what, many) {
    const shown = hidden.size ? ' in the categories shown' : '';
    el.textContent = r.sampled
      ? `Showing a random sample of ${count(r.points.length)} of ${count(r.total)} ${many} with ${what}${shown} (point budget ${count(POINT_BUDGET)}).`
      : `All ${count(r.total)} ${many} with ${what}${shown}.`;
    el.classList.toggle('sampled', r.sampled);
  }

  // loadColumns gives the filter bar the run's numeric columns, so range
  // filters can be added here as on Results.
  let colsFor = '';
  async function loadColumns() {
    if (!state.run || colsFor === state.run) return;
    colsFor = state.run;
    try {
      const res = await api(`/api/runs/${enc(state.run)}/results`, { query: { limit: 1, columns: 'object_id' } });
      bar.setColumns((res.columns || []).filter((c) => /DOUBLE|FLOAT|INT|DECIMAL|REAL|NUMERIC/i.test(c.type || '')).map((c) => c.name));
      bar.setParameterSets(await hasParameterSets(state.run));
    } catch {
      colsFor = ''; // note: the charts themselves report the error
    }
  }

  async function load() {
    setHashParams({ run: state.run, ...filters });
    const info = root.querySelector('#charts-run');
    noRun.hidden = !!state.run;
    grid.hidden = !state.run;
    if (!state.run) {
      info.textContent = '';
      return;
    }
    loadColumns();
    const run = state.runs.find((x) => x.run_id === state.run);
    info.textContent = run ? `${run.dataset} · run ${state.run}` : `run ${state.run}`;
    const my = ++seq;
    const pmy = ++pseq;
    prNote.textContent = 'Loading…';
    hzNote.textContent = 'Loading…';
    const [a, b, c, d, e, n] = await Promise.allSettled([
      points('koi_period', 'koi_prad'),
      points('koi_insol', 'koi_steff'),
      categoryCounts(),
      histogram(),
      ringTotal(),
      nouns(),
    ]);
    if (my !== seq) return;
    const [, many] = n.value;
    if (pmy === pseq) showPoints(a, b, e, many);
    const cts = c.status === 'fulfilled' ? c.value : null;
    renderCounts(cts, c.status === 'rejected' ? c.reason : null, a.status === 'fulfilled' ? a.value : null, many);
    renderHist(d.status === 'fulfilled' ? d.value : null, a.status === 'fulfilled' ? a.value : null, many);
  }

  // reloadPoints draws both scatter plots again (after a legend toggle).
  async function reloadPoints() {
    if (!state.run) return;
    const pmy = ++pseq;
    const [a, b, e, n] = await Promise.allSettled([points('koi_period', 'koi_prad'), points('koi_insol', 'koi_steff'), ringTotal(), nouns()]);
    if (pmy === pseq) showPoints(a, b, e, n.value[1]);
  }

  // ringTotal counts the habitable-zone candidates among all the rows the
  // insolation chart draws from, not only in its sample: a tagged row always
  // has an insolation and a Teff (hz_position needs both), so it is their
  // count by tag under the same filters. null when it cannot be counted.
  async function ringTotal() {
    const query = shownFilters();
    if (!query) return 0;
    if ((await has('get', '/api/runs/{id}/counts')) === false) return null;
    const res = await api(`/api/runs/${enc(state.run)}/counts`, { query: { by: 'tag', ...query } });
    return countMap(res).habitable_zone_candidate ?? 0;
  }

  function showPoints(a, b, ring, many) {
    if (a.status === 'fulfilled') {
      pr.update(a.value.points);
      note(prNote, a.value, 'period and radius', many);
      if (pr.outside) prNote.append(` ${count(pr.outside)} extreme points lie outside the axes.`);
    } else { pr.update([]); replace(prNote, errorBox(a.reason, 'Could not load points.')); }
    if (b.status === 'fulfilled') {
      hz.update(b.value.points);
      note(hzNote, b.value, 'insolation and Teff', many);
      const drawn = b.value.points.filter(isHz).length;
      const total = ring.status === 'fulfilled' ? ring.value : null;
      const tagged = `${many} tagged habitable_zone_candidate, whatever their category (a confirmed planet in the zone is ringed too)`;
      hzNote.append(` ${!b.value.sampled || total === drawn ? `Ringed: ${count(drawn)} ${tagged}.`
        : total != null ? `Ringed: ${count(drawn)} of the ${count(total)} ${tagged}; the other ${count(total - drawn)} are not in the drawn sample.`
          : `Ringed: the ${count(drawn)} ${tagged} in the drawn sample.`} Boundaries: Kopparapu et al. 2014, valid 2600–7200 K.`);
      if (hz.outside) hzNote.append(` ${count(hz.outside)} extreme points lie outside the axes.`);
    } else { hz.update([]); replace(hzNote, errorBox(b.reason, 'Could not load points.')); }
  }

  async function categoryCounts() {
    const f = filterParams(filters);
    const fallback = async () => {
      if (Object.keys(f).length) return null; // counted from the sample instead
      const run = await api(`/api/runs/${enc(state.run)}`);
      return { counts: run.counts || {}, exact: true };
    };
    if ((await has('get', '/api/runs/{id}/counts')) === false) return fallback();
    try {
      const res = await api(`/api/runs/${enc(state.run)}/counts`, { query: { by: 'category', ...f } });
      return { counts: countMap(res), exact: true };
    } catch (err) {
      if (!err.missing) throw err;
      return fallback();
    }
  }

  async function histogram() {
    if ((await has('get', '/api/runs/{id}/histogram')) === false) return null;
    try {
      return await api(`/api/runs/${enc(state.run)}/histogram`, { query: { column: 'koi_prad', bins: 40, scale: 'log', ...filterParams(filters) } });
    } catch (err) {
      if (err.missing) return null;
      throw err;
    }
  }

  function renderCounts(cts, err, sample, many) {
    const title = `${many[0].toUpperCase()}${many.slice(1)} per category`;
    countsTitle.textContent = title;
    if (err) { replace(countsBox, errorBox(err)); return; }
    let map = cts && cts.counts;
    countsNote.textContent = '';
    if (!map && sample) {
      map = {};
      for (const p of sample.points) map[p.category] = (map[p.category] || 0) + 1;
      countsNote.textContent = `Counted from the drawn sample of ${count(sample.points.length)} (the counts endpoint is not available).`;
    }
    map = map || {};
    renderLegend(map);
    const max = Math.max(1, ...Object.values(map).map(Number));
    const total = Object.values(map).reduce((x, y) => x + Number(y), 0);
    replace(countsBox, h('table', { class: 'grid compact counts' },
      h('caption', { class: 'sr-only' }, title),
      h('tbody', {}, CATEGORIES.filter((c) => map[c]).map((c) => h('tr', {},
        h('th', { scope: 'row', title: categoryText(c) }, h('span', { class: 'swatch', style: { background: categoryColor(c) } }), humanizeCategory(c)),
        h('td', { class: 'numcell' }, count(map[c])),
        h('td', { class: 'numcell muted' }, percent(map[c], total)),
        h('td', { class: 'barcell' }, h('span', { class: 'hbar', style: { width: `${(100 * map[c]) / max}%`, background: categoryColor(c) } })))))));
    if (!total) countsBox.append(h('p', { class: 'empty' }, `No ${many} match.`));
  }

  function renderHist(res, sample, many) {
    let bins = res && Array.isArray(res.bins) ? res.bins : null;
    histNote.textContent = '';
    if (!bins && sample) {
      const vals = sample.points.map((p) => p.y).filter((v) => v > 0);
      bins = logBins(vals, 40);
      histNote.textContent = `Binned from the drawn sample of ${count(vals.length)} (the histogram endpoint is not available).`;
    } else if (res) {
      histNote.textContent = `${count(res.total ?? bins.reduce((s, b) => s + b.count, 0))} ${many} with a radius${res.nulls ? `; ${count(res.nulls)} without` : ''}. Log-spaced bins.`;
    }
    histBins = bins || [];
    histWhat = many;
    drawHist();
  }

  // The histogram is drawn at its box's width, one SVG unit to a CSS pixel,
  // so that its text keeps its CSS size on a phone (a fixed viewBox scaled
  // to 390 px made 11 px labels 6 px); it is drawn again when that changes.
  const histWidth = () => {
    const cs = getComputedStyle(histBox);
    return Math.round(histBox.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
  };
  function drawHist() {
    const w = histWidth();
    histW = w > 0 ? w : 600;
    replace(histBox, histBins.length ? histogramSvg(histBins, histW, histWhat) : h('p', { class: 'empty' }, 'No radii to show.'));
  }
  const histResize = new ResizeObserver(() => {
    if (histBins.length && histWidth() > 0 && Math.abs(histWidth() - histW) > 2) drawHist();
  });
  histResize.observe(histBox);

  const off = onRunChange(() => load());
  renderLegend(null);
  load();
  return () => { off(); destroyCharts(); histResize.disconnect(); window.removeEventListener('themechange', onTheme); };
}

/** Draws the optimistic (Recent Venus–Early Mars) and conservative (Runaway–Maximum Greenhouse) bands. */
function drawHz(u, ctx) {
  const band = (inner, outer, fill) => {
    const a = boundary(inner);
    const b = boundary(outer).reverse();
    ctx.beginPath();
    [...a, ...b].forEach(([s, t], i) => {
      const x = u.valToPos(s, 'x', true);
      const y = u.valToPos(t, 'y', true);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.closePath();
    ctx.fillStyle = fill;
    ctx.fill();
  };
  const line = (limit, dash) => {
    ctx.beginPath();
    boundary(limit).forEach(([s, t], i) => {
      const x = u.valToPos(s, 'x', true);
      const y = u.valToPos(t, 'y', true);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.setLineDash(dash);
    ctx.stroke();
    ctx.setLineDash([]);
  };
  band('recent_venus', 'early_mars', 'rgba(46, 160, 67, 0.12)');
  band('runaway_greenhouse', 'maximum_greenhouse', 'rgba(46, 160, 67, 0.20)');
  ctx.strokeStyle = 'rgba(63, 185, 80, 0.9)';
  ctx.lineWidth = 1.2 * (window.devicePixelRatio || 1);
  line('recent_venus', [4, 3]);
  line('early_mars', [4, 3]);
  line('runaway_greenhouse', []);
  line('maximum_greenhouse', []);
}

function logBins(vals, n) {
  if (!vals.length) return [];
  let lo = Math.log10(Math.min(...vals));
  let hi = Math.log10(Math.max(...vals));
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const w = (hi - lo) / n;
  const bins = Array.from({ length: n }, (_, i) => ({ lo: 10 ** (lo + i * w), hi: 10 ** (lo + (i + 1) * w), count: 0 }));
  for (const v of vals) bins[Math.min(n - 1, Math.floor((Math.log10(v) - lo) / w))].count += 1;
  return bins;
}

/** A log-x histogram as SVG, W CSS pixels wide; `what` names its y axis (what a bar counts). */
function histogramSvg(bins, W, what) {
  const H = 260;
  const m = { l: 48, r: 10, t: 10, b: 40 };
  const los = bins.map((b) => b.lo).filter((v) => v > 0);
  const x0 = Math.log10(Math.min(...los));
  const x1 = Math.log10(Math.max(...bins.map((b) => b.hi)));
  const maxC = Math.max(1, ...bins.map((b) => b.count));
  const sx = (v) => m.l + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (c) => H - m.b - (c / maxC) * (H - m.t - m.b);
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'hist-svg', role: 'img', 'aria-label': 'Histogram of planet radius, log-spaced bins' });
  // Reference radii: Earth, Neptune, Jupiter.
  [[1, 'Earth'], [3.87, 'Neptune'], [11.2, 'Jupiter']].forEach(([r, name], i) => {
    if (Math.log10(r) < x0 || Math.log10(r) > x1) return;
    svg.append(el('line', { x1: sx(r), x2: sx(r), y1: m.t, y2: H - m.b, class: 'ref-line' }));
    svg.append(el('text', { x: sx(r) + 3, y: m.t + 10 + 13 * i, class: 'ref-text' }, name));
  });
  for (const b of bins) {
    if (b.lo <= 0) continue;
    const x = sx(b.lo);
    const w = Math.max(1, sx(b.hi) - x - 1);
    const rect = el('rect', { x, y: sy(b.count), width: w, height: H - m.b - sy(b.count), class: 'hist-bar' });
    rect.append(el('title', {}, `${num(b.lo, 3)}–${num(b.hi, 3)} R⊕: ${count(b.count)}`));
    svg.append(rect);
  }
  svg.append(el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis-line' }));
  // note: 2 and 5 are labelled too when a decade is wide enough for three labels.
  const steps = (W - m.l - m.r) / (x1 - x0 || 1) >= 150 ? [1, 2, 5] : [1];
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    for (const k of steps) {
      const v = k * 10 ** e;
      if (Math.log10(v) < x0 || Math.log10(v) > x1) continue;
      svg.append(el('line', { x1: sx(v), x2: sx(v), y1: H - m.b, y2: H - m.b + 4, class: 'axis-line' }));
      svg.append(el('text', { x: sx(v), y: H - m.b + 16, class: 'tick-text', 'text-anchor': 'middle' }, v >= 1e4 ? `1e${Math.round(Math.log10(v))}` : String(v)));
    }
  }
  for (const f of [0, 0.5, 1]) {
    const c = Math.round(maxC * f);
    svg.append(el('text', { x: m.l - 6, y: sy(c) + 4, class: 'tick-text', 'text-anchor': 'end' }, count(c)));
  }
  svg.append(el('text', { x: (W + m.l) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, 'Planet radius [R⊕]'));
  svg.append(el('text', { x: 12, y: (H - m.b) / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 12 ${(H - m.b) / 2})` }, what));
  return svg;
}
