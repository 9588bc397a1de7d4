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
  if (LITTLE_ENDIAN && (data.byteOffset & 3) === 0) {
    // the hot path (every block of every folder): read words through an aligned view
    const view = new Int32Array(data.buffer, data.byteOffset, words);
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

/** The checksum stored in a CFDATA header for `payload` with the given sizes. */
export function cfdataChecksum(payload: Buffer, cbData: number, cbUncomp: number): number {
  const sizes = Buffer.allocUnsafe(4);
  sizes.writeUInt16LE(cbData, 0);
  sizes.writeUInt16LE(cbUncomp, 2);
  return cabChecksum(sizes, cabChecksum(payload));
}
