import { expect } from "chai";
import { isClosedSocketError, requestWithSocketRetry } from "../../src/chain/socketRetry";

function socketError(): Error {
  return Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
}

describe("requestWithSocketRetry", () => {
  const fast = { retries: 3, delayMs: 1 };

  it("recognises closed-socket errors, also as the cause of a wrapping error, and nothing else", () => {
    expect(isClosedSocketError(socketError())).to.equal(true);
    expect(isClosedSocketError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).to.equal(true);
    expect(isClosedSocketError(new Error("wrapped", { cause: socketError() }))).to.equal(true);
    expect(isClosedSocketError(new Error("execution reverted"))).to.equal(false);
    expect(isClosedSocketError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).to.equal(false);
    expect(isClosedSocketError(undefined)).to.equal(false);
  });

  it("sends again after a closed socket and returns the answer of the retry", async () => {
    const seen: string[] = [];
    let calls = 0;
    const result = await requestWithSocketRetry(
      async (a) => {
        seen.push(a.method);
        if (++calls < 3) throw socketError();
        return "0x7a69";
      },
      { method: "eth_chainId" },
      fast,
    );
    expect(result).to.equal("0x7a69");
    expect(seen).to.deep.equal(["eth_chainId", "eth_chainId", "eth_chainId"]);
  });

  it("gives up after the configured retries with the socket error", async () => {
    let calls = 0;
    const p = requestWithSocketRetry(
      async () => {
        calls++;
        throw socketError();
      },
      { method: "eth_blockNumber" },
      fast,
    );
    const err = await p.then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/other side closed/);
    expect(calls).to.equal(4);
  });

  it("never retries other errors (a revert is not sent twice)", async () => {
    let calls = 0;
    const p = requestWithSocketRetry(
      async () => {
        calls++;
        throw new Error("execution reverted: NotMember");
      },
      { method: "eth_sendTransaction", params: [{}] },
      fast,
    );
    const err = await p.then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/NotMember/);
    expect(calls).to.equal(1);
  });
});
