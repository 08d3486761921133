// hz.js: Kopparapu et al. (2014) habitable-zone stellar fluxes, the
// coefficients of DESIGN.md. S_eff = S_sun + a T + b T^2 + c T^3 + d T^4 with
// T = Teff - 5780 K, valid for 2600-7200 K.

export const HZ_LIMITS = {
  recent_venus: { name: 'Recent Venus', s: 1.776, a: 2.136e-4, b: 2.533e-8, c: -1.332e-11, d: -3.097e-15 },
  runaway_greenhouse: { name: 'Runaway Greenhouse (1 M⊕)', s: 1.107, a: 1.332e-4, b: 1.580e-8, c: -8.308e-12, d: -1.931e-15 },
  maximum_greenhouse: { name: 'Maximum Greenhouse', s: 0.356, a: 6.171e-5, b: 1.698e-9, c: -3.198e-12, d: -5.575e-16 },
  early_mars: { name: 'Early Mars', s: 0.320, a: 5.547e-5, b: 1.526e-9, c: -2.874e-12, d: -5.011e-16 },
};

export const HZ_TEFF_MIN = 2600;
export const HZ_TEFF_MAX = 7200;

export function seff(limit, teff) {
  const L = HZ_LIMITS[limit];
  const t = teff - 5780;
  return L.s + L.a * t + L.b * t * t + L.c * t ** 3 + L.d * t ** 4;
}

/** Points along one boundary, as [S, Teff] pairs over the valid range. */
export function boundary(limit, step = 25) {
  const out = [];
  for (let T = HZ_TEFF_MIN; T <= HZ_TEFF_MAX; T += step) out.push([seff(limit, T), T]);
  return out;
}
