/**
 * The CAB container reader (FORMATS.md §1): structure in ./header, CFDATA chains in
 * ./folder-reader, member data in ./member-reader (shared by one ./cabinet and a ./cabinet-set),
 * writing to disk in ./extract. Decompression is behind ../codecs.
 */
export { Cabinet, openCab } from './cabinet';
export type { CabinetTestReport, MemberTestResult, FolderTestResult, MemberSink, MemberPassOptions, FolderPassResult, ErrorSummary } from './cabinet';
export { CabinetSet, openCabSet, openCabOrSet } from './cabinet-set';
export { MemberReader, type LogicalFolder } from './member-reader';
export { readCabHeader, readCabFolders, readCabMembers, decodeMemberName, dosDateTimeToString } from './header';
export { cabChecksum, cfdataChecksum } from './checksum';
export { extractMembers, safeRelativePath, type ExtractOptions, type ExtractReport, type ExtractedMember } from './extract';
export * from './types';
