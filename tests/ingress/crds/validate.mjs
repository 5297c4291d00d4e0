// Validate one Kubernetes object (JSON on stdin) with the kubernetes-models class generated
// from its project's CRD schema; print "ok" or the validation error and exit 1.
import { readFileSync } from "node:fs";

const MODELS = {
  "networking.istio.io/v1 DestinationRule": "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule",
  "projectcontour.io/v1 HTTPProxy": "@kubernetes-models/contour/projectcontour.io/v1/HTTPProxy",
  "gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy":
    "@kubernetes-models/envoy-gateway/gateway.envoyproxy.io/v1alpha1/BackendTrafficPolicy",
};

const doc = JSON.parse(readFileSync(0, "utf8"));
const key = `${doc.apiVersion} ${doc.kind}`;
if (!(key in MODELS)) {
  console.log(`no model for ${key}`);
  process.exit(2);
}
const mod = await import(MODELS[key]);
try {
  new mod[doc.kind](doc).validate();
  console.log("ok");
} catch (err) {
  console.log(String(err.message));
  process.exit(1);
}
