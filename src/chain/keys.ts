/**
 * The keys of a run on a chain other than the local development node (`--network testnet`, or any node that is not
 * `localhost`), all from the environment of the process that needs them, never from Hardhat's development accounts
 * and never written anywhere by dtwn:
 * - the operator (the MBS; it deploys the protocol): DTWN_DEPLOYER_KEY, a hex private key;
 * - BS i (0-based): DTWN_BS<i>_KEY, a hex private key, or DTWN_BS<i>_KEYSTORE, the path of an encrypted JSON keystore
 *   (Web3 Secret Storage, as `cast wallet new` or ethers' `Wallet.encrypt` write) whose password is in
 *   DTWN_BS<i>_KEYSTORE_PASSWORD or, shared by every BS, DTWN_KEYSTORE_PASSWORD.
 * Each BS's agent process reads only its own key. Errors name the variable to set, never a key.
 */
import fs from "node:fs";
import { Wallet } from "ethers";

/** The variables BS `i`'s key can come from. */
export function bsKeyVariables(i: number): { key: string; keystore: string; password: string } {
  return { key: `DTWN_BS${i}_KEY`, keystore: `DTWN_BS${i}_KEYSTORE`, password: `DTWN_BS${i}_KEYSTORE_PASSWORD` };
}

/** A 32-byte hex private key (with or without 0x), normalised to 0x-prefixed lower case; `what` names its variable. */
export function parsePrivateKey(value: string, what: string): string {
  const hex = value.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${what} is not a private key: give 64 hex digits (32 bytes, 0x optional).`);
  return `0x${hex.toLowerCase()}`;
}

/** The operator's (the MBS's) private key, from DTWN_DEPLOYER_KEY. */
export function operatorKey(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.DTWN_DEPLOYER_KEY;
  if (!v) throw new Error("No operator key: set DTWN_DEPLOYER_KEY to the private key of the account that deploys the protocol and runs the MBS (it pays for the deployment and, with --fund-bs-ether, funds the BSs).");
  return parsePrivateKey(v, "DTWN_DEPLOYER_KEY");
}

/** BS `i`'s private key, from DTWN_BS<i>_KEY or its keystore file (decrypted here; scrypt takes about a second). */
export function bsKey(i: number, env: NodeJS.ProcessEnv = process.env): string {
  const v = bsKeyVariables(i);
  const direct = env[v.key];
  const file = env[v.keystore];
  if (direct && file) throw new Error(`BS ${i}: both ${v.key} and ${v.keystore} are set; keep one.`);
  if (direct) return parsePrivateKey(direct, v.key);
  if (!file) throw new Error(`No key for BS ${i}: set ${v.keystore} to its encrypted JSON keystore (and ${v.password} or DTWN_KEYSTORE_PASSWORD to its password), or ${v.key} to its private key.`);
  let json: string;
  try {
    json = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`BS ${i}: cannot read the keystore ${file} (${v.keystore}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const password = env[v.password] ?? env.DTWN_KEYSTORE_PASSWORD;
  if (password === undefined) throw new Error(`BS ${i}: the keystore ${file} needs its password in ${v.password} or DTWN_KEYSTORE_PASSWORD.`);
  try {
    return Wallet.fromEncryptedJsonSync(json, password).privateKey;
  } catch (e) {
    const why = /password/i.test((e as Error).message) ? "wrong password" : "not an encrypted JSON keystore";
    throw new Error(`BS ${i}: cannot decrypt the keystore ${file} (${v.keystore}): ${why}.`);
  }
}

/**
 * The environment BS `i`'s agent process gets: `env` without the operator's key, the users' device secret and every
 * other BS's key, keystore and password. Attack stopped: a BS's process (run by that BS's operator) signing as
 * another BS or as the MBS with keys it was handed only because the run driver started it.
 */
export function agentEnvFor(i: number, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = new Set(Object.values(bsKeyVariables(i)));
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => name !== "DTWN_DEPLOYER_KEY" && name !== "DTWN_DEVICE_SECRET" && (!/^DTWN_BS\d+_(KEY|KEYSTORE|KEYSTORE_PASSWORD)$/.test(name) || own.has(name))),
  );
}
