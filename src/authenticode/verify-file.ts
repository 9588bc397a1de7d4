import { RandomAccessFile } from '../io/random-access-file';
import { hasDosSignature } from '../pe/header';
import { verifyCab, type FileVerdict, type VerifyCabOptions } from './cab';
import { verifyPe } from './pe';

export type SignedContainer = 'pe' | 'cab';

/**
 * Which container a file is, by its first bytes: "MZ" is a PE image, anything else is read as a
 * cabinet (whose reader names what it found instead of "MSCF"). Never by the file name: an .exe
 * that is really a cabinet, or the reverse, is verified as what it is.
 */
export function signedContainerOf(path: string): SignedContainer {
  const file = RandomAccessFile.open(path);
  try {
    return hasDosSignature(file.readUpTo(0, 2)) ? 'pe' : 'cab';
  } finally {
    file.close();
  }
}

/** `cabferry verify` for one file of either kind; `deep` opens up an .msu's inner cabinets (PE images have none to open). */
export function verifySignedFile(path: string, options: VerifyCabOptions, deep = false): FileVerdict {
  if (signedContainerOf(path) === 'pe') return verifyPe(path, options);
  return deep ? loadVerifyCabDeep()(path, options) : verifyCab(path, options);
}

/**
 * --deep needs the cabinet reader and every codec; plain verification reads only the header and
 * the signature. Required on demand, so that `cabferry verify` of one file starts as fast as it can.
 */
function loadVerifyCabDeep(): typeof import('./deep').verifyCabDeep {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./deep') as typeof import('./deep')).verifyCabDeep;
}
