// The commands over the local image store, as docker's image commands: images, tag, rmi, inspect,
// history, unpack and prune. Names are taken as `-t` takes them (name is name:latest).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseByteSize } from '@tsrunc/runtime';
import type { Descriptor, ImageConfig, ImageManifest } from '@tsrunc/spec-schemas';
import { prune } from '../engine/prune.js';
import { readConfig } from '../config/config-file.js';
import { lockStoreExclusive, normalizeReference, openStore, storeRoot, type BuilderStore } from '../engine/store-root.js';
import { unpackImage } from '../engine/unpack.js';
import { REF_NAME_ANNOTATION } from '../image/layout.js';
import { humanAge, humanSize, shortId, table } from './format.js';

interface TaggedImage {
  name: string;
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Every tag of the store with its manifest and config. */
function taggedImages(store: BuilderStore): TaggedImage[] {
  return store.layout.readIndex().manifests.flatMap((descriptor) => {
    const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
    if (name === undefined) return [];
    const manifest = store.layout.blobs.readJson<ImageManifest>(descriptor.digest);
    return [{ name, descriptor, manifest, config: store.layout.blobs.readJson<ImageConfig>(manifest.config.digest) }];
  });
}

/** The image tagged `name`, or docker's "No such image" naming it. */
function findImage(images: TaggedImage[], name: string): TaggedImage {
  const ref = normalizeReference(name);
  const image = images.find((i) => i.name === ref);
  if (!image) throw new Error(`No such image: ${ref}`);
  return image;
}

/** What the image takes in the store beside other images: its config and its layers (not the manifest). */
function imageSize(image: TaggedImage): number {
  return image.manifest.config.size + image.manifest.layers.reduce((sum, l) => sum + l.size, 0);
}

/** The image id, as docker's: the config's digest. */
const imageId = (image: TaggedImage) => image.manifest.config.digest;

/** `tsbuild images`: one line a tag, newest first, in the columns of docker's image list. */
function images(store: BuilderStore): void {
  const rows = taggedImages(store)
    .sort((a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? '') || a.name.localeCompare(b.name))
    .map((i) => [i.name, shortId(imageId(i)), humanAge(i.config.created), humanSize(imageSize(i))]);
  process.stdout.write(table(['IMAGE', 'ID', 'CREATED', 'SIZE'], rows));
}

async function tag(store: BuilderStore, args: string[]): Promise<void> {
  if (args.length !== 2) throw new Error('tag requires exactly 2 arguments: SOURCE TARGET');
  const source = findImage(taggedImages(store), args[0]!);
  await store.layout.addManifest(source.manifest, source.config, normalizeReference(args[1]!));
}

/** `tsbuild rmi NAME...`: untags each; the blobs go at the next prune. Every name is tried, as docker does. */
async function rmi(store: BuilderStore, args: string[]): Promise<number> {
  if (args.length === 0) throw new Error('rmi requires at least 1 argument: NAME...');
  let status = 0;
  for (const name of args) {
    const ref = normalizeReference(name);
    if (await store.layout.untag(ref)) {
      process.stdout.write(`Untagged: ${ref}\n`);
    } else {
      process.stderr.write(`tsbuild: error: No such image: ${ref}\n`);
      status = 1;
    }
  }
  return status;
}

/**
 * `tsbuild inspect NAME...`: docker image inspect's essentials, a JSON array with one object a
 * name: Id (the config digest), RepoTags (every tag of the same manifest), Created, Author,
 * Architecture, Variant, Os, Config (the image config's runtime settings), Size (config and
 * layers), RootFS (the layers' diff ids), History, and Descriptor (the manifest's, as docker shows
 * for images of its containerd store).
 */
function inspect(store: BuilderStore, args: string[]): void {
  if (args.length === 0) throw new Error('inspect requires at least 1 argument: NAME...');
  const all = taggedImages(store);
  const found = args.map((name) => findImage(all, name));
  const documents = found.map((image) => ({
    Id: imageId(image),
    RepoTags: all.filter((i) => i.descriptor.digest === image.descriptor.digest).map((i) => i.name),
    Created: image.config.created ?? '',
    Author: image.config.author ?? '',
    Architecture: image.config.architecture,
    ...(image.config.variant ? { Variant: image.config.variant } : {}),
    Os: image.config.os,
    Config: image.config.config ?? {},
    Size: imageSize(image),
    RootFS: { Type: image.config.rootfs.type, Layers: image.config.rootfs.diff_ids },
    History: image.config.history ?? [],
    Descriptor: { mediaType: image.descriptor.mediaType, digest: image.descriptor.digest, size: image.descriptor.size },
  }));
  process.stdout.write(JSON.stringify(documents, null, 4) + '\n');
}

/** Docker's history cuts CREATED BY to this width unless --no-trunc. */
const CREATED_BY_WIDTH = 45;

/**
 * `tsbuild history NAME`: the image's history, newest first, in docker's columns. SIZE is the
 * stored size of the entry's layer (uncompressed, as docker shows it, for the layers of a build); IMAGE is the image's id on the top line and
 * <missing> below, as docker shows a built image whose steps are not images of their own.
 */
function history(store: BuilderStore, args: string[], noTrunc: boolean): void {
  if (args.length !== 1) throw new Error('history requires exactly 1 argument: NAME');
  const image = findImage(taggedImages(store), args[0]!);
  const layers = [...image.manifest.layers];
  const rows = (image.config.history ?? []).map((entry) => {
    const size = entry.empty_layer ? 0 : layers.shift()?.size ?? 0;
    const createdBy = (entry.created_by ?? '').replace(/\s+/g, ' ');
    const shown = noTrunc || createdBy.length <= CREATED_BY_WIDTH ? createdBy : `${createdBy.slice(0, CREATED_BY_WIDTH - 1)}…`;
    return [humanAge(entry.created), shown, humanSize(size), entry.comment ?? ''];
  }).reverse();
  const id = noTrunc ? imageId(image) : shortId(imageId(image));
  process.stdout.write(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((row, i) => [i === 0 ? id : '<missing>', ...row])));
}

async function pruneCommand(store: BuilderStore, all: boolean, keepStorage: string | undefined): Promise<void> {
  const limit = keepStorage ?? readConfig().cache?.max_size;
  const lock = await lockStoreExclusive(store, () => process.stderr.write('tsbuild: waiting for the builds running on this store to finish\n'));
  const result = await prune(store, { all, ...(limit !== undefined ? { keepBytes: parseByteSize(limit) } : {}) }).finally(() => lock.release());
  process.stdout.write(`removed ${result.removed} blobs, ${result.bytes} bytes, ${result.snapshots} layer snapshots${all ? `, ${result.cacheMounts} cache mounts` : ''}\n`);
}

export const STORE_COMMANDS = ['images', 'tag', 'rmi', 'inspect', 'history', 'unpack', 'prune'];

/** Runs the store command `command` (one of STORE_COMMANDS) with its arguments; the exit status. */
export async function storeCommand(command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      root: { type: 'string' },
      ...(command === 'prune' ? { all: { type: 'boolean' }, 'keep-storage': { type: 'string' } } as const : {}),
      ...(command === 'history' ? { 'no-trunc': { type: 'boolean' } } as const : {}),
    },
  });
  if (command === 'images' || command === 'prune') {
    if (positionals.length > 0) throw new Error(`${command} takes no arguments`);
  }
  const store = await openStore(storeRoot(values.root));
  switch (command) {
    case 'images': images(store); return 0;
    case 'tag': await tag(store, positionals); return 0;
    case 'rmi': return rmi(store, positionals);
    case 'inspect': inspect(store, positionals); return 0;
    case 'history': history(store, positionals, values['no-trunc'] === true); return 0;
    case 'unpack':
      if (positionals.length !== 2) throw new Error('unpack requires exactly 2 arguments: NAME[:TAG] BUNDLE_DIR');
      await unpackImage(store, positionals[0]!, path.resolve(positionals[1]!));
      return 0;
    case 'prune': await pruneCommand(store, values.all === true, values['keep-storage'] as string | undefined); return 0;
    default: throw new Error(`unknown store command "${command}"`);
  }
}
