// spec and features: documents about the runtime rather than about a container.
import fs from 'node:fs';
import path from 'node:path';
import { defaultSpec } from '../container/spec-template.js';
import { flag, str, type Command } from './command.js';

export const infoCommands: Command[] = [
  {
    name: 'spec',
    summary: 'create a new specification file',
    usage: 'spec [command options]',
    options: { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } },
    args: 0,
    run(_ctx, values) {
      const file = path.join(str(values, 'bundle') ?? '.', 'config.json');
      if (fs.existsSync(file)) throw new Error('File config.json exists. Remove it first');
      fs.writeFileSync(file, JSON.stringify(defaultSpec(flag(values, 'rootless')), null, '\t'), { mode: 0o666 });
      return 0;
    },
  },
  {
    name: 'features',
    summary: 'show the enabled features',
    usage: 'features',
    options: {},
    args: 0,
    async run() {
      // Loaded here: it probes the host's cgroups and libseccomp, which no other command needs.
      const { runtimeFeatures } = await import('../container/features.js');
      process.stdout.write(JSON.stringify(runtimeFeatures(), null, '    ') + '\n');
      return 0;
    },
  },
];
