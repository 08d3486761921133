// meta.js: fixed vocabulary of the Contracts (categories, dispositions,
// comparison classes) and fallbacks used when GET /api/dictionary is absent.

/** The 9 categories in precedence order (DESIGN.md "The categories"). */
export const CATEGORIES = [
  'no_result', 'likely_false_positive', 'anomalous_signal', 'confirmed_planet',
  'habitable_zone_candidate', 'hot_jupiter_candidate', 'rocky_candidate',
  'super_earth_or_mini_neptune', 'candidate',
];

export const CATEGORY_TEXT = {
  no_result: 'Not enough data to say anything',
  likely_false_positive: 'NASA disposition is FALSE POSITIVE',
  anomalous_signal: 'Physically inconsistent or extreme values',
  confirmed_planet: 'NASA disposition is CONFIRMED',
  habitable_zone_candidate: 'Not a false positive, in the optimistic habitable zone, small enough to be rocky',
  hot_jupiter_candidate: 'Giant planet on a short, hot orbit',
  rocky_candidate: 'Radius small enough to be rocky',
  super_earth_or_mini_neptune: 'Between rocky and Neptune-sized',
  candidate: 'A planet candidate with no more specific class',
};

/** Colours chosen for contrast on both themes and to stay apart for common colour-vision deficiencies. */
export const CATEGORY_COLOR = {
  no_result: '#8b949e',
  likely_false_positive: '#f0565c',
  anomalous_signal: '#e46fd0',
  confirmed_planet: '#3fb950',
  habitable_zone_candidate: '#22d3c5',
  hot_jupiter_candidate: '#f0883e',
  rocky_candidate: '#a98bff',
  super_earth_or_mini_neptune: '#4c9dff',
  candidate: '#e3b341',
};

export const DISPOSITIONS = ['CONFIRMED', 'CANDIDATE', 'FALSE POSITIVE'];

export const COMPARE = {
  match: 'ExoHunter agrees with the NASA disposition',
  mismatch: 'ExoHunter disagrees with the NASA disposition',
  missing: 'The catalog gives no disposition',
};

export const LABELS = [...CATEGORIES, ...DISPOSITIONS];

/** Units of canonical columns (DESIGN.md), used when the dictionary is absent. */
export const UNIT_FALLBACK = {
  koi_period: 'days', koi_duration: 'hours', koi_depth: 'ppm', koi_prad: 'R⊕',
  koi_teq: 'K', koi_insol: 'S⊕', koi_sma: 'AU', koi_impact: '', koi_steff: 'K',
  koi_slogg: 'log₁₀(cm s⁻²)', koi_srad: 'R☉', koi_smass: 'M☉',
  depth_from_radii_ppm: 'ppm', expected_duration_hours: 'hours', duration_ratio: '',
  score: '', hz_position: '',
};

export function categoryColor(c) {
  return CATEGORY_COLOR[c] || '#8b949e';
}

/** FLAG_RADIUS_TOO_LARGE -> "Radius too large". */
export function humanizeFlag(flag) {
  const s = String(flag).replace(/^FLAG_/, '').replace(/_/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function humanizeCategory(c) {
  return String(c ?? '').replace(/_/g, ' ');
}

/** Values of flags/tags may be JSON lists or ';'-joined strings. */
export function asList(v) {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined || v === '') return [];
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.startsWith('[')) { try { const a = JSON.parse(s); if (Array.isArray(a)) return a; } catch { /* fallthrough */ } }
    return s.split(/[;,]/).map((x) => x.trim()).filter(Boolean);
  }
  return [String(v)];
}
