// Must NOT compile under scripts/thread-safety.sh: a guarded member read without its mutex. The
// script checks that it fails, so a flag that stopped working cannot pass the build silently.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

struct Guarded {
  absl::Mutex mutex;
  int value ABSL_GUARDED_BY(mutex) = 0;
  int ReadWithoutTheLock() { return value; }
};

int main() { return Guarded().ReadWithoutTheLock(); }
