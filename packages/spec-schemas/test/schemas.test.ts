import t from 'tap';
import { checkDocument, MEDIA_TYPES, parseRuntimeConfig } from '../src/index.js';

// What `runc spec` writes, trimmed of nothing: the baseline every runtime must accept.
const runcDefaultConfig = `{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "user": { "uid": 0, "gid": 0 },
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "runc",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
  ],
  "linux": {
    "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" },
      { "type": "cgroup" }
    ],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}`;

// A fresh mutable copy of the default config, for the negative cases to break.
function defaultConfig(): Record<string, any> {
  return JSON.parse(runcDefaultConfig) as Record<string, any>;
}

function configError(config: unknown): string | undefined {
  const result = parseRuntimeConfig(JSON.stringify(config), 'config.json');
  return result.ok ? undefined : result.error;
}

t.test('runc default config.json is valid', async (t) => {
  const result = parseRuntimeConfig(runcDefaultConfig, 'config.json');
  t.ok(result.ok);
  if (result.ok) t.equal(result.value.process?.args?.[0], 'sh');
});

t.test('unknown fields are tolerated, as runc does', async (t) => {
  const config = defaultConfig();
  config['vendorExtension'] = { anything: 1 };
  config['annotations'] = { 'org.example.key': 'value' };
  t.equal(configError(config), undefined);
});

t.test('a full linux section with resources and seccomp is valid', async (t) => {
  const config = defaultConfig();
  config['linux'] = {
    ...config['linux'],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    timeOffsets: { monotonic: { secs: 10, nanosecs: 5 } },
    cgroupsPath: '/tsrunc/c1',
    rootfsPropagation: 'rprivate',
    resources: {
      memory: { limit: 536870912, swap: -1 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1' },
      pids: { limit: 100 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 1, priorities: [{ name: 'eth0', priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3 } },
      unified: { 'memory.high': '1G' },
    },
    seccomp: {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    sysctl: { 'net.ipv4.ip_forward': '1' },
    personality: { domain: 'LINUX' },
    netDevices: { eth1: {}, dummy0: { name: 'ctr0' } },
    memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '0-1,3', flags: ['MPOL_F_STATIC_NODES'] },
  };
  t.equal(configError(config), undefined);
});

t.test('runtime-spec 1.3 fields: netDevices and memoryPolicy are checked', async (t) => {
  const withLinux = (linux: Record<string, unknown>) => {
    const config = defaultConfig();
    config['linux'] = { ...config['linux'], ...linux };
    return configError(config);
  };
  t.match(withLinux({ netDevices: { eth1: { name: 7 } } }), /^config\.json: \/linux\/netDevices\/eth1\/name: must be string/);
  t.match(withLinux({ netDevices: ['eth1'] }), /^config\.json: \/linux\/netDevices: must be object/);
  t.match(withLinux({ memoryPolicy: { mode: 'MPOL_NOPE' } }), /^config\.json: \/linux\/memoryPolicy\/mode: must be equal to one of the allowed values/);
  t.match(withLinux({ memoryPolicy: { nodes: '0' } }), /^config\.json: \/linux\/memoryPolicy: must have required property 'mode'/);
  t.match(withLinux({ memoryPolicy: { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NODE'] } }), /^config\.json: \/linux\/memoryPolicy\/flags\/0: must be equal to one of the allowed values/);
});

// dockerd sends these for every container whose options leave them out; runc reads them as unset.
t.test('the zero values clients send for "not set" are valid; a weight outside the kernel range is not', async (t) => {
  const withResources = (resources: unknown) => {
    const config = defaultConfig();
    config['linux'].resources = resources;
    return configError(config);
  };
  t.equal(withResources({ memory: { disableOOMKiller: false }, cpu: { shares: 0 }, blockIO: { weight: 0 } }), undefined);
  t.equal(withResources({ blockIO: { leafWeight: 0, weightDevice: [{ major: 8, minor: 0, weight: 0, leafWeight: 0 }] } }), undefined);
  t.equal(withResources({ blockIO: {}, pids: {}, memory: {}, cpu: {} }), undefined);
  t.equal(withResources({ blockIO: { weight: 5 } }), 'config.json: /linux/resources/blockIO/weight: must be >= 10');
  t.equal(withResources({ blockIO: { weight: 1001 } }), 'config.json: /linux/resources/blockIO/weight: must be <= 1000');
  t.equal(withResources({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 1 }] } }),
    'config.json: /linux/resources/blockIO/weightDevice/0/weight: must be >= 10');
  t.equal(withResources({ pids: { limit: 'max' } }), 'config.json: /linux/resources/pids/limit: must be integer');
});

t.test('invalid configs name the offending JSON pointer', async (t) => {
  const argsNotArray = defaultConfig();
  argsNotArray['process'].args = 'sh';
  t.equal(configError(argsNotArray), 'config.json: /process/args: must be array');

  const badNamespace = defaultConfig();
  badNamespace['linux'].namespaces[1].type = 'net';
  t.match(configError(badNamespace), /^config\.json: \/linux\/namespaces\/1\/type: must be equal to one of the allowed values: .*"network"/);

  const noVersion = defaultConfig();
  delete noVersion['ociVersion'];
  t.equal(configError(noVersion), "config.json: /: must have required property 'ociVersion'");

  const negativeUid = defaultConfig();
  negativeUid['process'].user.uid = -1;
  t.equal(configError(negativeUid), 'config.json: /process/user/uid: must be >= 0');

  const noUid = defaultConfig();
  delete noUid['process'].user.uid;
  t.equal(configError(noUid), "config.json: /process/user: must have required property 'uid'");

  const badRlimit = defaultConfig();
  badRlimit['process'].rlimits[0].type = 'NOFILE';
  t.match(configError(badRlimit), /^config\.json: \/process\/rlimits\/0\/type: must match pattern/);

  const noRootPath = defaultConfig();
  noRootPath['root'] = { readonly: true };
  t.equal(configError(noRootPath), "config.json: /root: must have required property 'path'");

  const noDestination = defaultConfig();
  delete noDestination['mounts'][2].destination;
  t.equal(configError(noDestination), "config.json: /mounts/2: must have required property 'destination'");

  const badSeccomp = defaultConfig();
  badSeccomp['linux'].seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_DENY' }],
  };
  t.match(configError(badSeccomp), /^config\.json: \/linux\/seccomp\/syscalls\/0\/action: must be equal to one of the allowed values: "SCMP_ACT_KILL"/);

  const badOp = defaultConfig();
  badOp['linux'].seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'EQ' }] }],
  };
  t.match(configError(badOp), /^config\.json: \/linux\/seccomp\/syscalls\/0\/args\/0\/op: must be equal to one of/);
});

t.test('malformed JSON is reported on one line', async (t) => {
  const result = parseRuntimeConfig('{"ociVersion": ', '/b/config.json');
  t.notOk(result.ok);
  if (!result.ok) {
    t.match(result.error, /^\/b\/config\.json: invalid JSON: /);
    t.notMatch(result.error, /\n/);
  }
});

t.test('state and features documents', async (t) => {
  const state = { ociVersion: '1.2.0', id: 'c1', status: 'running', pid: 42, bundle: '/b' };
  t.equal(checkDocument('state', state), undefined);
  t.match(checkDocument('state', { ...state, status: 'exploded' }), /^\/status: must be equal to one of the allowed values/);
  t.equal(
    checkDocument('features', {
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.2.0',
      hooks: ['prestart'],
      linux: { namespaces: ['pid'], cgroup: { v2: true }, seccomp: { enabled: false } },
    }),
    undefined,
  );
  t.equal(checkDocument('features', { ociVersionMin: '1.0.0' }), "/: must have required property 'ociVersionMax'");
});

const sha = (c: string): string => `sha256:${c.repeat(64)}`;
const configDescriptor = { mediaType: MEDIA_TYPES.config, digest: sha('a'), size: 512 };
const layerDescriptor = { mediaType: MEDIA_TYPES.layerGzip, digest: sha('b'), size: 1024 };
const manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.manifest,
  config: configDescriptor,
  layers: [layerDescriptor],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};
const index = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.index,
  manifests: [
    {
      mediaType: MEDIA_TYPES.manifest,
      digest: sha('c'),
      size: 400,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'org.opencontainers.image.ref.name': 'latest' },
    },
  ],
};
const imageConfig = {
  created: '2024-01-01T00:00:00Z',
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: '1000:1000',
    ExposedPorts: { '80/tcp': {} },
    Env: ['PATH=/usr/bin:/bin'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: null,
    Volumes: { '/data': {} },
    WorkingDir: '/app',
    Labels: { maintainer: 'someone' },
    StopSignal: 'SIGTERM',
  },
  rootfs: { type: 'layers', diff_ids: [sha('d')] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs /', empty_layer: false }],
};

t.test('valid image documents pass', async (t) => {
  t.equal(checkDocument('descriptor', layerDescriptor), undefined);
  t.equal(checkDocument('manifest', manifest), undefined);
  t.equal(checkDocument('index', index), undefined);
  t.equal(checkDocument('imageConfig', imageConfig), undefined);
  t.equal(checkDocument('layout', { imageLayoutVersion: '1.0.0' }), undefined);
});

t.test('broken image documents fail with a pointer', async (t) => {
  t.match(
    checkDocument('descriptor', { ...layerDescriptor, digest: 'sha256:not hex!' }),
    /^\/digest: must match pattern/,
  );
  t.match(checkDocument('descriptor', { ...layerDescriptor, digest: 'SHA256:abc' }), /^\/digest: must match pattern/);
  t.equal(
    checkDocument('manifest', { ...manifest, layers: [{ digest: sha('b'), size: 1 }] }),
    "/layers/0: must have required property 'mediaType'",
  );
  const { schemaVersion: _dropped, ...unversioned } = index;
  t.equal(checkDocument('index', unversioned), "/: must have required property 'schemaVersion'");
  t.equal(checkDocument('manifest', { ...manifest, schemaVersion: 1 }), '/schemaVersion: must be equal to constant: 2');
  t.match(checkDocument('manifest', { ...manifest, mediaType: 'text/plain' }), /^\/mediaType: must be equal to constant/);
  t.match(checkDocument('descriptor', { ...layerDescriptor, mediaType: 'no-slash' }), /^\/mediaType: must match pattern/);
  t.equal(
    checkDocument('imageConfig', { ...imageConfig, rootfs: { type: 'tar', diff_ids: [] } }),
    '/rootfs/type: must be equal to constant: "layers"',
  );
  t.equal(checkDocument('imageConfig', { ...imageConfig, os: undefined }), "/: must have required property 'os'");
  t.equal(checkDocument('layout', {}), "/: must have required property 'imageLayoutVersion'");
});
