// Validates Kubernetes objects (multi-document YAML files) against the Kubernetes API schemas that the
// npm package kubernetes-models ships, plus the name rules the API server checks and the schemas do not.
// Usage: NODE_PATH=.../node_modules node validate-kubernetes.js FILE...; exits 1 on any error.
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');
const models = {
  'v1/Namespace': require('kubernetes-models/v1').Namespace,
  'v1/Service': require('kubernetes-models/v1').Service,
  'v1/PersistentVolumeClaim': require('kubernetes-models/v1').PersistentVolumeClaim,
  'apps/v1/StatefulSet': require('kubernetes-models/apps/v1').StatefulSet,
};
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function check(object) {
  const errors = [];
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) return [`${object.apiVersion}/${object.kind} is not a kind this export writes`];
  try {
    new Model(object).validate();
  } catch (error) {
    errors.push(error.message);
  }
  const name = (object.metadata || {}).name || '';
  if (!dnsLabel.test(name) || name.length > 63) errors.push(`metadata.name "${name}" is not a DNS-1123 label`);
  if (errors.length > 0) return errors;  // the rules below read what the schema guarantees
  const pod = object.kind === 'StatefulSet' ? object.spec.template.spec : null;
  for (const container of pod ? pod.containers : []) {
    if (!dnsLabel.test(container.name)) errors.push(`container name "${container.name}" is not a DNS-1123 label`);
    for (const mount of container.volumeMounts || []) {
      const claims = (object.spec.volumeClaimTemplates || []).map((c) => c.metadata.name);
      const volumes = (pod.volumes || []).map((v) => v.name);
      if (!claims.includes(mount.name) && !volumes.includes(mount.name))
        errors.push(`volumeMount "${mount.name}" names no volume or claim template`);
    }
  }
  if (pod) {
    const selector = object.spec.selector.matchLabels;
    for (const [key, value] of Object.entries(selector)) {
      if (object.spec.template.metadata.labels[key] !== value)
        errors.push(`selector ${key}=${value} does not match the pod template's labels`);
    }
  }
  return errors;
}

// The schemas must be able to say no, or a pass means nothing.
if (check({apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 'x'}, spec: {replicas: 'two'}}).length === 0) {
  console.error('validate-kubernetes: a broken StatefulSet passed: the validators are not working');
  process.exit(2);
}
let failed = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  yaml.loadAll(fs.readFileSync(file, 'utf8'), (object) => {
    if (object === null) return;
    checked++;
    for (const error of check(object)) {
      console.error(`${file}: ${object.kind}/${(object.metadata || {}).name}: ${error}`);
      failed++;
    }
  });
}
console.log(`validate-kubernetes: ${checked} objects checked, ${failed} errors`);
process.exit(failed === 0 && checked > 0 ? 0 : 1);
