#!/usr/bin/env bash
# The long trial counts the suite runs only a few of (CI's budget): kill -9 of the leading controller
# 20 times under 4 writers on 3 controllers (OPCTL_FAILOVER_TRIALS, default 20), and the etcd store's
# faults and the Redis stack on etcd OPCTL_SOAK_ROUNDS times (default 3), and the Redis stack over three
# test-bed hosts with each host fault OPCTL_HA_TRIALS times (default 10). Builds build/ first.
# Exits non-zero on the first failure; the tests' files stay in $TMPDIR (default /tmp/opctl-soak).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" | grep -v '^ninja: no work to do' || true
scripts/build-test-image.sh
scripts/build-images.sh | grep -v 'is up to date' || true
export TMPDIR=${TMPDIR:-/tmp/opctl-soak}
mkdir -p "$TMPDIR"
OPCTL_FAILOVER_TRIALS=${OPCTL_FAILOVER_TRIALS:-20} build/bin/etcd_control_plane_test \
  --gtest_filter='*KillingTheLeader*'
for ((round = 1; round <= ${OPCTL_SOAK_ROUNDS:-3}; round++)); do
  echo "soak: round $round"
  build/bin/store_test --gtest_filter='EtcdStoreTest.*:LeaderElectionTest.*'
  build/bin/redis_etcd_test
done
OPCTL_HA_TRIALS=${OPCTL_HA_TRIALS:-10} build/bin/redis_ha_test
echo "soak: passed"
