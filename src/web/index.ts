/**
 * Entry of `node out/main/web.js`. better-sqlite3 is built for Node 22.12 or newer; under an older
 * Node it does not throw, it crashes the process (SIGSEGV, no message). So the version is checked
 * first, and the host (whose imports load better-sqlite3) is imported only after: a static import
 * would be hoisted above the check.
 */
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `The Synthfold web host needs Node.js 22.12 or newer; this is ${process.version}.\n` +
      'Start it with `npm run serve` (npm scripts use the Node 22 the project installs), ' +
      'or run out/main/web.js with Node 22.12 or newer.',
  )
  process.exit(1)
}
await import('./serve')
export {}
