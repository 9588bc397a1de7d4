/**
 * fixtures/payloads/: the Windows Server 2008 SP2 (NT 6.0) servicing story of 2019, plus a Windows 7 SP1
 * (NT 6.1) pair, as small signed MSUs (see msu-builder.ts for the layout). Written with README.md and
 * expected.json from the same definitions, then checked with cabextract and osslsigncode.
 *
 * Versions, dates and signing follow the public record where it is known: SP2 (KB948465) is build
 * 6.0.6002.18005 and shipped in 2009 signed with SHA-1 only; the March 2019 preview rollup KB4489887 moved
 * the build to 6.0.6003; releases before August 2019 are dual-signed SHA-1 + nested SHA-256, later ones
 * SHA-256 only. Component names and file versions are plausible, not copied.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cabextractTest, verifyWithOsslsigncode } from './authenticode-sign';
import { buildMsu, type BuiltMsu, type MsuArch, type PackageDefinition, type ParentSpec } from './msu-builder';
import type { TestPki } from './pki';

const SP1_FOUNDATION: ParentSpec = {
  identities: [{ name: 'Microsoft-Windows-Foundation-Package', version: '6.0.6001.18000' }],
  buildCompare: 'EQ', serviceCompare: 'GE',
};
/** lower-case "package_for_" exactly as the real Windows6.0 update.mum writes it */
const SP2_PARENT: ParentSpec = {
  identities: [{ name: 'package_for_KB948465', version: '6.0.1.18005' }],
  buildCompare: 'EQ', serviceCompare: 'GE',
};
/** as the real Windows6.1-KB2999226 update.mum */
const WIN7_SP1_PARENT: ParentSpec = {
  identities: [
    { name: 'Microsoft-Windows-Client-Features-Package', version: '6.1.7601.17514' },
    { name: 'Microsoft-Windows-Server-Features-Package', version: '6.1.7601.17514' },
  ],
  buildCompare: 'EQ', serviceCompare: 'GE',
};
const SERVER_2008_SP2 = 'Windows Server 2008 SP2;';
const WIN7_SP1 = 'Windows 7.0 Client SP1;Windows 7.0 Server SP1;';

type Definition = Omit<PackageDefinition, 'arch'> & {
  /** the fixture's file name with "{arch}", where two definitions would otherwise get the same Microsoft-style name */
  fixtureFile?: string;
};

const date = (iso: string) => new Date(iso + 'T17:00:00Z');

export const payloadDefinitions: Definition[] = [
  {
    kb: 948465, ntVersion: '6.0', role: 'service-pack', title: 'Windows Vista / Windows Server 2008 Service Pack 2',
    releaseType: 'Service Pack', packageType: 'Service Pack', restart: 'required', packageVersion: '6.0.1.18005',
    releaseDate: date('2009-04-28'), applicabilityInfo: 'Windows Vista SP1;Windows Server 2008;', parents: [SP1_FOUNDATION],
    components: [
      { name: 'Microsoft-Windows-OS-Kernel', version: '6.0.6002.18005', files: ['ntoskrnl.exe'] },
      { name: 'Microsoft-Windows-ServicingStack', version: '6.0.6002.18005', files: ['cbscore.dll', 'TrustedInstaller.exe'] },
    ],
    signing: 'sha1',
  },
  {
    kb: 4489887, ntVersion: '6.0', role: 'rollup-preview', title: '2019-03 Preview of Monthly Quality Rollup (moves the build to 6003)',
    releaseType: 'Update', packageType: 'Update', restart: 'required', packageVersion: '6.0.1.0',
    releaseDate: date('2019-03-19'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-OS-Kernel', version: '6.0.6003.20485', files: ['ntoskrnl.exe'] }],
    signing: 'dual',
  },
  {
    kb: 4493730, ntVersion: '6.0', role: 'servicing-stack', title: 'Servicing stack update, April 2019',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'possible', packageVersion: '6.0.1.2',
    releaseDate: date('2019-04-09'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-ServicingStack', version: '6.0.6003.20489', files: ['cbscore.dll', 'TrustedInstaller.exe'] }],
    signing: 'dual',
  },
  {
    kb: 4493471, ntVersion: '6.0', role: 'monthly-rollup', title: '2019-04 Security Monthly Quality Rollup',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.1',
    releaseDate: date('2019-04-09'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [
      { name: 'Microsoft-Windows-OS-Kernel', version: '6.0.6003.20491', files: ['ntoskrnl.exe'] },
      { name: 'Microsoft-Windows-Win32k', version: '6.0.6003.20491', files: ['win32k.sys'] },
    ],
    signing: 'dual',
  },
  {
    kb: 4499180, ntVersion: '6.0', role: 'security-only', title: '2019-05 Security Only Quality Update',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.1',
    releaseDate: date('2019-05-14'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-Win32k', version: '6.0.6003.20512', files: ['win32k.sys'] }],
    signing: 'dual',
  },
  {
    kb: 4474419, revision: 4, ntVersion: '6.0', role: 'sha2-support', title: 'SHA-2 code signing support update (re-release v4)',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.4',
    releaseDate: date('2019-09-23'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [
      { name: 'Microsoft-Windows-CodeIntegrity', version: '6.0.6003.20555', files: ['ci.dll'] },
      { name: 'Microsoft-Windows-Crypt32-Dll', version: '6.0.6003.20555', files: ['crypt32.dll'] },
    ],
    // The SHA-2 enabler has to install on a host that can only check SHA-1 (and only reads the
    // primary signature of a CAB), so it keeps a SHA-1 primary even after the SHA-2-only cut-over.
    signing: 'dual',
  },
  {
    kb: 4517134, ntVersion: '6.0', role: 'servicing-stack', title: 'Servicing stack update, September 2019',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'possible', packageVersion: '6.0.1.3',
    releaseDate: date('2019-09-10'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-ServicingStack', version: '6.0.6003.20615', files: ['cbscore.dll', 'TrustedInstaller.exe'] }],
    signing: 'sha2',
  },
  {
    kb: 4520002, ntVersion: '6.0', role: 'monthly-rollup', title: '2019-10 Security Monthly Quality Rollup',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.2',
    releaseDate: date('2019-10-08'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [
      { name: 'Microsoft-Windows-OS-Kernel', version: '6.0.6003.20636', files: ['ntoskrnl.exe'] },
      { name: 'Microsoft-Windows-Win32k', version: '6.0.6003.20636', files: ['win32k.sys'] },
    ],
    signing: 'sha2',
  },
  {
    kb: 4490628, ntVersion: '6.1', role: 'servicing-stack', title: 'Windows 7 SP1 servicing stack update, March 2019',
    releaseType: 'Update', packageType: 'Update', restart: 'possible', packageVersion: '6.1.1.0',
    releaseDate: date('2019-03-12'), applicabilityInfo: WIN7_SP1, parents: [WIN7_SP1_PARENT],
    components: [{ name: 'Microsoft-Windows-ServicingStack', version: '6.1.7601.24383', files: ['cbscore.dll', 'TrustedInstaller.exe'] }],
    signing: 'dual',
  },
  {
    kb: 4474419, revision: 3, ntVersion: '6.1', role: 'sha2-support', title: 'Windows 7 SP1 SHA-2 code signing support update (v3)',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.1.2.2',
    releaseDate: date('2019-09-10'), applicabilityInfo: WIN7_SP1, parents: [WIN7_SP1_PARENT],
    components: [{ name: 'Microsoft-Windows-CodeIntegrity', version: '6.1.7601.24499', files: ['ci.dll'] }],
    signing: 'dual', // like the 6.0 enabler: installable before SHA-2 support exists
  },
];

/**
 * fixtures/payloads-esu/: the Extended Security Updates years of Server 2008 SP2, kept apart from the 2019
 * story so that the tests planning "every fixture MSU" keep planning that story. KBs, months and the
 * servicing stack version follow catalog/kb/nt6.0.json (and its sources); everything after the August 2019
 * cut-over is signed with SHA-256 only. Component names and file versions are plausible, not copied.
 */
export const esuPayloadDefinitions: Definition[] = [
  {
    kb: 4575904, ntVersion: '6.0', role: 'esu-preparation', title: '2020-07 ESU Licensing Preparation Package',
    releaseType: 'Update', packageType: 'Update', restart: 'required', packageVersion: '6.0.1.1',
    releaseDate: date('2020-07-14'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [
      { name: 'Microsoft-Windows-Security-Licensing-SLC', version: '6.0.6003.20871', files: ['slc.dll'] },
      { name: 'Microsoft-Windows-Security-Licensing-SLSvc', version: '6.0.6003.20871', files: ['slsvc.exe'] },
    ],
    signing: 'sha2',
  },
  {
    kb: 5016129, ntVersion: '6.0', role: 'servicing-stack', title: '2022-07 Servicing Stack Update',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'possible', packageVersion: '6.0.1.12',
    releaseDate: date('2022-07-12'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-ServicingStack', version: '6.0.6003.21569', files: ['cbscore.dll', 'TrustedInstaller.exe'] }],
    signing: 'sha2',
  },
  {
    kb: 5022340, ntVersion: '6.0', role: 'monthly-rollup', title: '2023-01 Security Monthly Quality Rollup (ESU, the last outside Azure)',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.41',
    releaseDate: date('2023-01-10'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [
      { name: 'Microsoft-Windows-OS-Kernel', version: '6.0.6003.21831', files: ['ntoskrnl.exe'] },
      { name: 'Microsoft-Windows-Win32k', version: '6.0.6003.21831', files: ['win32k.sys'] },
    ],
    signing: 'sha2',
  },
];

/**
 * fixtures/payloads-releases/: files of one KB and architecture that are not the same file. KB4474419 for
 * Server 2008 SP2 as its first release (no -vN in any name Microsoft signed) and as a "-v3" re-release, beside
 * the "-v4" of ../payloads/ (catalog/kb/nt6.0.json records -v4 as the current one: KB-FACTS.md); and one KB
 * built once for Windows Vista SP2 only and once for Windows Server 2008 SP2 only, the same Microsoft-style
 * name for two different files. Dates, versions and the Vista/Server split are synthetic.
 */
export const releasePayloadDefinitions: Definition[] = [
  {
    kb: 4474419, ntVersion: '6.0', role: 'sha2-support', title: 'SHA-2 code signing support update (first release)',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.1',
    releaseDate: date('2019-03-12'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-CodeIntegrity', version: '6.0.6003.20474', files: ['ci.dll'] }],
    signing: 'dual',
  },
  {
    kb: 4474419, revision: 3, ntVersion: '6.0', role: 'sha2-support', title: 'SHA-2 code signing support update (re-release v3)',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.3',
    releaseDate: date('2019-08-13'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-CodeIntegrity', version: '6.0.6003.20540', files: ['ci.dll'] }],
    signing: 'dual',
  },
  {
    kb: 4012583, ntVersion: '6.0', role: 'security-update', title: 'Security update built for Windows Vista SP2 only',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.2',
    releaseDate: date('2017-03-14'), applicabilityInfo: 'Windows Vista SP2;', parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-SMBServer-V1', version: '6.0.6002.19743', files: ['srv.sys'] }],
    signing: 'dual', fixtureFile: 'Windows6.0-KB4012583-{arch}.vista.msu',
  },
  {
    kb: 4012583, ntVersion: '6.0', role: 'security-update', title: 'Security update built for Windows Server 2008 SP2 only',
    releaseType: 'Security Update', packageType: 'Security Update', restart: 'required', packageVersion: '6.0.1.2',
    releaseDate: date('2017-03-14'), applicabilityInfo: SERVER_2008_SP2, parents: [SP2_PARENT],
    components: [{ name: 'Microsoft-Windows-SMBServer-V1', version: '6.0.6002.24067', files: ['srv.sys'] }],
    signing: 'dual', fixtureFile: 'Windows6.0-KB4012583-{arch}.server.msu',
  },
];

/** One fixture folder: the packages it holds and the heading of its README. */
export interface PayloadSet {
  definitions: Definition[];
  heading: string;
  /** sentences after the generator line, before the table */
  intro: string[];
}

export const storyPayloads: PayloadSet = {
  definitions: payloadDefinitions,
  heading: '# Payload fixtures: MSUs shaped like the real Windows Server 2008 SP2 / Windows 7 SP1 updates',
  intro: [
    'fake; the structure and metadata follow the real MSUs and payload cabs in `../shared/corpus` (`msu/`,',
    '`ms-signed/kb2999226-inner/`). Everything is signed by the test PKI (`../pki/`): trust `fixtures/pki/root.pem`.',
  ],
};

export const esuPayloads: PayloadSet = {
  definitions: esuPayloadDefinitions,
  heading: '# ESU-era payload fixtures: a 2020 licensing preparation package, a 2022 SSU and the January 2023 rollup (Server 2008 SP2)',
  intro: [
    'fake; the structure and metadata follow the real MSUs and payload cabs in `../shared/corpus` (`msu/`,',
    '`ms-signed/kb2999226-inner/`), built exactly like `../payloads/`. Everything is signed by the test PKI (`../pki/`): trust',
    '`fixtures/pki/root.pem`. KBs, months and the SSU version follow `catalog/kb/nt6.0.json`; all three are SHA-256 only.',
    'Kept in their own folder so that tests planning every MSU of `../payloads/` keep planning the 2019 story.',
  ],
};

export const releasePayloads: PayloadSet = {
  definitions: releasePayloadDefinitions,
  heading: '# Release payload fixtures: several files of one KB and architecture (Server 2008 SP2 / Vista SP2)',
  intro: [
    'fake, built exactly like `../payloads/`. Everything is signed by the test PKI (`../pki/`): trust `fixtures/pki/root.pem`.',
    'KB4474419 as its first release and as "-v3" (the "-v4" is in `../payloads/`); KB4012583 built once for Vista only and',
    'once for Server 2008 only, stored here as `….vista.msu` / `….server.msu` because Microsoft would name both the same.',
    'Kept in their own folder so that tests planning every MSU of `../payloads/` keep planning the 2019 story.',
  ],
};

const ARCHES: MsuArch[] = ['x86', 'x64'];

export interface PayloadFixture {
  file: string;
  kb: string;
  revision: number | null;
  role: string;
  title: string;
  ntVersion: string;
  architecture: 'x86' | 'amd64';
  releaseType: string;
  restart: string;
  releaseDate: string;
  packageIdentity: BuiltMsu['packageIdentity'];
  parents: { names: string[]; version: string; kb: string | null; buildCompare?: string; serviceCompare?: string }[];
  /** digest algorithms of the Authenticode signatures on the outer MSU, the inner cab and WSUSSCAN.cab */
  signatures: 'sha1-only' | 'dual' | 'sha2-only';
  catalogDigest: 'sha1' | 'sha256';
  /** update.mum and every listed member match update.cat, whose signature chains to root.pem */
  metadataVerified: true;
  innerCab: string;
  members: string[];
  innerMembers: string[];
  size: number;
  sha256: string;
}

export function makePayloadFixtures(pki: TestPki, dir: string, log: (m: string) => void, set: PayloadSet = storyPayloads): PayloadFixture[] {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const fixtures: PayloadFixture[] = [];
  for (const d of set.definitions) {
    for (const arch of ARCHES) {
      const def: PackageDefinition = { ...d, arch };
      const built = buildMsu(def, pki, dir);
      if (d.fixtureFile !== undefined) {
        const named = path.join(dir, d.fixtureFile.replace('{arch}', arch));
        fs.renameSync(built.file, named);
        built.file = named;
      }
      const bytes = fs.readFileSync(built.file);
      fixtures.push({
        file: path.basename(built.file), kb: `KB${def.kb}`, revision: def.revision ?? null, role: def.role, title: def.title,
        ntVersion: def.ntVersion, architecture: arch === 'x64' ? 'amd64' : 'x86', releaseType: def.releaseType, restart: def.restart,
        releaseDate: def.releaseDate.toISOString().slice(0, 10), packageIdentity: built.packageIdentity,
        parents: def.parents.map((p) => ({
          names: p.identities.map((i) => i.name), version: p.identities[0]!.version,
          kb: /^package_for_(KB\d+)$/i.exec(p.identities[0]!.name)?.[1]?.toUpperCase() ?? null,
          buildCompare: p.buildCompare, serviceCompare: p.serviceCompare,
        })),
        signatures: def.signing === 'sha1' ? 'sha1-only' : def.signing === 'sha2' ? 'sha2-only' : 'dual',
        catalogDigest: built.catalogDigest, metadataVerified: true, innerCab: built.innerCab,
        members: built.members, innerMembers: built.innerMembers, size: bytes.length,
        sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      });
      log(`payloads: ${path.basename(built.file)} (${bytes.length} bytes)`);
    }
  }
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({ trustAnchor: 'fixtures/pki/root.pem', fixtures }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'README.md'), payloadReadme(fixtures, set));
  return fixtures;
}

function payloadReadme(fixtures: PayloadFixture[], set: PayloadSet): string {
  const rows = fixtures.map((f) => {
    const parents = f.parents.map((p) => `${p.names.join(' or ')} ${p.version} (${[p.buildCompare && `build ${p.buildCompare}`, p.serviceCompare && `service ${p.serviceCompare}`].filter(Boolean).join(', ')})`).join('; ');
    return `| \`${f.file}\` | ${f.kb} | ${f.role} | ${f.architecture} | ${f.ntVersion} | ${f.signatures} | ${f.restart} | ${parents} | ${f.releaseType} | ${f.releaseDate} |`;
  });
  return [
    set.heading,
    '',
    'Generated by `scripts/make-fixtures.ts` (`scripts/lib/msu-builder*.ts`); do not edit by hand. The content is',
    ...set.intro,
    '',
    '| file | KB | role | arch | NT | signing | restart | parents (update.mum) | releaseType | released |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '## What is inside each MSU',
    '',
    'Outer cabinet (MSZIP, Authenticode-signed), members in the real order; the inner cab and WSUSSCAN.cab are LZX:21 as in the real ones:',
    '`WSUSSCAN.cab` (signed; holds an unsigned `package.cab` with `package.xml`, `core\\1`, `extended\\1`, `localized\\en\\1`),',
    '`Windows6.x-KBn[-vN]-arch.cab` (the CBS package, signed), `…-pkgProperties.txt` and `….xml` (unattend).',
    '',
    'The inner package cab holds, like the real Windows6.0-KB2999226 cab:',
    '- `_manifest_.cix.xml`: container index (`urn:ContainerIndex`): for every other member its logical name, length, SHA-1',
    '  and the member it is stored as (`<Delta><Source type="RAW" name="…">`);',
    '- one `.manifest` per component (asm.v3 `assemblyIdentity`, and per file an `asmv2:hash` with the SHA-256 in base64);',
    '- `update.mum`: `Package_for_KBn` (version, `processorArchitecture` x86|amd64, token 31bf3856ad364e35), `package@identifier`',
    '  = KBn, `releaseType`, `restart`, `applicabilityEvaluation="deep"`, `<parent buildCompare serviceCompare integrate="separate"',
    '  disposition="detect">` with the parent identities above, `installerAssembly` Microsoft-Windows-ServicingStack 6.0.0.0,',
    '  and an `<update>` naming the hidden sub-package `Package_1_for_KBn`;',
    '- `package_1_for_kbn~31bf3856ad364e35~arch~~version.mum`: the sub-package with `updateComponent` / `component` identities;',
    '- `update.cat` and `package_1_for_kbn~…cat`: signed catalogs (see below);',
    '- `0`, `1`, …: the component files (1 KiB placeholders), stored under numbers and named by the container index.',
    '',
    'Encodings as in the corpus: `pkgProperties.txt` is ANSI with CRLF and no BOM (every real one in `../shared/corpus` is;',
    'none is UTF-16); 6.0 `.mum` files are UTF-8 without BOM, 6.1 ones start with a UTF-8 BOM; manifests and the unattend',
    'xml are UTF-8 with CRLF.',
    '',
    '## The catalogs (`update.cat`)',
    '',
    'PKCS#7 SignedData whose content is a CTL (`1.3.6.1.4.1.311.10.1`) placed directly under `[0]` (PKCS#7 style, not wrapped',
    'in an OCTET STRING), as in the real update.cat. `messageDigest` = hash of the CTL SEQUENCE *value* bytes (without tag and',
    'length) — the same quirk as Authenticode, verified on the real file. CTL: subjectUsage `1.3.6.1.4.1.311.12.1.1`,',
    'a 16-byte listIdentifier, thisUpdate, subjectAlgorithm `1.3.6.1.4.1.311.12.1.2`, one entry per member sorted by tag,',
    'and a `[0]` extension CAT_NAMEVALUE `OSAttr` = `2:6.0` / `2:6.1`. Each entry: subjectIdentifier = OCTET STRING holding the',
    'UTF-16LE upper-case hex of the member\'s hash plus a NUL; attributes SPC_INDIRECT_DATA (`1.3.6.1.4.1.311.2.1.4`:',
    'SpcIndirectDataContent with type `1.3.6.1.4.1.311.2.1.25` and the DigestInfo of the file), CAT_MEMBERINFO',
    '(`…12.2.2`: `{DE351A42-8E59-11D0-8C47-00C04FC295EE}`, 512) and CAT_NAMEVALUE (`…12.2.1`) `File` = member name.',
    '`update.cat` lists `update.mum`, the sub-package `.mum` and every `.manifest`; the sub-package catalog lists its `.mum`',
    'and the manifests. Dual-signed releases (and SP2) have SHA-1 catalogs (SHA-1 member hashes, SHA-1 signature), SHA-2-only',
    'releases SHA-256 catalogs. Signer: `catalog-signer` (EKU codeSigning + 1.3.6.1.4.1.311.10.3.6, like "Microsoft Windows"),',
    'with a legacy PKCS#9 countersignature (`1.2.840.113549.1.9.6`) by `tsa` at release time + 5 s, as the real one has.',
    '',
    '## Signatures',
    '',
    'Outer MSU, inner cab and WSUSSCAN.cab are each signed by `leaf-rsa` the way Microsoft signed them: `dual` = SHA-1',
    'primary with a legacy PKCS#9 countersignature + nested SHA-256 with an RFC 3161 timestamp (as every dual-signed real',
    'file in the corpus); `sha2-only` = one SHA-256 signature with RFC 3161; `sha1-only` (SP2, shipped in 2009 before',
    'Microsoft dual-signed) = one SHA-1 signature with a legacy countersignature. Signing times are the release date',
    '17:01/17:02/17:03 UTC (inner, WSUSSCAN, outer). With `--trust fixtures/pki/root.pem` every file, at every level, is',
    '**valid**; the `sha1-only` ones fail `--require-sha2`. Machine-readable: `expected.json`.',
    '',
  ].join('\n');
}

export function checkPayloadFixtures(pki: TestPki, dir: string, fixtures: PayloadFixture[], log: (m: string) => void): string[] {
  const problems: string[] = [];
  const root = pki.get('root').certPath;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cabferry-payload-check-'));
  const expectedSignatures = (f: PayloadFixture) => (f.signatures === 'dual' ? 2 : 1);
  const checkSigned = (label: string, file: string, expected: number) => {
    if (!cabextractTest(file)) problems.push(`${label}: cabextract -t failed`);
    const v = verifyWithOsslsigncode(file, root);
    if (!v.ok || v.verifiedSignatures !== expected) problems.push(`${label}: osslsigncode ok=${v.ok} verified=${v.verifiedSignatures}, expected ${expected}\n${v.output}`);
  };
  try {
    for (const f of fixtures) {
      const msu = path.join(dir, f.file);
      const out = path.join(work, f.file);
      checkSigned(f.file, msu, expectedSignatures(f));
      execFileSync('cabextract', ['-q', '-d', out, msu], { stdio: ['ignore', 'ignore', 'pipe'] });
      const listed = fs.readdirSync(out).sort();
      if (listed.join('|') !== [...f.members].sort().join('|')) problems.push(`${f.file}: members ${listed.join(', ')}`);
      checkSigned(`${f.file}/WSUSSCAN.cab`, path.join(out, 'WSUSSCAN.cab'), expectedSignatures(f));
      const inner = path.join(out, f.innerCab);
      checkSigned(`${f.file}/${f.innerCab}`, inner, expectedSignatures(f));
      const innerOut = path.join(out, 'inner');
      execFileSync('cabextract', ['-q', '-d', innerOut, inner], { stdio: ['ignore', 'ignore', 'pipe'] });
      for (const cat of fs.readdirSync(innerOut).filter((n) => n.endsWith('.cat'))) {
        const v = verifyWithOsslsigncode(path.join(innerOut, cat), root);
        if (!v.ok) problems.push(`${f.file}/${f.innerCab}/${cat}: osslsigncode rejects the catalog\n${v.output}`);
      }
      // The catalog must list update.mum under its hash (upper-case hex, UTF-16LE), independently of the writer.
      const mumHash = crypto.createHash(f.catalogDigest).update(fs.readFileSync(path.join(innerOut, 'update.mum'))).digest('hex').toUpperCase();
      if (!fs.readFileSync(path.join(innerOut, 'update.cat')).includes(Buffer.from(mumHash, 'utf16le'))) problems.push(`${f.file}: update.cat does not list update.mum`);
      const props = fs.readFileSync(path.join(out, f.innerCab.replace(/\.cab$/, '-pkgProperties.txt')), 'latin1');
      if (!props.includes(`KB Article Number="${f.kb.slice(2)}"\r\n`)) problems.push(`${f.file}: pkgProperties lacks its KB number`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  log(`payloads: checked ${fixtures.length} MSUs (outer, WSUSSCAN.cab, inner cab, catalogs) with cabextract and osslsigncode`);
  return problems;
}
