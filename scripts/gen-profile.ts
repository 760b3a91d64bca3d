/**
 * Facts about the synthetic data that `scripts/gen.ts` writes, importable by tests and benchmarks without
 * running (or loading) the generator.
 *
 * Tag frequencies (per row, each an independent draw; no other path adds these three terms):
 * - `zhi.science` — common: 25% of rows (likelier on science centres, labs and university museums, rarer on
 *   theatres and sports venues; the weighting is normalised so the mean over all types is exactly 25%).
 * - `lao.service` — rare: 0.1% of rows (p = 0.001), the "term matching 0.1%" of the benchmarks.
 * - `ti.martial` — very rare: 0.01% of rows (p = 0.0001).
 * Other tags follow a Zipf-like ranking over the taxonomy (the commonest, `scenario.classroom`, is on well
 * over 10% of rows), boosted by resource type.
 *
 * Points: half from Gaussian clusters around real centres, the rest spread over the 16 districts by weight.
 * The `district` column is left blank on 20% of rows (the importer computes it from the point).
 */

/** The tag used to stand for a common, a rare and a very rare term (ids in the taxonomy). */
export const TERM_FREQUENCY = {
  /** On 25% of rows (see `TERM_RATE`). */
  common: 'zhi.science',
  /** On 0.1% of rows. */
  rare: 'lao.service',
  /** On 0.01% of rows. */
  veryRare: 'ti.martial',
} as const;

/** Probability that a generated row carries each term of `TERM_FREQUENCY` (a fraction of rows, 0–1). */
export const TERM_RATE = {
  'zhi.science': 0.25,
  'lao.service': 0.001,
  'ti.martial': 0.0001,
} as const;

/** Fraction of rows drawn from the downtown clusters; the rest are spread over the districts. */
export const CLUSTER_SHARE = 0.5;

/** Fraction of rows whose `district` column is left blank. */
export const DISTRICT_BLANK_RATE = 0.2;
