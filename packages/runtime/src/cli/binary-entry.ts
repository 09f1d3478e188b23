// The single binary's entry (scripts/bundle.mjs compiles it with Bun, bytecode included). It loads
// the CLI through a dynamic import: the same modules made the binary's entry start ~1 ms later
// (`tsrunc --version`, CPU, minimum of 40: 7.0 ms, against 6.1 this way), and containerd calls the
// runtime several times per container.
await import('./main.js');
