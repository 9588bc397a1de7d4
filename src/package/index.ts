/**
 * What a payload is (DESIGN.md "package/"): an .msu or payload .cab, read from its own signed
 * servicing metadata.
 *
 * Data flow of `inspectPayload(path)`:
 *   one read of the file → SHA-256 + Authenticode verdict (src/authenticode)
 *   → layout.ts (MSU: payload cab, WSUSSCAN.cab, pkgProperties.txt, unattend .xml; or a bare payload cab)
 *   → the payload cab streamed to a temp file (never held in memory)
 *   → verify-metadata.ts: .mum/.cat/.manifest/_manifest_.cix.xml read in one folder pass; every
 *     catalog's signature (verifySignedData) → ctl.ts entries → member hashes; cix.ts consistency
 *   → mum.ts (update.mum), pkg-properties.ts, unattend.ts — all XML through xml.ts (no DTD, bounded)
 *   → product.ts (NT version, products, architecture), classify.ts (kind) → the Payload model (types.ts).
 */
export {
  inspectPayload,
  inspectPayloadReport,
  inspectPayloadWithFacts,
  summarizeSignatures,
  type InspectOptions,
  type InspectedMember,
  type PayloadReport,
  type PrecomputedFileFacts,
} from './inspect';
export { verifyPackageMetadata, readMetadataMembers, type MetadataMembers, type MetadataVerification, type CatalogCheck, type MetadataProblem } from './verify-metadata';
export { parsePackageManifest, kbFromPackageName, type PackageManifest, type ManifestUpdate } from './mum';
export { parsePkgProperties, type PkgProperties } from './pkg-properties';
export { parseUnattend, type UnattendPackage } from './unattend';
export { parseCatalogContent, type CatalogContent, type CatalogEntry } from './ctl';
export { parseContainerIndex, type ContainerIndex } from './cix';
export type { Architecture, AssemblyIdentity, ParentRequirement, Payload, PayloadFormat, PayloadKind, SignatureSummary } from './types';
