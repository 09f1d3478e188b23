// Compiles the JSON Schemas in ../schemas into one ESM module of standalone validator functions
// (dist/src/validators.js), so that importing the package never compiles a schema at runtime.
import { mkdirSync, readdirSync, readFileSync, copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(pkgDir, 'schemas');
const outDir = join(pkgDir, 'dist', 'src');

// Exported function name -> $id of the root schema it validates.
const exportsById = {
  validateSpec: 'config.json',
  validateState: 'state.json',
  validateFeatures: 'features.json',
  validateDescriptor: 'image-descriptor.json',
  validateIndex: 'image-index.json',
  validateManifest: 'image-manifest.json',
  validateImageConfig: 'image-config.json',
  validateLayout: 'image-layout.json',
};
const idBase = 'https://tsrunc.local/schemas/';

// allowUnionTypes: image configs written by Docker use null for empty lists/maps.
const ajv = new Ajv({ allErrors: false, allowUnionTypes: true, inlineRefs: false, code: { source: true, esm: true } });
for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort()) {
  const schema = JSON.parse(readFileSync(join(schemaDir, file), 'utf8'));
  if (schema.$id !== idBase + file) throw new Error(`${file}: $id must be ${idBase + file}`);
  ajv.addSchema(schema);
}

const refs = Object.fromEntries(Object.entries(exportsById).map(([name, file]) => [name, idBase + file]));
let code = standaloneCode(ajv, refs);

// Standalone code pulls small ajv runtime helpers (e.g. ucs2length) in with require(), which
// does not exist in an ES module; give the module its own require bound to its location.
if (/\brequire\(/.test(code)) {
  code = `import { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\n${code}`;
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'validators.js'), code);
// tsc does not emit hand-written .d.ts files; ship the declarations next to the generated code
// so consumers of dist/src/index.d.ts can resolve './validators.js'.
copyFileSync(join(pkgDir, 'src', 'validators.d.ts'), join(outDir, 'validators.d.ts'));
console.log(`spec-schemas: wrote ${Object.keys(refs).length} validators (${code.length} bytes) to dist/src/validators.js`);
