import { inputError, type CabferryError } from '../errors';

/**
 * What one payload may make us do: the bytes it may make us decode (folder output, in any
 * cabinet it holds) and write to temp files (an .msu's payload cab), each relative to the
 * payload's own size, with a floor for tiny files and an absolute cap. This is the one place
 * those numbers are defined; readers (src/cab) charge decoding as blocks come out, inspect
 * (src/package) reserves a temp file's declared size before it opens the file, so a refused
 * payload has written nothing.
 *
 * Why these numbers: an .msu's payload cab is already LZX-compressed, so unpacking it from the
 * .msu writes about the .msu's size (the corpus: 0.7–0.83×). Reading a payload cab's metadata
 * decodes its folders up to the last .mum/.manifest, a few times the cab's size for real
 * updates (LZX on binaries and XML); MSZIP and LZX top out near 1000:1 on zeros, which is what
 * a bomb uses. The floor keeps a 10 KB payload from failing on fixed costs; the caps bound a
 * 4 GiB file, the largest a cabinet can describe.
 */

export interface PayloadBudgetLimits {
  /** decoded bytes allowed per byte of the payload file */
  decodeRatio: number;
  /** temp bytes allowed per byte of the payload file */
  tempRatio: number;
  /** allowance for each of the two whatever the payload's size */
  floorBytes: number;
  maxDecodeBytes: number;
  maxTempBytes: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const defaultPayloadBudgetLimits: Readonly<PayloadBudgetLimits> = Object.freeze({
  decodeRatio: 32,
  tempRatio: 2,
  floorBytes: 16 * MiB,
  maxDecodeBytes: 32 * GiB,
  maxTempBytes: 8 * GiB,
});

/** Where the budget is spent: shown in the error so an operator sees which limit was hit. */
export type BudgetUse = 'decode' | 'temp';

export class PayloadBudget {
  readonly decodeLimit: number;
  readonly tempLimit: number;
  /** bytes decoded so far (every cabinet charged to this budget) */
  decoded = 0;
  /** bytes reserved for temp files so far */
  written = 0;

  constructor(
    /** the payload as the user named it: the error is about it, whichever inner cabinet spent the budget */
    readonly file: string,
    readonly payloadSize: number,
    readonly limits: Readonly<PayloadBudgetLimits> = defaultPayloadBudgetLimits,
  ) {
    this.decodeLimit = Math.floor(Math.min(limits.maxDecodeBytes, limits.floorBytes + limits.decodeRatio * payloadSize));
    this.tempLimit = Math.floor(Math.min(limits.maxTempBytes, limits.floorBytes + limits.tempRatio * payloadSize));
  }

  /** Bytes a decoder has produced (or is about to produce); refuses once the total passes the limit. */
  chargeDecode(bytes: number, what: string): void {
    this.decoded += bytes;
    if (this.decoded > this.decodeLimit) throw this.exceeded('decode', this.decoded, what);
  }

  /** Check, without spending, that `bytes` more could be decoded: a declared extent before a pass begins. */
  assertCanDecode(bytes: number, what: string): void {
    if (this.decoded + bytes > this.decodeLimit) throw this.exceeded('decode', this.decoded + bytes, what);
  }

  /** A temp file's declared size, reserved before the file is created. */
  reserveTemp(bytes: number, what: string): void {
    if (this.written + bytes > this.tempLimit) throw this.exceeded('temp', this.written + bytes, what);
    this.written += bytes;
  }

  private exceeded(use: BudgetUse, total: number, what: string): CabferryError {
    const limit = use === 'decode' ? this.decodeLimit : this.tempLimit;
    const ratio = use === 'decode' ? this.limits.decodeRatio : this.limits.tempRatio;
    const cap = use === 'decode' ? this.limits.maxDecodeBytes : this.limits.maxTempBytes;
    const verb = use === 'decode' ? 'decoding' : 'writing to temp';
    return inputError(
      'PAYLOAD_BUDGET_EXCEEDED',
      `${what}: ${verb} would reach ${total} bytes, over the ${limit}-byte budget for a ${this.payloadSize}-byte payload (${ratio}× its size + ${this.limits.floorBytes}, at most ${cap})`,
      { file: this.file },
    );
  }
}
