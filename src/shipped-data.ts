import fs = require('node:fs');
import path = require('node:path');
import { internalError } from './errors';

/**
 * The top-level catalog/ folder of this installation: what cabferry ships as data (SQL
 * migrations, the knowledge base, the Microsoft root certificates). Found from the package root,
 * so it works from src/ (tests) and dist/ (the built CLI) alike.
 */
export function shippedDataPath(...parts: string[]): string {
  return path.join(packageRoot(), 'catalog', ...parts);
}

/**
 * A file of the installation outside catalog/ that the code reads at run time (e.g. the
 * install.cmd template under src/media/templates): found from the package root like the data.
 */
export function packageFilePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}

function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw internalError('SHIPPED_DATA_MISSING', `package.json not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}
