// dict.js: the data dictionary (GET /api/dictionary), loaded once on demand,
// for column tooltips, units and flags in words. Falls back to built-in
// units and humanized flag names when the endpoint is absent.
import { api } from './api.js';
import { UNIT_FALLBACK, humanizeFlag, CATEGORY_TEXT } from './meta.js';

const cols = new Map();
const flags = new Map();
let loading = null;

function ingest(list, into) {
  if (Array.isArray(list)) {
    for (const c of list) if (c && c.name) into.set(c.name, c);
  } else if (list && typeof list === 'object') {
    for (const [name, c] of Object.entries(list)) into.set(name, typeof c === 'string' ? { name, description: c } : { name, ...c });
  }
}

/** Loads the dictionary once; never rejects (tooltips are optional). */
export function loadDictionary() {
  if (!loading) {
    loading = api('/api/dictionary').then((d) => {
      ingest(d && (d.columns || d.items), cols);
      // Metrics are columns of their own (sma_derived, duration_ratio,
      // hz_*, …, with their units); one that fills a canonical column also
      // lends it its formula.
      for (const m of (d && Array.isArray(d.metrics) ? d.metrics : [])) {
        if (!m || !m.name) continue;
        const target = m.fills && cols.get(m.fills);
        if (target && !target.formula && m.formula) target.formula = m.formula;
        if (!cols.has(m.name)) cols.set(m.name, m);
      }
      ingest(d && d.flags, flags);
      return true;
    }).catch(() => false);
  }
  return loading;
}

export function column(name) {
  return cols.get(name) || cols.get(String(name).replace(/_(err1|err2|source)$/, '')) || null;
}

// The dictionary writes units in ASCII (R_earth, log10(cm/s^2)); show them as printed.
const PRETTY = {
  R_earth: 'R⊕', S_earth: 'S⊕', M_earth: 'M⊕', R_sun: 'R☉', M_sun: 'M☉', L_sun: 'L☉',
  R_jup: 'R♃', M_jup: 'M♃', 'log10(cm/s^2)': 'log₁₀(cm s⁻²)', 'log10(cm/s**2)': 'log₁₀(cm s⁻²)',
  days: 'days', day: 'days', deg: '°', percent: '%', fraction: '', none: '', dimensionless: '',
};
export function prettyUnit(u) {
  if (u === null || u === undefined) return '';
  const s = String(u).trim();
  if (s in PRETTY) return PRETTY[s];
  return s.replace(/\bR_earth\b/g, 'R⊕').replace(/\bR_sun\b/g, 'R☉').replace(/\bM_sun\b/g, 'M☉').replace(/\bS_earth\b/g, 'S⊕');
}

export function unit(name) {
  const c = cols.get(name);
  if (c && c.unit !== undefined && c.unit !== null) return prettyUnit(c.unit);
  const base = String(name).replace(/_err[12]$/, '');
  if (cols.get(base) && cols.get(base).unit) return prettyUnit(cols.get(base).unit);
  return UNIT_FALLBACK[name] ?? UNIT_FALLBACK[base] ?? '';
}

/** Tooltip text for a column header: description, unit, formula, sources. */
export function tooltip(name) {
  const c = column(name);
  const parts = [];
  if (c && c.description) parts.push(c.description);
  const u = unit(name);
  if (u) parts.push(`Unit: ${u}`);
  if (c && c.formula) parts.push(`Formula: ${c.formula}`);
  if (c && c.sources && typeof c.sources === 'object') {
    const s = Object.entries(c.sources).filter(([, v]) => v).map(([m, v]) => `${m}: ${Array.isArray(v) ? v.join(', ') : v}`);
    if (s.length) parts.push(`Source columns: ${s.join('; ')}`);
  }
  if (/_source$/.test(name)) parts.push('Provenance: catalog, derived or missing');
  if (name === 'category') parts.push('One primary category per object, by precedence');
  return parts.join('\n') || name;
}

export function flagText(flag) {
  const f = flags.get(flag);
  return (f && (f.description || f.text)) || humanizeFlag(flag);
}

export function categoryText(c) {
  return CATEGORY_TEXT[c] || '';
}

export function knownFlags() {
  return [...flags.keys()].sort();
}
