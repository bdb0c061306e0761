#!/usr/bin/env node
// dtwn command-line entry: runs the TypeScript CLI in src/cli through ts-node (transpile only, no type check).
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("../src/cli/main.ts")
  .main(process.argv)
  .catch((err) => {
    console.error(`dtwn: ${err && err.message ? err.message : err}`);
    process.exit(1);
  });
