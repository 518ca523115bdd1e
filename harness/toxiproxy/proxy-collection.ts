import { ApiError, missingField, proxyAlreadyExists, proxyNotFound, toApiError } from "./errors.js";
import { decodeStruct, jsonKind, parseFirstValue, type GoKind } from "./go-json.js";
import { Mutex } from "./mutex.js";
import { Proxy, type ProxyContext, type ProxyJson } from "./proxy.js";

const PROXY_FIELDS = {
  name: "string",
  listen: "string",
  upstream: "string",
  enabled: "bool",
} as const satisfies Record<string, GoKind>;
const POPULATE_TYPE = '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';

interface ProxyInput {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
}

/** What POST /populate answers: its own body shape, even on error. */
export interface PopulateResult {
  readonly status: number;
  readonly body: { error?: string; status?: number; proxies: ProxyJson[] | null };
}

function decodeProxy(value: unknown, path: string, defaults: ProxyInput): ProxyInput {
  const fields = decodeStruct(value, PROXY_FIELDS, path, "toxiproxy.Proxy");
  return { ...defaults, ...(fields as Partial<ProxyInput>) };
}

/** The named proxies, with the real server's create/replace/remove rules. */
export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();
  private readonly mutex = new Mutex();

  constructor(private readonly context: ProxyContext) {}

  /** GET /proxies: an object keyed by name, in name order (Go sorts map keys when encoding). */
  list(): Record<string, ProxyJson> {
    const names = [...this.proxies.keys()].sort();
    return Object.fromEntries(names.map((name) => [name, this.get(name).json()]));
  }

  /**
   * An omitted listen address: the real server binds a random port on every interface (Go's
   * net.Listen with ""); this one does the same only when non-loopback listening was allowed,
   * and a random loopback port otherwise (it never opens a port beyond loopback unasked).
   */
  private listenOrDefault(listen: string): string {
    if (listen !== "") return listen;
    return this.context.allowNonLoopback ? ":0" : "127.0.0.1:0";
  }

  get(name: string): Proxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw proxyNotFound();
    return proxy;
  }

  create(body: string): Promise<ProxyJson> {
    const input = decodeProxy(parseFirstValue(body), "Proxy", {
      name: "",
      listen: "",
      upstream: "",
      enabled: true,
    });
    if (input.name === "") throw missingField("name");
    if (input.upstream === "") throw missingField("upstream");
    return this.mutex.run(async () => {
      if (this.proxies.has(input.name)) throw proxyAlreadyExists();
      const proxy = new Proxy(input.name, this.listenOrDefault(input.listen), input.upstream, this.context);
      if (input.enabled) await proxy.start();
      this.proxies.set(proxy.name, proxy);
      return proxy.json();
    });
  }

  /** PATCH/POST /proxies/{name}: fields left out keep their values. */
  async update(name: string, body: string): Promise<ProxyJson> {
    const proxy = this.get(name);
    const { listen, upstream, enabled } = proxy;
    const input = decodeProxy(parseFirstValue(body), "Proxy", { name, listen, upstream, enabled });
    await proxy.update(input);
    return proxy.json();
  }

  remove(name: string): Promise<void> {
    return this.mutex.run(async () => {
      const proxy = this.get(name);
      await proxy.stop();
      this.proxies.delete(name);
    });
  }

  /** POST /reset: every proxy enabled again and stripped of its toxics; none deleted. */
  async reset(): Promise<void> {
    for (const proxy of this.proxies.values()) {
      await proxy.start();
      await proxy.toxics.reset();
    }
  }

  /**
   * POST /populate: all entries checked first; then each applied in turn, an identical
   * existing proxy kept as it is (toxics, connections, enabled state), a differing one
   * replaced. A failure keeps what was applied before it and reports it.
   */
  async populate(body: string): Promise<PopulateResult> {
    let inputs: ProxyInput[];
    try {
      inputs = validatePopulate(parseFirstValue(body));
    } catch (error) {
      return populateFailure(error, []);
    }
    return this.mutex.run(async () => {
      const applied: Proxy[] = [];
      for (const input of inputs) {
        try {
          applied.push(await this.addOrReplace(input));
        } catch (error) {
          return populateFailure(error, applied);
        }
      }
      return { status: 201, body: { proxies: applied.length > 0 ? applied.map((p) => p.json()) : null } };
    });
  }

  /** Stops every proxy and closes every connection (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.stop()));
  }

  private async addOrReplace(input: ProxyInput): Promise<Proxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      if (!(await existing.differs(input))) return existing;
      await existing.stop();
    }
    const proxy = new Proxy(input.name, this.listenOrDefault(input.listen), input.upstream, this.context);
    if (input.enabled) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }
}

function validatePopulate(value: unknown): ProxyInput[] {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    throw new ApiError(
      `bad request body: json: cannot unmarshal ${jsonKind(value)} into Go value of type ${POPULATE_TYPE}`,
      400,
    );
  }
  const inputs = value.map((item) =>
    decodeProxy(item, "Proxy", { name: "", listen: "", upstream: "", enabled: true }),
  );
  inputs.forEach((input, i) => {
    if (input.name === "") throw missingField(`name at proxy ${i + 1}`);
    if (input.upstream === "") throw missingField(`upstream at proxy ${i + 1}`);
  });
  return inputs;
}

function populateFailure(error: unknown, applied: readonly Proxy[]): PopulateResult {
  const api = toApiError(error);
  const proxies = applied.length > 0 ? applied.map((p) => p.json()) : null;
  return { status: api.status, body: { error: api.message, status: api.status, proxies } };
}
