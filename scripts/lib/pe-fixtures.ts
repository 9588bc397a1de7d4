/**
 * Executable payload fixtures (fixtures/executables/): the Server 2008 SP2 standalone installer and
 * IE9 for Windows Server 2008, as small PE images (scripts/lib/pe-writer) with version resources
 * shaped like the real ones, Authenticode-signed by the test PKI the way Microsoft signed them then.
 * They run: each returns a fixed exit code (SP2 3010 "restart required", IE9 0), so install.cmd can
 * run them under Wine. osslsigncode verifies every file after it is written.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { signCab, verifyWithOsslsigncode, type CabSignature } from './authenticode-sign';
import { buildPeImage, type PeImageSpec } from './pe-writer';
import type { TestPki } from './pki';

export interface ExecutableFixture {
  file: string;
  kb: string;
  machine: 'x86' | 'x64';
  architecture: 'x86' | 'amd64';
  exitCode: number;
  fileVersion: string;
  strings: Record<string, string>;
  /** digest algorithms of the signatures, primary first */
  signatures: string[];
  pageHashes: boolean;
  /** how inspect should identify it: the KB named in the signed resource, or the file name + the build the knowledge base records */
  identityBasis: 'version-resource' | 'file-name-and-build';
  size: number;
  sha256: string;
}

interface Definition {
  file: (arch: 'x86' | 'x64') => string;
  kb: string;
  exitCode: number;
  fileVersion: string;
  strings: (arch: 'x86' | 'x64') => Record<string, string>;
  signing: 'sha1' | 'dual';
  pageHashes: boolean;
  released: Date;
  identityBasis: ExecutableFixture['identityBasis'];
}

const definitions: Definition[] = [
  {
    // SP2 shipped in 2009 signed with SHA-1 only (legacy countersignature): import needs --allow-sha1-only
    file: (arch) => `Windows6.0-KB948465-${arch === 'x64' ? 'X64' : 'X86'}.exe`,
    kb: 'KB948465',
    exitCode: 3010,
    fileVersion: '6.0.6002.18005',
    strings: () => ({
      CompanyName: 'Microsoft Corporation',
      FileDescription: 'Windows Service Pack 2 installer (cabferry test fixture)',
      FileVersion: '6.0.6002.18005 (lh_sp2rtm.090410-1830)',
      InternalName: 'spinstall',
      OriginalFilename: 'spinstall.exe',
      ProductName: 'Microsoft® Windows® Operating System',
      ProductVersion: '6.0.6002.18005',
    }),
    signing: 'sha1',
    pageHashes: true,
    released: new Date('2009-05-26T17:00:00Z'),
    identityBasis: 'file-name-and-build',
  },
  {
    file: (arch) => `IE9-Windows6.0-${arch}-enu.exe`,
    kb: 'KB982861',
    exitCode: 0,
    fileVersion: '9.0.8112.16421',
    strings: (arch) => ({
      Comments: 'Internet Explorer 9 for Windows Vista and Windows Server 2008 (KB982861; cabferry test fixture)',
      CompanyName: 'Microsoft Corporation',
      FileDescription: 'Internet Explorer 9 installer',
      FileVersion: '9.00.8112.16421 (WIN7_IE9_RTM.110308-0330)',
      OriginalFilename: `IE9-Windows6.0-${arch}-enu.exe`,
      ProductName: 'Windows® Internet Explorer',
      ProductVersion: '9.00.8112.16421',
    }),
    signing: 'dual',
    pageHashes: false,
    released: new Date('2011-03-14T17:00:00Z'),
    identityBasis: 'version-resource',
  },
];

const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

function signaturesFor(def: Definition): CabSignature[] {
  const sig = (digest: 'sha1' | 'sha256', extra: number): CabSignature => ({
    signer: 'leaf-rsa', digest, signingTime: def.released, timestampTime: addSeconds(def.released, 1 + extra),
    timestampKind: digest === 'sha1' ? 'legacy' : 'rfc3161', description: def.strings('x64').FileDescription, url: 'http://www.microsoft.com',
    pageHashes: def.pageHashes,
  });
  return def.signing === 'sha1' ? [sig('sha1', 0)] : [sig('sha1', 0), sig('sha256', 1)];
}

export function makeExecutableFixtures(pki: TestPki, dir: string, log: (m: string) => void): ExecutableFixture[] {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const fixtures: ExecutableFixture[] = [];
  for (const def of definitions) {
    for (const machine of ['x86', 'x64'] as const) {
      const name = def.file(machine);
      const target = path.join(dir, name);
      const spec: PeImageSpec = { machine, exitCode: def.exitCode, fileVersion: def.fileVersion, strings: def.strings(machine), timestamp: Math.floor(def.released.getTime() / 1000) - 86400 };
      fs.writeFileSync(target + '.unsigned', buildPeImage(spec));
      signCab(pki, target + '.unsigned', target, signaturesFor(def));
      fs.rmSync(target + '.unsigned');
      const bytes = fs.readFileSync(target);
      fixtures.push({
        file: name, kb: def.kb, machine, architecture: machine === 'x64' ? 'amd64' : 'x86', exitCode: def.exitCode, fileVersion: def.fileVersion,
        strings: def.strings(machine), signatures: def.signing === 'sha1' ? ['sha1'] : ['sha1', 'sha256'], pageHashes: def.pageHashes,
        identityBasis: def.identityBasis, size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      });
      log(`executables: ${name} (${bytes.length} bytes)`);
    }
  }
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({ trustAnchor: 'fixtures/pki/root.pem', fixtures }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'README.md'), readme(fixtures));
  return fixtures;
}

export function checkExecutableFixtures(pki: TestPki, dir: string, fixtures: ExecutableFixture[], log: (m: string) => void): string[] {
  const problems: string[] = [];
  const root = pki.get('root').certPath;
  for (const f of fixtures) {
    const outcome = verifyWithOsslsigncode(path.join(dir, f.file), root);
    if (!outcome.ok) problems.push(`executables/${f.file}: osslsigncode verify failed:\n${outcome.output}`);
    else log(`executables: ${f.file} verifies with osslsigncode`);
  }
  return problems;
}

function readme(fixtures: ExecutableFixture[]): string {
  const rows = fixtures.map((f) => `| \`${f.file}\` | ${f.kb} | ${f.architecture} | ${f.fileVersion} | ${f.signatures.join(' + ')}${f.pageHashes ? ' (page hashes)' : ''} | ${f.exitCode} | ${f.identityBasis} |`);
  return [
    '# Executable payload fixtures',
    '',
    'Generated by `scripts/make-fixtures.ts` (`scripts/lib/pe-fixtures.ts`, `scripts/lib/pe-writer.ts`); do not edit by hand.',
    'Small PE32 (x86) and PE32+ (x64) images standing in for executable updates: the Server 2008 SP2 standalone installer',
    '(the real `Windows6.0-KB948465-X64.exe` is about 577 MB) and Internet Explorer 9. Each has a version resource',
    '(VS_VERSIONINFO) and an entry point that only returns its exit code, so install.cmd can run it under Wine (x64 ones;',
    'Debian\'s wine64 has no 32-bit loader). Signed by `leaf-rsa` of the test PKI (`../pki/`, trust `fixtures/pki/root.pem`):',
    'SP2 SHA-1 only with a legacy countersignature, as in 2009 (import needs `--allow-sha1-only`), with SHA-1 page hashes;',
    'IE9 SHA-1 + nested SHA-256 (RFC 3161).',
    '',
    'Identity: the SP2 fixture\'s version resource does not name its KB (OriginalFilename `spinstall.exe`): inspect takes',
    'KB948465 from the file name and accepts it because the signed FileVersion 6.0.6002.x is the build the knowledge base',
    'records for KB948465. The IE9 fixture names KB982861 in its signed `Comments` string (a fixture choice: whether the real',
    'IE9 installer does is not known here).',
    '',
    '| file | KB | arch | FileVersion | signatures | exit code | identity from |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
