/**
 * The CFDATA checksum (FORMATS.md §1.4; MS-CAB "CSUMCompute"): XOR of the little-endian 32-bit
 * words of the data, the 1–3 trailing bytes packed high-to-low into one more word, seeded with
 * the previous result. A block's checksum covers its payload first, then the 4 bytes
 * cbData+cbUncomp of its header (the per-block reserve is not included, as in libmspack).
 */
export function cabChecksum(data: Buffer, seed = 0): number {
  let c = seed | 0;
  const words = data.length >>> 2;
  let i = 0;
  if (LITTLE_ENDIAN) {
    // the hot path (every block of every folder): read words through an aligned view. A payload
    // sits wherever its CFDATA header left it, usually not on a 4-byte boundary, and reading it
    // word by word through readInt32LE took a tenth of a decode: an aligned copy costs far less.
    const view = (data.byteOffset & 3) === 0 ? new Int32Array(data.buffer, data.byteOffset, words) : alignedWords(data, words);
    for (let n = 0; n < words; n++) c ^= view[n]!;
    i = words << 2;
  } else {
    for (let n = 0; n < words; n++, i += 4) c ^= data.readInt32LE(i);
  }
  // the 1-3 leftover bytes, first byte most significant
  let tail = 0;
  for (; i < data.length; i++) tail = (tail << 8) | data[i]!;
  return (c ^ tail) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Scratch for alignedWords, grown to the largest payload seen (one CFDATA block: ≤ 38 KiB). */
let scratch = new Int32Array(0);

/** The first `words` 32-bit words of `data`, copied to an aligned scratch view (valid until the next call). */
function alignedWords(data: Buffer, words: number): Int32Array {
  if (scratch.length < words) scratch = new Int32Array(Math.max(words, 10240));
  new Uint8Array(scratch.buffer, 0, words << 2).set(data.subarray(0, words << 2));
  return scratch;
}

/**
 * The checksum stored in a CFDATA header for `payload` with the given sizes. The 4 size bytes
 * (cbData, cbUncomp, little-endian) are one whole word, so they fold in as one XOR: no buffer
 * per block for them (this runs for every block of every folder).
 */
export function cfdataChecksum(payload: Buffer, cbData: number, cbUncomp: number): number {
  return (cabChecksum(payload) ^ ((cbData & 0xffff) | ((cbUncomp & 0xffff) << 16))) >>> 0;
}
