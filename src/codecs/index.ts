import { inputError } from '../errors';
import { createLzxDecoder } from './lzx';
import { describeCompression, LZX_MAX_WINDOW_BITS, LZX_MIN_WINDOW_BITS } from './method';
import { createMszipDecoder } from './mszip';
import { createNoneDecoder } from './none';
import { createQuantumDecoder } from './quantum';
import type { BlockDecoder, CompressionMethod } from './types';

export { describeCompression };

/**
 * A fresh decoder for one folder. Decoder state never crosses folders, so callers make one per
 * folder pass. Methods we cannot decode are input errors naming the method, never a crash.
 */
export function createBlockDecoder(method: CompressionMethod): BlockDecoder {
  switch (method.type) {
    case 'none':
      return createNoneDecoder();
    case 'mszip':
      return createMszipDecoder();
    case 'lzx': {
      const bits = method.windowBits ?? -1;
      if (bits < LZX_MIN_WINDOW_BITS || bits > LZX_MAX_WINDOW_BITS) {
        throw inputError('LZX_BAD_WINDOW', `unsupported LZX window size 2^${bits} (CAB allows 2^${LZX_MIN_WINDOW_BITS}..2^${LZX_MAX_WINDOW_BITS})`);
      }
      return createLzxDecoder(bits);
    }
    case 'quantum':
      return createQuantumDecoder(method.windowBits ?? -1);
    case 'unknown':
      throw inputError('UNSUPPORTED_COMPRESSION', `unsupported compression: unknown method 0x${method.raw.toString(16).padStart(4, '0')}`);
  }
}
