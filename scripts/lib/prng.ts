/**
 * The one seeded generator of the scripts and tests (fault schedules, generated catalogs and hosts,
 * mutations): Math.random cannot be seeded, and a failure must replay from its printed seed.
 */
/** mulberry32: 32 bits of state, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
