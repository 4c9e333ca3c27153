/**
 * `ipam --version`: the package's version (package.json at the checkout's or the package's root) and
 * the git commit it was built from when known: $IPAM_GIT_COMMIT (set by a build without a .git), else
 * `git rev-parse HEAD` in that root (a checkout), else nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root holding package.json: dist/apps/cli/src (built) or apps/cli/src (sources) under it. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'ipam.mjs'))) return dir;
    dir = dirname(dir);
  }
  return from;
}

export function packageVersion(root = packageRoot()): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The commit, 12 hex digits, or null when unknown. */
export function gitCommit(env: Record<string, string | undefined>, root = packageRoot()): string | null {
  const given = env.IPAM_GIT_COMMIT?.trim();
  if (given) return /^[0-9a-f]{7,40}$/i.test(given) ? given.slice(0, 12).toLowerCase() : null;
  if (!existsSync(join(root, '.git'))) return null;
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], {
    cwd: root,
    env: { PATH: env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
    timeout: 3000,
  });
  const sha = r.status === 0 ? r.stdout.trim() : '';
  return /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : null;
}

/** `ipam 0.1.0 (commit 0123456789ab)`, or `ipam 0.1.0` when the commit is unknown. */
export function versionLine(env: Record<string, string | undefined>): string {
  const commit = gitCommit(env);
  return `ipam ${packageVersion()}${commit === null ? '' : ` (commit ${commit})`}`;
}
