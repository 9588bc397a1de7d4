import os = require('node:os');
import path = require('node:path');
import { usageError } from '../errors';

/**
 * Where the catalog lives, decided in one place for every command that touches it
 * (import, catalog, trust, plan, stage): `--catalog DIR`, else $CABFERRY_CATALOG, else the
 * per-user data folder ($XDG_DATA_HOME/cabferry, or ~/.local/share/cabferry).
 */
export function resolveCatalogDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined) {
    if (option.trim() === '') throw usageError('CATALOG_DIR_EMPTY', '--catalog needs a directory');
    return path.resolve(option);
  }
  const fromEnv = env.CABFERRY_CATALOG;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  // XDG Base Directory spec: a relative XDG_DATA_HOME is invalid and must be ignored
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'cabferry');
  const home = env.HOME ?? os.homedir();
  return path.join(home, '.local', 'share', 'cabferry');
}
