// The block and datastores of the embedded IPFS store, re-exported from an ES module on purpose: blockstore-fs 4,
// datastore-fs 12 and datastore-core 12 map require() (the "module-sync" export condition) to ./src/index.js, which
// their packages do not ship, so a CommonJS `require("blockstore-fs")` fails; an ES module import takes the "import"
// condition and loads ./dist. CommonJS code requires this file instead (Node >= 20.19 loads ESM via require).
export { FsBlockstore } from "blockstore-fs";
export { FsDatastore } from "datastore-fs";
export { MemoryDatastore } from "datastore-core";
