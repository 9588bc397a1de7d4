/**
 * Structure-aware mutations for the cabinet fuzzer. Pure functions of (input, rng) so a run is
 * reproducible from its seed: the same seed and budget try the same inputs in the same order.
 */

/** xorshift128+ — small, fast, deterministic; Math.random cannot be seeded. */
export class Rng {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number) {
    // splitmix64 spreads a small integer seed over both state words
    let x = BigInt.asUintN(64, BigInt(seed) + 0x9e3779b97f4a7c15n);
    const next = (): bigint => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    let s1 = this.s0;
    const s0 = this.s1;
    this.s0 = s0;
    s1 = BigInt.asUintN(64, s1 ^ (s1 << 23n));
    this.s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    const r = Number(BigInt.asUintN(64, this.s1 + s0) >> 11n) / 2 ** 53;
    return Math.floor(r * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

export type MutationName = 'bitflip' | 'byte' | 'truncate' | 'field' | 'splice' | 'insert' | 'delete' | 'block-swap';

export interface Mutation {
  name: MutationName;
  detail: string;
}

const INTERESTING_U16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffd, 0xfffe, 0xffff];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x8000, 0x10000, 0x100000];

/**
 * Offsets of the length and count fields a cabinet parser trusts: the CFHEADER fields, the
 * first CFFOLDER and CFFILE entries, and the first CFDATA header. Computed from the (maybe
 * already mutated) bytes, without validation: wrong values only make the edit land elsewhere.
 */
export function cabinetFieldOffsets(buf: Buffer): { offset: number; width: 2 | 4 }[] {
  const fields: { offset: number; width: 2 | 4 }[] = [];
  if (buf.length < 36) return fields;
  for (const o of [8, 16]) fields.push({ offset: o, width: 4 }); // cbCabinet, coffFiles
  for (const o of [26, 28, 30, 32, 34]) fields.push({ offset: o, width: 2 }); // cFolders, cFiles, flags, setID, iCabinet
  const flags = buf.readUInt16LE(30);
  let pos = 36;
  let cbCFFolder = 0;
  if (flags & 4 && buf.length >= 40) {
    fields.push({ offset: 36, width: 2 }); // cbCFHeader
    fields.push({ offset: 38, width: 2 }); // cbCFFolder + cbCFData as one u16
    cbCFFolder = buf[38];
    pos = 40 + buf.readUInt16LE(36);
    if (buf.readUInt16LE(36) >= 20 && buf.length >= 52) {
      fields.push({ offset: 44, width: 4 }, { offset: 48, width: 4 }); // Authenticode sigPos, sigLen
    }
  }
  // prev/next strings are skipped approximately; the folder fields found may be off, which is fine
  if (pos + 8 <= buf.length) {
    fields.push({ offset: pos, width: 4 }, { offset: pos + 4, width: 2 }, { offset: pos + 6, width: 2 });
    const coffCabStart = buf.readUInt32LE(pos);
    if (coffCabStart + 8 <= buf.length) {
      fields.push({ offset: coffCabStart, width: 4 }, { offset: coffCabStart + 4, width: 2 }, { offset: coffCabStart + 6, width: 2 });
    }
  }
  void cbCFFolder;
  const coffFiles = buf.readUInt32LE(16);
  if (coffFiles + 16 <= buf.length) {
    fields.push({ offset: coffFiles, width: 4 }, { offset: coffFiles + 4, width: 4 }, { offset: coffFiles + 8, width: 2 });
  }
  return fields;
}

/** Apply one random mutation; `donors` are other seeds to splice from. */
export function mutate(input: Buffer, rng: Rng, donors: readonly Buffer[]): { output: Buffer; mutation: Mutation } {
  const kinds: MutationName[] = ['bitflip', 'byte', 'truncate', 'field', 'field', 'splice', 'insert', 'delete', 'block-swap'];
  const name = rng.pick(kinds);
  const buf = Buffer.from(input);
  const len = buf.length;
  const at = (max = len): number => (max <= 0 ? 0 : rng.int(max));
  switch (name) {
    case 'bitflip': {
      const n = 1 + rng.int(4);
      const where: number[] = [];
      for (let i = 0; i < n && len > 0; i++) {
        const o = at();
        buf[o] ^= 1 << rng.int(8);
        where.push(o);
      }
      return { output: buf, mutation: { name, detail: `bits at ${where.join(',')}` } };
    }
    case 'byte': {
      const o = at();
      if (len > 0) buf[o] = rng.int(256);
      return { output: buf, mutation: { name, detail: `byte at ${o}` } };
    }
    case 'truncate': {
      const n = at(len);
      return { output: buf.subarray(0, n), mutation: { name, detail: `to ${n} bytes` } };
    }
    case 'field': {
      const fields = cabinetFieldOffsets(buf).filter((f) => f.offset + f.width <= len);
      if (fields.length === 0) return mutate(input, rng, donors);
      const f = rng.pick(fields);
      const old = f.width === 2 ? buf.readUInt16LE(f.offset) : buf.readUInt32LE(f.offset);
      const choices = f.width === 2 ? INTERESTING_U16 : INTERESTING_U32;
      const mode = rng.int(3);
      const max = f.width === 2 ? 0xffff : 0xffffffff;
      let v = mode === 0 ? rng.pick(choices) : mode === 1 ? old + 1 + rng.int(16) : old - 1 - rng.int(16);
      v = ((v % (max + 1)) + (max + 1)) % (max + 1);
      if (f.width === 2) buf.writeUInt16LE(v, f.offset);
      else buf.writeUInt32LE(v >>> 0, f.offset);
      return { output: buf, mutation: { name, detail: `u${f.width * 8} at ${f.offset}: ${old} -> ${v}` } };
    }
    case 'splice': {
      const donor = donors.length > 0 ? rng.pick(donors) : input;
      const from = at(donor.length);
      const n = Math.min(1 + rng.int(4096), donor.length - from);
      const to = at();
      donor.copy(buf, to, from, from + Math.max(0, Math.min(n, len - to)));
      return { output: buf, mutation: { name, detail: `${n} donor bytes from ${from} to ${to}` } };
    }
    case 'insert': {
      const o = at(len + 1);
      const n = 1 + rng.int(64);
      const ins = Buffer.alloc(n, rng.int(256));
      return { output: Buffer.concat([buf.subarray(0, o), ins, buf.subarray(o)]), mutation: { name, detail: `${n} bytes at ${o}` } };
    }
    case 'delete': {
      const o = at();
      const n = Math.min(1 + rng.int(64), len - o);
      return { output: Buffer.concat([buf.subarray(0, o), buf.subarray(o + n)]), mutation: { name, detail: `${n} bytes at ${o}` } };
    }
    case 'block-swap': {
      // swap two equal-size ranges: reorders CFDATA payloads or CFFILE entries wholesale
      const n = 1 + rng.int(Math.max(1, Math.min(2048, len >> 2)));
      if (len < 2 * n) return mutate(input, rng, donors);
      const a = rng.int(len - n);
      const b = rng.int(len - n);
      const tmp = Buffer.from(buf.subarray(a, a + n));
      buf.copy(buf, a, b, b + n);
      tmp.copy(buf, b);
      return { output: buf, mutation: { name, detail: `${n} bytes ${a}<->${b}` } };
    }
  }
}
