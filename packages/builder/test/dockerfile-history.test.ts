// The history text of each instruction, as BuildKit writes it (Go's fmt verbs over its values):
// the strings docker 20.10's BuildKit gave in conformance/test/build-parity, and the edge cases
// of Go's quoting and durations that a Dockerfile can reach. No root, fast tier.
import type { History, ImageConfig } from '@tsrunc/spec-schemas';
import t from 'tap';
import { readInstructions, type Instruction } from '../src/dockerfile/index.js';
import { argHistory, runHistory } from '../src/engine/arg-history.js';
import { finalizeImage } from '../src/engine/export.js';
import { goDuration, goQuote, goQuoteInt, goQuoteList } from '../src/engine/go-format.js';
import { applyMetadata, type StageContext } from '../src/engine/metadata.js';

/** Each instruction of `lines` (after a FROM) applied to one image: the history text of each. */
function histories(...lines: string[]): { texts: (string | undefined)[]; image: ImageConfig } {
  const image = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} } as ImageConfig;
  const ctx: StageContext = { expand: (word) => word, env: new Map(), shell: ['/bin/sh', '-c'], cmdSet: false };
  const items = readInstructions(['FROM scratch', ...lines].join('\n') + '\n', 'Dockerfile').items.slice(1) as Instruction[];
  return { texts: items.map((i) => applyMetadata(image, i, ctx)), image };
}

t.test('Go quoting and durations', async (t) => {
  t.equal(goQuote('say "hi"\\now'), '"say \\"hi\\"\\\\now"', 'quotes and backslashes escaped');
  t.equal(goQuote('tab\tnl\nbell\x07del\x7f\x01é'), '"tab\\tnl\\nbell\\adel\\x7f\\x01é"', 'control characters as Go writes them, printable Unicode kept');
  t.equal(goQuoteList(['node', 'src/index.js']), '["node" "src/index.js"]');
  t.equal(goQuoteList([]), '[]');
  t.same([0, 2, 10, 39, 65].map(goQuoteInt), ["'\\x00'", "'\\x02'", "'\\n'", "'\\''", "'A'"], 'an int under %q is a character literal');
  t.same([0, 1, 1500, 5e8, 1e9, 1.5e9, 30e9, 60e9, 90e9, 3.6e12, 3.6e12 + 1e9].map(goDuration),
    ['0s', '1ns', '1.5µs', '500ms', '1s', '1.5s', '30s', '1m0s', '1m30s', '1h0m0s', '1h0m1s']);
});

t.test('metadata instructions, as docker 20.10\'s BuildKit wrote them', async (t) => {
  const { texts, image } = histories(
    'CMD ["node", "src/index.js"]',
    'ENTRYPOINT jq -n',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    'EXPOSE 9090/udp 8080',
    'HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=2 CMD ["/srv/app/bin/serve", "--check"]',
    'HEALTHCHECK --interval=1m CMD node -e "process.exit(0)"',
  );
  t.same(texts, [
    'CMD ["node" "src/index.js"]',
    'ENTRYPOINT ["/bin/sh" "-c" "jq -n"]',
    'SHELL [/bin/bash -o pipefail -c]',
    'EXPOSE map[8080/tcp:{} 9090/udp:{}]',
    'HEALTHCHECK &{["CMD" "/srv/app/bin/serve" "--check"] "30s" "3s" "5s" \'\\x02\'}',
    'HEALTHCHECK &{["CMD-SHELL" "node -e \\"process.exit(0)\\""] "1m0s" "0s" "0s" \'\\x00\'}',
  ]);
  t.equal(image.config?.ArgsEscaped, true, 'CMD marks the config ArgsEscaped, as BuildKit does');
  t.equal(histories('HEALTHCHECK --start-interval=2s CMD true').texts[0], 'HEALTHCHECK &{["CMD-SHELL" "true"] "0s" "0s" "0s" "2s" \'\\x00\'}',
    'a start interval is written where newer BuildKits have it');
});

t.test('ARG and RUN name the stage\'s arguments', async (t) => {
  t.equal(argHistory(['A', 'B'], { A: '1', B: undefined }), 'ARG A=1 B');
  t.equal(runHistory(['/bin/sh', '-c', 'make'], {}, []), 'RUN /bin/sh -c make # buildkit', 'no arguments, no count');
  t.equal(runHistory(['/bin/sh', '-c', 'make'], { DEBIAN_FRONTEND: 'noninteractive', B: undefined, C: 'arg' }, ['PATH=/bin', 'C=env']),
    'RUN |3 DEBIAN_FRONTEND=noninteractive B= C=env /bin/sh -c make # buildkit', 'an argument without a value is empty; the environment\'s value wins');
});

t.test('ENV of a name already set keeps its place in Env, as BuildKit\'s addEnv', async (t) => {
  const { texts, image } = histories('ENV PATH=/usr/bin A=1', 'ENV APP_HOME=/srv/app PATH=/srv/app/bin:/usr/bin');
  t.same(texts, ['ENV PATH=/usr/bin A=1', 'ENV APP_HOME=/srv/app PATH=/srv/app/bin:/usr/bin']);
  t.same(image.config?.Env, ['PATH=/srv/app/bin:/usr/bin', 'A=1', 'APP_HOME=/srv/app']);
});

t.test('the image\'s times: untimed steps take their neighbours\', the image its last entry\'s (BuildKit\'s rule)', async (t) => {
  const layer = { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'a'.repeat(64)}`, size: 1 }, diffId: `sha256:${'b'.repeat(64)}` };
  const config = (history: History[]) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {}, history }) as ImageConfig;
  const base = { created: '2020-01-01T00:00:00.000Z', created_by: 'base' };
  const image = finalizeImage({ config: config([
    base,
    { created_by: 'ENV A=1', empty_layer: true },
    { created: '2026-01-01T00:00:00.000Z', created_by: 'RUN one' },
    { created_by: 'LABEL x=y', empty_layer: true },
    { created: '2026-02-01T00:00:00.000Z', created_by: 'COPY a /a' },
    { created_by: 'CMD ["a"]', empty_layer: true },
  ]), layers: [layer] }, '2030-01-01T00:00:00.000Z');
  t.same(image.config.history!.map((h) => h.created), [
    '2020-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
    '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z',
  ], 'before the first new layer: its time; after: the last layer\'s');
  t.equal(image.config.created, '2026-02-01T00:00:00.000Z', 'the image: its last entry\'s time, not the clock\'s');
  const metadataOnly = finalizeImage({ config: config([base, { created_by: 'ENV A=1', empty_layer: true }]), layers: [] }, '2030-01-01T00:00:00.000Z');
  t.same(metadataOnly.config.history!.map((h) => h.created), [base.created, base.created], 'no new layer: the base\'s last time');
  const untimed = finalizeImage({ config: config([{ created_by: 'ENV A=1', empty_layer: true }]), layers: [] }, '2030-01-01T00:00:00.000Z');
  t.equal(untimed.config.created, '2030-01-01T00:00:00.000Z', 'no time anywhere: the clock\'s');
  t.equal(untimed.config.history![0]!.created, undefined);
});
