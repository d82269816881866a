import Kafka

/// The raw consume ceiling: a bare consumer that reads the backlog from where it starts through the same
/// `KafkaConsumer.pollBatch` path and settings as Vigil's pipeline, and does nothing with the records.
/// Vigil cannot consume faster than this on the same machine and broker.
struct ConsumeCeiling: Sendable, Codable {
    var messages: Int
    /// From the first batch received to the last.
    var seconds: Double
    /// Records after the first batch divided by `seconds`.
    var messagesPerSecond: Double
    /// From assignment to the last record (includes connection and first fetch).
    var totalSeconds: Double
    var completed: Bool

    static func measure(
        brokers: String, start: [TopicPartition: Int64], expected: Int, batchSize: Int, batchWaitMs: Int,
        stop: StopFlag
    ) throws -> ConsumeCeiling {
        let consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers,
            "client.id": "vigil-loadtest-ceiling",
            "group.id": "loadtest-ceiling-\(UInt32.random(in: 0...UInt32.max))",
            "enable.partition.eof": "false",
            // As Vigil's pipeline consumer (Sources/VigilService/Pipeline.swift).
            "fetch.wait.max.ms": "10",
            "socket.nagle.disable": "true",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        ])
        defer { try? consumer.close() }
        let assignedNs = MonotonicClock.nowNs()
        try consumer.assign(start)

        var count = 0
        var firstNs: Int64?
        var firstBatch = 0
        var lastNs = assignedNs
        var lastProgressNs = assignedNs
        let deadlineNs = assignedNs + 300_000_000_000
        while count < expected, !stop.isSet {
            let now = MonotonicClock.nowNs()
            if now > deadlineNs || now - lastProgressNs > 15_000_000_000 { break }
            let batch = try consumer.pollBatch(maxMessages: batchSize, timeoutMs: batchWaitMs)
            guard !batch.isEmpty else { continue }
            let received = MonotonicClock.nowNs()
            if firstNs == nil {
                firstNs = received
                firstBatch = batch.count
            }
            count += batch.count
            lastNs = received
            lastProgressNs = received
        }
        let seconds = Double(lastNs - (firstNs ?? lastNs)) / 1e9
        return ConsumeCeiling(
            messages: count,
            seconds: seconds,
            messagesPerSecond: seconds > 0 ? Double(count - firstBatch) / seconds : 0,
            totalSeconds: Double(lastNs - assignedNs) / 1e9,
            completed: count >= expected)
    }
}
