// validate-k8s.mjs -- offline checks of dadns's deployment files, run by validate.sh.
//
//   node validate-k8s.mjs k8s RENDERED.yaml...         (output of `kubectl kustomize`)
//   node validate-k8s.mjs compose RENDERED.yaml SOURCE.yml DIR
//                                                       (`docker-compose config` output, the
//                                                        compose file as written, its directory)
//
// k8s: every object is validated against the Kubernetes schema of the npm package
// kubernetes-models, strictly (a field the schema does not know is an error, like
// `kubectl --validate=strict`), then the invariants dadns relies on are checked: non-root,
// read-only root filesystem, resources and probes on every container, tagged images, references
// that resolve (ConfigMaps, Secrets and their keys, volumes, probe ports, Service selectors), one
// BIND backend per writer-bind pod, the ingest spool on a claim, durable Redis, and DADNS_*
// variables that match the configuration (an unknown backend in a variable would create one).
// compose: health checks, restart policies, tagged images, no password in the file, durable
// Redis, dadns containers read-only without capabilities.
// Prints one line per problem and a summary; exits 1 when there is a problem.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const problems = [];
let checked = 0;

function problem(where, text) {
  problems.push(`${where}: ${text}`);
}

function check(cond, where, text) {
  checked++;
  if (!cond) problem(where, text);
  return cond;
}

// ---------------------------------------------------------------------------------------------
// Schema validation

// Wrap @value so that every property the validator reads is recorded; objects the validator
// enumerates (maps such as labels or data) are not checked for unknown keys.
function track(value, seen, path) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, seen, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return value;
  const rec = { obj: value, path, got: new Set(), enumerated: false };
  seen.push(rec);
  const copy = {};
  for (const [k, v] of Object.entries(value)) copy[k] = track(v, seen, `${path}.${k}`);
  return new Proxy(copy, {
    get(t, p, r) {
      if (typeof p === "string") rec.got.add(p);
      return Reflect.get(t, p, r);
    },
    has(t, p) {
      if (typeof p === "string") rec.got.add(p);
      return Reflect.has(t, p);
    },
    ownKeys(t) {
      rec.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

async function modelClass(apiVersion, kind) {
  try {
    const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return mod[kind];
  } catch {
    return undefined;
  }
}

async function validateSchema(obj, where) {
  const Cls = await modelClass(obj.apiVersion, obj.kind);
  if (!check(Cls !== undefined, where, `unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`))
    return;
  const seen = [];
  const proxy = track(obj, seen, "");
  try {
    Cls.prototype.validate.call(proxy);
    checked++;
  } catch (e) {
    problem(where, `schema: ${e.message}`);
    return;
  }
  for (const r of seen) {
    if (r.enumerated || r.got.size === 0) continue;
    for (const k of Object.keys(r.obj))
      if (!r.got.has(k)) problem(where, `schema: unknown field ${r.path}.${k}`.replace(": .", ": "));
  }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes invariants

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const DADNS_SERVICES = new Set(["ingest", "writer-bind", "writer-mysql", "reconciler", "named"]);
const CONFIG_SECTIONS = new Set([
  "app", "log", "redis", "writer", "metrics", "reconciler", "dns", "directadmin",
]);

function envName(s) {
  return s.toUpperCase().replace(/[.-]/g, "_");
}

function imageTagged(image) {
  const last = image.split("/").pop();
  const at = last.indexOf("@");
  if (at >= 0) return true; // a digest
  const colon = last.lastIndexOf(":");
  return colon > 0 && last.slice(colon + 1) !== "" && last.slice(colon + 1) !== "latest";
}

function labelsMatch(selector, labels) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels && labels[k] === v);
}

function underMount(path, mounts) {
  return (mounts || []).some((m) => path === m.mountPath || path.startsWith(m.mountPath + "/"));
}

function decodeSecretKeys(secret) {
  return new Set([...Object.keys(secret.data || {}), ...Object.keys(secret.stringData || {})]);
}

function checkProbe(probe, c, where, what) {
  if (!check(probe !== undefined, where, `container ${c.name} has no ${what}`)) return;
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
  if (port === undefined) {
    check(probe.exec !== undefined, where, `container ${c.name} ${what}: no handler`);
    return;
  }
  if (typeof port === "string")
    check((c.ports || []).some((p) => p.name === port), where,
      `container ${c.name} ${what}: no container port named ${port}`);
}

function checkK8s(objects, file) {
  const by = new Map();
  for (const o of objects) by.set(`${o.kind}/${o.metadata?.name}`, o);
  const get = (kind, name) => by.get(`${kind}/${name}`);
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));

  check(objects.some((o) => o.kind === "NetworkPolicy"), file, "no NetworkPolicy");

  // The dadns configuration (ConfigMap with the key dadns.yaml).
  const cms = objects.filter((o) => o.kind === "ConfigMap" && o.data && "dadns.yaml" in o.data);
  check(cms.length === 1, file, `expected one ConfigMap with dadns.yaml, found ${cms.length}`);
  let conf = {};
  let confName = "";
  if (cms.length === 1) {
    confName = cms[0].metadata.name;
    try {
      conf = parseYaml(cms[0].data["dadns.yaml"]) || {};
    } catch (e) {
      problem(`${file}: ConfigMap/${confName}`, `dadns.yaml: ${e.message}`);
    }
    for (const k of Object.keys(conf))
      check(CONFIG_SECTIONS.has(k), `${file}: ConfigMap/${confName}`, `dadns.yaml: unknown section ${k}`);
    check(conf.metrics?.listen_addr === "0.0.0.0", `${file}: ConfigMap/${confName}`,
      "dadns.yaml: metrics.listen_addr must be 0.0.0.0 (probes and Prometheus come from outside)");
  }
  const backends = conf.dns?.backends || {};
  const daServers = conf.directadmin?.servers || {};
  const backendEnv = new Map(Object.keys(backends).map((n) => [envName(n), n]));
  const serverEnv = new Map(Object.keys(daServers).map((n) => [envName(n), n]));

  for (const o of objects) {
    const where = `${file}: ${o.kind}/${o.metadata?.name}`;
    check(typeof o.metadata?.name === "string", where, "no metadata.name");
    if (o.kind !== "Namespace")
      check(typeof o.metadata?.namespace === "string", where, "no metadata.namespace");
  }

  for (const w of workloads) {
    const where = `${file}: ${w.kind}/${w.metadata.name}`;
    const tpl = w.spec.template;
    const pod = tpl.spec;
    const labels = tpl.metadata?.labels || {};
    check(labelsMatch(w.spec.selector?.matchLabels, labels), where,
      "selector.matchLabels does not match the pod template's labels");
    check(pod.automountServiceAccountToken === false, where,
      "automountServiceAccountToken must be false (no API access needed)");
    check(pod.enableServiceLinks === false, where,
      "enableServiceLinks must be false (Service variables could collide with DADNS_* keys)");
    const psc = pod.securityContext || {};
    check(psc.runAsNonRoot === true, where, "pod securityContext.runAsNonRoot must be true");
    check(Number.isInteger(psc.runAsUser) && psc.runAsUser > 0, where,
      "pod securityContext.runAsUser must be a non-root uid");
    check(psc.seccompProfile?.type === "RuntimeDefault", where,
      "pod securityContext.seccompProfile.type must be RuntimeDefault");
    check(pod.hostNetwork !== true && pod.hostPID !== true, where, "no host namespaces");

    const volumes = new Set((pod.volumes || []).map((v) => v.name));
    for (const t of w.spec.volumeClaimTemplates || []) volumes.add(t.metadata.name);
    for (const v of pod.volumes || []) {
      if (v.configMap) check(get("ConfigMap", v.configMap.name), where,
        `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      if (v.secret) check(get("Secret", v.secret.secretName), where,
        `volume ${v.name}: no Secret ${v.secret.secretName}`);
      if (v.hostPath) problem(where, `volume ${v.name}: hostPath is not allowed`);
    }

    const isDadnsPod = labels["app.kubernetes.io/name"] === "dadns" &&
      labels["app.kubernetes.io/component"] !== "redis";
    if (isDadnsPod) {
      const ann = tpl.metadata?.annotations || {};
      check(ann["prometheus.io/scrape"] === "true", where, "no prometheus.io/scrape annotation");
      const port = Number(ann["prometheus.io/port"]);
      check(pod.containers.some((c) => (c.ports || []).some((p) => p.containerPort === port &&
        p.name === "metrics")), where, `prometheus.io/port ${port} is no container port "metrics"`);
    }

    for (const c of [...(pod.initContainers || []), ...pod.containers]) {
      const cw = `${where} container ${c.name}`;
      check(typeof c.image === "string" && imageTagged(c.image), cw,
        `image ${c.image} must carry a tag other than latest (or a digest)`);
      const r = c.resources || {};
      check(r.requests?.cpu && r.requests?.memory, cw, "resources.requests cpu and memory needed");
      check(r.limits?.memory && r.limits?.cpu, cw, "resources.limits cpu and memory needed");
      const sc = c.securityContext || {};
      check(sc.allowPrivilegeEscalation === false, cw, "allowPrivilegeEscalation must be false");
      check(sc.readOnlyRootFilesystem === true, cw, "readOnlyRootFilesystem must be true");
      check((sc.capabilities?.drop || []).includes("ALL"), cw, "capabilities.drop must hold ALL");
      check(sc.privileged !== true, cw, "must not be privileged");
      check(sc.runAsUser === undefined || sc.runAsUser > 0, cw, "runAsUser must not be 0");
      if (!(pod.initContainers || []).includes(c)) {
        checkProbe(c.livenessProbe, c, where, "livenessProbe");
        checkProbe(c.readinessProbe, c, where, "readinessProbe");
      }
      for (const m of c.volumeMounts || [])
        check(volumes.has(m.name), cw, `volumeMount ${m.name}: no such volume`);
      for (const e of c.env || []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const s = get("Secret", ref.name);
          if (check(s, cw, `env ${e.name}: no Secret ${ref.name}`))
            check(decodeSecretKeys(s).has(ref.key), cw, `env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
        }
        const cref = e.valueFrom?.configMapKeyRef;
        if (cref) check(get("ConfigMap", cref.name), cw, `env ${e.name}: no ConfigMap ${cref.name}`);
        // an env var for a backend or DA server the file does not have would create an
        // incomplete one and stop the service at start
        let m = /^DADNS_DNS_BACKENDS_(.+)_(PASSWORD|USER|HOST|PORT|DATABASE|TYPE|ENABLED)$/.exec(e.name);
        if (m && isDadnsPod)
          check(backendEnv.has(m[1]), cw, `env ${e.name}: no backend spelled ${m[1]} in dadns.yaml`);
        m = /^DADNS_DIRECTADMIN_SERVERS_(.+)_(PASSWORD|USER|HOST|PORT)$/.exec(e.name);
        if (m && isDadnsPod)
          check(serverEnv.has(m[1]), cw, `env ${e.name}: no DirectAdmin server spelled ${m[1]} in dadns.yaml`);
      }
      for (const ef of c.envFrom || []) {
        if (ef.secretRef) check(get("Secret", ef.secretRef.name), cw, `envFrom: no Secret ${ef.secretRef.name}`);
        if (ef.configMapRef) check(get("ConfigMap", ef.configMapRef.name), cw, `envFrom: no ConfigMap ${ef.configMapRef.name}`);
      }
      const svc = (c.args || [])[0];
      if (isDadnsPod && check(DADNS_SERVICES.has(svc), cw, `args[0] "${svc}" is no dadns-entrypoint service`)) {
        if (svc !== "named") {
          const cfg = (c.volumeMounts || []).find((vm) => vm.mountPath === "/etc/dadns");
          const vol = cfg && (pod.volumes || []).find((v) => v.name === cfg.name);
          check(vol?.configMap?.name === confName, cw, `/etc/dadns must be the ConfigMap ${confName}`);
        }
        checkDadnsContainer(svc, c, w, pod, cw, backends, daServers, conf);
      }
    }
    if (w.kind === "StatefulSet") {
      const hs = get("Service", w.spec.serviceName);
      check(hs && hs.spec.clusterIP === "None", where,
        `serviceName ${w.spec.serviceName} must be a headless Service`);
    }
  }

  // Services and PDBs select pods that exist; named target ports exist on them.
  for (const s of objects.filter((o) => o.kind === "Service")) {
    const where = `${file}: Service/${s.metadata.name}`;
    const pods = workloads.filter((w) => labelsMatch(s.spec.selector, w.spec.template.metadata?.labels));
    if (!check(pods.length > 0, where, "its selector matches no workload")) continue;
    for (const p of s.spec.ports || []) {
      if (typeof p.targetPort !== "string") continue;
      check(pods.every((w) => w.spec.template.spec.containers.some((c) =>
        (c.ports || []).some((cp) => cp.name === p.targetPort && (cp.protocol || "TCP") === (p.protocol || "TCP")))),
        where, `targetPort ${p.targetPort}/${p.protocol || "TCP"} is not a port of every selected pod`);
    }
  }
  for (const p of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
    check(workloads.some((w) => labelsMatch(p.spec.selector?.matchLabels, w.spec.template.metadata?.labels)),
      `${file}: PodDisruptionBudget/${p.metadata.name}`, "its selector matches no workload");
  }

  // Redis: durable and never evicting, below its memory limit.
  const redis = workloads.find((w) => w.spec.template.metadata?.labels?.["app.kubernetes.io/component"] === "redis");
  if (check(redis, file, "no Redis workload")) {
    const where = `${file}: ${redis.kind}/${redis.metadata.name}`;
    const cmVol = (redis.spec.template.spec.volumes || []).find((v) => v.configMap);
    const cm = cmVol && get("ConfigMap", cmVol.configMap.name);
    const text = cm ? Object.values(cm.data || {}).join("\n") : "";
    checkRedisConf(text, where);
    const lim = redis.spec.template.spec.containers[0].resources?.limits?.memory;
    const mm = /^maxmemory\s+(\d+)mb\s*$/m.exec(text);
    check(mm && lim && Number(mm[1]) * 2 ** 20 < bytes(lim), where,
      `redis.conf maxmemory must be set below the memory limit ${lim}`);
    check((redis.spec.volumeClaimTemplates || []).length > 0, where, "Redis data must be on a PersistentVolumeClaim");
  }
}

function bytes(q) {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) return NaN;
  const mult = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

function checkRedisConf(text, where) {
  check(/^appendonly\s+yes\s*$/m.test(text), where, "redis.conf: appendonly yes");
  check(/^appendfsync\s+always\s*$/m.test(text), where, "redis.conf: appendfsync always");
  check(/^maxmemory-policy\s+noeviction\s*$/m.test(text), where, "redis.conf: maxmemory-policy noeviction");
}

function envOf(c, name) {
  return (c.env || []).find((e) => e.name === name);
}

function checkDadnsContainer(svc, c, w, pod, cw, backends, daServers, conf) {
  const mounts = c.volumeMounts || [];
  const args = c.args || [];
  const bi = args.indexOf("-b");
  if (svc === "ingest") {
    check(w.kind === "StatefulSet", cw, "ingest must be a StatefulSet (one spool claim per pod)");
    const spool = conf.app?.spool_dir ?? "/var/lib/dadns/spool";
    const m = mounts.find((vm) => spool === vm.mountPath || spool.startsWith(vm.mountPath + "/"));
    check(m && (w.spec.volumeClaimTemplates || []).some((t) => t.metadata.name === m.name), cw,
      `app.spool_dir ${spool} must be on a volumeClaimTemplate`);
    check(envOf(c, "DADNS_APP_AUTH_PASSWORD")?.valueFrom?.secretKeyRef, cw,
      "DADNS_APP_AUTH_PASSWORD must come from a Secret");
  }
  if (svc !== "named")
    check(envOf(c, "DADNS_REDIS_PASSWORD")?.valueFrom?.secretKeyRef, cw,
      "DADNS_REDIS_PASSWORD must come from a Secret");
  if (svc === "writer-mysql" || svc === "writer-bind") {
    check(envOf(c, "DADNS_WRITER_CONSUMER_NAME")?.valueFrom?.fieldRef?.fieldPath === "metadata.name", cw,
      "DADNS_WRITER_CONSUMER_NAME must be the pod name (downward API)");
  }
  if (svc === "writer-mysql") {
    const be = bi >= 0 ? args[bi + 1] : undefined;
    if (check(be && backends[be], cw, `-b ${be}: no such backend in dadns.yaml`)) {
      check(["coredns_mysql", "powerdns_mysql"].includes(backends[be].type), cw, `-b ${be}: not a mysql backend`);
      check(envOf(c, `DADNS_DNS_BACKENDS_${envName(be)}_PASSWORD`)?.valueFrom?.secretKeyRef, cw,
        `DADNS_DNS_BACKENDS_${envName(be)}_PASSWORD must come from a Secret`);
    }
  }
  if (svc === "writer-bind") {
    check(w.kind === "StatefulSet", cw, "writer-bind must be a StatefulSet (one backend per ordinal)");
    const prefix = envOf(c, "DADNS_BIND_BACKEND_PREFIX")?.value;
    check(bi < 0 && prefix, cw, "writer-bind takes its backend from DADNS_BIND_BACKEND_PREFIX + ordinal (no -b)");
    const replicas = w.spec.replicas ?? 1;
    const want = Array.from({ length: replicas }, (_, i) => `${prefix}${i}`);
    const have = Object.keys(backends).filter((n) => backends[n]?.type === "bind");
    check(JSON.stringify(have.slice().sort()) === JSON.stringify(want.slice().sort()), cw,
      `replicas ${replicas} need exactly the bind backends ${want.join(", ")} in dadns.yaml; it has ${have.join(", ") || "none"}`);
    const named = pod.containers.find((x) => (x.args || [])[0] === "named");
    if (check(named, cw, "no named container in the pod")) {
      for (const n of want) {
        const b = backends[n];
        if (!b) continue;
        for (const key of ["zones_dir", "named_conf"]) {
          check(underMount(b[key], mounts) && underMount(b[key], named.volumeMounts), cw,
            `${n}.${key} ${b[key]} must be on a volume of both containers`);
          const vm = mounts.find((m) => b[key].startsWith(m.mountPath + "/"));
          check(vm && (w.spec.volumeClaimTemplates || []).some((t) => t.metadata.name === vm.name), cw,
            `${n}.${key} must be on the pod's PersistentVolumeClaim`);
        }
        check(b.rndc_conf && underMount(b.rndc_conf, mounts) && underMount(b.rndc_conf, named.volumeMounts), cw,
          `${n}.rndc_conf must be on a volume shared with named`);
        const dnsPort = (named.ports || []).find((p) => p.name === "dns-udp")?.containerPort;
        check(b.query_addr === "127.0.0.1" && b.query_port === dnsPort, cw,
          `${n}: query_addr/query_port must be 127.0.0.1:${dnsPort} (named in the pod)`);
      }
    }
  }
  if (svc === "reconciler") {
    for (const n of Object.keys(daServers))
      check(envOf(c, `DADNS_DIRECTADMIN_SERVERS_${envName(n)}_PASSWORD`)?.valueFrom?.secretKeyRef, cw,
        `the reconciler needs DADNS_DIRECTADMIN_SERVERS_${envName(n)}_PASSWORD from a Secret`);
  }
}

// ---------------------------------------------------------------------------------------------
// Compose

function checkCompose(rendered, source, dir) {
  const where = "compose";
  const services = rendered.services || {};
  for (const [name, s] of Object.entries(services)) {
    const sw = `${where}: service ${name}`;
    check(["always", "unless-stopped", "on-failure"].includes(s.restart), sw, `restart policy ${s.restart}`);
    check(s.healthcheck && Array.isArray(s.healthcheck.test) && s.healthcheck.test.length > 0 &&
      s.healthcheck.disable !== true, sw, "no health check");
    check(typeof s.image === "string" && imageTagged(s.image), sw, `image ${s.image} must be tagged (not latest)`);
    for (const [dep, d] of Object.entries(s.depends_on || {})) {
      check(services[dep], sw, `depends_on ${dep}: no such service`);
      if (d.condition === "service_healthy")
        check(services[dep]?.healthcheck, sw, `depends_on ${dep}: service_healthy but it has no health check`);
    }
    if (String(s.image).includes("dadns")) {
      check(s.read_only === true, sw, "dadns containers run with read_only: true");
      check((s.cap_drop || []).includes("ALL"), sw, "dadns containers drop every capability");
      check(!s.user || !/^(0|root)(:|$)/.test(String(s.user)), sw, "must not run as root");
    }
  }
  // Passwords come from env files only.
  for (const [name, s] of Object.entries(source.services || {})) {
    const env = s.environment || {};
    const pairs = Array.isArray(env) ? env.map((e) => String(e).split("=")) : Object.entries(env);
    for (const [k, v] of pairs)
      check(!/PASSWORD|SECRET|TOKEN/i.test(k) || v === undefined || v === null, `${where}: service ${name}`,
        `environment ${k} has a value in the compose file: secrets belong in secrets.env`);
  }
  // Redis: durable, never evicting, on a volume.
  const r = services.redis;
  if (check(r, where, "no redis service")) {
    const conf = (r.volumes || []).map((v) => (typeof v === "string" ? v.split(":") : [v.source, v.target]))
      .find(([, t]) => String(t).endsWith("redis.conf"));
    let text = "";
    try {
      text = readFileSync(join(dir, "redis.conf"), "utf8");
    } catch (e) {
      problem(where, `redis.conf: ${e.message}`);
    }
    check(conf, `${where}: service redis`, "redis.conf is not mounted");
    checkRedisConf(text, `${where}: redis.conf`);
    check((r.volumes || []).some((v) => (typeof v === "string" ? v.includes(":/data") : v.target === "/data")),
      `${where}: service redis`, "/data must be a volume");
  }
  // The dadns configuration: the spool on a volume, the BIND paths on named's volumes.
  let conf = {};
  try {
    conf = parseYaml(readFileSync(join(dir, "dadns.yaml"), "utf8")) || {};
  } catch (e) {
    problem(where, `dadns.yaml: ${e.message}`);
  }
  const targets = (s) => (s?.volumes || []).map((v) => ({
    mountPath: typeof v === "string" ? v.split(":")[1] : v.target,
    named: typeof v === "string" ? !v.startsWith("/") && !v.startsWith(".") : v.type === "volume",
  }));
  const spool = conf.app?.spool_dir ?? "/var/lib/dadns/spool";
  check(targets(services.ingest).some((m) => m.named && underMount(spool, [m])), `${where}: service ingest`,
    `app.spool_dir ${spool} must be on a named volume`);
  const wb = services["writer-bind"];
  if (check(wb, where, "no writer-bind service")) {
    check(wb.network_mode === "service:named", `${where}: service writer-bind`, "must share named's network namespace");
    const bi = (wb.command || []).indexOf("-b");
    const be = conf.dns?.backends?.[(wb.command || [])[bi + 1]];
    if (check(bi >= 0 && be?.type === "bind", `${where}: service writer-bind`, "-b must name a bind backend of dadns.yaml"))
      for (const key of ["zones_dir", "named_conf", "rndc_conf"])
        check(underMount(be[key], targets(wb)) && underMount(be[key], targets(services.named)),
          `${where}: service writer-bind`, `${key} ${be[key]} must be on a volume shared with named`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const [mode, ...files] = process.argv.slice(2);
  if (mode === "k8s" && files.length > 0) {
    for (const f of files) {
      const docs = parseAllDocuments(readFileSync(f, "utf8"));
      const objects = [];
      for (const d of docs) {
        if (d.errors.length > 0) {
          problem(f, `YAML: ${d.errors[0].message}`);
          continue;
        }
        const o = d.toJS();
        if (o) objects.push(o);
      }
      check(objects.length > 0, f, "no object rendered");
      for (const o of objects) await validateSchema(o, `${f}: ${o.kind}/${o.metadata?.name}`);
      checkK8s(objects, f);
      console.log(`${f}: ${objects.length} objects (${[...new Set(objects.map((o) => o.kind))].join(", ")})`);
    }
  } else if (mode === "compose" && files.length === 3) {
    const rendered = parseYaml(readFileSync(files[0], "utf8"));
    const source = parseYaml(readFileSync(files[1], "utf8"), { merge: true });
    checkCompose(rendered, source, files[2]);
    console.log(`compose: ${Object.keys(rendered.services || {}).length} services`);
  } else {
    console.error("usage: validate-k8s.mjs k8s FILE... | compose RENDERED SOURCE DIR");
    process.exit(2);
  }
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`${checked} checks, ${problems.length} problems`);
  process.exit(problems.length > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
