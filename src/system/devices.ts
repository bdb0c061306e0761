/**
 * The end users' devices of the running system: each user holds its device key (admitted on chain by the operator)
 * and signs its consents (src/chain/consent.ts) when a BS asks, after checking the request against what it knows:
 * - a data record: only its own data (its true size D_n and the commitment to its samples), only for the BS that
 *   hosts its twin on chain, only as the twin's next version;
 * - a move: only to the BS that the slot's joint action, derived from the chain as every agent derives it
 *   (src/agents/jointAction.ts), puts its twin on.
 * The devices live on the users' side of the run (the driver process); no BS agent holds a device key. Agents in
 * other processes reach them through {@link serveDevices} on 127.0.0.1.
 */
import { hostNetwork } from "../testbed/hostNetwork";
import http from "node:http";
import { hexlify, keccak256, randomBytes, solidityPacked, type TypedDataDomain, type Wallet } from "ethers";
import { consentDomain, deviceKey, signMove, signTwinData, type TwinDataConsent } from "../chain/consent";
import type { Deployment } from "../chain/deployment";
import { JointActionReader } from "../agents/jointAction";
import type { JointActionRule } from "../agents/policies";
import type { Protocol } from "./protocol";
import type { World } from "./world";
import type { Allocation } from "../twins/state";

/** What a BS agent asks of its users' devices. */
export interface DeviceLink {
  /** User `user`'s consent to move its twin to BS `to` in slot `slot` (an EIP-712 signature); {@link DeviceRefused} if not. */
  moveConsent(user: number, to: string, slot: number): Promise<string>;
  /** User `user`'s consent to the data record `record` of its twin; {@link DeviceRefused} if not. */
  dataConsent(user: number, record: TwinDataConsent): Promise<string>;
}

/** A device said no (the request is not what the user's data or the slot's joint action say). */
export class DeviceRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceRefused";
  }
}

/** The commitment to user n's data: keccak256 of its sample indices (what a BS records when the twin syncs). */
export function dataCommitmentOf(world: World, user: number): string {
  return keccak256(solidityPacked(["uint32[]"], [world.userData[user]]));
}

export interface DeviceStats {
  moves: number;
  data: number;
  refused: string[];
}

/** The devices of a run's users: keys from `secret`, checks against `world` and the chain read through `protocol`. */
export function runDevices(secret: string, deployment: Deployment, world: World, protocol: Protocol, bsAddresses: readonly string[], twinIds: readonly number[], rule: JointActionRule, proposalWindowSeconds: number): UserDevices {
  const reader = new JointActionReader({ protocol, world, bsAddresses, twinIds, rule, proposalWindowSeconds, pollMs: 500 });
  return new UserDevices(secret, consentDomain(deployment.chainId, deployment.contracts.TwinRegistry.address), world, protocol.twins, reader);
}

/** A fresh device secret for a run (never written to the run folder, never given to a BS agent). */
export function freshDeviceSecret(): string {
  return hexlify(randomBytes(32));
}

/** The N users' devices, holding their keys (derived from the run's device secret). */
export class UserDevices implements DeviceLink {
  private readonly keys: Wallet[];
  private readonly joint = new Map<number, Promise<Allocation>>();
  readonly stats: DeviceStats = { moves: 0, data: 0, refused: [] };

  constructor(
    secret: string,
    private readonly domain: TypedDataDomain,
    private readonly world: World,
    private readonly twins: Protocol["twins"],
    private readonly reader: JointActionReader,
  ) {
    this.keys = world.userData.map((_, u) => deviceKey(secret, u));
  }

  private refuse(why: string): never {
    this.stats.refused.push(why);
    throw new DeviceRefused(why);
  }

  private user(user: number): Wallet {
    const key = this.keys[user];
    if (!key) this.refuse(`no user ${user} (the run has ${this.keys.length})`);
    return key;
  }

  async moveConsent(user: number, to: string, slot: number): Promise<string> {
    const key = this.user(user);
    const bs = this.reader.ctx.bsAddresses.findIndex((a) => a.toLowerCase() === to.toLowerCase());
    if (bs < 0) this.refuse(`user ${user}: ${to} is not a BS of the run`);
    if (!this.joint.has(slot)) {
      if (Number(await this.reader.ctx.protocol.rounds.currentRound()) < slot) this.refuse(`user ${user}: slot ${slot} has not opened`);
      const derived = this.reader.jointAction(slot);
      derived.catch(() => this.joint.delete(slot)); // a failed read is retried on the next request
      this.joint.set(slot, derived);
    }
    const allocation = await this.joint.get(slot)!;
    if (allocation.association[user] !== bs) this.refuse(`user ${user}: slot ${slot}'s joint action puts its twin on BS ${allocation.association[user]}, not BS ${bs}`);
    this.stats.moves++;
    return signMove(key, this.domain, { twinId: this.reader.ctx.twinIds[user], to, slot });
  }

  async dataConsent(user: number, record: TwinDataConsent): Promise<string> {
    const key = this.user(user);
    const twinId = this.reader.ctx.twinIds[user];
    if (BigInt(record.twinId) !== BigInt(twinId)) this.refuse(`user ${user}: twin ${record.twinId} is not its twin (${twinId})`);
    const size = this.world.userData[user].length;
    if (BigInt(record.dataSize) !== BigInt(size)) this.refuse(`user ${user}: ${record.dataSize} samples is not its data (${size} samples)`);
    if (record.dataCommitment !== dataCommitmentOf(this.world, user)) this.refuse(`user ${user}: the commitment is not to its data`);
    const t = await this.twins.twin(twinId);
    if (t.bs.toLowerCase() !== record.bs.toLowerCase()) this.refuse(`user ${user}: its twin is on ${t.bs}, not on ${record.bs}`);
    if (BigInt(record.version) !== t.dataVersion + 1n) this.refuse(`user ${user}: version ${record.version} is not the next one (${t.dataVersion + 1n})`);
    this.stats.data++;
    return signTwinData(key, this.domain, record);
  }
}

interface ConsentRequest {
  kind: "move" | "data";
  user: number;
  to?: string;
  slot?: number;
  record?: { twinId: string; bs: string; dataSize: string; dataCommitment: string; state: string; version: string };
}

/** Serve `devices` to agents in other processes on 127.0.0.1 (an ephemeral port): POST / with a consent request. */
export async function serveDevices(devices: DeviceLink): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const reply = (status: number, value: object) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      (async () => {
        const q = JSON.parse(body) as ConsentRequest;
        if (q.kind === "move" && typeof q.to === "string" && Number.isInteger(q.slot)) return devices.moveConsent(q.user, q.to, q.slot!);
        if (q.kind === "data" && q.record) return devices.dataConsent(q.user, { ...q.record, twinId: BigInt(q.record.twinId), dataSize: BigInt(q.record.dataSize), version: BigInt(q.record.version) });
        throw new DeviceRefused("malformed consent request");
      })().then(
        (signature) => reply(200, { signature }),
        (e: Error) => reply(e instanceof DeviceRefused ? 403 : 500, { error: e.message }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, hostNetwork().bind, () => resolve()));
  const { port } = server.address() as { port: number };
  return { url: `http://${hostNetwork().bind}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The devices as an agent in another process reaches them ({@link serveDevices}'s URL). */
export class HttpDeviceLink implements DeviceLink {
  constructor(private readonly url: string) {}

  private async ask(q: ConsentRequest): Promise<string> {
    const res = await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(q) });
    const answer = (await res.json()) as { signature?: string; error?: string };
    if (res.status === 403) throw new DeviceRefused(answer.error ?? "refused");
    if (!res.ok || !answer.signature) throw new Error(`the users' devices at ${this.url} failed: ${answer.error ?? res.status}`);
    return answer.signature;
  }

  moveConsent(user: number, to: string, slot: number): Promise<string> {
    return this.ask({ kind: "move", user, to, slot });
  }

  dataConsent(user: number, record: TwinDataConsent): Promise<string> {
    const r = { twinId: String(record.twinId), bs: record.bs, dataSize: String(record.dataSize), dataCommitment: record.dataCommitment, state: record.state, version: String(record.version) };
    return this.ask({ kind: "data", user, record: r });
  }
}
