/**
 * src/chain/keys.ts and src/chain/fund.ts: a run's keys on a testnet come from the environment (the operator's
 * variable, each BS's keystore or variable), errors name the variable and never the key, each agent process gets
 * only its own key, and the operator tops the BSs up.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, encryptKeystoreJsonSync, parseEther } from "ethers";
import { agentEnvFor, bsKey, operatorKey, parsePrivateKey } from "../../src/chain/keys";
import { topUp } from "../../src/chain/fund";
import { bsKeyFor, devKey, mbsKeyFor } from "../../src/system/chains";

describe("chain/keys: a run's keys from the environment", function () {
  this.timeout(60_000);
  let dir: string;
  const bs0 = Wallet.createRandom();
  const bs1 = Wallet.createRandom();
  let keystore0: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-keys-"));
    keystore0 = path.join(dir, "bs-0.json");
    // a light scrypt (N = 2^10) so the test is quick; real keystores use ethers' default (2^17)
    fs.writeFileSync(keystore0, encryptKeystoreJsonSync({ address: bs0.address, privateKey: bs0.privateKey }, "pw0", { scrypt: { N: 1 << 10 } }));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the operator's key from DTWN_DEPLOYER_KEY and says what to set when it is missing or malformed", () => {
    expect(operatorKey({ DTWN_DEPLOYER_KEY: bs1.privateKey.slice(2).toUpperCase() })).to.equal(bs1.privateKey);
    expect(() => operatorKey({})).to.throw(/set DTWN_DEPLOYER_KEY/);
    expect(() => operatorKey({ DTWN_DEPLOYER_KEY: "0x1234" })).to.throw(/DTWN_DEPLOYER_KEY is not a private key: give 64 hex digits/);
  });

  it("reads BS i's key from its keystore (password per BS or shared) or its variable", () => {
    expect(bsKey(0, { DTWN_BS0_KEYSTORE: keystore0, DTWN_BS0_KEYSTORE_PASSWORD: "pw0" })).to.equal(bs0.privateKey);
    expect(bsKey(0, { DTWN_BS0_KEYSTORE: keystore0, DTWN_KEYSTORE_PASSWORD: "pw0" })).to.equal(bs0.privateKey);
    expect(bsKey(1, { DTWN_BS1_KEY: bs1.privateKey })).to.equal(bs1.privateKey);
  });

  it("names the variable to set, the wrong password or the unreadable file, and never prints a key", () => {
    const errors: string[] = [];
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        errors.push((e as Error).message);
        return;
      }
      throw new Error("expected a throw");
    };
    fail(() => bsKey(2, {}));
    fail(() => bsKey(0, { DTWN_BS0_KEYSTORE: keystore0, DTWN_KEYSTORE_PASSWORD: "wrong" }));
    fail(() => bsKey(0, { DTWN_BS0_KEYSTORE: keystore0 }));
    fail(() => bsKey(0, { DTWN_BS0_KEYSTORE: path.join(dir, "missing.json"), DTWN_KEYSTORE_PASSWORD: "pw0" }));
    fail(() => bsKey(0, { DTWN_BS0_KEYSTORE: keystore0, DTWN_BS0_KEY: bs0.privateKey }));
    fail(() => bsKey(1, { DTWN_BS1_KEY: bs1.privateKey.slice(0, 40) }));
    expect(errors[0]).to.match(/No key for BS 2: set DTWN_BS2_KEYSTORE .* or DTWN_BS2_KEY/);
    expect(errors[1]).to.match(/BS 0: cannot decrypt the keystore .*bs-0.json \(DTWN_BS0_KEYSTORE\): wrong password/);
    expect(errors[2]).to.match(/needs its password in DTWN_BS0_KEYSTORE_PASSWORD or DTWN_KEYSTORE_PASSWORD/);
    expect(errors[3]).to.match(/cannot read the keystore .*missing.json \(DTWN_BS0_KEYSTORE\): ENOENT/);
    expect(errors[4]).to.match(/both DTWN_BS0_KEY and DTWN_BS0_KEYSTORE are set/);
    expect(errors[5]).to.match(/DTWN_BS1_KEY is not a private key/);
    for (const m of errors) for (const k of [bs0.privateKey, bs1.privateKey]) expect(m).to.not.include(k.slice(2, 42));
  });

  it("uses the public dev accounts on localhost only", () => {
    expect(mbsKeyFor("localhost", {})).to.equal(devKey(0));
    expect(bsKeyFor("localhost", 2, {})).to.equal(devKey(3));
    expect(() => mbsKeyFor("testnet", {})).to.throw(/DTWN_DEPLOYER_KEY/);
    expect(() => bsKeyFor("testnet", 0, {})).to.throw(/DTWN_BS0_KEYSTORE/);
  });

  it("attack: an agent process started by the run holds only its own BS's key (not the operator's, another BS's or the devices' secret)", () => {
    const env = {
      PATH: "/bin",
      DTWN_RPC_URL: "http://127.0.0.1:1",
      DTWN_DEPLOYER_KEY: "op",
      DTWN_DEVICE_SECRET: "dev",
      DTWN_KEYSTORE_PASSWORD: "shared",
      DTWN_BS0_KEYSTORE: "/k/0.json",
      DTWN_BS0_KEYSTORE_PASSWORD: "p0",
      DTWN_BS1_KEY: "k1",
      DTWN_BS12_KEY: "k12",
    };
    expect(agentEnvFor(1, env)).to.deep.equal({ PATH: "/bin", DTWN_RPC_URL: "http://127.0.0.1:1", DTWN_KEYSTORE_PASSWORD: "shared", DTWN_BS1_KEY: "k1" });
    expect(agentEnvFor(0, env)).to.deep.equal({ PATH: "/bin", DTWN_RPC_URL: "http://127.0.0.1:1", DTWN_KEYSTORE_PASSWORD: "shared", DTWN_BS0_KEYSTORE: "/k/0.json", DTWN_BS0_KEYSTORE_PASSWORD: "p0" });
  });

  it("parsePrivateKey normalises to 0x-prefixed lower case", () => {
    expect(parsePrivateKey(` 0X${"AB".repeat(32)} `, "x")).to.equal(`0x${"ab".repeat(32)}`);
  });
});

describe("chain/fund: the operator tops the BSs up", function () {
  it("sends each BS what it lacks of the target, nothing to one that has it, and refuses a target the operator cannot pay", async () => {
    const [operator] = await hre.ethers.getSigners();
    const a = Wallet.createRandom().address;
    const b = Wallet.createRandom().address;
    await (await operator.sendTransaction({ to: b, value: parseEther("0.25") })).wait();
    const lines: string[] = [];
    const sent = await topUp(operator, [a, b], parseEther("1"), 1, (l) => lines.push(l));
    expect(sent).to.deep.equal([parseEther("1"), parseEther("0.75")]);
    expect(await hre.ethers.provider.getBalance(a)).to.equal(parseEther("1"));
    expect(await hre.ethers.provider.getBalance(b)).to.equal(parseEther("1"));
    expect(lines[0]).to.match(/funded BS 0 \(0x[0-9a-fA-F]{40}\) with 1\.0 ETH from the operator/);
    expect(await topUp(operator, [a, b], parseEther("1"))).to.deep.equal([0n, 0n]); // already there: nothing sent
    const poor = new Wallet(Wallet.createRandom().privateKey, hre.ethers.provider);
    await (await operator.sendTransaction({ to: poor.address, value: parseEther("0.1") })).wait();
    const before = await hre.ethers.provider.getBalance(a);
    let error: Error | undefined;
    await topUp(poor, [a], parseEther("5")).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/holds 0\.1 ETH but topping 1 BSs up to 5\.0 ETH each needs .* fund it from a faucet, or lower --fund-bs-ether/);
    expect(await hre.ethers.provider.getBalance(a)).to.equal(before); // nothing sent
  });
});
