#!/usr/bin/env node
/**
 * `cabferry` as installed (package.json bin): scripts/build-cli bundles this file as
 * dist/cli/cabferry.js beside the bundled program it loads (see ./bundled-program). It only ever
 * runs from there; unbundled, the program is dist/src/cli/main.js.
 */
import { ExitCode } from '../errors';
import { loadBundledProgram, programFileFor } from './bundled-program';
import { answerVersionOnly } from './version-only';

if (!answerVersionOnly(process.argv)) {
  let program: ReturnType<typeof loadBundledProgram> | undefined;
  try {
    program = loadBundledProgram(__dirname, true, programFileFor(process.argv));
  } catch (e) {
    // an installation without its program: a fault of the installation, one line (see main's runMain)
    process.stderr.write(`cabferry: internal error: cannot load the program: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = ExitCode.internal;
  }
  program?.exports.runMain(process.argv);
}
