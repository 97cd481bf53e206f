// What the controller holds, read when Prometheus scrapes (nothing to keep in step): containers by
// phase, nodes by readiness and cordon, each Service's desired and ready replicas, each scheduled
// Volume backup's interval and last result, the store's revision.
#pragma once

#include <vector>

#include "controller/registry.h"
#include "controller/store/store.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace opctl::controller {

class StateMetrics : public prometheus::Collectable {
 public:
  StateMetrics(const Registry& registry, const Store& store) : registry_(registry), store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Registry& registry_;
  const Store& store_;
};

}  // namespace opctl::controller
