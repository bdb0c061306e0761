#!/usr/bin/env node
/**
 * The `solc` forge runs (foundry.toml: `solc = "scripts/forge-solc.cjs"`, `offline = true`): forge cannot download a
 * compiler offline, so this answers as solc does, with the solc npm package the Hardhat build uses (one compiler for
 * both). Supports what forge calls: `--version`, and `--standard-json` with the input on stdin, imports resolved
 * against `--base-path`, every `--include-path` and the allowed paths.
 */
const fs = require("node:fs");
const path = require("node:path");
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version")) {
  const long = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${long}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write(`forge-solc: only --version and --standard-json are supported (got ${args.join(" ")}).\n`);
  process.exit(2);
}
const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") roots.push(args[i + 1]);
  if (args[i] === "--allow-paths") roots.push(...args[i + 1].split(","));
}
roots.push(process.cwd());
const input = fs.readFileSync(0, "utf8");
function findImports(file) {
  for (const root of roots) {
    const p = path.isAbsolute(file) ? file : path.join(root, file);
    if (fs.existsSync(p)) return { contents: fs.readFileSync(p, "utf8") };
  }
  return { error: `File not found: ${file} (searched ${roots.join(", ")})` };
}
process.stdout.write(solc.compile(input, { import: findImports }));
