import type { CompressionMethod } from './types';

/**
 * What a CFFOLDER.typeCompress value means (FORMATS.md §1.2). Pure description: whether a
 * decoder exists for it is decided by createBlockDecoder in ./index.
 *
 * Bits 0-3 are the method; LZX keeps its window size in bits 8-12 (15..21), Quantum its level in
 * bits 4-7 and window in bits 8-12. Values outside the documented ranges are still described
 * (label "lzx:14", say) so `list` can show a hostile cabinet; the decoder factory rejects them.
 */
export function describeCompression(typeCompress: number): CompressionMethod {
  const raw = typeCompress & 0xffff;
  switch (raw & 0x000f) {
    case 0:
      return { type: 'none', raw, label: 'none' };
    case 1:
      return { type: 'mszip', raw, label: 'mszip' };
    case 2: {
      const level = (raw >>> 4) & 0x0f;
      const windowBits = (raw >>> 8) & 0x1f;
      return { type: 'quantum', raw, level, windowBits, label: `quantum:${level}:${windowBits}` };
    }
    case 3: {
      const windowBits = (raw >>> 8) & 0x1f;
      return { type: 'lzx', raw, windowBits, label: `lzx:${windowBits}` };
    }
    default:
      return { type: 'unknown', raw, label: `unknown:0x${raw.toString(16).padStart(4, '0')}` };
  }
}

/** LZX windows a CAB may declare (2^15 .. 2^21 bytes). */
export const LZX_MIN_WINDOW_BITS = 15;
export const LZX_MAX_WINDOW_BITS = 21;
