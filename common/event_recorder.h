// The seam every part of opctl reports Events through (proto/opctl/v1/resources.proto's Event): the
// controller's EventWriter stores them, the agent's EventReporter sends them to the controller, and
// tests record them. Record never blocks on the store or the network, so it may be called anywhere.
#pragma once

#include <string>

#include "common/api_names.h"

namespace opctl {

// One thing that happened to one object.
struct EventOccurrence {
  std::string kind;  // the involved object's: Container, Service, Node, Volume...
  std::string name;
  std::string uid;                  // may be empty
  std::string stack;                // may be empty
  std::string type = kEventNormal;  // or kEventWarning
  std::string reason;               // CamelCase
  std::string message;
  int count = 1;  // occurrences at once (restarts Docker made since the last look)
};

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  virtual void Record(EventOccurrence occurrence) = 0;
};

// Drops every event: for the parts of a test that do not look at them.
class NoEvents : public EventRecorder {
 public:
  void Record(EventOccurrence) override {}
  static EventRecorder& Instance() {
    static NoEvents* none = new NoEvents;
    return *none;
  }
};

}  // namespace opctl
