// The tsrunc the builder's RUN steps go through: the runtime package's launcher. Its client finds
// it from its own module's place, which tsbuild's single binary (scripts/bundle.mjs) does not
// have: there it is found from the binary's path, packages/builder/dist/tsbuild.
import path from 'node:path';
import { TsruncClient, TSRUNC_BINARY } from '@tsrunc/runtime';
import { SINGLE_BINARY } from '@tsrunc/runtime/platform';

const TSRUNC = SINGLE_BINARY ? path.resolve(path.dirname(process.execPath), '../../runtime/bin/tsrunc') : TSRUNC_BINARY;

/** A client of tsrunc whose state lives under `stateRoot`. */
export function tsruncClient(stateRoot: string): TsruncClient {
  return new TsruncClient(stateRoot, TSRUNC);
}

/** What tsrunc supports (`tsrunc features`). */
export function tsruncFeatures(): ReturnType<typeof TsruncClient.features> {
  return TsruncClient.features(TSRUNC);
}
