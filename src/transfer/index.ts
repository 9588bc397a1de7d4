export { BUNDLE, BUNDLE_FORMAT, RECORD_FORMAT, type TransferManifest, type TransferRecord, type BundlePayload } from './bundle-format';
export { isTransferBundle, openBundle, type BundleSource } from './bundle-source';
export { exportBundle, type ExportBundleOptions, type ExportBundleResult, type LeftOutPayload, type TransferProgress } from './export';
export {
  importSources,
  importTransferBundle,
  type BundleRefusalCode,
  type BundleCheckReport,
  type BundleImportOptions,
  type BundleImportSummary,
  type RecordMismatch,
  type SourcesImportSummary,
} from './import-bundle';
