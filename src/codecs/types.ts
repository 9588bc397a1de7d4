/**
 * The one interface between the CAB container reader and the decompressors. The container
 * knows nothing about compression; a codec knows nothing about cabinets (libmspack's split).
 *
 * A decoder is made per folder and fed that folder's CFDATA payloads in order. State (the
 * LZ77 window, LZX trees and repeated offsets) persists across blocks of one folder and never
 * across folders.
 */
export interface BlockDecoder {
  /**
   * Decode one CFDATA payload into exactly `outputSize` bytes (≤ 32768).
   * The returned buffer may be a view into the decoder's own memory: it is valid until the next
   * call, so callers copy it if they keep it.
   * Throws CabferryError (kind "input") on corrupt data; never returns a short buffer.
   */
  decodeBlock(input: Buffer, outputSize: number): Buffer;
  /**
   * The folder is done and its last output consumed: the decoder's memory may serve the next
   * folder. Optional; nothing may be decoded with it afterwards.
   */
  release?(): void;
}

export type CompressionType = 'none' | 'mszip' | 'quantum' | 'lzx' | 'unknown';

export interface CompressionMethod {
  type: CompressionType;
  /** LZX / Quantum window size as a power of two */
  windowBits?: number;
  /** Quantum level */
  level?: number;
  /** the raw CFFOLDER.typeCompress value */
  raw: number;
  /** "none", "mszip", "lzx:21", "quantum:4:21", "unknown:0x000f" */
  label: string;
}

/** Largest uncompressed CFDATA payload the format allows. */
export const MAX_BLOCK_OUTPUT = 32768;
/** Largest compressed CFDATA payload accepted (LZX worst case, as libmspack allows). */
export const MAX_BLOCK_INPUT = 32768 + 6144;
