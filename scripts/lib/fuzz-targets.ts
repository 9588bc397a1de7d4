/**
 * The library entry points behind `list`, `test`, `extract`, `verify` (cabinets and PE images), `inspect` (.msu/.cab/.exe) and `import`
 * (and `--search`, `--salvage`), as the fuzzer drives them: in-process, one input file at a
 * time. A target resolves on success and throws whatever the library throws; the worker
 * classifies it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTrustAnchors, verifyCab, verifyCabDeep, verifyPe, type TrustAnchor } from '../../src/authenticode';
import { openCab } from '../../src/cab/cabinet';
import { extractCabinets, extractMembers } from '../../src/cab/extract';
import { searchCabinets } from '../../src/cab/search';
import { openCatalog, type Catalog } from '../../src/catalog/catalog';
import { createQuantumDecoder, QUANTUM_MAX_WINDOW_BITS, QUANTUM_MIN_WINDOW_BITS } from '../../src/codecs/quantum';
import { MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT } from '../../src/codecs/types';
import { importPayloads } from '../../src/importer/import';
import { loadKnowledgeBase, type KnowledgeBase } from '../../src/knowledge/knowledge-base';
import { inspectPayload } from '../../src/package/inspect';

export type FuzzTarget = (inputPath: string, scratchDir: string) => void | Promise<void>;

const projectRoot = path.resolve(__dirname, '..', '..', '..');
let trust: TrustAnchor[] | null = null;
function trustAnchors(): TrustAnchor[] {
  // the Microsoft roots and the test PKI root, so mutated real and fixture files reach the
  // deep parts of verification (chain building, timestamps) rather than stopping at "untrusted"
  trust ??= loadTrustAnchors(
    [path.join(projectRoot, '..', 'shared', 'corpus', 'trust-anchors', 'microsoft-roots-bundle.pem'), path.join(projectRoot, 'fixtures', 'pki', 'root.pem')].filter((p) =>
      fs.existsSync(p),
    ),
  );
  return trust;
}

let catalog: Catalog | null = null;

// the shipped knowledge base, loaded once per worker (inspect and import take it explicitly)
let knowledge: KnowledgeBase | null = null;
function knowledgeBase(): KnowledgeBase {
  knowledge ??= loadKnowledgeBase();
  return knowledge;
}

export const fuzzTargets: Record<string, FuzzTarget> = {
  list(input) {
    const cab = openCab(input);
    try {
      for (const m of cab.members) void m.name;
    } finally {
      cab.close();
    }
  },
  test(input) {
    const cab = openCab(input);
    try {
      cab.testCabinet({ digests: true });
    } finally {
      cab.close();
    }
  },
  extract(input, scratch) {
    const out = path.join(scratch, 'out');
    fs.mkdirSync(out, { recursive: true });
    const cab = openCab(input);
    try {
      extractMembers(cab, out, { overwrite: true });
    } finally {
      cab.close();
    }
    assertNothingOutside(scratch, out);
  },
  /** `--search` on list, test and extract: every embedded cabinet found, tested and written */
  search(input, scratch) {
    const out = path.join(scratch, 'out');
    fs.mkdirSync(out, { recursive: true });
    const search = searchCabinets(input);
    try {
      for (const { cabinet } of search.cabinets) {
        for (const m of cabinet.members) void m.name;
        cabinet.testCabinet({ digests: true, salvage: true });
      }
      extractCabinets(search.cabinets.map((c) => ({ cab: c.cabinet })), out, { salvage: true, overwrite: true });
    } finally {
      search.close();
    }
    assertNothingOutside(scratch, out);
  },
  /** `--salvage` on test and extract; salvage must keep every member the strict pass finds intact, byte for byte */
  salvage(input, scratch) {
    const out = path.join(scratch, 'out');
    fs.mkdirSync(out, { recursive: true });
    const cab = openCab(input);
    try {
      const strict = cab.testCabinet({ digests: true });
      const salvaged = cab.testCabinet({ digests: true, salvage: true });
      for (const m of strict.members) {
        const s = salvaged.members[m.index]!;
        if (m.ok && (!s.ok || s.sha256 !== m.sha256)) throw new Error(`salvage lost or changed intact member ${m.index}`);
      }
      if (salvaged.ok !== strict.ok) throw new Error('salvage and the strict pass disagree on whether the cabinet is intact');
      const report = extractMembers(cab, out, { salvage: true, overwrite: true });
      for (const m of report.members) {
        if (m.ok && m.sha256 !== salvaged.members[m.index]!.sha256) throw new Error(`extract --salvage wrote member ${m.index} with other bytes than test --salvage`);
      }
    } finally {
      cab.close();
    }
    assertNothingOutside(scratch, out);
  },
  /**
   * The Quantum decoder on its own, fed the input's bytes as data blocks: the window size comes
   * from the first byte and each block's length from the two bytes before it. Mutated cabinets
   * seldom keep a Quantum folder (the corpus has four), so this reaches the decoder far more often.
   */
  quantum(input) {
    const bytes = fs.readFileSync(input);
    if (bytes.length < 3) return;
    const decoder = createQuantumDecoder(QUANTUM_MIN_WINDOW_BITS + (bytes[0]! % (QUANTUM_MAX_WINDOW_BITS - QUANTUM_MIN_WINDOW_BITS + 1)));
    let pos = 1;
    while (pos + 2 <= bytes.length) {
      const length = Math.min(bytes.length - pos - 2, bytes.readUInt16LE(pos) % MAX_BLOCK_INPUT);
      const block = bytes.subarray(pos + 2, pos + 2 + length);
      pos += 2 + length;
      const last = pos + 2 > bytes.length;
      const out = decoder.decodeBlock(block, last ? (length * 7) % MAX_BLOCK_OUTPUT : MAX_BLOCK_OUTPUT);
      if (out.length !== (last ? (length * 7) % MAX_BLOCK_OUTPUT : MAX_BLOCK_OUTPUT)) throw new Error('Quantum decoder returned a short block');
    }
  },
  verify(input) {
    verifyCab(input, { trust: trustAnchors() });
  },
  'verify-deep'(input) {
    verifyCabDeep(input, { trust: trustAnchors() });
  },
  inspect(input) {
    inspectPayload(input, { trust: trustAnchors(), knowledgeBase: knowledgeBase() });
  },
  /** PE Authenticode on mutated executables: headers, certificate table, WIN_CERTIFICATE entries, page hashes */
  'verify-pe'(input) {
    verifyPe(input, { trust: trustAnchors() });
  },
  /** .exe identity on mutated executables: resource directory, version resource, knowledge-base cross-checks */
  'inspect-exe'(input) {
    inspectPayload(input, { trust: trustAnchors(), knowledgeBase: knowledgeBase() });
  },
  async import(input, scratch) {
    // one catalog per worker: opening SQLite per input would dominate the run
    catalog ??= openCatalog({ dir: path.join(path.dirname(scratch), 'catalog') });
    await importPayloads(catalog, [input], { trust: trustAnchors(), knowledgeBase: knowledgeBase(), quarantine: true });
  },
};

export const fuzzTargetNames = Object.keys(fuzzTargets);

/** Targets fed PE images (executables of the corpus and fixtures) instead of cabinets. */
export const peFuzzTargets: ReadonlySet<string> = new Set(['verify-pe', 'inspect-exe']);

/** Extraction must never write beside its output folder: anything else in scratch is a finding. */
function assertNothingOutside(scratch: string, out: string): void {
  for (const name of fs.readdirSync(scratch)) {
    if (path.join(scratch, name) !== out) throw new Error(`extract wrote outside its output folder: ${name}`);
  }
}
