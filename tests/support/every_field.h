// Messages with every field set, and their string fields one at a time: what a hostile client can
// put anywhere in a request, for tests and fuzzers that reach the server past the CLI.
#pragma once

#include <string>

#include "google/protobuf/message.h"

namespace opctl::testing {

// Sets every field of `message` and below (one entry in each list and map, "x" in each string, 1 in
// each number, true in each bool), choosing the first field of each oneof unless `message` already
// has one set.
void FillEveryField(google::protobuf::Message* message);

// The number of string fields (and map keys and values) in `message` and below.
int CountStrings(const google::protobuf::Message& message);

// Sets the `index`-th string of `message` (in CountStrings' order) to `value`; its field path goes
// into `path`. False when there are not that many.
bool SetString(google::protobuf::Message* message, int index, const std::string& value, std::string* path);

}  // namespace opctl::testing
