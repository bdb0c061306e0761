/**
 * The Kubo backend against a fake Kubo RPC API on 127.0.0.1 (no Kubo binary here): the requests carry Kubo's default
 * import options and `offline` where it must, answers and Kubo's error messages map to the WeightsStore contract,
 * a CID the daemon keeps searching for fails after the stall timeout, and an unreachable daemon gets a clear error.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KuboWeightsStore } from "../../src/ipfs/kubo";
import { openWeightsStore } from "../../src/ipfs";
import { CidNotFoundError, getWeights, InvalidCidError, putWeights } from "../../src/ipfs/store";
import { cidOf } from "../../src/ipfs/unixfs";

/** Just enough of Kubo's RPC API for the WeightsStore calls; content is addressed with the Kubo-identical importer. */
class FakeKubo {
  readonly files = new Map<string, Uint8Array>();
  readonly pins = new Set<string>();
  readonly requests: URL[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    this.requests.push(url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const arg = url.searchParams.get("arg") ?? "";
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value) + "\n");
    };
    const error = (message: string) => json(500, { Message: message, Code: 0, Type: "error" });
    if (req.method !== "POST") return void res.writeHead(405).end();
    switch (url.pathname) {
      case "/api/v0/add": {
        const boundary = /boundary=(.+)$/.exec(req.headers["content-type"] ?? "")?.[1] ?? "";
        const start = body.indexOf("\r\n\r\n") + 4;
        const content = new Uint8Array(body.subarray(start, body.lastIndexOf(`\r\n--${boundary}--`)));
        const cid = await cidOf(content);
        this.files.set(cid, content);
        if (url.searchParams.get("pin") === "true") this.pins.add(cid);
        return json(200, { Name: cid, Hash: cid, Size: String(content.length) });
      }
      case "/api/v0/cat": {
        const data = this.files.get(arg);
        if (data) return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from(data));
        return; // like Kubo searching the network: no answer until the client gives up
      }
      case "/api/v0/pin/add":
        if (!this.files.has(arg)) return error("context deadline exceeded");
        this.pins.add(arg);
        return json(200, { Pins: [arg] });
      case "/api/v0/pin/ls":
        if (!this.pins.has(arg)) return error(`path '${arg}' is not pinned`);
        return json(200, { Cid: arg, Type: "recursive" });
      case "/api/v0/block/stat":
        if (url.searchParams.get("offline") !== "true") return error("test: block/stat without offline=true would search the network");
        if (!this.files.has(arg)) return error(`block was not found locally (offline): ipld: could not find ${arg}`);
        return json(200, { Key: arg, Size: this.files.get(arg)!.length });
      default:
        return error(`unknown command ${url.pathname}`);
    }
  }
}

describe("IPFS weights store (Kubo RPC backend, fake daemon on 127.0.0.1)", function () {
  this.timeout(20_000);
  const kubo = new FakeKubo();
  let url = "";
  let store: KuboWeightsStore;

  before(async () => {
    url = await kubo.start();
    store = (await openWeightsStore({}, { IPFS_API_URL: url })) as KuboWeightsStore;
  });
  after(async () => {
    await store?.close();
    await kubo.stop();
  });

  it("is chosen by IPFS_API_URL and adds with Kubo's default import options, pinned", async () => {
    expect(store.kind).to.equal("kubo");
    expect(store.url).to.equal(`${url}/api/v0`);
    expect(await store.add(Buffer.from("hello world\n"))).to.equal("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    const add = kubo.requests.find((r) => r.pathname === "/api/v0/add")!;
    expect(Object.fromEntries(["cid-version", "raw-leaves", "chunker", "trickle", "pin"].map((k) => [k, add.searchParams.get(k)]))).to.deep.equal({
      "cid-version": "0",
      "raw-leaves": "false",
      chunker: "size-262144",
      trickle: "false",
      pin: "true",
    });
    expect(await store.isPinned("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")).to.equal(true);
    expect(await store.has("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")).to.equal(true);
  });

  it("round-trips weights and refuses another architecture", async () => {
    const weights = [{ shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) }];
    const cid = await putWeights(store, "arch-a", weights);
    expect(Array.from((await getWeights(store, cid, "arch-a")).weights[0].values)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    await getWeights(store, cid, "arch-b").then(
      () => expect.fail("accepted another architecture"),
      (e: Error) => expect(e.message).to.equal(`IPFS ${cid}: Weights are for architecture "arch-a", not "arch-b": they cannot be loaded into this model.`),
    );
  });

  it("maps Kubo's answers for absent content: has and isPinned false, cat and pin fail with CidNotFoundError", async () => {
    const unknown = await cidOf(Buffer.from("not on the daemon"));
    expect(await store.has(unknown)).to.equal(false);
    expect(await store.isPinned(unknown)).to.equal(false);
    const t0 = Date.now();
    let err: Error | undefined;
    await store.cat(unknown, { timeoutMs: 300 }).catch((e) => (err = e));
    expect(Date.now() - t0).to.be.within(250, 3_000);
    expect(err).to.be.instanceOf(CidNotFoundError);
    expect(err?.message).to.include(`IPFS ${unknown}: the Kubo daemon at ${url}/api/v0 delivered no data within 300 ms`);
    await store.pin(unknown, { timeoutMs: 300 }).then(
      () => expect.fail("pinned absent content"),
      (e: Error) => expect(e).to.be.instanceOf(CidNotFoundError),
    );
    await store.cat("Qmbad").then(
      () => expect.fail("accepted a malformed CID"),
      (e: Error) => expect(e).to.be.instanceOf(InvalidCidError),
    );
  });

  it("says so when no daemon answers at the URL", async () => {
    const gone = new FakeKubo();
    const deadUrl = await gone.start();
    await gone.stop();
    await new KuboWeightsStore(deadUrl).add(Buffer.from("x")).then(
      () => expect.fail("added without a daemon"),
      (e: Error) => expect(e.message).to.match(new RegExp(`^Cannot reach the Kubo RPC API at ${deadUrl}/api/v0 \\(add\\): .*Is \`ipfs daemon\` running there\\?$`)),
    );
  });
});
