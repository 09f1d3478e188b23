// Builds a minimal root filesystem from the host's static busybox, for tests, the conformance
// suite and examples: the project prepares its own rootfs on a fresh machine instead of
// pulling an image.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const BUSYBOX = '/bin/busybox';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n';

let applets: string[] | undefined;

/** The applet names of the host's busybox (asked once per process). */
function busyboxApplets(): string[] {
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return applets;
}

/** Fills `dir` (created if missing) with busybox, its applet links and the usual empty mount points. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/app', 'var', 'run', 'usr/bin']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of busyboxApplets()) {
    if (applet === 'busybox') continue;
    const link = path.join(dir, 'bin', applet);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), PASSWD);
  fs.writeFileSync(path.join(dir, 'etc/group'), GROUP);
  fs.writeFileSync(path.join(dir, 'etc/hostname'), 'rootfs\n');
  return dir;
}
