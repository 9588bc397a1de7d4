import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fixturePath, runCli, tempDir } from '../common.helpers';

/** The import / catalog / trust commands as an operator runs them: exit codes, --json, stdout vs stderr. */

const msu = (name: string) => fixturePath('payloads', name);
const ssuX64 = msu('Windows6.0-KB4493730-x64.msu');
const ssuX86 = msu('Windows6.0-KB4493730-x86.msu');
const sha2X64 = msu('Windows6.0-KB4474419-v4-x64.msu');
const root = fixturePath('pki', 'root.pem');

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T; // throws if stdout holds anything but one JSON document
}

describe('cabferry import', () => {
  it('a broken --knowledge-base stops the import before anything is read (exit 3, KB_BAD_FACT)', () => {
    const cat = path.join(tempDir(), 'cat');
    const broken = tempDir();
    fs.writeFileSync(path.join(broken, 'nt6.0.json'), '{"schema": 2, "family": "nt6.0"}');
    const r = runCli(['import', '--catalog', cat, '--trust', root, '--knowledge-base', broken, ssuX64]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /nt6\.0\.json: .*\[KB_BAD_FACT\]/);
    assert.doesNotMatch(r.stdout, /imported/);
  });

  it('imports with --json (one document on stdout), exit 0; again: duplicates', () => {
    const cat = path.join(tempDir(), 'cat');
    const r = runCli(['import', '--catalog', cat, '--trust', root, '--json', ssuX64, ssuX86, sha2X64]);
    assert.equal(r.status, 0, r.stderr);
    const s = json<{ imported: number; duplicates: number; rejected: number; results: { outcome: string; kb: string }[] }>(r.stdout);
    assert.equal(s.imported, 3);
    assert.deepEqual(s.results.map((x) => x.kb), ['KB4493730', 'KB4493730', 'KB4474419']);
    assert.equal(r.stderr, '', 'no progress on a non-TTY stderr');
    const again = runCli(['import', '--catalog', cat, '--trust', root, ssuX64]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /^duplicate +KB4493730 .*already in the catalog/m);
    assert.match(again.stdout, /0 imported, 1 duplicate/);
  });

  it('exits 1 when anything is rejected, with a one-line reason per file', () => {
    const cat = path.join(tempDir(), 'cat');
    const r = runCli(['import', '--catalog', cat, '--trust', root, ssuX64, fixturePath('signed', 'unsigned.cab'), fixturePath('signed', 'tampered-data.cab')]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^imported +KB4493730/m);
    assert.match(r.stdout, /^rejected +\S*unsigned\.cab: .*\[SIG_UNSIGNED\]$/m);
    assert.match(r.stdout, /^rejected +\S*tampered-data\.cab: .*\[SIG_[A-Z_]+\]$/m);
    assert.match(r.stdout, /1 imported, 0 duplicate\(s\), 2 rejected/);
  });

  it('--quarantine keeps rejected files out of the planner’s view but in `catalog list`', () => {
    const cat = path.join(tempDir(), 'cat');
    const r = runCli(['import', '--catalog', cat, '--trust', fixturePath('pki', 'other-root.pem'), '--quarantine', '--json', ssuX64]);
    assert.equal(r.status, 1);
    assert.equal(json<{ quarantined: number }>(r.stdout).quarantined, 1);
    const list = json<{ payloads: { status: string; kb: string }[] }>(runCli(['catalog', 'list', '--catalog', cat, '--json']).stdout);
    assert.deepEqual(list.payloads.map((p) => [p.status, p.kb]), [['quarantined', 'KB4493730']]);
    const imported = json<{ payloads: unknown[] }>(runCli(['catalog', 'list', '--catalog', cat, '--imported', '--json']).stdout);
    assert.deepEqual(imported.payloads, []);
  });

  it('refuses to run without trust anchors (exit 2), on a missing path (exit 3), and on a bad --at (exit 2)', () => {
    const cat = path.join(tempDir(), 'cat');
    const none = runCli(['import', '--catalog', cat, ssuX64]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /NO_TRUST_ANCHORS/);
    assert.equal(none.stdout, '');
    const missing = runCli(['import', '--catalog', cat, '--trust', root, '/nonexistent/x.msu']);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /^cabferry: \/nonexistent\/x\.msu: cannot read: no such file or folder \(ENOENT\) \[SOURCE_UNREADABLE\]\n$/);
    const at = runCli(['import', '--catalog', cat, '--trust', root, '--at', 'yesterday-ish', ssuX64]);
    assert.equal(at.status, 2);
  });

  it('uses the catalog’s trust set when no --trust is given; trust add/list/remove', () => {
    const cat = path.join(tempDir(), 'cat');
    const add = runCli(['trust', 'add', '--catalog', cat, '--json', root]);
    assert.equal(add.status, 0, add.stderr);
    const added = json<{ anchors: { fingerprint: string; subject: string; added: boolean }[] }>(add.stdout).anchors;
    assert.equal(added.length, 1);
    assert.equal(added[0].added, true);
    assert.equal(runCli(['import', '--catalog', cat, ssuX64]).status, 0);
    const list = json<{ anchors: { fingerprint: string }[] }>(runCli(['trust', 'list', '--catalog', cat, '--json']).stdout);
    assert.deepEqual(list.anchors.map((a) => a.fingerprint), [added[0].fingerprint]);
    assert.equal(runCli(['trust', 'remove', '--catalog', cat, added[0].fingerprint.slice(0, 10)]).status, 0);
    assert.equal(runCli(['trust', 'remove', '--catalog', cat, added[0].fingerprint]).status, 2);
    assert.equal(runCli(['import', '--catalog', cat, ssuX86]).status, 2, 'no anchors left');
  });

  it('finds the catalog through CABFERRY_CATALOG, else XDG_DATA_HOME/cabferry', () => {
    const dir = tempDir();
    const viaEnv = runCli(['catalog', 'init', '--json'], { env: { CABFERRY_CATALOG: path.join(dir, 'env-cat') } });
    assert.equal(json<{ catalog: string }>(viaEnv.stdout).catalog, path.join(dir, 'env-cat'));
    const viaXdg = runCli(['catalog', 'init', '--json'], { env: { CABFERRY_CATALOG: '', XDG_DATA_HOME: path.join(dir, 'xdg') } });
    assert.equal(json<{ catalog: string }>(viaXdg.stdout).catalog, path.join(dir, 'xdg', 'cabferry'));
    assert.ok(fs.existsSync(path.join(dir, 'xdg', 'cabferry', 'catalog.sqlite')));
  });
});

describe('cabferry catalog', () => {
  const setup = () => {
    const dir = tempDir();
    const cat = path.join(dir, 'cat');
    // held by the catalog: payloads of a one-off import --trust are untrusted-payload problems for check (#17 live trust)
    assert.equal(runCli(['trust', 'add', root, '--catalog', cat]).status, 0);
    const r = runCli(['import', '--catalog', cat, '--json', ssuX64, ssuX86, sha2X64]);
    assert.equal(r.status, 0, r.stderr);
    const results = json<{ results: { label: string; sha256: string }[] }>(r.stdout).results;
    return { dir, cat, sha: (file: string) => results.find((x) => x.label === file)!.sha256 };
  };

  it('list filters by --kb/--arch/--kind/--product; show by KB or SHA-256, with signatures and import events', () => {
    const { cat, sha } = setup();
    const list = (...args: string[]) => json<{ payloads: { kb: string; architecture: string }[] }>(runCli(['catalog', 'list', '--catalog', cat, '--json', ...args]).stdout).payloads;
    assert.equal(list().length, 3);
    assert.deepEqual(list('--kb', '4493730', '--arch', 'x86').map((p) => p.architecture), ['x86']);
    assert.deepEqual(list('--kind', 'sha2-support').map((p) => p.kb), ['KB4474419']);
    assert.equal(list('--product', 'Windows Server 2008').length, 3);
    assert.equal(list('--product', 'Windows 7').length, 0);
    const text = runCli(['catalog', 'list', '--catalog', cat]);
    assert.match(text.stdout, /^STATUS +KB +ARCH/m);
    assert.match(text.stdout, /3 payload\(s\)/);

    const byKb = json<{ payloads: { sha256: string; events: { outcome: string }[]; signatures: unknown[] }[] }>(runCli(['catalog', 'show', '--catalog', cat, '--json', 'KB4493730']).stdout);
    assert.equal(byKb.payloads.length, 2);
    const bySha = json<{ payloads: { sha256: string; payload: { kb: string }; events: { outcome: string }[]; signatures: { valid: boolean }[] }[] }>(
      runCli(['catalog', 'show', '--catalog', cat, '--json', sha(sha2X64)]).stdout,
    );
    assert.equal(bySha.payloads[0].payload.kb, 'KB4474419');
    assert.deepEqual(bySha.payloads[0].events.map((e) => e.outcome), ['imported']);
    assert.ok(bySha.payloads[0].signatures.every((s) => s.valid));
    // the 12 hex digits catalog list prints name it too; 8 digits are a KB number, not a prefix
    const byPrefix = json<{ payloads: { sha256: string }[] }>(runCli(['catalog', 'show', '--catalog', cat, '--json', sha(sha2X64).slice(0, 12).toUpperCase()]).stdout);
    assert.deepEqual(byPrefix.payloads.map((p) => p.sha256), [sha(sha2X64)]);
    const all = json<{ payloads: { sha256: string }[] }>(runCli(['catalog', 'show', '--catalog', cat, '--json', sha(sha2X64).slice(0, 10)]).stdout);
    assert.ok(all.payloads.length >= 1);
    assert.match(runCli(['catalog', 'show', '--catalog', cat, '12345678']).stderr, /NOT_IN_CATALOG/);
    const missing = runCli(['catalog', 'show', '--catalog', cat, 'KB1234567']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /NOT_IN_CATALOG/);
  });

  it('check: exit 0 when consistent, 1 on a missing blob or an orphan; --repair removes the orphan', () => {
    const { cat, sha } = setup();
    assert.equal(runCli(['catalog', 'check', '--catalog', cat]).status, 0);
    const blob = path.join(cat, 'blobs', sha(ssuX64).slice(0, 2), sha(ssuX64).slice(2));
    const saved = fs.readFileSync(blob);
    fs.rmSync(blob);
    const missing = runCli(['catalog', 'check', '--catalog', cat, '--json']);
    assert.equal(missing.status, 1);
    assert.deepEqual(json<{ problems: { kind: string }[] }>(missing.stdout).problems.map((p) => p.kind), ['missing-blob']);
    // the same file brings its blob back
    const restore = runCli(['import', '--catalog', cat, '--trust', root, ssuX64]);
    assert.match(restore.stdout, /^restored/m);
    assert.deepEqual(fs.readFileSync(blob), saved);

    const orphan = path.join(cat, 'blobs', 'ff', 'f'.repeat(62));
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, 'left by a killed import');
    const found = runCli(['catalog', 'check', '--catalog', cat]);
    assert.equal(found.status, 1);
    assert.match(found.stdout, /orphan-blob/);
    assert.match(found.stdout, /--repair/);
    assert.equal(runCli(['catalog', 'check', '--catalog', cat, '--repair']).status, 0);
    assert.equal(fs.existsSync(orphan), false);
    assert.equal(runCli(['catalog', 'check', '--catalog', cat]).status, 0);
  });

  it('export-blob writes the payload byte for byte, refuses to overwrite, and names unknown hashes', () => {
    const { dir, cat, sha } = setup();
    const out = path.join(dir, 'out.msu');
    const r = runCli(['catalog', 'export-blob', '--catalog', cat, sha(ssuX86), '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(ssuX86));
    assert.equal(runCli(['catalog', 'export-blob', '--catalog', cat, sha(ssuX86), '-o', out]).status, 2);
    assert.equal(runCli(['catalog', 'export-blob', '--catalog', cat, '0'.repeat(64), '-o', path.join(dir, 'x')]).status, 1);
    assert.equal(runCli(['catalog', 'export-blob', '--catalog', cat, 'nothex', '-o', path.join(dir, 'x')]).status, 2);
  });
});
