/// A cluster client's pipeline whose replies are unread: which node got which of the caller's commands.
struct RedisClusterPipeline: Sendable {
    /// The commands one node got, as one connection's pipeline.
    struct Part: Sendable {
        var address: RedisAddress
        /// Positions in `commands`, in the order the node got them.
        var positions: [Int]
        /// The node's pipeline; nil once sending failed.
        var pending: PendingPipeline?
        /// Why sending to the node failed; its commands fail with it.
        var failure: RedisError?
    }

    /// Every command, in the caller's order (kept to resend redirected ones).
    var commands: [RedisCommand]
    var parts: [Part] = []

    /// Positions grouped by node, in order of first appearance, so each node gets one sub-pipeline.
    static func group(_ positions: Range<Int>, by targets: [RedisAddress]) -> [(RedisAddress, [Int])] {
        var groups: [(RedisAddress, [Int])] = []
        var indexOf: [RedisAddress: Int] = [:]
        for (position, target) in zip(positions, targets) {
            if let index = indexOf[target] {
                groups[index].1.append(position)
            } else {
                indexOf[target] = groups.count
                groups.append((target, [position]))
            }
        }
        return groups
    }
}
