/**
 * The importer's copy of a large signed payload into the blob store: one read feeds the write
 * and the digests, which run on the digest workers beside the copy (copyWithDigests). The stored
 * copy must be the source byte for byte with the digests of those bytes, and a copy that fails
 * part-way must leave nothing in the store's temp area.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { digestFile } from '../../src/authenticode/digest';
import { PARALLEL_DIGEST_MIN_BYTES } from '../../src/authenticode/parallel-digest';
import { prepareSignature } from '../../src/authenticode/verify-file';
import { BlobStore, type BlobTempFile } from '../../src/catalog/blob-store';
import { internalError } from '../../src/errors';
import { ingestFile } from '../../src/importer/ingest';
import { RandomAccessFile } from '../../src/io/random-access-file';
import { buildSignedPayloadCab } from '../../scripts/lib/bench-payload';
import { assertThrowsCode, hasTool, tempDir } from '../common.helpers';

const MiB = 1024 * 1024;

describe('ingest of a signed cab large enough for the digest workers', () => {
  const skip = hasTool('osslsigncode') ? false : 'osslsigncode is not installed (it signs the test cabinet)';
  let dir = '';
  let payload = '';

  before(() => {
    if (skip) return;
    dir = tempDir('cabferry-ingest-');
    payload = buildSignedPayloadCab(path.join(dir, 'source', 'big.cab'), PARALLEL_DIGEST_MIN_BYTES / MiB + 6);
  });

  it('stores the source byte for byte, with the digests a sequential read of the source gives', { skip }, () => {
    const blobs = new BlobStore(path.join(dir, 'store-ok'));
    blobs.ensureLayout();
    const ingested = ingestFile(payload, blobs);
    try {
      const source = RandomAccessFile.open(payload);
      let expected;
      try {
        const prepared = prepareSignature(source);
        assert.deepEqual([...new Set(prepared.algorithms)].sort(), ['sha1', 'sha256'], 'dual-signed: two Authenticode digests besides the file hash');
        expected = digestFile(source, prepared.ranges, prepared.algorithms);
      } finally {
        source.close();
      }
      const stored = fs.readFileSync(ingested.temp.path);
      assert.equal(stored.length, fs.statSync(payload).size);
      assert.equal(createHash('sha256').update(stored).digest('hex'), expected.sha256.toString('hex'), 'the stored copy is the source');
      assert.equal(ingested.sha256, expected.sha256.toString('hex'));
      assert.ok('prepared' in ingested.signature, 'read as a signed cabinet');
      for (const [alg, digest] of expected.authenticode) assert.ok(ingested.signature.digests.authenticode.get(alg)?.equals(digest), alg);
    } finally {
      ingested.temp.discard();
    }
  });

  it('a write that fails part-way (disk full) is the write error, and no temp file is left', { skip }, () => {
    const blobs = new (class extends BlobStore {
      override createTemp(): BlobTempFile {
        const temp = super.createTemp();
        const write = temp.write.bind(temp);
        temp.write = (chunk: Buffer) => {
          if (temp.bytesWritten >= 20 * MiB) throw internalError('BLOB_WRITE', `cannot write ${temp.path}: no space left on device`);
          write(chunk);
        };
        return temp;
      }
    })(path.join(dir, 'store-full'));
    blobs.ensureLayout();
    assertThrowsCode(() => ingestFile(payload, blobs), 'BLOB_WRITE', 'internal');
    assert.deepEqual(fs.readdirSync(blobs.tmpDir), []);
  });
});
