import { ShopstreamError } from "../errors.ts";

// A client of the Confluent-compatible Schema Registry API (Apicurio serves it at /apis/ccompat/v7).
// Five calls are all shopstream makes; the one maintained JavaScript client pulls in three clouds'
// key-management SDKs for field encryption we do not use, so these few are written here.

export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

export interface RegisteredSchema {
  schemaType: SchemaType;
  schema: string;
}

export interface SubjectVersion extends RegisteredSchema {
  version: number;
  id: number;
}

/** The registry could not be reached or answered with a server error: worth trying again. */
export class RegistryUnavailable extends ShopstreamError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retriable: true });
  }
}

/** The registry refused a schema (incompatible with the subject's earlier versions, or invalid). */
export class SchemaRefused extends ShopstreamError {}

const TIMEOUT_MS = 5000;
const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

export class RegistryClient {
  constructor(readonly url: string) {}

  /**
   * Registers a schema under a subject (or finds it registered already) and returns its id. A subject
   * holds one type of schema: another type is refused here, as a Confluent registry refuses it.
   */
  async register(subject: string, schemaType: SchemaType, schema: string): Promise<number> {
    const latest = await this.version(subject, "latest");
    if (latest && latest.schemaType !== schemaType)
      throw new SchemaRefused(
        `schema registry refused a ${schemaType} schema for ${subject}: the subject holds ${latest.schemaType} schemas (write under another TOPIC_PREFIX)`,
      );
    const body = schemaType === "AVRO" ? { schema } : { schemaType, schema };
    const res = await this.call("POST", `/subjects/${encodeURIComponent(subject)}/versions`, body);
    if (res.status === 409 || res.status === 422)
      throw new SchemaRefused(`schema registry refused a new version of ${subject}: ${res.message}`);
    return this.ok(res, `register ${subject}`).id as number;
  }

  async setCompatibility(subject: string, level: "BACKWARD" | "FORWARD" | "FULL" | "NONE"): Promise<void> {
    const put = () => this.call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    let res = await put();
    // two producers starting together (Apicurio: "A rule named 'COMPATIBILITY' already exists"):
    // the rule is there now, and a second PUT updates it
    if (res.status === 409) res = await put();
    this.ok(res, `set ${subject}'s compatibility`);
  }

  /** The schema an id names; null when the registry says it has no such id. */
  async schemaById(id: number): Promise<RegisteredSchema | null> {
    const res = await this.call("GET", `/schemas/ids/${id}`);
    if (notFound(res, SCHEMA_NOT_FOUND)) return null;
    const body = this.ok(res, `read schema ${id}`);
    return { schemaType: (body.schemaType as SchemaType | undefined) ?? "AVRO", schema: body.schema as string };
  }

  /** A subject's version: its number, id and schema; null when the subject (or that version) does not exist. */
  async version(subject: string, version: number | "latest"): Promise<SubjectVersion | null> {
    const res = await this.call("GET", `/subjects/${encodeURIComponent(subject)}/versions/${version}`);
    if (notFound(res, SUBJECT_NOT_FOUND, VERSION_NOT_FOUND)) return null;
    const body = this.ok(res, `read ${subject} version ${version}`);
    const schemaType = (body.schemaType as SchemaType | undefined) ?? "AVRO";
    return { version: body.version as number, id: body.id as number, schemaType, schema: body.schema as string };
  }

  /** Deletes the subjects whose names start with `prefix`, soft then permanently (a suite's or a run's own); returns how many. */
  async deleteSubjects(prefix: string): Promise<number> {
    const mine = (await this.subjects()).filter((s) => s.startsWith(prefix));
    for (const subject of mine) {
      const path = `/subjects/${encodeURIComponent(subject)}`;
      this.ok(await this.call("DELETE", path), `delete ${subject}`);
      const hard = await this.call("DELETE", `${path}?permanent=true`);
      if (!notFound(hard, SUBJECT_NOT_FOUND)) this.ok(hard, `delete ${subject} for good`);
    }
    return mine.length;
  }

  async subjects(): Promise<string[]> {
    return this.ok(await this.call("GET", "/subjects"), "list subjects") as unknown as string[];
  }

  private ok(res: Answer, what: string): Record<string, unknown> {
    if (res.status >= 200 && res.status < 300) return res.body as Record<string, unknown>;
    // a 404 that is not the registry's own answer: a path that is not the ccompat API, a proxy
    if (res.status === 404 && errorCode(res) === undefined)
      throw new RegistryUnavailable(
        `${this.url} answered 404 to ${what}, not as a schema registry would: is SCHEMA_REGISTRY_URL the registry's /apis/ccompat/v7?`,
      );
    if (res.status >= 500) throw new RegistryUnavailable(`schema registry at ${this.url} failed to ${what}: ${res.status} ${res.message}`);
    throw new ShopstreamError(`schema registry at ${this.url} refused to ${what}: ${res.status} ${res.message}`);
  }

  private async call(method: string, path: string, body?: object): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new RegistryUnavailable(`schema registry at ${this.url} (SCHEMA_REGISTRY_URL) does not answer`, err);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new RegistryUnavailable(`schema registry at ${this.url} (SCHEMA_REGISTRY_URL) broke off its answer`, err);
    }
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    const message = (parsed as { message?: string })?.message ?? text.slice(0, 300);
    return { status: res.status, body: parsed, message };
  }
}

interface Answer {
  status: number;
  body: unknown;
  message: string;
}

// the registry's own "not found" answers (Confluent's error codes, which Apicurio's ccompat API keeps)
const SUBJECT_NOT_FOUND = 40401;
const VERSION_NOT_FOUND = 40402;
const SCHEMA_NOT_FOUND = 40403;

function errorCode(res: Answer): number | undefined {
  const code = (res.body as { error_code?: unknown } | null)?.error_code;
  return typeof code === "number" ? code : undefined;
}

/** A 404 the registry itself gave for one of these reasons; any other 404 is not an answer about the schema. */
function notFound(res: Answer, ...codes: number[]): boolean {
  const code = errorCode(res);
  return res.status === 404 && code !== undefined && codes.includes(code);
}
