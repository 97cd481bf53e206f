// What the rules across objects read, for the writes that depend on it: who uses a Network or a
// Volume, and the preconditions under which an apply commits (controller/store/store.h), so that the
// checks and the commit see the same state however many writers race. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/validation.h"
#include "controller/store/store.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// Services among `services` that attach to the network `name` (kind "Network"), or that mount the
// volume `name` (kind "Volume"): in their template, or as the volume-template volume of one of their
// replicas ("<template>-<service>-<ordinal>", ordinal below replicas). As "service/NAME".
std::vector<std::string> UsersOf(const std::vector<v1::Object>& services, const std::string& kind,
                                 const std::string& name);

// The preconditions of an apply of `objects` whose checks read the store at `read_at` or later: no
// Service or Network changed since (when the apply holds either), and each Network and Volume a
// Service refers to (and the apply does not write) exactly as `stored` has it now.
std::vector<Precondition> ApplyGuards(const std::vector<v1::Object>& objects, const ObjectLookup& stored,
                                      int64_t read_at);

}  // namespace opctl::controller
