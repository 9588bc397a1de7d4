/**
 * What a payload is, as read from its own (verified) metadata. Produced by src/package
 * (`inspectPayload`), stored by src/catalog, consumed by src/planner.
 */

export type Architecture = 'x86' | 'amd64' | 'ia64' | 'arm64' | 'neutral';

/** Role of an update in the install sequence. */
export type PayloadKind =
  | 'service-pack'
  | 'servicing-stack'
  | 'sha2-support'
  | 'monthly-rollup'
  | 'rollup-preview'
  | 'security-only'
  | 'esu-preparation'
  | 'hotfix'
  | 'update'
  | 'security-update'
  | 'other';

/** Digest algorithms of the payload's *valid* Authenticode signatures. */
export type SignatureSummary = 'sha1-only' | 'sha2-only' | 'dual' | 'unsigned' | 'invalid';

export type PayloadFormat = 'msu' | 'cab' | 'exe';

/**
 * A signed part of a payload whose only valid signatures use SHA-2: a host without SHA-2 code
 * signing support cannot verify it, whatever the other parts are signed with (wusa checks the
 * .msu, CBS the catalogs that vouch for the package's manifests).
 */
export interface Sha2OnlyPart {
  /** the file itself, an inner cabinet of an .msu (payload cab, WSUSSCAN.cab), or a catalog (.cat) of the package */
  part: 'file' | 'inner-cabinet' | 'catalog';
  /** the member's name; null for the file itself */
  member: string | null;
}

import type { ExecutableIdentity } from './executable';

/** An assemblyIdentity as written in a .mum (only the attributes present). */
export interface AssemblyIdentity {
  name: string;
  version?: string;
  processorArchitecture?: string;
  language?: string;
  publicKeyToken?: string;
  buildType?: string;
  versionScope?: string;
}

/** A `<parent>` of a package: the package(s) that must be installed for it to apply. */
export interface ParentRequirement {
  identity: AssemblyIdentity;
  /** e.g. "Package_for_KB948465" → "KB948465" when the parent is a KB package */
  kb: string | null;
  disposition?: string;
  integrate?: string;
  buildCompare?: string;
  serviceCompare?: string;
  revisionCompare?: string;
  /**
   * index of the `<parent>` element this came from: requirements sharing a group are
   * alternatives (any one satisfies it, e.g. Client-Features OR Server-Features)
   */
  group?: number;
}

export interface Payload {
  /** "KB4493730" */
  kb: string;
  title?: string;
  /** "Windows Server 2008", "Windows Vista", "Windows 7", … ; several when the package applies to several */
  product: string;
  products?: string[];
  /** "6.0", "6.1", … */
  ntVersion: string;
  architecture: Architecture;
  kind: PayloadKind;
  /** which evidence decided `kind` (releaseType, servicing-stack component, knowledge base, title) */
  kindBasis?: string;
  /** update.mum package@releaseType: "Security Update", "Update", "Hotfix", "Service Pack", … */
  releaseType: string | null;
  /** update.mum package@restart: "required" | "possible" | "never" | null when absent */
  restart: string | null;
  /** update.mum package@applicabilityEvaluation ("deep": CBS evaluates every component) */
  applicabilityEvaluation?: string | null;
  parents: ParentRequirement[];
  /** package identity of the top package (Package_for_KBnnnn) */
  identity: AssemblyIdentity | null;
  /** update.mum installerAssembly (the servicing stack the package needs to install) */
  installerAssembly?: AssemblyIdentity | null;
  /** packages the top package contains (Package_for_KBnnnn_server, …) */
  subPackages?: AssemblyIdentity[];
  /**
   * for a servicing stack update, the version of Microsoft-Windows-ServicingStack it installs (the
   * highest, when it lists several), from its signed .mum files; null for every other kind
   */
  servicingStackVersion?: string | null;
  fileName: string;
  /** re-release number from the file name ("Windows6.0-KB4474419-v4-x64.msu" → 4), else null */
  fileRevision?: number | null;
  format: PayloadFormat;
  /** for an .msu: the member that is the payload cab (what pkgmgr would install) */
  payloadCab?: string;
  /** file size, and the sum of member sizes */
  size: number;
  unpackedSize?: number;
  /** SHA-256 of the whole file, lowercase hex */
  sha256: string;
  signatures: SignatureSummary;
  /**
   * Every signed part of the payload whose only valid signatures use SHA-2 ([] when each also has a
   * valid SHA-1 signature). Absent from records made before cabferry read more than the file's own
   * signature for it, and from a reading whose signatures or catalogs do not hold under the
   * reader's trust (a quarantine record, a `catalog check --deep` under another trust set): not
   * known, not "none".
   */
  sha2OnlyParts?: Sha2OnlyPart[];
  /**
   * .msu/.cab: update.mum (and every listed member present) matches the signed update.cat.
   * .exe: something signed vouches for the KB (see src/package/executable.ts).
   */
  metadataVerified: boolean;
  /** why metadataVerified is false, or notes on what was checked */
  metadataReason?: string;
  /** disagreements between sources (file name vs pkgProperties.txt vs update.mum), for the operator */
  notes?: string[];
  /** for an .exe: its PE headers and signed version resource (its identity; there is no update.mum) */
  executable?: ExecutableIdentity;
}
