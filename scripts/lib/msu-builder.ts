/**
 * TEST-ONLY builder of Windows 6.x standalone update packages (.msu) whose structure and metadata
 * follow the real ones in ../shared/corpus (msu/*.msu and ms-signed/kb2999226-inner/…):
 *
 *   Windows6.0-KBnnnnnnn[-vN]-x64.msu            outer cabinet, MSZIP, Authenticode-signed
 *   ├── WSUSSCAN.cab                              LZX:21, signed; holds package.cab (package.xml, core\, extended\, localized\)
 *   ├── Windows6.0-KBnnnnnnn[-vN]-x64.cab         the CBS package, LZX:21, signed:
 *   │     _manifest_.cix.xml                        container index: logical name, length, SHA-1, source member
 *   │     <arch>_<component>_31bf3856ad364e35_<version>_none_<hash>.manifest   asm.v3, SHA-256 of each file
 *   │     update.mum / update.cat                   top package Package_for_KBn and its signed catalog (CTL)
 *   │     package_1_for_kbn~31bf3856ad364e35~<arch>~~<ver>.mum/.cat   the sub-package with the components
 *   │     0, 1, …                                   payload files, stored under numbers as the real cabs do
 *   ├── Windows6.0-KBnnnnnnn[-vN]-x64-pkgProperties.txt   Key="Value" lines, CRLF, ANSI (as every real one in the corpus)
 *   └── Windows6.0-KBnnnnnnn[-vN]-x64.xml         unattend file naming the package and %configsetroot%\<cab>.CAB
 *
 * Content is fake (file bodies are placeholders); identities, versions, parents and signatures are what
 * the planner and the verifier read. Everything is derived from the PackageDefinition, so rebuilding
 * gives the same bytes.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildCab, mszipFolderEncoder, type CabWriterFile, type FolderEncoder } from './cab-writer';
import { lzxFolderEncoder } from './lzx-encoder';
import { signCab, type CabSignature } from './authenticode-sign';
import { buildCatalogCtl, signCatalog, type CatalogDigest } from './catalog-sign';
import { loadSigningIdentity } from './authenticode-sign-der';
import type { TestPki } from './pki';

export const PUBLIC_KEY_TOKEN = '31bf3856ad364e35';

export type MsuArch = 'x86' | 'x64';
/** How Microsoft signed a release: before August 2019 dual SHA-1 + nested SHA-256; later SHA-256 only. */
export type SigningPolicy = 'sha1' | 'dual' | 'sha2';

export interface ParentSpec {
  /** several identities in one <parent> mean "any of these" (e.g. Client- or Server-Features-Package) */
  identities: { name: string; version: string }[];
  buildCompare?: 'EQ' | 'GE';
  serviceCompare?: 'EQ' | 'GE';
  revisionCompare?: 'EQ' | 'GE';
}

export interface ComponentSpec {
  /** assembly name, e.g. "Microsoft-Windows-ServicingStack" */
  name: string;
  /** file version, e.g. "6.0.6003.20489" */
  version: string;
  files: string[];
  /** the files' bytes (default: a 1 KiB fake "MZ" stub); the rollup benchmark makes large ones */
  makeFile?: (name: string) => Buffer;
}

export interface PackageDefinition {
  kb: number;
  /** re-release number: 4 → "-v4" in every file name */
  revision?: number;
  ntVersion: '6.0' | '6.1';
  arch: MsuArch;
  /** README only: servicing role ("servicing-stack", "sha2-support", …) */
  role: string;
  /** README only */
  title: string;
  /** update.mum package@releaseType */
  releaseType: string;
  /** pkgProperties "Package Type" */
  packageType: string;
  restart: 'required' | 'possible';
  /** version of Package_for_KBn, e.g. "6.0.1.2" */
  packageVersion: string;
  /** release date (UTC); every timestamp in the package is derived from it */
  releaseDate: Date;
  /** pkgProperties ApplicabilityInfo */
  applicabilityInfo: string;
  parents: ParentSpec[];
  components: ComponentSpec[];
  signing: SigningPolicy;
}

export interface BuiltMsu {
  file: string;
  baseName: string;
  innerCab: string;
  size: number;
  /** what the package says about itself, for fixtures/payloads/expected.json */
  packageIdentity: { name: string; version: string; processorArchitecture: string };
  catalogDigest: CatalogDigest;
  members: string[];
  innerMembers: string[];
}

const CRLF = '\r\n';
const mumArch = (arch: MsuArch) => (arch === 'x64' ? 'amd64' : 'x86');
const pad2 = (n: number) => String(n).padStart(2, '0');
const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const addSeconds = (d: Date, s: number) => new Date(d.getTime() + s * 1000);
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const sha256Hex = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

export function msuBaseName(def: PackageDefinition): string {
  return `Windows${def.ntVersion}-KB${def.kb}${def.revision ? `-v${def.revision}` : ''}-${def.arch}`;
}

/** Cabinets store local calendar fields; build the Date so its local fields are the UTC release time. */
function cabDate(d: Date, hour: number): Date {
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour, 0, 0);
}

function identityAttributes(a: Record<string, string | undefined>): string {
  return Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${xmlEscape(v!)}"`).join(' ');
}

// ---------------------------------------------------------------- components and manifests

interface BuiltComponent {
  spec: ComponentSpec;
  /** e.g. amd64_microsoft-windows-servicingstack_31bf3856ad364e35_6.0.6003.20489_none_0123456789abcdef */
  key: string;
  manifestName: string;
  manifest: Buffer;
  files: { name: string; data: Buffer }[];
}

function fakeFile(component: ComponentSpec, file: string, arch: string): Buffer {
  // An "MZ" stub with a readable label, 1 KiB: enough to hash, small enough to commit.
  const label = `cabferry fake ${file} ${component.name} ${component.version} ${arch}\r\n`;
  const body = Buffer.alloc(1024, 0);
  body.write('MZ', 0, 'latin1');
  body.write(label, 64, 'latin1');
  return body;
}

function buildComponent(spec: ComponentSpec, arch: string): BuiltComponent {
  const key = `${arch}_${spec.name.toLowerCase()}_${PUBLIC_KEY_TOKEN}_${spec.version}_none_${sha256Hex(`${arch}|${spec.name}|${spec.version}`).slice(0, 16)}`;
  const files = spec.files.map((name) => ({ name, data: spec.makeFile ? spec.makeFile(name) : fakeFile(spec, name, arch) }));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" copyright="Copyright (c) Microsoft Corporation. All Rights Reserved.">',
    `  <assemblyIdentity ${identityAttributes({ name: spec.name, version: spec.version, processorArchitecture: arch, language: 'neutral', buildType: 'release', publicKeyToken: PUBLIC_KEY_TOKEN, versionScope: 'nonSxS' })} />`,
  ];
  for (const f of files) {
    const digest = crypto.createHash('sha256').update(f.data).digest('base64');
    lines.push(
      `  <file name="${xmlEscape(f.name)}" destinationPath="$(runtime.system32)\\" sourceName="${xmlEscape(f.name)}" sourcePath=".\\" importPath="$(build.nttree)\\">`,
      '    <asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2">',
      '      <dsig:Transforms xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">',
      '        <dsig:Transform Algorithm="urn:schemas-microsoft-com:HashTransforms.Identity" />',
      '      </dsig:Transforms>',
      '      <dsig:DigestMethod xmlns:dsig="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2000/09/xmldsig#sha256" />',
      `      <dsig:DigestValue xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">${digest}</dsig:DigestValue>`,
      '    </asmv2:hash>',
      '  </file>',
    );
  }
  lines.push('</assembly>');
  return { spec, key, manifestName: `${key}.manifest`, manifest: Buffer.from(lines.join(CRLF), 'utf8'), files };
}

// ---------------------------------------------------------------- .mum files

function assemblyHeader(def: PackageDefinition): string {
  const created = isoSeconds(def.releaseDate);
  return `<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" description="Fix for KB${def.kb}" displayName="default" company="Microsoft Corporation" copyright="Microsoft Corporation" supportInformation="http://support.microsoft.com/?kbid=${def.kb}" creationTimeStamp="${created}" lastUpdateTimeStamp="${created}">`;
}

function parentElements(def: PackageDefinition, disposition: 'detect' | 'staged'): string[] {
  const arch = mumArch(def.arch);
  return def.parents.flatMap((p) => [
    `    <parent ${identityAttributes({ buildCompare: p.buildCompare, serviceCompare: p.serviceCompare, revisionCompare: p.revisionCompare, integrate: 'separate', disposition })}>`,
    ...p.identities.map((id) =>
      `      <assemblyIdentity ${identityAttributes({ name: id.name, version: id.version, processorArchitecture: arch, language: 'neutral', buildType: 'release', publicKeyToken: PUBLIC_KEY_TOKEN, versionScope: 'nonSxS' })} />`),
    '    </parent>',
  ]);
}

function installerAssembly(def: PackageDefinition): string {
  return `    <installerAssembly ${identityAttributes({ name: 'Microsoft-Windows-ServicingStack', version: '6.0.0.0', language: 'neutral', processorArchitecture: mumArch(def.arch), versionScope: 'nonSxS', publicKeyToken: PUBLIC_KEY_TOKEN })} />`;
}

function packageIdentity(def: PackageDefinition, name: string): string {
  return identityAttributes({ name, version: def.packageVersion, language: 'neutral', processorArchitecture: mumArch(def.arch), publicKeyToken: PUBLIC_KEY_TOKEN });
}

/** 6.1 mums in the corpus start with a UTF-8 BOM, 6.0 ones do not. */
function mumBytes(def: PackageDefinition, lines: string[]): Buffer {
  const text = Buffer.from(lines.join(CRLF), 'utf8');
  return def.ntVersion === '6.0' ? text : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]);
}

function updateMum(def: PackageDefinition, subPackage: string): Buffer {
  return mumBytes(def, [
    '<?xml version="1.0" encoding="utf-8"?>',
    assemblyHeader(def),
    `  <assemblyIdentity ${packageIdentity(def, `Package_for_KB${def.kb}`)} />`,
    `  <package identifier="KB${def.kb}" applicabilityEvaluation="deep" releaseType="${xmlEscape(def.releaseType)}" restart="${def.restart}">`,
    ...parentElements(def, 'detect'),
    installerAssembly(def),
    `    <update name="${def.kb}-1_neutral_PACKAGE">`,
    '      <package integrate="hidden">',
    `        <assemblyIdentity ${packageIdentity(def, subPackage)} />`,
    '      </package>',
    '    </update>',
    '  </package>',
    '</assembly>',
  ]);
}

function subPackageMum(def: PackageDefinition, subPackage: string, components: BuiltComponent[], arch: string): Buffer {
  const identities = components.map((c) =>
    `          <assemblyIdentity ${identityAttributes({ name: c.spec.name, version: c.spec.version, processorArchitecture: arch, language: 'neutral', buildType: 'release', publicKeyToken: PUBLIC_KEY_TOKEN, versionScope: 'nonSxS' })} />`);
  return mumBytes(def, [
    '<?xml version="1.0" encoding="utf-8"?>',
    assemblyHeader(def),
    `  <assemblyIdentity ${packageIdentity(def, subPackage)} />`,
    `  <package identifier="KB${def.kb}" releaseType="${xmlEscape(def.releaseType)}" restart="${def.restart}">`,
    ...parentElements(def, 'staged'),
    installerAssembly(def),
    `    <update name="${def.kb}-2_neutral_GDR">`,
    '      <applicable disposition="staged">',
    '        <updateComponent elevate="install">',
    ...identities,
    '        </updateComponent>',
    '      </applicable>',
    ...components.flatMap((c) => [
      '      <component>',
      `        <assemblyIdentity ${identityAttributes({ name: c.spec.name, version: c.spec.version, processorArchitecture: arch, language: 'neutral', buildType: 'release', publicKeyToken: PUBLIC_KEY_TOKEN, versionScope: 'nonSxS' })} />`,
      '      </component>',
    ]),
    '    </update>',
    '  </package>',
    '</assembly>',
  ]);
}

// ---------------------------------------------------------------- the other MSU members

export function pkgProperties(def: PackageDefinition): Buffer {
  const d = def.releaseDate;
  const entries: [string, string][] = [
    ['ApplicabilityInfo', def.applicabilityInfo],
    ['Applies to', `Windows ${def.ntVersion}`],
    ['Build Date', `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}`],
    ['Company', 'Microsoft Corporation'],
    ['File Version', '1'],
    ['Installation Type', 'FULL'],
    ['Installer Engine', 'Component Based Servicing - WUSA.exe'],
    ['Installer Version', '6.0.0.0'],
    ['KB Article Number', String(def.kb)],
    ['Language', 'ALL'],
    ['Package Type', def.packageType],
    ['Processor Architecture', mumArch(def.arch)],
    ['Product Name', `Windows ${def.ntVersion}`],
    ['Support Link', `http://support.microsoft.com?kbid=${def.kb}`],
  ];
  return Buffer.from(entries.map(([k, v]) => `${k}="${v}"${CRLF}`).join(''), 'latin1');
}

export function unattendXml(def: PackageDefinition): Buffer {
  return Buffer.from([
    '<?xml version="1.0" encoding="utf-8"?>',
    '<unattend xmlns="urn:schemas-microsoft-com:unattend">',
    '    <servicing>',
    '        <package action="install">',
    `            <assemblyIdentity  ${packageIdentity(def, `Package_for_KB${def.kb}`)}/>`,
    `            <source location="%configsetroot%\\${msuBaseName(def)}.CAB" />`,
    '        </package>',
    '     </servicing>',
    '</unattend>',
    '',
    '',
  ].join(CRLF), 'utf8');
}

/** 100-ns ticks since 1601-01-01, as _manifest_.cix.xml writes file times */
function fileTime(d: Date): string {
  return (BigInt(d.getTime()) * 10000n + 116444736000000000n).toString();
}

function containerIndex(def: PackageDefinition, entries: { logical: string; member: string; data: Buffer }[]): Buffer {
  const time = fileTime(def.releaseDate);
  const total = entries.reduce((n, e) => n + e.data.length, 0);
  const files = entries.map((e, i) => {
    const sha1 = crypto.createHash('sha1').update(e.data).digest('hex');
    return `<File id="${i + 1}" name="${xmlEscape(e.logical)}" length="${e.data.length}" time="${time}" attr="32"><Hash alg="SHA1" value="${sha1}"/>` +
      `<Delta><Source type="RAW" name="${xmlEscape(e.member)}"><Hash alg="SHA1" value="${sha1}"/></Source></Delta></File>`;
  }).join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${CRLF}<Container name="kb${def.kb}.cab" type="CAB" length="${total}" version="1" xmlns="urn:ContainerIndex"><Description/><Files>${files}</Files></Container>${CRLF}`, 'utf8');
}

/** WSUSSCAN.cab → package.cab → package.xml + core\ extended\ localized\ (opaque to cabferry; only its signature matters). */
function wsusScanPackage(def: PackageDefinition): Buffer {
  const updateId = uuidFrom(`update|${msuBaseName(def)}`);
  const created = isoSeconds(def.releaseDate);
  const packageXml = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?><OfflineSyncPackage MinimumClientVersion="5.4.3790.2191" ProtocolVersion="2.0" PackageId="${uuidFrom(`package|${msuBaseName(def)}`)}" SourceId="${uuidFrom('cabferry-source')}" CreationDate="${created}" PackageVersion="1.0" xmlns="http://schemas.microsoft.com/msus/2004/02/OfflineSync">` +
    `<Updates><Update CreationDate="${created}" DefaultLanguage="en" UpdateId="${updateId}" RevisionNumber="200" RevisionId="1" DeploymentAction="Installation" IsLeaf="true"><Categories><Category Type="Company" Id="56309036-4c77-4dd9-951a-99ee9c246a94" /></Categories></Update></Updates></OfflineSyncPackage>`, 'utf8')]);
  const date = cabDate(def.releaseDate, 11);
  const files: CabWriterFile[] = [
    { name: 'package.xml', data: packageXml, date },
    { name: 'core\\1', data: Buffer.from(`<UpdateIdentity UpdateID="${updateId.toUpperCase()}" RevisionNumber="200" /><Properties UpdateType="Software" /><ApplicabilityRules><IsInstalled><False /></IsInstalled></ApplicabilityRules>`, 'utf8'), date },
    { name: 'extended\\1', data: Buffer.from(`<ExtendedProperties DefaultPropertiesLanguage="en" Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/CBS" />`, 'utf8'), date },
    { name: 'localized\\en\\1', data: Buffer.from(`<LocalizedProperties><Language>en</Language><Title>Update for Windows (KB${def.kb})</Title></LocalizedProperties>`, 'utf8'), date },
  ];
  return buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files }]);
}

function uuidFrom(seed: string): string {
  const h = sha256Hex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------- signing and assembly

/**
 * Like Microsoft's own: a SHA-1 signature (SP2 in 2009, or the primary of a dual signature) carries a legacy
 * countersignature, a SHA-256 signature an RFC 3161 token.
 */
function cabSignatures(def: PackageDefinition, description: string, offsetSeconds: number): CabSignature[] {
  const signingTime = addSeconds(def.releaseDate, offsetSeconds);
  const sig = (digest: 'sha1' | 'sha256', extra: number): CabSignature => ({
    signer: 'leaf-rsa', digest, signingTime, timestampTime: addSeconds(signingTime, 1 + extra),
    timestampKind: digest === 'sha1' ? 'legacy' : 'rfc3161', description, url: 'http://www.microsoft.com',
  });
  switch (def.signing) {
    case 'sha1': return [sig('sha1', 0)];
    case 'sha2': return [sig('sha256', 0)];
    case 'dual': return [sig('sha1', 0), sig('sha256', 1)];
  }
}

function signedCab(pki: TestPki, unsigned: Buffer, signatures: CabSignature[], workPath: string): Buffer {
  fs.writeFileSync(workPath + '.unsigned', unsigned);
  signCab(pki, workPath + '.unsigned', workPath, signatures);
  const out = fs.readFileSync(workPath);
  fs.rmSync(workPath + '.unsigned');
  fs.rmSync(workPath);
  return out;
}

/** The inner package cab and WSUSSCAN.cab of the real MSUs are LZX:21 (the outer MSU is MSZIP). */
function lzx21(): FolderEncoder {
  return lzxFolderEncoder({ windowBits: 21, e8: true, blockType: ['verbatim', 'aligned'] });
}

export interface PackageCabOptions {
  /**
   * Change update.mum after the catalogs were signed (the container index is made from the changed
   * bytes, as someone re-packing the cab would): the cab still signs fine, but the metadata no longer
   * matches update.cat.
   */
  alterUpdateMum?: (mum: Buffer) => Buffer;
  /**
   * Change update.mum before the catalogs are signed: a package whose signed metadata says
   * something else (or less) than the builder's, e.g. no processorArchitecture.
   */
  writeUpdateMum?: (mum: Buffer) => Buffer;
  /** the catalogs' digest, whatever def.signing says (a dual-signed .msu around SHA-256-only catalogs) */
  catalogDigest?: CatalogDigest;
  /**
   * Member order of a real rollup: the payload files first, the manifests, update.mum and the
   * catalogs at the end, so that reading the metadata means decoding the whole folder (default:
   * metadata first, as in the small real packages).
   */
  metadataLast?: boolean;
  /** the folder's encoder (default LZX:21 with E8 and matches) */
  encoder?: FolderEncoder;
}

export interface PackageCab {
  /** the unsigned cabinet bytes (LZX:21) */
  cab: Buffer;
  catalogDigest: CatalogDigest;
  members: string[];
}

/** The CBS package cab (Windows6.x-KBn-arch.cab) of a definition, before its Authenticode signature. */
export function buildPackageCab(def: PackageDefinition, pki: TestPki, options: PackageCabOptions = {}): PackageCab {
  const base = msuBaseName(def);
  const arch = mumArch(def.arch);
  const catalogDigest: CatalogDigest = options.catalogDigest ?? (def.signing === 'sha2' ? 'sha256' : 'sha1');
  const subPackage = `Package_1_for_KB${def.kb}`;
  const subStem = `${subPackage.toLowerCase()}~${PUBLIC_KEY_TOKEN}~${arch}~~${def.packageVersion}`;

  const components = def.components.map((c) => buildComponent(c, arch));
  const mum = options.writeUpdateMum ? options.writeUpdateMum(updateMum(def, subPackage)) : updateMum(def, subPackage);
  const subMum = subPackageMum(def, subPackage, components, arch);

  pki.assertValidAt('catalog-signer', def.releaseDate, 'catalog signing time');
  pki.assertValidAt('tsa', addSeconds(def.releaseDate, 5), 'catalog countersignature time');
  const catalogSigner = loadSigningIdentity(pki.chainPath('catalog-signer'), pki.get('catalog-signer').keyPath);
  const tsa = loadSigningIdentity(pki.chainPath('tsa'), pki.get('tsa').keyPath);
  const catalog = (seed: string, members: { name: string; data: Buffer }[]) => signCatalog(
    buildCatalogCtl({
      listIdentifier: crypto.createHash('sha256').update(`${base}|${seed}`).digest().subarray(0, 16),
      thisUpdate: def.releaseDate, digest: catalogDigest, members, osAttr: `2:${def.ntVersion}`,
    }),
    {
      signer: catalogSigner, digest: catalogDigest, description: `KB${def.kb}`,
      countersignature: { tsa, time: addSeconds(def.releaseDate, 5), digest: catalogDigest },
    },
  );
  const manifests = components.map((c) => ({ name: c.manifestName, data: c.manifest }));
  const updateCat = catalog('update.cat', [{ name: 'update.mum', data: mum }, { name: `${subStem}.mum`, data: subMum }, ...manifests]);
  const subCat = catalog(`${subStem}.cat`, [{ name: `${subStem}.mum`, data: subMum }, ...manifests]);
  const storedMum = options.alterUpdateMum ? options.alterUpdateMum(mum) : mum;

  // Payload files are stored under numbers and named by the container index, as in the real cabs.
  const payloads = components.flatMap((c) => c.files.map((f) => ({ logical: `${c.key}\\${f.name}`, data: f.data })))
    .map((p, i) => ({ ...p, member: String(i) }));
  const named = [
    ...manifests.map((m) => ({ logical: m.name, member: m.name, data: m.data })),
    { logical: 'update.mum', member: 'update.mum', data: storedMum },
    { logical: 'update.cat', member: 'update.cat', data: updateCat },
    { logical: `${subStem}.mum`, member: `${subStem}.mum`, data: subMum },
    { logical: `${subStem}.cat`, member: `${subStem}.cat`, data: subCat },
  ];
  const cix = containerIndex(def, [...named, ...payloads]);
  const date = cabDate(def.releaseDate, 10);
  const metadataFiles: CabWriterFile[] = [{ name: '_manifest_.cix.xml', data: cix, date }, ...named.map((n) => ({ name: n.member, data: n.data, date }))];
  const payloadFiles: CabWriterFile[] = payloads.map((p) => ({ name: p.member, data: p.data, date }));
  const files = options.metadataLast ? [...payloadFiles, ...metadataFiles] : [...metadataFiles, ...payloadFiles];
  return { cab: buildCab([{ encoder: options.encoder ?? lzx21(), files }]), catalogDigest, members: files.map((f) => f.name) };
}

/** Signatures of the inner package cab (made by buildMsu; exported for fixtures that sign a bare package cab) */
export function packageCabSignatures(def: PackageDefinition): CabSignature[] {
  return cabSignatures(def, 'Windows Vista Cabs', 60);
}

export function buildMsu(def: PackageDefinition, pki: TestPki, outDir: string, options: PackageCabOptions = {}): BuiltMsu {
  const base = msuBaseName(def);
  const arch = mumArch(def.arch);
  const work = path.join(outDir, `.${base}.work`);
  const packageCab = buildPackageCab(def, pki, options);

  fs.mkdirSync(work, { recursive: true });
  try {
    const innerCab = signedCab(pki, packageCab.cab, packageCabSignatures(def), path.join(work, 'inner.cab'));
    const wsusScan = signedCab(pki, buildCab([{ encoder: lzx21(), files: [{ name: 'package.cab', data: wsusScanPackage(def), date: cabDate(def.releaseDate, 11) }] }]),
      cabSignatures(def, 'Windows Vista Hotfix WUSASCAN.cab', 120), path.join(work, 'wsusscan.cab'));
    const outerDate = cabDate(def.releaseDate, 12);
    const outerFiles: CabWriterFile[] = [
      { name: 'WSUSSCAN.cab', data: wsusScan, date: outerDate },
      { name: `${base}.cab`, data: innerCab, date: outerDate },
      { name: `${base}-pkgProperties.txt`, data: pkgProperties(def), date: outerDate },
      { name: `${base}.xml`, data: unattendXml(def), date: outerDate },
    ];
    const msu = signedCab(pki, buildCab([{ encoder: mszipFolderEncoder({ withHistory: true }), files: outerFiles }]),
      cabSignatures(def, `${base}.msu`, 180), path.join(work, 'outer.msu'));
    const file = path.join(outDir, `${base}.msu`);
    fs.writeFileSync(file, msu);
    return {
      file, baseName: base, innerCab: `${base}.cab`, size: msu.length,
      packageIdentity: { name: `Package_for_KB${def.kb}`, version: def.packageVersion, processorArchitecture: arch },
      catalogDigest: packageCab.catalogDigest,
      members: outerFiles.map((f) => f.name),
      innerMembers: packageCab.members,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
