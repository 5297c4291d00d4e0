// Validate one Kubernetes object (JSON on stdin) against its project's CRD schema, twice:
//  1. the kubernetes-models validator generated from the schema (types, enums, patterns,
//     required fields, oneOf), which does not refuse unknown fields;
//  2. strictly, as `kubectl apply --validate=strict` would: the object is type-checked by the
//     TypeScript compiler against the interface the same package generates from the schema.
//     An object literal may only name declared properties there, so an undeclared field (a typo
//     such as httpCookies) fails; maps (additionalProperties) are index signatures and
//     x-kubernetes-preserve-unknown-fields objects are `{}`, which both take any key.
// Prints "ok", or the first failing check's errors and exits 1.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MODELS = {
  "networking.istio.io/v1 DestinationRule": "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule",
  "projectcontour.io/v1 HTTPProxy": "@kubernetes-models/contour/projectcontour.io/v1/HTTPProxy",
  "gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy":
    "@kubernetes-models/envoy-gateway/gateway.envoyproxy.io/v1alpha1/BackendTrafficPolicy",
};
const HERE = dirname(fileURLToPath(import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const COMPILER_OPTIONS = {
  strict: true, noEmit: true, skipLibCheck: true, types: [],
  module: "nodenext", moduleResolution: "nodenext", target: "es2022",
};

function strictErrors(doc, module) {
  // Inside node_modules, so that the package imports resolve; removed whatever the outcome.
  const dir = mkdtempSync(join(HERE, "node_modules", ".strict-"));
  try {
    const source = `import type { I${doc.kind} } from "${module}";\n`
      + `export const doc: I${doc.kind} = ${JSON.stringify(doc, null, 2)};\n`;
    writeFileSync(join(dir, "doc.ts"), source);
    writeFileSync(join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: ["doc.ts"] }));
    const proc = spawnSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8" });
    if (proc.error) throw proc.error;
    if (proc.status === 0) return null;
    const lines = source.split("\n");
    // ".../doc.ts(12,7): error TS2353: ..." -> the message and the offending line of the object.
    return (proc.stdout + proc.stderr).trim().split("\n").map((line) => {
      const at = /^\S*doc\.ts\((\d+),(\d+)\)/.exec(line);
      if (!at) return line;
      const text = `doc.ts(${at[1]},${at[2]})${line.slice(at[0].length)}`;
      return `${text}\n    at: ${lines[Number(at[1]) - 1].trim()}`;
    }).join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const doc = JSON.parse(readFileSync(0, "utf8"));
const key = `${doc.apiVersion} ${doc.kind}`;
if (!(key in MODELS)) {
  console.log(`no model for ${key}`);
  process.exit(2);
}
const mod = await import(MODELS[key]);
try {
  new mod[doc.kind](doc).validate();
} catch (err) {
  console.log(String(err.message));
  process.exit(1);
}
const errors = strictErrors(doc, MODELS[key]);
if (errors !== null) {
  console.log(`strict: ${errors}`);
  process.exit(1);
}
console.log("ok");
