/**
 * The CAB container reader (FORMATS.md §1): structure in ./header, CFDATA chains in
 * ./folder-reader (with salvage past damaged blocks, exact for MSZIP through ./salvage-decoder),
 * member data in ./member-reader (shared by one ./cabinet and a ./cabinet-set), cabinets
 * embedded in other files in ./search, writing to disk in ./extract. Decompression is behind
 * ../codecs.
 */
export { Cabinet, openCab } from './cabinet';
export type { CabinetTestReport, MemberTestResult, FolderTestResult, MemberSink, MemberPassOptions, FolderPassResult, ErrorSummary } from './cabinet';
export type { DamageLocation, DamagedMember, LostBlockSummary } from './member-reader';
export { CabinetWindow, type CabByteSource } from './byte-source';
export { CabinetSearch, searchCabinets, findEmbeddedCabinets, type EmbeddedCabinet, type SkippedCandidate, type CabinetSearchResult, type SearchOptions } from './search';
export { CabinetSet, openCabSet, openCabOrSet } from './cabinet-set';
export { MemberReader, type LogicalFolder } from './member-reader';
export { readCabHeader, readCabFolders, readCabMembers, decodeMemberName, dosDateTimeToString } from './header';
export { cabChecksum, cfdataChecksum } from './checksum';
export { extractMembers, extractCabinets, safeRelativePath, type ExtractOptions, type ExtractReport, type ExtractedMember, type WrittenPaths } from './extract';
export * from './types';
export { memberKey, sameMemberName } from './member-name';
