#!/usr/bin/env node
/**
 * Stages libtensorflow for @tensorflow/tfjs-node when tfjs-node's own install cannot download it.
 *
 * Runs as this package's `preinstall`. npm runs every dependency's preinstall before any dependency's install, so this
 * runs after @tensorflow/tfjs-node is unpacked and before its `scripts/install.js`:
 *
 * 1. If tfjs-node's download host answers (a machine with internet), do nothing: tfjs-node installs unchanged.
 * 2. Else take the libraries and headers from the tensorflow-cpu wheel that pip can download (`DTWN_TF_WHEEL`, default
 *    tensorflow-cpu==2.21.0): libtensorflow_cc.so.2 exports the whole C API the binding calls and needs only libc,
 *    libstdc++ and libtensorflow_framework.so.2. They go into tfjs-node's deps/lib under the names its installer
 *    checks for, the headers the binding includes (followed transitively) into deps/include, and
 *    scripts/custom-binary.json makes its installer build the binding against them instead of downloading one.
 * 3. What was extracted is cached (DTWN_CACHE_DIR, else $XDG_CACHE_HOME/dtwn, else ~/.cache/dtwn), so the next `npm ci`
 *    hard-links (or copies) ~850 MB instead of downloading and unpacking the wheel again.
 *
 * It never fails the install: every outcome, with its reason, goes to status.json beside this file, which `dtwn doctor`
 * and the backend choice (src/ml/backend.ts) read. If staging fails, tfjs-node's installer tries its own download; if
 * that fails too, npm drops the optional dependency and dtwn trains on the wasm backend.
 *
 * Environment: DTWN_LIBTENSORFLOW=auto (default) | stage (stage even when the download host answers) | off (never
 * stage); DTWN_TF_WHEEL (pip requirement of the wheel); DTWN_CACHE_DIR; PYTHON (default python3).
 */
"use strict";
const { spawnSync } = require("node:child_process");
const dns = require("node:dns");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");

const STATUS_FILE = path.join(__dirname, "status.json");
const SPEC = (process.env.DTWN_TF_WHEEL || "tensorflow-cpu==2.21.0").trim();
const MODE = (process.env.DTWN_LIBTENSORFLOW || "auto").trim();
const PYTHON = process.env.PYTHON || "python3";
const PROBE_MS = 10_000;

const started = Date.now();
const log = (line) => process.stderr.write(`dtwn-libtensorflow: ${line}\n`);

function writeStatus(status) {
  const full = { ...status, wheel: SPEC, mode: MODE, seconds: (Date.now() - started) / 1000, at: new Date().toISOString() };
  fs.writeFileSync(STATUS_FILE, JSON.stringify(full, null, 2) + "\n");
  log(`${full.outcome}: ${full.reason}`);
}

function cacheRoot() {
  if (process.env.DTWN_CACHE_DIR) return path.resolve(process.env.DTWN_CACHE_DIR);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "dtwn");
}

/** The URL tfjs-node's installer would download libtensorflow from (scripts/install.js, Linux x86_64, CPU). */
function downloadUrl(constants) {
  const host = process.env.TFJS_NODE_CDN_STORAGE || process.env.npm_config_TFJS_NODE_CDN_STORAGE || process.env.CDN_STORAGE || "https://storage.googleapis.com/";
  const base = process.env.TFJS_NODE_BASE_URI || process.env.npm_config_TFJS_NODE_BASE_URI || `${host}tensorflow/libtensorflow/libtensorflow-`;
  return constants.customTFLibUri || `${base}cpu-linux-x86_64-${constants.LIBTENSORFLOW_VERSION}.tar.gz`;
}

/** Whether tfjs-node's download can work: its host resolves and answers a HEAD request with a non-error status. */
async function downloadAnswers(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, why: `not a URL: ${url}` };
  }
  try {
    await Promise.race([dns.promises.lookup(u.hostname), new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), PROBE_MS).unref())]);
  } catch (e) {
    return { ok: false, why: `${u.hostname} does not resolve (${e.code || e.message})` };
  }
  return new Promise((resolve) => {
    const req = (u.protocol === "http:" ? http : https).request(u, { method: "HEAD", timeout: PROBE_MS }, (res) => {
      res.resume();
      resolve(res.statusCode < 400 ? { ok: true, why: `${u.hostname} answered ${res.statusCode}` } : { ok: false, why: `${url} answered ${res.statusCode}` });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => resolve({ ok: false, why: `${u.hostname} did not answer (${e.code || e.message})` }));
    req.end();
  });
}

/** Header names tfjs-node's binding sources include from TensorFlow. */
function bindingIncludes(tfjsNode) {
  const dir = path.join(tfjsNode, "binding");
  const seeds = new Set();
  for (const f of fs.readdirSync(dir)) {
    if (!/\.(cc|h)$/.test(f)) continue;
    for (const m of fs.readFileSync(path.join(dir, f), "utf8").matchAll(/^\s*#\s*include\s+"(tensorflow\/[^"]+)"/gm)) seeds.add(m[1]);
  }
  if (seeds.size === 0) throw new Error(`found no TensorFlow #include in ${dir}`);
  return [...seeds].sort();
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 20 * 60_000 });
  if (r.error) throw new Error(`${what}: ${r.error.code === "ENOENT" ? `${cmd} is not installed` : r.error.message}`);
  if (r.status !== 0) {
    const lines = (r.stderr || r.stdout).trim().split("\n");
    const errors = lines.filter((l) => /^ERROR:/.test(l)); // pip's own verdict, without its retry warnings
    throw new Error(`${what} failed (exit ${r.status}): ${(errors.length ? errors.slice(-1) : lines.slice(-2)).join(" / ")}`);
  }
  return r.stdout;
}

/** Download the wheel with pip and extract the libraries and headers into a new cache entry; returns its manifest. */
function fillCache(entry, seeds) {
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  const tmp = fs.mkdtempSync(`${entry}.partial-`);
  try {
    const wheelDir = path.join(tmp, "wheel");
    run(PYTHON, ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--quiet", SPEC, "-d", wheelDir], `pip download ${SPEC}`);
    const wheel = fs.readdirSync(wheelDir).find((f) => f.endsWith(".whl"));
    if (!wheel) throw new Error(`pip download ${SPEC} produced no wheel`);
    const out = path.join(tmp, "stage");
    const manifest = JSON.parse(run(PYTHON, [path.join(__dirname, "extract.py"), path.join(wheelDir, wheel), out, JSON.stringify(seeds)], `extracting ${wheel}`).trim().split("\n").pop());
    manifest.wheelFile = wheel;
    manifest.libtensorflowVersion = (wheel.match(/^tensorflow(?:_cpu)?-([0-9][^-]*)-/) || [])[1] || "unknown";
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    fs.rmSync(entry, { recursive: true, force: true });
    fs.renameSync(out, entry); // the manifest is in place only once the entry is complete
    return manifest;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Hard-link a cached file into place (same file system), else copy it. */
function place(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.rmSync(to, { force: true });
  try {
    fs.linkSync(from, to);
    return "linked";
  } catch {
    fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
    return "copied";
  }
}

function materialise(entry, manifest, tfjsNode, constants) {
  const lib = constants.depsLibPath;
  let how = "linked";
  for (const name of manifest.libraries) if (place(path.join(entry, "lib", name), path.join(lib, name)) === "copied") how = "copied";
  for (const header of manifest.headers) place(path.join(entry, "include", header), path.join(path.dirname(lib), "include", header));
  // The names the binding links against and tfjs-node's installer checks for (deps/lib/libtensorflow.so.2.9.1).
  const links = {
    "libtensorflow.so": "libtensorflow_cc.so.2",
    [constants.depsLibTensorFlowName]: "libtensorflow_cc.so.2",
    "libtensorflow_framework.so": "libtensorflow_framework.so.2",
    [constants.depsLibTensorFlowFrameworkName]: "libtensorflow_framework.so.2",
  };
  for (const [name, target] of Object.entries(links)) {
    fs.rmSync(path.join(lib, name), { force: true });
    fs.symlinkSync(target, path.join(lib, name));
  }
  fs.writeFileSync(path.join(tfjsNode, "scripts", "custom-binary.json"), JSON.stringify({ "tf-lib": `local:${SPEC} wheel, staged by dtwn-libtensorflow` }) + "\n");
  return how;
}

async function main() {
  let tfjsNode;
  try {
    tfjsNode = path.dirname(require.resolve("@tensorflow/tfjs-node/package.json", { paths: [__dirname, process.env.INIT_CWD || process.cwd()] }));
  } catch {
    return writeStatus({ outcome: "skipped", reason: "@tensorflow/tfjs-node is not being installed (optional dependencies omitted?)" });
  }
  if (MODE === "off") return writeStatus({ outcome: "skipped", reason: "DTWN_LIBTENSORFLOW=off", tfjsNode });
  if (os.platform() !== "linux" || os.arch() !== "x64") return writeStatus({ outcome: "skipped", reason: `the wheel recipe is for Linux x86_64, this is ${os.platform()} ${os.arch()}; tfjs-node's own install is used`, tfjsNode });
  const constants = require(path.join(tfjsNode, "scripts", "deps-constants.js"));
  if (fs.existsSync(constants.depsLibTensorFlowPath)) return writeStatus({ outcome: "present", reason: `${constants.depsLibTensorFlowPath} exists already`, tfjsNode });
  const url = downloadUrl(constants);
  if (MODE !== "stage") {
    const probe = await downloadAnswers(url);
    if (probe.ok) return writeStatus({ outcome: "download", reason: `tfjs-node downloads libtensorflow ${constants.LIBTENSORFLOW_VERSION} itself (${probe.why})`, tfjsNode });
    log(`tfjs-node cannot download libtensorflow: ${probe.why}; staging it from ${SPEC}`);
  }
  const entry = path.join(cacheRoot(), "libtensorflow", `${SPEC.replace(/[^A-Za-z0-9.=_-]+/g, "_")}-linux-x64`);
  let manifest;
  let fromCache = false;
  try {
    if (fs.existsSync(path.join(entry, "manifest.json"))) {
      manifest = JSON.parse(fs.readFileSync(path.join(entry, "manifest.json"), "utf8"));
      fromCache = true;
    } else {
      manifest = fillCache(entry, bindingIncludes(tfjsNode));
    }
    const how = materialise(entry, manifest, tfjsNode, constants);
    writeStatus({
      outcome: "staged",
      reason: `libtensorflow ${manifest.libtensorflowVersion} from ${manifest.wheelFile} (${fromCache ? `cache, ${how}` : "downloaded with pip, extracted and cached"}); tfjs-node builds its binding against it`,
      libtensorflowVersion: manifest.libtensorflowVersion,
      cache: entry,
      fromCache,
      headers: manifest.headers.length,
      tfjsNode,
    });
  } catch (e) {
    writeStatus({ outcome: "failed", reason: `could not stage libtensorflow from ${SPEC}: ${e.message}`, cache: entry, tfjsNode });
  }
}

main().catch((e) => {
  try {
    writeStatus({ outcome: "failed", reason: `unexpected: ${e && e.stack ? e.stack : e}` });
  } catch {
    // nothing more can be done; the install goes on without staging
  }
});
