// The compose file cannot run here (no Docker engine), so its topology is checked by reading it.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, dropDatabase, ensureDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { config } from "../support/kafka.ts";

const deployDir = join(import.meta.dir, "../../deploy");

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean> | string[];
  ports?: (string | { published?: string | number; host_ip?: string; target?: number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  restart?: string;
}

const compose = Bun.YAML.parse(await Bun.file(join(deployDir, "docker-compose.yml")).text()) as {
  services: Record<string, Service>;
};
const services = compose.services;

function env(service: Service): Record<string, string> {
  const raw = service.environment ?? {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(raw.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}

function command(service: Service): string[] {
  const c = service.command ?? [];
  return Array.isArray(c) ? c : c.split(/\s+/);
}

interface Binding {
  service: string;
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

function bindings(): Binding[] {
  return Object.entries(services).flatMap(([name, s]) =>
    (s.ports ?? []).map((p) => {
      if (typeof p === "object") {
        return { service: name, hostIp: p.host_ip ?? "", hostPort: Number(p.published), containerPort: Number(p.target) };
      }
      const parts = String(p).split(":");
      // "ip:host:container", "host:container" or "container"
      const [hostIp, hostPort, containerPort] =
        parts.length === 3 ? parts : parts.length === 2 ? ["", parts[0], parts[1]] : ["", "", parts[0]];
      return { service: name, hostIp: hostIp!, hostPort: Number(hostPort), containerPort: Number(containerPort) };
    }),
  );
}

const bunServices = Object.entries(services).filter(([, s]) => s.image === "shopstream:local" || s.build !== undefined);
const kafkaNodes = ["kafka1", "kafka2", "kafka3"] as const;

describe("deploy/docker-compose.yml", () => {
  test("has at least 21 containers, infrastructure and Bun services alike", () => {
    expect(Object.keys(services).length).toBeGreaterThanOrEqual(21);
    for (const name of ["postgres", "redis", ...kafkaNodes, "kafka-ui", "adminer"]) {
      expect(services[name], name).toBeDefined();
    }
    expect(services.postgres!.image).toMatch(/^postgres:16/);
    expect(services.redis!.image).toMatch(/^redis:7/);
    expect(services["kafka-ui"]!.image).toMatch(/^provectuslabs\/kafka-ui/);
    const expectedBun = [
      "initial-seeder",
      "cache-worker",
      "redis-monitor",
      "grade-updater",
      "lifecycle",
      "producer",
      "user-seeder",
      "metrics",
      ...["user", "product", "order"].flatMap((kind) => [1, 2, 3].map((i) => `${kind}-consumer-${i}`)),
      // `--profile cdc`: the connector applied once, then watched
      "cdc-apply",
      "cdc-watch",
    ];
    expect(bunServices.map(([name]) => name).sort()).toEqual(expectedBun.sort());
  });

  test("three KRaft nodes, ids 1..3, one quorum naming all three, one cluster id", () => {
    const clusterIds = new Set<string>();
    kafkaNodes.forEach((name, i) => {
      const s = services[name]!;
      const e = env(s);
      expect(s.image).toBe("apache/kafka:3.9.1");
      expect(e.KAFKA_NODE_ID).toBe(String(i + 1));
      expect(e.KAFKA_PROCESS_ROLES).toBe("broker,controller");
      const voters = e.KAFKA_CONTROLLER_QUORUM_VOTERS!.split(",").sort();
      expect(voters).toEqual(["1@kafka1:9093", "2@kafka2:9093", "3@kafka3:9093"]);
      expect(e.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe("false");
      expect(e.KAFKA_MIN_INSYNC_REPLICAS).toBe("2");
      expect(e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe("3");
      expect(e.KAFKA_DEFAULT_REPLICATION_FACTOR).toBe("3");
      // an internal listener for containers, an external one advertised on the published host port
      const hostPort = 19092 + i;
      expect(e.KAFKA_LISTENERS).toContain(`:${hostPort}`);
      expect(e.KAFKA_ADVERTISED_LISTENERS).toContain(`${name}:9092`);
      expect(e.KAFKA_ADVERTISED_LISTENERS).toContain(`127.0.0.1:${hostPort}`);
      expect(e.KAFKA_INTER_BROKER_LISTENER_NAME).toBeTruthy();
      expect(e.KAFKA_CONTROLLER_LISTENER_NAMES).toBe("CONTROLLER");
      expect(JSON.stringify(s.healthcheck?.test)).toContain("kafka-broker-api-versions.sh");
      expect(e.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
      clusterIds.add(e.CLUSTER_ID!);
    });
    expect(clusterIds.size).toBe(1);
  });

  test("publishes the documented host ports, all on 127.0.0.1", () => {
    const all = bindings();
    const published = new Map(all.map((b) => [b.hostPort, b.service]));
    expect(published.get(19092)).toBe("kafka1");
    expect(published.get(19093)).toBe("kafka2");
    expect(published.get(19094)).toBe("kafka3");
    expect(published.get(5432)).toBe("postgres");
    expect(published.get(6379)).toBe("redis");
    expect(published.get(8080)).toBe("kafka-ui");
    expect(published.get(8081)).toBe("adminer");
    expect(published.get(9464)).toBe("metrics");
    expect(published.get(18081)).toBe("schema-registry");
    for (const b of all) expect(`${b.service} ${b.hostIp}:${b.hostPort}`).toBe(`${b.service} 127.0.0.1:${b.hostPort}`);
    expect(new Set(all.map((b) => b.hostPort)).size).toBe(all.length);
  });

  test("every Bun service reaches PostgreSQL, Redis and Kafka by compose hostname", () => {
    for (const [name, s] of bunServices) {
      const e = env(s);
      expect(e.DATABASE_URL, name).toMatch(/^postgres:\/\/postgres:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/shopstream$/);
      expect(e.REDIS_URL, name).toBe("redis://redis:6379");
      expect(e.KAFKA_BROKERS?.split(",").sort(), name).toEqual(["kafka1:9092", "kafka2:9092", "kafka3:9092"]);
      expect(e.SCHEMA_REGISTRY_URL, name).toBe("http://schema-registry:8080/apis/ccompat/v7");
      expect((s.depends_on as Record<string, unknown>)["schema-registry"], name).toBeDefined();
      expect(command(s).slice(0, 2), name).toEqual(["bun", "run"]);
      expect(command(s)[2], name).toMatch(name === "cdc-apply" ? /^src\/cli\/connect\.ts$/ : /^src\/services\/[a-z-]+\.ts$/);
    }
    expect(command(services.metrics!)[2]).toBe("src/services/metrics.ts");
    expect(env(services.metrics!).METRICS_HOST).toBe("0.0.0.0");
    expect(services["initial-seeder"]!.restart).toBe("no");
  });

  test("CDC (`--profile cdc`): PostgreSQL with logical WAL, a Connect worker whose topics have RF 3 and whose offsets flush every second, the connector applied before it is watched", () => {
    expect(command(services.postgres!)).toEqual(["postgres", "-c", "wal_level=logical"]);
    const connect = services.connect as Service & { profiles?: string[] };
    expect(connect.profiles).toEqual(["cdc"]);
    expect(connect.image).toMatch(/^quay\.io\/debezium\/connect:3\.6\./);
    const e = env(connect);
    expect(e.BOOTSTRAP_SERVERS?.split(",").sort()).toEqual(["kafka1:9092", "kafka2:9092", "kafka3:9092"]);
    // the image passes only CONNECT_* on to the worker, and sets the flush interval itself from its own variable
    for (const topic of ["CONFIG", "OFFSET", "STATUS"]) expect(e[`CONNECT_${topic}_STORAGE_REPLICATION_FACTOR`], topic).toBe("3");
    expect(e.OFFSET_FLUSH_INTERVAL_MS).toBe("1000");
    expect(bindings().filter((b) => b.service === "connect")).toEqual([
      { service: "connect", hostIp: "127.0.0.1", hostPort: 18083, containerPort: 8083 },
    ]);
    for (const name of ["cdc-apply", "cdc-watch"]) {
      expect((services[name] as { profiles?: string[] }).profiles, name).toEqual(["cdc"]);
      expect(env(services[name]!).CONNECT_URL, name).toBe("http://connect:8083");
    }
    expect((services["cdc-apply"]!.depends_on as Record<string, { condition?: string }>).connect?.condition).toBe("service_healthy");
    expect((services["cdc-watch"]!.depends_on as Record<string, { condition?: string }>)["cdc-apply"]?.condition).toBe(
      "service_completed_successfully",
    );
    expect(command(services["cdc-watch"]!)).toEqual(["bun", "run", "src/services/cdc-watch.ts"]);
  });

  test("nine consumers: three instances for each of users, products, orders", () => {
    for (const [kind, topic] of [
      ["user", "users"],
      ["product", "products"],
      ["order", "orders"],
    ] as const) {
      for (const i of [1, 2, 3]) {
        const s = services[`${kind}-consumer-${i}`];
        expect(s, `${kind}-consumer-${i}`).toBeDefined();
        expect(command(s!)).toEqual(["bun", "run", "src/services/consumer.ts", topic]);
        expect(env(s!).INSTANCE).toBe(String(i));
      }
    }
  });

  test("the schema registry is the one infra.sh runs, storing its schemas in PostgreSQL", async () => {
    const registry = services["schema-registry"] as Service;
    const localVersion = /REGISTRY_VERSION=(\S+)/.exec(await Bun.file(join(deployDir, "local/registry.sh")).text())?.[1];
    expect(registry.image).toBe(`apicurio/apicurio-registry:${localVersion}`);
    expect(env(registry)).toMatchObject({ APICURIO_STORAGE_KIND: "sql", APICURIO_STORAGE_SQL_KIND: "postgresql" });
    expect(env(registry).APICURIO_DATASOURCE_URL).toBe("jdbc:postgresql://postgres:5432/shopstream_registry");
    // its database is made by a one-off job, on a new volume or an old one, before the registry starts
    expect(command(services["registry-db"] as Service).join(" ")).toContain("create database shopstream_registry");
    expect((registry.depends_on as Record<string, { condition?: string }>)["registry-db"]?.condition).toBe(
      "service_completed_successfully",
    );
    expect(registry.healthcheck?.test).toBeDefined();
    for (const [name, s] of bunServices)
      expect((s.depends_on as Record<string, { condition?: string }>)["schema-registry"]?.condition, name).toBe("service_healthy");
  });

  test("dependencies exist and wait on health", () => {
    for (const name of ["postgres", "redis", ...kafkaNodes]) {
      expect(services[name]!.healthcheck?.test, name).toBeDefined();
    }
    for (const [name, s] of Object.entries(services)) {
      const deps = s.depends_on ?? [];
      for (const dep of Array.isArray(deps) ? deps : Object.keys(deps)) {
        expect(services[dep], `${name} → ${dep}`).toBeDefined();
      }
    }
    for (const [name, s] of bunServices) {
      const deps = s.depends_on as Record<string, { condition?: string }>;
      for (const dep of ["postgres", "redis", ...kafkaNodes]) {
        expect(deps[dep]?.condition, `${name} → ${dep}`).toBe("service_healthy");
      }
    }
  });

  test("the image and Prometheus config match the compose file", async () => {
    const dockerfile = await Bun.file(join(deployDir, "Dockerfile")).text();
    expect(dockerfile).toContain("FROM oven/bun:1.4.5");
    expect(dockerfile).toContain("bun install --frozen-lockfile --production");
    expect(dockerfile).toMatch(/COPY src/);
    const prometheus = Bun.YAML.parse(await Bun.file(join(deployDir, "prometheus.yml")).text()) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((sc) => sc.targets));
    expect(targets).toContain("metrics:9464");
  });
});

/** `${NAME:?message}`: compose refuses to start while NAME is unset, saying so. */
const REQUIRED = (name: string) => expect.stringMatching(new RegExp(`^\\$\\{${name}:\\?.+\\}$`));
/** What `${NAME:-default}` gives when deploy/.env does not set NAME. */
function byDefault(value: string | undefined): string | undefined {
  const m = /^\$\{[A-Z_]+:-([^}]*)\}$/.exec(value ?? "");
  return m ? m[1] : value;
}

describe("safe by default (a laptop on a café network)", () => {
  const rawCompose = readFileSync(join(deployDir, "docker-compose.yml"), "utf8");

  test("PostgreSQL takes a password from deploy/.env, never trust; every service's URL carries it", () => {
    const e = env(services.postgres!);
    expect(e.POSTGRES_HOST_AUTH_METHOD).toBeUndefined();
    expect(e.POSTGRES_PASSWORD).toEqual(REQUIRED("POSTGRES_PASSWORD"));
    expect(rawCompose).not.toMatch(/trust/);
  });

  test("Grafana: no default admin password, no anonymous viewer unless asked, a read-only data source", () => {
    const e = env(services.grafana!);
    expect(e.GF_SECURITY_ADMIN_PASSWORD).toEqual(REQUIRED("GRAFANA_ADMIN_PASSWORD"));
    expect(byDefault(e.GF_AUTH_ANONYMOUS_ENABLED)).toBe("false");
    expect(e.GF_AUTH_ANONYMOUS_ORG_ROLE ?? "Viewer").toBe("Viewer"); // never Editor or Admin
    const sources = Bun.YAML.parse(readFileSync(join(deployDir, "grafana/provisioning/datasources/shopstream.yml"), "utf8")) as {
      datasources: { type: string; user?: string; secureJsonData?: { password?: string } }[];
    };
    const pg = sources.datasources.find((d) => d.type.includes("postgres"))!;
    expect(pg.user).toBe("grafana_reader");
    expect(pg.secureJsonData?.password).toBe("$GRAFANA_DB_PASSWORD");
    expect(e.GRAFANA_DB_PASSWORD).toEqual(REQUIRED("GRAFANA_DB_PASSWORD"));
    const postgres = services.postgres as Service & { volumes?: string[] };
    expect(postgres.volumes).toContain("./postgres/grafana-reader.sh:/docker-entrypoint-initdb.d/grafana-reader.sh:ro");
  });

  test("kafka-ui is read-only unless asked; shutdowns get longer than the producer's own close timeout", () => {
    expect(byDefault(env(services["kafka-ui"]!).KAFKA_CLUSTERS_0_READONLY)).toBe("true");
    for (const [name, s] of Object.entries(services)) {
      const { stop_grace_period: grace, image } = s as Service & { stop_grace_period?: string; image?: string };
      // every shopstream service: longer than a producer's 30 s flush (Docker's default is 10 s)
      if (image === "shopstream:local") expect([name, grace]).toEqual([name, "45s"]);
      else if (grace) expect([name, Number.parseInt(grace, 10)]).toEqual([name, 45]);
    }
    // the image run alone stops on SIGTERM, and says how long to give it
    const dockerfile = readFileSync(join(deployDir, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toContain("--stop-timeout 90");
  });

  test("deploy/.env.example names every variable compose requires; deploy/.env is never committed", () => {
    const required = [...new Set([...rawCompose.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]))].sort();
    expect(required).toEqual(["GRAFANA_ADMIN_PASSWORD", "GRAFANA_DB_PASSWORD", "POSTGRES_PASSWORD"]);
    const example = readFileSync(join(deployDir, ".env.example"), "utf8");
    for (const name of [...required, "GRAFANA_ANONYMOUS", "KAFKA_UI_READONLY"]) expect(example).toMatch(new RegExp(`^${name}=`, "m"));
    const ignored = Bun.spawnSync(["git", "check-ignore", "-q", join(deployDir, ".env")], { cwd: deployDir });
    expect(ignored.exitCode).toBe(0);
    expect(existsSync(join(deployDir, "postgres/grafana-reader.sh"))).toBe(true);
  });

  test("the read-only role, made by the init script on a real PostgreSQL: reads every table the migrations create, changes none", async () => {
    const name = `shopstream_test_reader_${uniqueSuffix()}`;
    const role = `grafana_reader_${uniqueSuffix()}`;
    const url = new URL(config.databaseUrl);
    url.pathname = `/${name}`;
    await ensureDatabase(url.toString());
    const admin = connect(url.toString(), { max: 1 });
    try {
      // as the postgres image runs it: on the empty database, before any table exists
      const run = Bun.spawnSync(["bash", join(deployDir, "postgres/grafana-reader.sh")], {
        env: {
          ...process.env,
          PGHOST: url.hostname,
          PGPORT: url.port || "5432",
          POSTGRES_USER: decodeURIComponent(url.username) || "postgres",
          POSTGRES_DB: name,
          GRAFANA_DB_USER: role,
          GRAFANA_DB_PASSWORD: "reader-pw",
        },
        stderr: "pipe",
      });
      expect(run.exitCode, run.stderr.toString()).toBe(0);
      await migrate(admin); // the tables come later, created by the superuser
      const reader = new URL(url);
      reader.username = role;
      reader.password = "reader-pw";
      const sql = connect(reader.toString(), { max: 1 });
      try {
        for (const table of ["orders", "users", "products", "order_events", "grade_history"])
          expect([table, (await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]?.n]).toEqual([table, 0]);
        const refused = (statement: string): Promise<string | undefined> =>
          sql.unsafe(statement).then(
            () => "allowed",
            (e: { code?: string }) => e.code,
          );
        expect(await refused("delete from users")).toBe("25006"); // read-only transaction
        expect(await refused("set transaction read write; update users set name = 'x'")).toBe("42501"); // and no privilege
        expect(await refused("create table evil (id int)")).toMatch(/^(25006|42501)$/);
      } finally {
        await sql.end();
      }
    } finally {
      await admin.end();
      await dropDatabase(url.toString());
      const su = connect(config.databaseUrl, { max: 1 });
      await su.unsafe(`drop role if exists "${role}"`).catch(() => undefined);
      await su.end();
    }
  });
});
