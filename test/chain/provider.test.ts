/**
 * localProvider against a JSON-RPC server on 127.0.0.1 that drops the first connection without an answer (as a node
 * does when it closes an idle keep-alive socket just as a request is written): the request is sent again on a fresh
 * socket and answered; an error that is not a closed socket is not retried.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { atPendingBlock, LocalJsonRpcProvider, localProvider } from "../../src/chain/provider";

describe("localProvider (chain/provider)", () => {
  let server: http.Server;
  let url: string;
  let requests = 0;
  let dropFirst = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        requests++;
        if (dropFirst > 0) {
          dropFirst--;
          req.socket.destroy(); // no answer: the client sees "socket hang up"
          return;
        }
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(method === "eth_chainId" ? { jsonrpc: "2.0", id, result: "0x7a69" } : { jsonrpc: "2.0", id, error: { code: -32601, message: `no ${method}` } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends a request again after the server dropped the socket, and returns the answer", async () => {
    const provider = localProvider(url, 31337);
    requests = 0;
    dropFirst = 2;
    expect(await provider.send("eth_chainId", [])).to.equal("0x7a69");
    expect(requests).to.equal(3);
    provider.destroy();
  });

  it("gives up after its retries with the socket error, and does not retry other errors", async () => {
    const provider = new LocalJsonRpcProvider(url, 31337, { socketRetry: { retries: 1, delayMs: 1 } });
    requests = 0;
    dropFirst = 5;
    await provider.send("eth_chainId", []).then(
      () => expect.fail("answered"),
      (e: Error) => expect(e.message).to.match(/socket hang up|ECONNRESET/),
    );
    expect(requests).to.equal(2);
    dropFirst = 0;
    requests = 0;
    await provider.send("eth_nothing", []).then(
      () => expect.fail("answered"),
      (e: Error) => expect(e.message).to.match(/no eth_nothing/),
    );
    expect(requests).to.equal(1);
    provider.destroy();
  });

  it("runs view calls on the pending block, whose timestamp is the wall clock on an idle node, and leaves other requests alone", async () => {
    expect(atPendingBlock({ id: 1, jsonrpc: "2.0", method: "eth_call", params: [{ to: "0x1" }, "latest"] }).params).to.deep.equal([{ to: "0x1" }, "pending"]);
    expect(atPendingBlock({ id: 1, jsonrpc: "2.0", method: "eth_call", params: [{ to: "0x1" }, "0x10"] }).params).to.deep.equal([{ to: "0x1" }, "0x10"]);
    expect(atPendingBlock({ id: 1, jsonrpc: "2.0", method: "eth_getBalance", params: ["0x1", "latest"] }).params).to.deep.equal(["0x1", "latest"]);
    // what reaches the node
    const seen: unknown[] = [];
    const tap = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
        seen.push(params);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id, result: method === "eth_chainId" ? "0x7a69" : method === "hardhat_getAutomine" ? true : "0x" }));
      });
    });
    await new Promise<void>((r) => tap.listen(0, "127.0.0.1", () => r()));
    const p = localProvider(`http://127.0.0.1:${(tap.address() as AddressInfo).port}`, 31337);
    await p.call({ to: "0x0000000000000000000000000000000000000001", data: "0x" });
    expect(seen.at(-1)).to.deep.equal([{ to: "0x0000000000000000000000000000000000000001", data: "0x" }, "pending"]);
    p.destroy();
    await new Promise((r) => tap.close(r));
  });
});

