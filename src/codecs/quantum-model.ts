/**
 * Quantum's adaptive frequency model (the format description by M. Russotto, "Quantum compression
 * format"; FORMATS.md §2.3). Decoder and the test-only encoder share this one model, because the
 * format *is* its update rule: a symbol's probability after N symbols depends on every detail of
 * it, down to the order in which the rebuild sorts equal frequencies.
 *
 * Layout: `entries` slots plus one sentinel. `cumfreq[i]` is the summed frequency of the slots at
 * index ≥ i, so `cumfreq[0]` is the total, `cumfreq[entries]` is 0, and slot i's own frequency is
 * `cumfreq[i] - cumfreq[i + 1]`. `symbol[i]` is the symbol in slot i; slots are reordered by the
 * rebuild, so a symbol's slot moves over time.
 */

/** A model's total frequency above this triggers a rescale. */
const RESCALE_ABOVE = 3800;
/** Every coded symbol adds this to its own frequency. */
const INCREMENT = 8;
/** Rescales by halving before the first rebuild; after each rebuild, this many halvings again. */
const FIRST_HALVINGS = 4;
const LATER_HALVINGS = 50;

export class QuantumModel {
  readonly entries: number;
  readonly symbol: Uint16Array;
  readonly cumfreq: Uint16Array;
  private halvingsLeft = FIRST_HALVINGS;
  /** scratch for the rebuild's per-slot frequencies */
  private readonly freq: Uint16Array;

  /** Slots start in symbol order, every symbol with frequency 1. */
  constructor(firstSymbol: number, entries: number) {
    this.entries = entries;
    this.symbol = new Uint16Array(entries + 1);
    this.cumfreq = new Uint16Array(entries + 1);
    this.freq = new Uint16Array(entries);
    for (let i = 0; i <= entries; i++) {
      this.symbol[i] = firstSymbol + i;
      this.cumfreq[i] = entries - i;
    }
  }

  /** The slot whose cumulative range holds `target` (0 ≤ target < total). */
  slotFor(target: number): number {
    const cf = this.cumfreq;
    let i = 1;
    while (i < this.entries && cf[i]! > target) i++;
    return i - 1;
  }

  /** The slot currently holding `sym` (for the encoder). */
  slotOf(sym: number): number {
    for (let i = 0; i < this.entries; i++) if (this.symbol[i] === sym) return i;
    throw new RangeError(`symbol ${sym} is not in this model`);
  }

  /** After coding the symbol in `slot`: raise its frequency, rescale when the total grows too large. */
  update(slot: number): void {
    const cf = this.cumfreq;
    for (let i = 0; i <= slot; i++) cf[i] = cf[i]! + INCREMENT;
    if (cf[0]! > RESCALE_ABOVE) this.rescale();
  }

  private rescale(): void {
    if (--this.halvingsLeft > 0) this.halve();
    else this.rebuild();
  }

  /** Halve the cumulative frequencies from the end, keeping every slot's frequency at least 1. */
  private halve(): void {
    const cf = this.cumfreq;
    for (let i = this.entries - 1; i >= 0; i--) {
      cf[i] = cf[i]! >>> 1;
      if (cf[i]! <= cf[i + 1]!) cf[i] = cf[i + 1]! + 1;
    }
  }

  /**
   * Halve each slot's own frequency (rounding up), sort slots by decreasing frequency, and
   * rebuild the cumulative table. The sort is the format's selection-style exchange sort: it is
   * not stable, and which of two equal symbols comes first is part of the format.
   */
  private rebuild(): void {
    this.halvingsLeft = LATER_HALVINGS;
    const n = this.entries;
    const cf = this.cumfreq;
    const f = this.freq;
    const sym = this.symbol;
    for (let i = 0; i < n; i++) f[i] = (cf[i]! - cf[i + 1]! + 1) >>> 1;
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) {
        if (f[i]! < f[j]!) {
          const tf = f[i]!;
          f[i] = f[j]!;
          f[j] = tf;
          const ts = sym[i]!;
          sym[i] = sym[j]!;
          sym[j] = ts;
        }
      }
    }
    cf[n] = 0;
    for (let i = n - 1; i >= 0; i--) cf[i] = cf[i + 1]! + f[i]!;
  }
}

/**
 * Match position slots: slot s covers offsets base[s] .. base[s] + 2^extra[s] - 1 (minus one, see
 * the decoder). Extra bits are 0 for slots 0-3, then (s >> 1) - 1 — the same rule as LZX, but
 * without LZX's cap at 17 bits: Quantum's 42 slots reach 19 extra bits for a 2 MiB window.
 */
export const QUANTUM_POSITION_SLOTS = 42;
export const QUANTUM_POSITION_EXTRA = new Uint8Array(QUANTUM_POSITION_SLOTS);
export const QUANTUM_POSITION_BASE = new Uint32Array(QUANTUM_POSITION_SLOTS);
for (let s = 0; s < QUANTUM_POSITION_SLOTS; s++) {
  QUANTUM_POSITION_EXTRA[s] = s < 4 ? 0 : (s >> 1) - 1;
  if (s > 0) QUANTUM_POSITION_BASE[s] = QUANTUM_POSITION_BASE[s - 1]! + (1 << QUANTUM_POSITION_EXTRA[s - 1]!);
}

/**
 * Lengths of selector-6 matches: slot s covers base[s] .. base[s] + 2^extra[s] - 1, plus the
 * minimum of 5. Extra bits are 0 for slots 0-5, then (s - 2) >> 2 up to 5 bits, and 0 for the
 * last slot (254: the longest match is 259).
 */
export const QUANTUM_LENGTH_SLOTS = 27;
export const QUANTUM_LENGTH_EXTRA = new Uint8Array(QUANTUM_LENGTH_SLOTS);
export const QUANTUM_LENGTH_BASE = new Uint16Array(QUANTUM_LENGTH_SLOTS);
for (let s = 0; s < QUANTUM_LENGTH_SLOTS; s++) {
  QUANTUM_LENGTH_EXTRA[s] = s < 6 || s === QUANTUM_LENGTH_SLOTS - 1 ? 0 : (s - 2) >> 2;
  if (s > 0) QUANTUM_LENGTH_BASE[s] = QUANTUM_LENGTH_BASE[s - 1]! + (1 << QUANTUM_LENGTH_EXTRA[s - 1]!);
}

/** Selectors 0-3 pick a literal model (64 byte values each); 4, 5 and 6 are matches. */
export const QuantumSelector = { match3: 4, match4: 5, matchLong: 6 } as const;
export const QUANTUM_SELECTORS = 7;
export const QUANTUM_LITERAL_MODEL_SIZE = 64;
export const QUANTUM_MIN_LONG_MATCH = 5;

/** The models of one folder, fresh at the start of each folder. */
export interface QuantumModels {
  selector: QuantumModel;
  literal: [QuantumModel, QuantumModel, QuantumModel, QuantumModel];
  /** position slots of 3-byte, 4-byte and longer matches */
  position3: QuantumModel;
  position4: QuantumModel;
  positionLong: QuantumModel;
  length: QuantumModel;
}

/**
 * Position models hold 2 slots per window bit; the 3- and 4-byte match models stop at 24 and 36
 * slots (such short matches are never worth coding far away).
 */
export function createQuantumModels(windowBits: number): QuantumModels {
  const slots = windowBits * 2;
  return {
    selector: new QuantumModel(0, QUANTUM_SELECTORS),
    literal: [
      new QuantumModel(0, QUANTUM_LITERAL_MODEL_SIZE),
      new QuantumModel(64, QUANTUM_LITERAL_MODEL_SIZE),
      new QuantumModel(128, QUANTUM_LITERAL_MODEL_SIZE),
      new QuantumModel(192, QUANTUM_LITERAL_MODEL_SIZE),
    ],
    position3: new QuantumModel(0, Math.min(slots, 24)),
    position4: new QuantumModel(0, Math.min(slots, 36)),
    positionLong: new QuantumModel(0, slots),
    length: new QuantumModel(0, QUANTUM_LENGTH_SLOTS),
  };
}
