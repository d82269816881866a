import Kafka

/// How the pipeline reports to `ProbeState`.
extension Pipeline {
    /// Whether a Redis condition pauses consumption until Redis takes writes again: every one but an unknown error
    /// reply, which is retried as a failed batch.
    func pausesConsumption(_ condition: RedisCondition) -> Bool {
        switch condition {
        case .answering, .refused: false
        default: true
        }
    }

    /// A poll found nothing: idle if nothing is waiting, waiting for the broker if it is unreachable (the lag is then
    /// stale), else waiting behind the last stable offset: a publisher's transaction left open holds `read_committed`
    /// readers below the high watermark for up to its `transaction.timeout.ms`, and failing `/healthz` for that would
    /// restart healthy instances that stop at the same offset. The pipeline thread polling is itself the progress; a
    /// blocked stage stops it polling.
    /// "Waiting" compares the cached high watermark with librdkafka's own position, which steps over transaction
    /// markers and aborted records (librdkafka >= 1.4), so an idle input written in transactions is idle.
    func noteEmptyPoll() {
        let owned = partitions.assigned.filter { !partitions.isFenced($0) }
        let positions = (try? consumer.positions(owned)) ?? [:]
        let waiting = owned.contains { tp in
            guard let high = consumer.cachedWatermarks(tp)?.high, let position = positions[tp] else { return false }
            return high > position
        }
        if !waiting {
            probes.note(.idle)
        } else if case .unreachable = probes.broker {
            probes.note(.waitingForBroker)
        } else {
            probes.note(.waitingForStableOffset)
        }
    }
}
