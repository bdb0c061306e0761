"use strict";
/** What the preinstall (stage.cjs) did, as it wrote it to status.json; undefined when it never ran here. */
const fs = require("node:fs");
const path = require("node:path");

exports.STATUS_FILE = path.join(__dirname, "status.json");
exports.readStatus = function readStatus() {
  try {
    return JSON.parse(fs.readFileSync(exports.STATUS_FILE, "utf8"));
  } catch {
    return undefined;
  }
};
