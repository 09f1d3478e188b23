// Pure conversions and parsing of the cgroup manager; no cgroups are touched.
import t from 'tap';
import { allowsEverything, deviceRuleText } from '../src/cgroups/devices.js';
import { detectCgroupMode, ownCgroups } from '../src/cgroups/mode.js';
import { cleanCgroupPath, innerCgroupPath, v1Dir, v2Dir } from '../src/cgroups/paths.js';
import { blkioWeightToIoWeight, sharesToWeight, swapV2Value } from '../src/cgroups/resources-v2.js';

t.test('cgroupsPath resolution', async (t) => {
  t.equal(innerCgroupPath('abc', undefined, false), '/abc');
  t.equal(cleanCgroupPath('/a/../../b'), '/b');
  t.equal(cleanCgroupPath('a/../../b'), 'b');
  t.equal(v1Dir({ mountpoint: '/sys/fs/cgroup/memory', root: '/' }, '/c1', '/user'), '/sys/fs/cgroup/memory/c1');
  t.equal(v1Dir({ mountpoint: '/sys/fs/cgroup/memory', root: '/' }, 'c1', '/user'), '/sys/fs/cgroup/memory/user/c1');
  t.equal(v1Dir({ mountpoint: '/sys/fs/cgroup/memory', root: '/docker/x' }, 'c1', '/docker/x/sub'), '/sys/fs/cgroup/memory/sub/c1');
  t.equal(v2Dir('/sys/fs/cgroup', 'c1', '/user.slice/session.scope'), '/sys/fs/cgroup/user.slice/c1');
  t.throws(() => innerCgroupPath('x', '/', false), /root cgroup/);
});

t.test('mode detection from mountinfo', async (t) => {
  const v2 = '30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n';
  t.equal(detectCgroupMode(v2).version, 2);
  const v1 = [
    '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct',
    '32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    '33 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
  ].join('\n');
  const mode = detectCgroupMode(v1);
  t.equal(mode.version, 1);
  t.equal(mode.unifiedRoot, '/sys/fs/cgroup/unified');
  t.same(Object.keys(mode.v1Mounts).sort(), ['cpu', 'cpuacct', 'name=systemd']);
  t.same(ownCgroups('4:cpu,cpuacct:/a\n0::/b\n'), { cpu: '/a', cpuacct: '/a', '': '/b' });
});

t.test('v1 -> v2 conversions match runc', async (t) => {
  t.equal(sharesToWeight(1024), 39);
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(262144), 10000);
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(1000), 10000);
  t.equal(swapV2Value(200, 100), 100);
  t.equal(swapV2Value(-1, 100), -1);
  t.equal(swapV2Value(0, -1), -1);
  t.throws(() => swapV2Value(50, 100), /should be >= memory/);
  t.throws(() => swapV2Value(50, 0), /without memory limit/);
});

t.test('device rules', async (t) => {
  t.equal(deviceRuleText({ allow: false }), 'a *:* rwm');
  t.equal(deviceRuleText({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }), 'c 1:3 rw');
  t.equal(deviceRuleText({ allow: true, type: 'b', major: 8, minor: -1 }), 'b 8:* rwm');
  t.ok(allowsEverything([]), 'no rules: no filter');
  t.ok(allowsEverything([{ allow: false }, { allow: true, access: 'rwm' }]), 'a final allow-all wins');
  t.notOk(allowsEverything([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3 }]));
  t.notOk(allowsEverything([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'w' }]));
  t.throws(() => allowsEverything([{ allow: true, type: 'x' }]), /invalid device rule type "x"/);
});
