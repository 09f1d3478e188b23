// The entry of tsrunc's single binary (scripts/bundle.mjs compiles it with Bun, bytecode
// included, which halves each call's start-up): the CLI, or, when create's native stage starts
// it inside the container's namespaces, the init stage.
if (process.env._TSRUNC_INIT_STAGE === '1') await import('../init/main.js');
else await import('./main.js');
