/**
 * A small seeded PRNG (mulberry32): every random choice of a scenario (kill moments, which
 * process, how long it stays down, which events are poison) comes from one, so a failure
 * replays with the same seed (`FAULTS_SEED`).
 */
export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A generator of its own, derived from this one, so that adding a draw in one place does not shift the others. */
  fork(label: string): Random;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const random: Random = {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    fork: (label) => createRandom(hashSeed(`${seed >>> 0}:${label}`)),
  };
  return random;
}

/** FNV-1a, to turn a label into a seed. */
export function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The seed of a run: `FAULTS_SEED` when set (to replay a failure), else a fresh one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['FAULTS_SEED'];
  if (text === undefined || text === '') return Math.floor(Math.random() * 4_294_967_296);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 4_294_967_296) throw new Error(`FAULTS_SEED: expected a whole number in [0, 2^32), got "${text}"`);
  return seed;
}
