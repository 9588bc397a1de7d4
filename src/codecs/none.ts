import { inputError } from '../errors';
import type { BlockDecoder } from './types';

/** Stored blocks: the CFDATA payload is the output, so its length must be exactly cbUncomp. */
export function createNoneDecoder(): BlockDecoder {
  return {
    decodeBlock(input: Buffer, outputSize: number): Buffer {
      if (input.length !== outputSize) {
        throw inputError('NONE_SIZE_MISMATCH', `stored block holds ${input.length} bytes but declares ${outputSize}`);
      }
      return input;
    },
  };
}
