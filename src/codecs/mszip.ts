import { inputError } from '../errors';
import { MAX_BLOCK_OUTPUT, type BlockDecoder } from './types';

/**
 * MSZIP (FORMATS.md §2.2): every CFDATA payload is "CK" followed by a complete raw DEFLATE
 * stream. The LZ77 window is NOT reset between blocks of a folder, so each block is inflated
 * with the previous 32 KiB of output as its preset dictionary (what zlib's `dictionary` option
 * does for raw inflate). Output is capped at 32 KiB per block, so a bomb cannot grow memory.
 */
const MSZIP_SIGNATURE = 0x4b43; // "CK" read little-endian

export function createMszipDecoder(): BlockDecoder {
  // loaded with the first MSZIP folder: node:zlib costs a few milliseconds of start-up that a
  // command reading only LZX cabinets (an update's) would pay for nothing
  const zlib = require('node:zlib') as typeof import('node:zlib');
  let history: Buffer = Buffer.alloc(0);
  return {
    decodeBlock(input: Buffer, outputSize: number): Buffer {
      if (input.length < 2 || input.readUInt16LE(0) !== MSZIP_SIGNATURE) {
        throw inputError('MSZIP_BAD_SIGNATURE', 'MSZIP block does not start with "CK"');
      }
      let out: Buffer;
      try {
        out = zlib.inflateRawSync(input.subarray(2), {
          maxOutputLength: MAX_BLOCK_OUTPUT,
          ...(history.length > 0 ? { dictionary: history } : {}),
        });
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
          ? `inflates to more than ${MAX_BLOCK_OUTPUT} bytes`
          : `does not inflate (${(e as Error).message})`;
        throw inputError('MSZIP_BAD_DATA', `MSZIP block ${why}`, { cause: e });
      }
      if (out.length !== outputSize) {
        throw inputError('MSZIP_SIZE_MISMATCH', `MSZIP block inflates to ${out.length} bytes but declares ${outputSize}`);
      }
      history = out.length >= MAX_BLOCK_OUTPUT ? out : Buffer.concat([history, out]).subarray(-MAX_BLOCK_OUTPUT);
      return out;
    },
  };
}
