/**
 * The two low-level pieces everything rests on: the offset-preserving DER walker (exact slices,
 * every length checked) and the one-pass digester (same digests whatever the chunking, only
 * the §3.2 ranges hashed).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { readCabHeader } from '../../src/cab/header';
import { children, raw, readDer, readOid, readTime, value } from '../../src/authenticode/der';
import { authenticodeDigestRanges, digestFile, FileDigester, type ByteRange } from '../../src/authenticode/digest';
import { copyWithDigests, digestFileInParallel, PARALLEL_DIGEST_MIN_BYTES, workerCount } from '../../src/authenticode/parallel-digest';
import { isVerificationError } from '../../src/authenticode/errors';
import { RandomAccessFile } from '../../src/io/random-access-file';
import * as path from 'node:path';
import { corpusPath, tempDir } from '../common.helpers';

const malformed = (e: unknown): boolean => isVerificationError(e) && e.code === 'SIG_MALFORMED';

test('DER: short and long lengths, exact slices with offsets into the original buffer', () => {
  const long = Buffer.alloc(300, 0xab);
  const buf = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x32, 0x04, 0x82, 0x01, 0x2c]), long, Buffer.from([0x05, 0x00])]);
  const top = readDer(buf);
  assert.deepEqual([top.tag, top.start, top.valueStart, top.end], [0x30, 0, 4, buf.length]);
  const [octets, nul] = children(top);
  assert.equal(octets.start, 4);
  assert.ok(value(octets).equals(long));
  assert.equal(raw(nul).toString('hex'), '0500');
  assert.equal(value(octets).buffer, buf.buffer, 'a view, not a copy');
});

test('DER: every malformed length is SIG_MALFORMED, never a bad read', () => {
  const cases = {
    empty: '',
    'tag only': '30',
    'length past end': '3005020101',
    'child past parent': '30030204010203',
    indefinite: '308002010100 00',
    'five-byte length': '3085000000000100',
    'truncated long length': '3082 01',
    'multi-byte tag': '1f8101 00',
  };
  for (const [what, hex] of Object.entries(cases)) {
    const buf = Buffer.from(hex.replace(/ /g, ''), 'hex');
    assert.throws(() => {
      const d = readDer(buf);
      children(d);
    }, malformed, what);
  }
  // children must exactly fill a constructed element
  assert.throws(() => children(readDer(Buffer.from('300402010100', 'hex'))), malformed);
});

test('DER: OIDs decode like X.690 says, and hostile ones are refused', () => {
  const oid = (hex: string): string => readOid(readDer(Buffer.from(hex, 'hex')), 'oid');
  assert.equal(oid('06092a864886f70d010702'), '1.2.840.113549.1.7.2');
  assert.equal(oid('060a2b0601040182370204 01'.replace(/ /g, '')), '1.3.6.1.4.1.311.2.4.1');
  assert.equal(oid('0603550403'), '2.5.4.3');
  assert.equal(oid('0603883703'), '2.999.3'); // first arc 2 takes everything from 80 up
  for (const bad of ['0600', '06022a86', '06032a8001']) assert.throws(() => oid(bad), malformed, bad);
});

test('DER: UTCTime (RFC 5280 two-digit years) and GeneralizedTime with fractions', () => {
  const t = (tag: number, s: string): Date => readTime(readDer(Buffer.concat([Buffer.from([tag, s.length]), Buffer.from(s, 'latin1')])), 'time');
  assert.equal(t(0x17, '491231235959Z').toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(t(0x17, '500101000000Z').toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(t(0x18, '20150721173921.078Z').toISOString(), '2015-07-21T17:39:21.078Z');
  assert.throws(() => t(0x18, '2015-07-21'), malformed);
});

test('FileDigester: any chunking gives the digests of the ranges and of the whole file', () => {
  const data = randomBytes(100_000);
  const ranges: ByteRange[] = [[0, 4], [8, 36], [40, 42], [60, 99_000]];
  const expected = createHash('sha256');
  for (const [s, e] of ranges) expected.update(data.subarray(s, e));
  for (const chunk of [1, 7, 4096, 65536, 100_000]) {
    const d = new FileDigester(ranges, ['sha256', 'sha1', 'sha256']);
    for (let off = 0; off < data.length; off += chunk) d.update(data.subarray(off, off + chunk), off);
    const out = d.digests();
    assert.ok(out.authenticode.get('sha256')!.equals(expected.copy().digest()), `chunk ${chunk}`);
    assert.equal(out.authenticode.size, 2);
    assert.ok(out.sha256.equals(createHash('sha256').update(data).digest()));
  }
});

test('FileDigester: out-of-order or incomplete input is an internal error, not a wrong digest', () => {
  const d = new FileDigester([[0, 10]], ['sha1']);
  assert.throws(() => d.update(Buffer.alloc(4), 4), /expected 0/);
  d.update(Buffer.alloc(4), 0);
  assert.throws(() => d.digests(), /before the hashed range/);
});

test('the CAB ranges follow FORMATS.md §3.2 and reproduce the signed digest of a real file', () => {
  const path = corpusPath('msu', 'Windows6.1-KB2999226-x64.msu');
  const file = RandomAccessFile.open(path);
  try {
    const header = readCabHeader(file);
    const ranges = authenticodeDigestRanges(header);
    // MSCF | cbCabinet..iCabinet | cbJunk | one CFFOLDER (touching the file table) .. signature
    assert.deepEqual(ranges, [[0, 4], [8, 36], [40, 42], [60, header.authenticode!.sigPos]]);
    const digests = digestFile(file, ranges, ['sha1', 'sha256']);
    assert.equal(digests.sha256.toString('hex'), createHash('sha256').update(fs.readFileSync(path)).digest('hex'));
    // osslsigncode prints this file's SHA-1 file digest as FACA8F52…
    assert.equal(digests.authenticode.get('sha1')!.toString('hex').toUpperCase(), 'FACA8F520BDA90AFB61C80352A88C2F8D59EC6C8');
  } finally {
    file.close();
  }
});

/** A file of `size` random-ish bytes (a repeated odd-sized random block) in a fresh temp folder. */
function writeTestFile(size: number): string {
  const file = path.join(tempDir('cabferry-digest-'), 'big.bin');
  const block = randomBytes(1024 * 1024 + 7);
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < size; written += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, size - written));
  fs.closeSync(fd);
  return file;
}

/** big enough for the digest workers: several ring turns and a short last slot */
const PARALLEL_SIZE = PARALLEL_DIGEST_MIN_BYTES + 3 * 1024 * 1024 + 17;

test('the parallel digest pass (worker threads over a shared ring) equals the sequential one', () => {
  const size = PARALLEL_SIZE;
  const raf = RandomAccessFile.open(writeTestFile(size));
  try {
    const ranges: ByteRange[] = [[0, 4], [8, 36], [40, 42], [60, size - 5000]];
    const sequential = digestFile(raf, ranges, ['sha1', 'sha256']);
    // three jobs (SHA-1 here, the Authenticode and the file SHA-256 on workers): one worker with both, or one each
    for (const maxWorkers of [1, 2]) {
      const parallel = digestFileInParallel(raf, ranges, ['sha1', 'sha256'], { fileSha256: true, maxWorkers });
      assert.ok(parallel.sha256?.equals(sequential.sha256), `${maxWorkers} worker(s): file SHA-256`);
      for (const alg of ['sha1', 'sha256']) assert.ok(parallel.authenticode.get(alg)?.equals(sequential.authenticode.get(alg)!), `${maxWorkers} worker(s): ${alg}`);
    }
    const withoutFileHash = digestFileInParallel(raf, ranges, ['sha1', 'sha256'], { fileSha256: false });
    assert.equal(withoutFileHash.sha256, null);
    assert.ok(withoutFileHash.authenticode.get('sha1')?.equals(sequential.authenticode.get('sha1')!));
    assert.ok(withoutFileHash.authenticode.get('sha256')?.equals(sequential.authenticode.get('sha256')!));
    // a single hash runs on this thread, reading only up to the end of the hashed ranges
    const single = digestFileInParallel(raf, ranges, ['sha256'], { fileSha256: false });
    assert.ok(single.authenticode.get('sha256')?.equals(sequential.authenticode.get('sha256')!));
  } finally {
    raf.close();
  }
});

test('the digest workers: one per core besides the reading thread, at most one per job it does not hash itself', () => {
  assert.equal(workerCount(3, 1), 1, 'two cores: the import\'s two SHA-256 jobs share one worker');
  assert.equal(workerCount(3, 3), 2);
  assert.equal(workerCount(2, 7), 1);
  assert.equal(workerCount(1, 7), 0, 'one job: hashed on the reading thread');
  assert.equal(workerCount(3, 0), 0, 'one core: no workers');
});

test("the import's copy pass hands every byte to its sink once, in order, and computes the same digests as the sequential pass", () => {
  for (const size of [PARALLEL_SIZE, 5 * 1024 * 1024 + 3]) {
    const file = writeTestFile(size);
    const raf = RandomAccessFile.open(file);
    try {
      const ranges: ByteRange[] = [[0, 4], [8, 36], [40, 42], [60, size - 5000]];
      const sequential = digestFile(raf, ranges, ['sha1', 'sha256']);
      const copied = createHash('sha256');
      let next = 0;
      const digests = copyWithDigests(raf, ranges, ['sha1', 'sha256'], (chunk, offset) => {
        assert.equal(offset, next, `${size}: chunks in file order`);
        next += chunk.length;
        copied.update(chunk); // hashed now: the pass reuses the buffer once the sink returns
      });
      assert.equal(next, size, `${size}: the sink saw the whole file`);
      assert.equal(copied.digest('hex'), sequential.sha256.toString('hex'), `${size}: the sink saw the file's bytes`);
      assert.ok(digests.sha256.equals(sequential.sha256), `${size}: file SHA-256`);
      for (const alg of ['sha1', 'sha256']) assert.ok(digests.authenticode.get(alg)?.equals(sequential.authenticode.get(alg)!), `${size}: ${alg}`);
    } finally {
      raf.close();
    }
    fs.rmSync(file);
  }
});

test('a copy sink that fails part-way (a full disk) ends the pass with its own error, and the next pass works', () => {
  const raf = RandomAccessFile.open(writeTestFile(PARALLEL_SIZE));
  try {
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    assert.throws(
      () =>
        copyWithDigests(raf, [[0, PARALLEL_SIZE]], ['sha1'], (_chunk, offset) => {
          if (offset >= 20 * 1024 * 1024) throw full;
        }),
      (e) => e === full,
    );
    const again = copyWithDigests(raf, [[0, PARALLEL_SIZE]], ['sha1'], () => {});
    assert.ok(again.authenticode.get('sha1')?.equals(digestFile(raf, [[0, PARALLEL_SIZE]], ['sha1']).authenticode.get('sha1')!));
  } finally {
    raf.close();
  }
});
