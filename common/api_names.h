// The names opctl's API is made of, in one place: kinds, phases, condition types and reasons, and
// the finalizer prefix. What the store, the agents and the CLI compare must be spelled once.
#pragma once

namespace opctl {

// Kinds (opctl.v1.Object's oneof; common/object.h's AllKinds lists them with their other names).
inline constexpr char kKindNetwork[] = "Network";
inline constexpr char kKindVolume[] = "Volume";
inline constexpr char kKindService[] = "Service";
inline constexpr char kKindContainer[] = "Container";
inline constexpr char kKindNode[] = "Node";
inline constexpr char kKindEvent[] = "Event";

// An Event's type, and who reports it.
inline constexpr char kEventNormal[] = "Normal";
inline constexpr char kEventWarning[] = "Warning";
inline constexpr char kControllerComponent[] = "opctl-controller";
inline constexpr char kAgentComponent[] = "opctl-agent";

// A Container's status.phase.
inline constexpr char kPhasePending[] = "Pending";
inline constexpr char kPhaseCreating[] = "Creating";
inline constexpr char kPhaseRunning[] = "Running";
inline constexpr char kPhaseExited[] = "Exited";
inline constexpr char kPhaseFailed[] = "Failed";
inline constexpr char kPhaseUnknown[] = "Unknown";
inline constexpr char kPhaseRemoved[] = "Removed";  // by its node, as an eviction asked

// Condition types.
inline constexpr char kConditionReady[] = "Ready";              // a Node's, a Container's
inline constexpr char kConditionScheduled[] = "Scheduled";      // a Container's: bound to a node
inline constexpr char kConditionAvailable[] = "Available";      // a Service's: every replica ready
inline constexpr char kConditionProgressing[] = "Progressing";  // a Service's: replicas being updated

// Condition reasons.
inline constexpr char kReasonAgentHeartbeating[] = "AgentHeartbeating";
// A Node's Ready=False: it went silent (it may still run containers), or its agent is known to have
// stopped after its fence guard removed the containers that may move.
inline constexpr char kNodeSilentReason[] = "NodeStatusUnknown";
inline constexpr char kAgentGoneReason[] = "AgentStopped";
inline constexpr char kReasonBound[] = "Bound";
inline constexpr char kReasonUnschedulable[] = "Unschedulable";
inline constexpr char kReasonNodeLost[] = "NodeLost";
inline constexpr char kReasonEvicted[] = "Evicted";
inline constexpr char kReasonReplicasReady[] = "ReplicasReady";
inline constexpr char kReasonReplicasNotReady[] = "ReplicasNotReady";
inline constexpr char kReasonReplicasUpdating[] = "ReplicasUpdating";
inline constexpr char kReasonComplete[] = "Complete";
inline constexpr char kReasonProgressDeadlineExceeded[] = "ProgressDeadlineExceeded";
// A Container's: its node cannot make or stretch one of its Networks (the message names which).
inline constexpr char kReasonNetworkNotReady[] = "NetworkNotReady";

// The finalizer a Volume deleted with its data carries for each node: that node's agent removes its
// copy of the data, then releases this finalizer (and only this one): "delete-data.opctl.io/NODE".
inline constexpr char kDeleteDataFinalizerPrefix[] = "delete-data.opctl.io/";

// The annotation whose value becomes a Service revision's change cause (kubectl's kubernetes.io/
// change-cause): opctl apply, rollout restart and rollout undo set it to their command.
inline constexpr char kChangeCauseAnnotation[] = "opctl.io/change-cause";

}  // namespace opctl
