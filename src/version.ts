// Read once from package.json so the CLI, manifests and catalogs report the same version.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const version: string = (require('../../package.json') as { version: string }).version;
