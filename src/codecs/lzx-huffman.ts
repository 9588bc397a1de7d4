/**
 * Canonical Huffman decode tables for LZX (FORMATS.md §2.4).
 *
 * LZX codes are canonical (shorter codes first, ties by symbol index), at most 16 bits long,
 * read MSB-first. A table is looked up with the next 16 bits of the stream: the top
 * `primaryBits` of them index a primary table; codes longer than that continue in a subtable
 * indexed by the remaining 16 − primaryBits bits. One lookup (two for long codes) per symbol,
 * no per-symbol allocation.
 *
 * Entry layout (Uint32): symbol codes are `symbol << 8 | codeLength` (codeLength 1..16);
 * subtable links are `subtableStart << 8 | LINK`.
 */
import { inputError } from '../errors';

export const MAX_CODE_LENGTH = 16;
/**
 * Entry fields as a const enum, which tsc writes into the code as numbers: an exported const is
 * a property of this module's exports object, which the decoder's optimized hot loop loaded (with
 * a map check) on every symbol (see Lzx in ./lzx).
 */
export const enum Entry {
  LINK = 0x80,
  LENGTH_MASK = 0x1f,
}
/** room after the last symbol for a pretree run that spills past it (longest run: 20 + 31) */
export const LENGTH_RUN_SLACK = 51;

export class HuffmanTable {
  /**
   * code length per symbol (plus LENGTH_RUN_SLACK spill room); LZX delta-codes these against the
   * previous block, so they persist
   */
  readonly lengths: Uint8Array;
  readonly table: Uint32Array;
  /** bits of the 16-bit peek that index the primary table */
  readonly primaryBits: number;
  /** how far to shift the 16-bit peek right to get the primary index */
  readonly primaryShift: number;
  /** mask applied to the 16-bit peek to index inside a subtable */
  readonly subtableMask: number;
  /** true when every length is zero (only the LENGTH tree may be used that way); set by reset() */
  declare empty: boolean;

  private readonly lengthCounts = new Uint16Array(MAX_CODE_LENGTH + 1);
  private readonly nextCode = new Uint32Array(MAX_CODE_LENGTH + 1);
  /** where each code length's symbols start in `canonicalOrder` while it is filled */
  private readonly lengthStart = new Uint16Array(MAX_CODE_LENGTH + 1);
  /** the symbols with a code, by code length then by symbol: the order canonical codes are given out */
  private readonly canonicalOrder: Uint16Array;

  constructor(readonly name: string, readonly numSymbols: number, primaryBits: number) {
    this.lengths = new Uint8Array(numSymbols + LENGTH_RUN_SLACK);
    this.canonicalOrder = new Uint16Array(numSymbols);
    this.primaryBits = primaryBits;
    this.primaryShift = MAX_CODE_LENGTH - primaryBits;
    this.subtableMask = (1 << this.primaryShift) - 1;
    // Each primary slot holds at most one subtable, and each subtable holds at least one symbol.
    const maxSubtables = Math.min(1 << primaryBits, numSymbols);
    this.table = new Uint32Array((1 << primaryBits) + maxSubtables * (1 << this.primaryShift));
    this.reset();
  }

  /** A new table's state: no code lengths yet (LZX delta-codes the first block's against zeros). */
  reset(): void {
    this.lengths.fill(0);
    this.empty = true;
  }

  /**
   * Rebuild the decode table from `lengths[0..activeSymbols)`. The code must be complete (the
   * lengths fill the code space exactly); an all-zero set is accepted only if `allowEmpty`.
   * `label` names the tree in error messages.
   */
  build(activeSymbols: number, allowEmpty: boolean, label = this.name): void {
    const { lengths, lengthCounts, nextCode, lengthStart, canonicalOrder, table, primaryBits, primaryShift } = this;
    lengthCounts.fill(0);
    for (let s = 0; s < activeSymbols; s++) lengthCounts[lengths[s]!]!++;
    lengthCounts[0] = 0;

    let unused = 1; // fraction of the code space still free, in units of 2^-len
    let used = 0;
    for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
      unused = (unused << 1) - lengthCounts[len]!;
      used += lengthCounts[len]!;
      if (unused < 0) throw inputError('LZX_BAD_TREE', `${label} is over-subscribed (code lengths overflow the code space)`);
    }
    // one store on both paths: the first empty length tree must not find it unvisited
    this.empty = used === 0;
    if (used === 0) {
      if (!allowEmpty) throw inputError('LZX_BAD_TREE', `${label} has no code lengths`);
      return;
    }
    if (unused !== 0) throw inputError('LZX_BAD_TREE', `${label} is incomplete (code lengths leave part of the code space unused)`);

    let code = 0;
    let start = 0;
    for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
      nextCode[len] = code;
      code = (code + lengthCounts[len]!) << 1;
      lengthStart[len] = start;
      start += lengthCounts[len]!;
    }
    // One pass sorts the symbols into canonical order (by length, then by symbol): walking every
    // symbol once per code length instead cost 16 passes over up to 656 symbols per tree, about
    // 3,000 trees over the bench's cabinets, in a function that mostly runs before V8 optimizes it.
    for (let sym = 0; sym < activeSymbols; sym++) {
      const len = lengths[sym]!;
      if (len !== 0) canonicalOrder[lengthStart[len]!++] = sym;
    }

    // Canonical codes grow with length, so the prefixes of long codes are the primary slots left
    // after all short codes, in increasing order: subtables are handed out as we go.
    let subtableEnd = 1 << primaryBits;
    let lastPrefix = -1;
    let lastSubtable = 0;
    for (let i = 0; i < used; i++) {
      const sym = canonicalOrder[i]!;
      const len = lengths[sym]!;
      const c = nextCode[len]!++;
      const entry = (sym << 8) | len;
      if (len <= primaryBits) {
        const first = c << (primaryBits - len);
        table.fill(entry, first, first + (1 << (primaryBits - len)));
      } else {
        const left = c << (MAX_CODE_LENGTH - len); // left-aligned in 16 bits
        const prefix = left >>> primaryShift;
        if (prefix !== lastPrefix) {
          lastPrefix = prefix;
          lastSubtable = subtableEnd;
          subtableEnd += 1 << primaryShift;
          table[prefix] = (lastSubtable << 8) | Entry.LINK;
        }
        const first = lastSubtable + (left & this.subtableMask);
        table.fill(entry, first, first + (1 << (MAX_CODE_LENGTH - len)));
      }
    }
  }
}
