// What the controller's machinery does, read when Prometheus scrapes: each controller loop's passes
// by result, their duration and its queue; the Watch streams open, events sent, backlog and
// watchers cut off; store commits by result and their latency; Events recorded, written and
// dropped. (state_metrics.h has what the controller holds.)
#pragma once

#include <vector>

#include "controller/controller_service.h"
#include "controller/events/event_writer.h"
#include "controller/runtime/manager.h"
#include "controller/store/measured_store.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace opctl::controller {

class RuntimeMetrics : public prometheus::Collectable {
 public:
  RuntimeMetrics(const Manager& manager, const WatchStats& watches, const MeasuredStore& store,
                 const EventWriter& events)
      : manager_(manager), watches_(watches), store_(store), events_(events) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Manager& manager_;
  const WatchStats& watches_;
  const MeasuredStore& store_;
  const EventWriter& events_;
};

}  // namespace opctl::controller
