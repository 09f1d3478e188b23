// References normalised as docker normalises them, platforms as --platform takes them, and the
// manifest media types a pull accepts (schema 1 refused by name); no registry needed.
import t from 'tap';
import { manifestKind } from '../src/registry/media-types.js';
import { choosePlatform, parsePlatform } from '../src/registry/platform.js';
import { formatReference, parseReference, registryHost } from '../src/registry/reference.js';

t.test('references', async (t) => {
  const cases: [string, string][] = [
    ['debian', 'docker.io/library/debian:latest'],
    ['debian:12', 'docker.io/library/debian:12'],
    ['team/app', 'docker.io/team/app:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/team/base:1', '127.0.0.1:5000/team/base:1'],
    ['ghcr.io/o/r/sub:v1.2-x', 'ghcr.io/o/r/sub:v1.2-x'],
    [`debian@sha256:${'a'.repeat(64)}`, `docker.io/library/debian@sha256:${'a'.repeat(64)}`],
    [`host:5000/x:1@sha256:${'b'.repeat(64)}`, `host:5000/x:1@sha256:${'b'.repeat(64)}`],
  ];
  for (const [given, full] of cases) t.equal(formatReference(parseReference(given)), full, given);
  t.equal(registryHost('docker.io'), 'registry-1.docker.io');
  t.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  t.throws(() => parseReference('Team/App'), /invalid reference "Team\/App": repository name must be lowercase/);
  t.throws(() => parseReference('app@sha256:12'), /a digest must be sha256: and 64 lowercase hex digits/);
  t.throws(() => parseReference('app:-x'), /"-x" is not a valid tag/);
});

t.test('platforms', async (t) => {
  t.same(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.same(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  const entries = [
    { mediaType: 'm', digest: 'sha256:1', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: 'm', digest: 'sha256:2', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: 'm', digest: 'sha256:3', size: 1, platform: { os: 'linux', architecture: 'arm64' } },
  ];
  t.equal(choosePlatform(entries, parsePlatform('linux/arm/v7')).digest, 'sha256:2');
  t.equal(choosePlatform(entries, parsePlatform('linux/arm64/v8')).digest, 'sha256:3', 'arm64 without a variant is v8');
  t.throws(() => choosePlatform(entries, parsePlatform('linux/amd64')), { message: 'no image for linux/amd64 in the manifest list (it has linux/arm/v6, linux/arm/v7, linux/arm64)' });
});

t.test('manifest media types', async (t) => {
  t.equal(manifestKind('application/vnd.docker.distribution.manifest.list.v2+json'), 'index');
  t.equal(manifestKind('application/vnd.oci.image.index.v1+json'), 'index');
  t.equal(manifestKind('application/vnd.docker.distribution.manifest.v2+json'), 'manifest');
  t.throws(() => manifestKind('application/vnd.docker.distribution.manifest.v1+prettyjws'), /docker schema 1 manifest \(deprecated, not supported/);
  t.throws(() => manifestKind('text/html'), /unknown manifest media type text\/html/);
});
