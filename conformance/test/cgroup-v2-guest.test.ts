// The cgroup v2 paths, end to end, where the host cannot give them every controller: on a hybrid
// host (as this machine is) the cgroup2 mount has almost none, so the v2 manager's unit suite,
// the limits enforced by the kernel, the container's view of its cgroup, the CLI's
// exec/pause/update/events/kill, and containerd and podman driving tsrunc are run again in a guest
// whose only hierarchy is cgroup2 (conformance/vm/run.sh); so is checkpoint/restore, which criu can
// do on the guest's kernel.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cgroupV2 } from '../src/cgroup-files.js';

const RUN_IN_VM = fileURLToPath(new URL('../../vm/run.sh', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SUITES = ['packages/runtime/dist/test/cgroups-v2.test.js', 'packages/runtime/dist/test/cgroups-behaviour.test.js',
  'conformance/dist/test/manage.test.js', 'conformance/dist/test/containerd.test.js', 'conformance/dist/test/podman.test.js',
  'conformance/dist/test/cgroup-view.test.js',
  // Debian's kernel is one criu 3.17 can dump on (the host's may not be): the checkpoint/restore round trips run here.
  'packages/runtime/dist/test/checkpoint.test.js'];

function whyNot(): string | false {
  if (cgroupV2) return 'the host is cgroup v2 itself: the other suites already run on it';
  if (!fs.existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86 is not installed (scripts/setup-host.sh installs it)';
  if (!fs.readdirSync('/boot').some((f) => f.startsWith('vmlinuz-'))) return 'no kernel in /boot (scripts/setup-host.sh installs linux-image-amd64)';
  return false;
}

const skip = whyNot();
if (skip) console.log(`# skipping the cgroup v2 guest: ${skip}`);

// Emulated, the guest runs these suites in 4 to 7 minutes here, more when the host is busy: this file
// may take longer than the 10 minutes tap gives the others (package.json), up to run.sh's own limit.
const GUEST_MS = 1_700_000;
t.setTimeout(GUEST_MS + 60_000);

t.test('the v2 suites pass in a cgroup2-only guest', { skip }, async (t) => {
  const r = spawnSync(RUN_IN_VM, ['npx', 'tap', '--reporter=tap', ...SUITES], { cwd: REPO, encoding: 'utf8', timeout: GUEST_MS });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) t.comment(output.split('\n').slice(-60).join('\n'));
  t.equal(r.status, 0, 'the guest\'s tap run succeeds');
  t.match(output, /# cgroup v2 at \/sys\/fs\/cgroup/, 'the guest is cgroup v2');
  t.match(output, /on a running container \(cgroup v2\)/, 'the CLI suite ran on v2');
  t.match(output, /ok \d+ - ctr run --runc-binary tsrunc/, 'containerd ran containers through tsrunc on v2');
  t.match(output, /ok \d+ - podman --runtime tsrunc/, 'and podman did');
  t.match(output, /ok \d+ - checkpoint and restore: a counting container counts on where it stopped/, 'criu checkpointed and restored a container through tsrunc');
  t.match(output, /ok \d+ - a container with a terminal: its pty master comes back/, 'and one with a terminal, its new pty master sent to the console socket');
  const summary = /# \{ total: (\d+), pass: (\d+)(, [^}]*)? \}/.exec(output);
  t.ok(summary, 'tap printed its summary');
  t.equal(summary?.[2], summary?.[1], `every assertion passed (${summary?.[0] ?? 'no summary'})`);
  t.ok(Number(summary?.[1]) >= 80, `the suites ran in full (${summary?.[1]} assertions)`);
  t.notMatch(output, /# SKIP|skipping v2 limit checks/, 'nothing was skipped for a missing controller');
});
