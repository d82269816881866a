import Foundation
import Kafka

/// Consumption stopped because Redis does not answer: which partitions are paused and where each resumes. A plain
/// value (`RedisOutageTests`); the pipeline thread pauses, seeks and resumes as it says.
struct RedisOutage {
    var since: Date
    /// Where each partition's processing ends: the failed batches' first offsets, otherwise the position when the
    /// outage began, lowered to the first record that arrived during the outage (a paused partition should deliver
    /// none; if one does, it is not processed now, so its partition must come back to it).
    var resumeAt: [TopicPartition: Int64]
    private(set) var paused: Set<TopicPartition> = []

    init(since: Date, resumeAt: [TopicPartition: Int64]) {
        self.since = since
        self.resumeAt = resumeAt
    }

    /// A record of `tp` at `offset` arrived during the outage.
    mutating func arrived(_ tp: TopicPartition, at offset: Int64) {
        resumeAt[tp] = min(resumeAt[tp] ?? offset, offset)
    }

    /// The group took `tps` away during the outage: returns those that were paused, to be resumed before they go
    /// (librdkafka keeps a partition's pause across a revoke and a new assignment, which would stall it for good),
    /// and forgets them: a new assignment starts where its claim says, and is paused again while the outage lasts.
    mutating func revoked(_ tps: [TopicPartition]) -> [TopicPartition] {
        let wasPaused = tps.filter { paused.contains($0) }
        for tp in tps {
            paused.remove(tp)
            resumeAt[tp] = nil
        }
        return wasPaused
    }

    /// Pauses (through `pause`) every partition of `assigned` not paused yet: also those assigned during the outage.
    mutating func pauseNew(_ assigned: [TopicPartition], _ pause: ([TopicPartition]) -> Void) {
        let new = assigned.filter { !paused.contains($0) }
        guard !new.isEmpty else { return }
        pause(new)
        paused.formUnion(new)
    }
}
