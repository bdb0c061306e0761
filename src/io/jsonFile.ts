/**
 * Reading a JSON file that a user or an earlier run wrote: missing, not JSON, or not of the expected shape, each with
 * an error that names the file and says what to do. One function for every validated file dtwn reads.
 */
import fs from "node:fs";
import type { z } from "zod";

export interface JsonFileHints {
  /** What the file is, e.g. "Deployment file" (starts the error messages). */
  what: string;
  /** The error when the file does not exist (say what makes one). */
  missing: string;
  /** Appended to the malformed-file error (e.g. "Redeploy to regenerate it."). */
  fix?: string;
}

/** The one-line-per-issue description of a zod error. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
}

/** Read `file` as JSON and validate it with `schema`. */
export function readJsonFile<S extends z.ZodTypeAny>(file: string, schema: S, hints: JsonFileHints): z.infer<S> {
  if (!fs.existsSync(file)) throw new Error(hints.missing);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${hints.what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`${hints.what} ${file} is malformed:\n${describeIssues(parsed.error)}${hints.fix ? `\n${hints.fix}` : ""}`);
  return parsed.data;
}
