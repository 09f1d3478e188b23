// A build context of a test's own, built by the real tsbuild CLI into a store of its own; all of
// it removed when the test ends.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSBUILD = fileURLToPath(new URL('../../bin/tsbuild', import.meta.url));
export { TSRUNC_BINARY as TSRUNC } from '@tsrunc/runtime';

export interface Project {
  dir: string;
  root: string;
  /** TMPDIR of its builds: where their RUN snapshots are mounted, apart from other tests' builds. */
  tmpdir: string;
  build(args: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** `tsbuild unpack` of a built image; the bundle's rootfs path. */
  unpack(ref: string): string;
}

export function project(t: { teardown(fn: () => void): void }, files: Record<string, string>): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'ctx', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ctx', name), content);
  }
  const root = path.join(dir, 'store');
  const tmpdir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpdir);
  let bundles = 0;
  return {
    dir,
    root,
    tmpdir,
    build: (args, env = {}) => {
      // Run from the context, as a user typically runs docker build: -f FILE is relative to it.
      const r = spawnSync(TSBUILD, ['build', '--root', root, ...args, path.join(dir, 'ctx')], { cwd: path.join(dir, 'ctx'), encoding: 'utf8', env: { ...process.env, TMPDIR: tmpdir, ...env } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    unpack: (ref) => {
      const bundle = path.join(dir, `bundle-${++bundles}`);
      const r = spawnSync(TSBUILD, ['unpack', '--root', root, ref, bundle], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tsbuild unpack ${ref}: ${r.stderr}`);
      return path.join(bundle, 'rootfs');
    },
  };
}

/** The lines of a stage "base" with the host's static busybox installed, for builds that RUN. */
export const BUSYBOX_BASE = ['FROM scratch AS base', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', 'CMD ["/bin/sh"]'];

/** A project whose Dockerfile is BUSYBOX_BASE then `rest`, with busybox in its context. */
export function busyboxProject(t: { teardown(fn: () => void): void }, rest: string[], files: Record<string, string> = {}): Project {
  const p = project(t, { Dockerfile: [...BUSYBOX_BASE, ...rest, ''].join('\n'), ...files });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  return p;
}

/** A loopback port that nothing listens on (until the test starts something there). */
export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The progress lines that end with `word` (CACHED, ...). */
export const count = (text: string, word: string) => text.split('\n').filter((l) => l.endsWith(` ${word}`)).length;
