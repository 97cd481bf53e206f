// One stack as Kubernetes objects: a Namespace, a PersistentVolumeClaim per Volume, and per Service
// a headless Service and a StatefulSet (stable names NAME-ORDINAL, volume templates as
// volumeClaimTemplates). Fixed addresses cannot exist there: where a manifest's env names one, the
// replica's DNS name replaces it.
#pragma once

#include <string>
#include <vector>

#include "cli/migrate/export_support.h"

namespace opctl::cli::exporting {

std::string KubernetesObjectsOf(const Stack& stack, const std::vector<Stack>& all, Warnings& warn);

}  // namespace opctl::cli::exporting
