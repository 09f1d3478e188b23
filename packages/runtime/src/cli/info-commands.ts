// spec and features: documents about the runtime rather than about a container.
import fs from 'node:fs';
import path from 'node:path';
import { flag, str, type Command } from './command.js';
import { writeStdout } from './output.js';

export const infoCommands: Command[] = [
  {
    name: 'spec',
    summary: 'create a new specification file',
    usage: 'spec [command options]',
    options: { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } },
    args: 0,
    async run(_env, values) {
      const { defaultSpec } = await import('../container/spec-template.js');
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
      const { features } = await import('../runtime.js');
      writeStdout(JSON.stringify(await features(), null, '    ') + '\n');
      return 0;
    },
  },
];
