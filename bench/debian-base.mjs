// A Debian base image for benches, made here without a registry: `debootstrap --variant=minbase`
// of bookworm from Debian's mirror, plus the host's node and npm (the image's glibc, libstdc++
// and libgcc run them) and the host's CA bundle (which npm needs to reach its registry from here).
// The root filesystem is kept as a tar under /var/tmp, made once per machine (a few minutes),
// reused by later runs.
//   node bench/debian-base.mjs      makes it, prints its path
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = '/var/tmp/tsbuild-bench';
const MIRROR = 'http://deb.debian.org/debian';

function run(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return r.stdout;
}

/** The path of the base's root filesystem as a tar (made if missing). */
export function debianBaseTar() {
  const tar = path.join(CACHE, 'bookworm-minbase-node.tar');
  if (fs.existsSync(tar)) return tar;
  fs.mkdirSync(CACHE, { recursive: true });
  const root = fs.mkdtempSync(path.join(CACHE, 'rootfs-'));
  try {
    run('debootstrap', ['--variant=minbase', 'bookworm', root, MIRROR]);
    fs.rmSync(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    fs.rmSync(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    fs.copyFileSync(process.execPath, path.join(root, 'usr/bin/node'));
    fs.mkdirSync(path.join(root, 'usr/lib/node_modules'), { recursive: true });
    run('cp', ['-a', '/usr/lib/node_modules/npm', path.join(root, 'usr/lib/node_modules/npm')]);
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/bin/npm'));
    fs.mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
    fs.copyFileSync('/etc/ssl/certs/ca-certificates.crt', path.join(root, 'etc/ssl/certs/ca-certificates.crt'));
    run('tar', ['-C', root, '--numeric-owner', '--xattrs', '-cf', `${tar}.part`, '.']);
    fs.renameSync(`${tar}.part`, tar);
  } finally {
    // debootstrap leaves proc and sys mounted when it fails half-way.
    for (const m of ['proc', 'sys']) spawnSync('umount', ['-l', path.join(root, m)], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
  return tar;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(debianBaseTar());
