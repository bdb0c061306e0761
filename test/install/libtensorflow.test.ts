/**
 * The preinstall that stages libtensorflow for tfjs-node (install/libtensorflow/stage.cjs), run as npm runs it, in a
 * scratch project: a stand-in for tfjs-node (its real deps-constants.js and package.json, a binding source that
 * includes TensorFlow headers) and a small stand-in wheel that pip "downloads" from a local path. tfjs-node's download
 * host is a server on 127.0.0.1 that answers 404 (as an unreachable host would, the staging path) or 200 (a machine
 * with internet: nothing is staged). The real wheel and the real build run in `npm ci`; test/ml/backends.test.ts checks
 * their result.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const STAGER = path.join(ROOT, "install", "libtensorflow");
const TFJS_NODE = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node");

/** A wheel (a zip with dist-info) holding the two libraries and a few headers, built with python's zipfile. */
function makeWheel(dir: string, version: string): string {
  const file = path.join(dir, `tensorflow_cpu-${version}-py3-none-any.whl`);
  const entries: Record<string, string> = {
    [`tensorflow_cpu-${version}.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: tensorflow-cpu\nVersion: ${version}\n`,
    [`tensorflow_cpu-${version}.dist-info/WHEEL`]: "Wheel-Version: 1.0\nGenerator: dtwn-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    [`tensorflow_cpu-${version}.dist-info/RECORD`]: "",
    "tensorflow/libtensorflow_cc.so.2": "the C API library",
    "tensorflow/libtensorflow_framework.so.2": "the framework library",
    "tensorflow/include/tensorflow/c/c_api.h": '#include "tensorflow/c/tf_status.h"\n#include <stdint.h>\n',
    "tensorflow/include/tensorflow/c/tf_status.h": '#include "tensorflow/c/c_api_macros.h"\n#include "absl/not/in/the/wheel.h"\n',
    "tensorflow/include/tensorflow/c/c_api_macros.h": "// leaf\n",
    "tensorflow/include/tensorflow/c/eager/c_api.h": '#include "tensorflow/c/c_api.h"\n',
    "tensorflow/include/tensorflow/c/unrelated.h": "// nobody includes this\n",
  };
  const py = `import json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for k, v in json.loads(sys.argv[2]).items(): z.writestr(k, v)\n`;
  const r = spawnSync("python3", ["-c", py, file, JSON.stringify(entries)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return file;
}

/** A scratch project with a tfjs-node stand-in and a copy of the stager, as npm lays them out. */
function makeProject(dir: string): { project: string; tfjsNode: string; stager: string } {
  const project = path.join(dir, "project");
  const tfjsNode = path.join(project, "node_modules", "@tensorflow", "tfjs-node");
  fs.mkdirSync(path.join(tfjsNode, "scripts"), { recursive: true });
  fs.mkdirSync(path.join(tfjsNode, "binding"), { recursive: true });
  fs.copyFileSync(path.join(TFJS_NODE, "package.json"), path.join(tfjsNode, "package.json"));
  fs.copyFileSync(path.join(TFJS_NODE, "scripts", "deps-constants.js"), path.join(tfjsNode, "scripts", "deps-constants.js"));
  fs.writeFileSync(path.join(tfjsNode, "binding", "tfjs_backend.cc"), '#include "tensorflow/c/eager/c_api.h"\n#include "utils.h"\n#include <string>\n');
  const stager = path.join(project, "node_modules", "dtwn-libtensorflow");
  fs.mkdirSync(stager, { recursive: true });
  for (const f of ["package.json", "stage.cjs", "extract.py", "status.cjs"]) fs.copyFileSync(path.join(STAGER, f), path.join(stager, f));
  return { project, tfjsNode, stager };
}

describe("install/libtensorflow: staging libtensorflow for tfjs-node", function () {
  this.timeout(120_000);
  let dir: string;
  let server: http.Server;
  let status = 404;
  let host: string;
  before(async function () {
    if (!fs.existsSync(path.join(TFJS_NODE, "scripts", "deps-constants.js"))) this.skip(); // tfjs-node is not installed here (npm --omit=optional)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-stage-"));
    server = http.createServer((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    if (server) await new Promise((resolve) => server.close(resolve));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Run the preinstall as npm does (asynchronously: the 127.0.0.1 server in this process must answer its probe). */
  async function stage(p: { project: string; stager: string }, env: Record<string, string>): Promise<Record<string, unknown>> {
    const child = spawn(process.execPath, ["stage.cjs"], { cwd: p.stager, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, INIT_CWD: p.project, TFJS_NODE_BASE_URI: `${host}libtensorflow-`, DTWN_CACHE_DIR: path.join(dir, "cache"), DTWN_LIBTENSORFLOW: "", ...env } });
    let err = "";
    child.stderr.on("data", (d) => (err += String(d)));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code, `the preinstall never fails the install: ${err}`).to.equal(0);
    return JSON.parse(fs.readFileSync(path.join(p.stager, "status.json"), "utf8"));
  }

  it("stages the libraries, the headers the binding includes (transitively) and the build switch when the download host fails; the next install takes them from the cache", async () => {
    status = 404;
    const wheel = makeWheel(dir, "9.9.1");
    const p = makeProject(path.join(dir, "a"));
    const s = await stage(p, { DTWN_TF_WHEEL: wheel });
    expect(s.outcome, String(s.reason)).to.equal("staged");
    expect(s.fromCache).to.equal(false);
    expect(s.libtensorflowVersion).to.equal("9.9.1");
    const lib = path.join(p.tfjsNode, "deps", "lib");
    expect(fs.readFileSync(path.join(lib, "libtensorflow_cc.so.2"), "utf8")).to.equal("the C API library");
    // tfjs-node's installer looks for libtensorflow.so.2.9.1; the binding links -ltensorflow -ltensorflow_framework.
    for (const [link, target] of [["libtensorflow.so.2.9.1", "libtensorflow_cc.so.2"], ["libtensorflow.so", "libtensorflow_cc.so.2"], ["libtensorflow_framework.so", "libtensorflow_framework.so.2"], ["libtensorflow_framework.so.2.9.1", "libtensorflow_framework.so.2"]]) {
      expect(fs.readlinkSync(path.join(lib, link)), link).to.equal(target);
    }
    const include = path.join(p.tfjsNode, "deps", "include", "tensorflow", "c");
    expect(fs.readdirSync(include).sort()).to.deep.equal(["c_api.h", "c_api_macros.h", "eager", "tf_status.h"]); // not unrelated.h
    expect(JSON.parse(fs.readFileSync(path.join(p.tfjsNode, "scripts", "custom-binary.json"), "utf8"))["tf-lib"]).to.match(/^local:/);

    const again = makeProject(path.join(dir, "b"));
    const s2 = await stage(again, { DTWN_TF_WHEEL: wheel });
    expect(s2.outcome).to.equal("staged");
    expect(s2.fromCache).to.equal(true);
    expect(s2.reason).to.match(/cache, linked/);
    expect(fs.statSync(path.join(again.tfjsNode, "deps", "lib", "libtensorflow_cc.so.2")).ino).to.equal(fs.statSync(path.join(String(s2.cache), "lib", "libtensorflow_cc.so.2")).ino);
  });

  it("records why when staging fails (a wheel pip cannot get) and leaves tfjs-node's own install to try", async () => {
    status = 404;
    const p = makeProject(path.join(dir, "c"));
    const s = await stage(p, { DTWN_TF_WHEEL: path.join(dir, "no-such-tensorflow_cpu-0.0.0-py3-none-any.whl") });
    expect(s.outcome).to.equal("failed");
    expect(s.reason).to.match(/could not stage libtensorflow .*pip download .* failed/);
    expect(fs.existsSync(path.join(p.tfjsNode, "deps"))).to.equal(false);
    expect(fs.existsSync(path.join(p.tfjsNode, "scripts", "custom-binary.json"))).to.equal(false);
  });

  it("leaves tfjs-node's install unchanged when its download host answers, or when told not to stage", async () => {
    const wheel = makeWheel(dir, "9.9.2");
    status = 200;
    const p = makeProject(path.join(dir, "d"));
    const s = await stage(p, { DTWN_TF_WHEEL: wheel });
    expect(s.outcome).to.equal("download");
    expect(s.reason).to.match(/tfjs-node downloads libtensorflow 2\.9\.1 itself \(127\.0\.0\.1 answered 200\)/);
    expect(fs.existsSync(path.join(p.tfjsNode, "deps"))).to.equal(false);

    status = 404;
    const off = makeProject(path.join(dir, "e"));
    expect((await stage(off, { DTWN_TF_WHEEL: wheel, DTWN_LIBTENSORFLOW: "off" })).outcome).to.equal("skipped");
    expect(fs.existsSync(path.join(off.tfjsNode, "deps"))).to.equal(false);
  });
});
