// Types of ./stores.mjs (see there why it exists).
export { FsBlockstore } from "blockstore-fs";
export { FsDatastore } from "datastore-fs";
export { MemoryDatastore } from "datastore-core";
