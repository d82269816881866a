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

    /// A poll found nothing: idle if nothing is waiting, or waiting for the broker if it is unreachable (the lag is
    /// then stale). Records waiting on a reachable broker that no poll returns are no progress: a stuck fetch.
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
        }
    }
}
