import type { Readable } from 'node:stream';
import { digestFile, FileDigester, type FileDigests } from '../authenticode/digest';
import { copyWithDigests } from '../authenticode/parallel-digest';
import { prepareSignature, type PreparedSignature } from '../authenticode/verify-file';
import type { BlobStore, BlobTempFile } from '../catalog/blob-store';
import { type CabferryError, inputError, internalError, isCabferryError } from '../errors';
import { RandomAccessFile } from '../io/random-access-file';

/**
 * Getting a payload's bytes into the store's temp area, hashed on the way (DESIGN.md: one
 * pass computes every digest). For a file, its cabinet or PE headers and signature blobs are read
 * first (a few KB), so the one sequential copy computes the file SHA-256 and each
 * Authenticode digest the signatures need — on the digest workers beside the copy for a large
 * file (copyWithDigests), the same buffers feeding the write and the hashes. A zip entry can only be read front to back, so it
 * is spooled first and its Authenticode digests come from a read of the spooled copy.
 *
 * Either way, what is verified and inspected afterwards is the temp copy — the exact bytes the
 * catalog will keep — never the source, which might change underneath us.
 */

export interface IngestedPayload {
  temp: BlobTempFile;
  sha256: string;
  size: number;
  /** the signature layout (cabinet or PE image) as read from the stored copy, or why the file is neither */
  signature: { prepared: PreparedSignature; digests: FileDigests } | { unreadable: CabferryError };
}

export type BytesCallback = (bytes: number) => void;

export interface IngestOptions {
  /**
   * Keep a file that is neither a readable cabinet nor a readable PE image (for quarantine). Otherwise its input error is
   * thrown before anything is copied: a mislabelled ISO should cost a header read, not a copy.
   */
  keepNonCabinets?: boolean;
  onBytes?: BytesCallback;
}

export function ingestFile(path: string, blobs: BlobStore, options: IngestOptions = {}): IngestedPayload {
  const onBytes = options.onBytes ?? (() => {});
  const source = RandomAccessFile.open(path);
  let temp: BlobTempFile | null = null;
  try {
    const before = prepareOrExplain(source);
    if ('unreadable' in before && !options.keepNonCabinets) throw notAPayload(before.unreadable);
    const prepared = 'prepared' in before ? before.prepared : null;
    const copy = blobs.createTemp();
    temp = copy;
    const digests = copyWithDigests(source, prepared?.ranges ?? [], prepared?.algorithms ?? [], (chunk) => {
      copy.write(chunk);
      onBytes(chunk.length);
    });
    copy.finish();
    const signature = signatureOfStoredCopy(temp, source.path, prepared, digests);
    return { temp, sha256: digests.sha256.toString('hex'), size: source.size, signature };
  } catch (e) {
    temp?.discard();
    throw e;
  } finally {
    source.close();
  }
}

export async function ingestStream(stream: Readable, label: string, blobs: BlobStore, onBytes: BytesCallback = () => {}): Promise<IngestedPayload> {
  const temp = blobs.createTemp();
  try {
    const spool = new FileDigester([], []);
    let size = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        spool.update(chunk, size);
        temp.write(chunk);
        size += chunk.length;
        onBytes(chunk.length);
      }
    } catch (e) {
      if (isCabferryError(e)) throw e;
      // yauzl reports corrupt deflate data and size mismatches (validateEntrySizes) here
      throw inputError('ZIP_ENTRY_CORRUPT', `cannot read entry: ${(e as Error).message}`, { file: label, cause: e });
    }
    temp.finish();
    const sha256 = spool.digests().sha256.toString('hex');
    const stored = RandomAccessFile.open(temp.path);
    let signature: IngestedPayload['signature'];
    try {
      const prepared = prepareOrExplain(stored);
      if ('unreadable' in prepared) {
        signature = prepared;
      } else {
        const digests = digestFile(stored, prepared.prepared.ranges, prepared.prepared.algorithms);
        if (digests.sha256.toString('hex') !== sha256) {
          throw internalError('BLOB_READBACK_MISMATCH', `the spooled copy of ${label} does not read back as written`, { file: temp.path });
        }
        signature = { prepared: prepared.prepared, digests };
      }
    } finally {
      stored.close();
    }
    return { temp, sha256, size, signature };
  } catch (e) {
    temp.discard();
    throw e;
  }
}

/** The header reader's error, reworded as the reason a file is refused (same code). */
export function notAPayload(e: CabferryError): CabferryError {
  const where = e.offset === undefined ? '' : `at offset ${e.offset} (0x${e.offset.toString(16)}): `;
  const what = e.code.startsWith('PE_') ? 'PE executable' : 'cabinet';
  return inputError(e.code, `not a readable ${what}: ${where}${e.message}`, { member: e.member, cause: e });
}

/** A cabinet's or PE image's signature layout, or the input error that says it is neither. */
function prepareOrExplain(file: RandomAccessFile): { prepared: PreparedSignature } | { unreadable: CabferryError } {
  try {
    return { prepared: prepareSignature(file) };
  } catch (e) {
    if (isCabferryError(e) && e.kind === 'input') return { unreadable: e };
    throw e;
  }
}

/**
 * Re-read the header and signature from the stored copy. If the source changed between the
 * first look and the copy, the hashed ranges or algorithms differ and the file is refused:
 * digests over one layout must never be checked against another.
 */
function signatureOfStoredCopy(temp: BlobTempFile, label: string, before: PreparedSignature | null, digests: FileDigests): IngestedPayload['signature'] {
  const stored = RandomAccessFile.open(temp.path);
  try {
    const after = prepareOrExplain(stored);
    if ('unreadable' in after) {
      if (before === null) return after;
      throw inputError('SOURCE_CHANGED', 'the file changed while it was being imported', { file: label });
    }
    const same =
      before !== null &&
      before.container === after.prepared.container &&
      JSON.stringify(before.ranges) === JSON.stringify(after.prepared.ranges) &&
      JSON.stringify([...before.algorithms].sort()) === JSON.stringify([...after.prepared.algorithms].sort());
    if (!same) throw inputError('SOURCE_CHANGED', 'the file changed while it was being imported', { file: label });
    return { prepared: after.prepared, digests };
  } finally {
    stored.close();
  }
}
