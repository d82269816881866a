import Redis

/// Reads Redis's memory figures and counts Vigil's keys, on one server or on every master of a cluster (figures are
/// summed). One connection per server, used by one thread at a time.
final class RedisProbe: @unchecked Sendable {
    // @unchecked Sendable: the connections move between threads but are never shared at once (monitor thread
    // during the run, main thread after it).
    let nodes: [RedisAddress]
    private let connections: [RedisConnection]

    init(nodes: [RedisAddress]) throws {
        guard !nodes.isEmpty else { throw LoadTestError("no Redis server to measure") }
        self.nodes = nodes
        var opened: [RedisConnection] = []
        for node in nodes {
            do {
                let connection = try RedisConnection(
                    host: node.host, port: node.port, connectTimeoutMs: 2000, commandTimeoutMs: 5000)
                let pong = try connection.send("PING")
                guard pong == .status("PONG") else {
                    throw LoadTestError("Redis at \(node) answered PING with \(pong)")
                }
                opened.append(connection)
            } catch let error as RedisError {
                throw LoadTestError("Redis at \(node) is unreachable: \(error)")
            }
        }
        connections = opened
    }

    /// `used_memory` from INFO memory, bytes, summed over the servers; nil if one does not answer (reconnects on the
    /// next call).
    func usedMemory() -> Int64? {
        var total: Int64 = 0
        for connection in connections {
            if connection.isBroken { try? connection.reconnect() }
            guard let info = (try? connection.send("INFO", "memory"))?.string,
                let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("used_memory:") }),
                let bytes = Int64(line.dropFirst("used_memory:".count))
            else { return nil }
            total += bytes
        }
        return total
    }

    struct KeyFigures: Sendable, Codable {
        var dbsize: Int64
        var cardKeys: Int
        var partitionKeys: Int
        /// Mean `MEMORY USAGE` of up to 500 card keys (key, value, object and expiry overhead as Redis counts it).
        var sampledMemoryUsage: Double?
        var sampledKeys: Int
        var complete: Bool
    }

    /// Counts card and partition keys under the prefix with SCAN (bounded by `timeoutSeconds`) and samples the
    /// memory of some card keys.
    func keyFigures(prefix: String, timeoutSeconds: Double = 30) -> KeyFigures? {
        var sum: KeyFigures?
        var memory = 0.0
        for connection in connections {
            guard let one = keyFigures(prefix: prefix, on: connection, timeoutSeconds: timeoutSeconds) else { return nil }
            memory += (one.sampledMemoryUsage ?? 0) * Double(one.sampledKeys)
            guard var total = sum else {
                sum = one
                continue
            }
            total.dbsize += one.dbsize
            total.cardKeys += one.cardKeys
            total.partitionKeys += one.partitionKeys
            total.sampledKeys += one.sampledKeys
            total.complete = total.complete && one.complete
            sum = total
        }
        if var total = sum, total.sampledKeys > 0 {
            total.sampledMemoryUsage = memory / Double(total.sampledKeys)
            return total
        }
        return sum
    }

    private func keyFigures(prefix: String, on connection: RedisConnection, timeoutSeconds: Double) -> KeyFigures? {
        if connection.isBroken { try? connection.reconnect() }
        guard let dbsize = (try? connection.send("DBSIZE"))?.int else { return nil }
        let deadline = MonotonicClock.nowNs() + Int64(timeoutSeconds * 1e9)
        var cursor = "0"
        var cards = 0
        var partitions = 0
        var sample: [String] = []
        var complete = false
        repeat {
            guard MonotonicClock.nowNs() < deadline,
                  let reply = try? connection.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "2000"),
                  let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
            else { break }
            for key in keys {
                guard let name = key.string else { continue }
                // `<prefix>:{<tag>}:card:<id>` and `<prefix>:{<tag>}:part:<topic>:<n>` (docs/state.md).
                guard name.hasPrefix("\(prefix):") else { continue }
                if name.contains("}:card:") {
                    cards += 1
                    if sample.count < 500 { sample.append(name) }
                } else if name.contains("}:part:") {
                    partitions += 1
                }
            }
            cursor = next
            complete = cursor == "0"
        } while !complete
        var total: Int64 = 0
        var measured = 0
        if !sample.isEmpty,
           let replies = try? connection.pipeline(sample.map { RedisCommand(["MEMORY", "USAGE", $0]) }) {
            for reply in replies {
                if let bytes = reply.int {
                    total += bytes
                    measured += 1
                }
            }
        }
        return KeyFigures(
            dbsize: dbsize, cardKeys: cards, partitionKeys: partitions,
            sampledMemoryUsage: measured > 0 ? Double(total) / Double(measured) : nil, sampledKeys: measured,
            complete: complete)
    }

    /// Deletes every `{prefix}:*` key (used on a Redis the user gave, so the run leaves nothing behind).
    func deleteKeys(prefix: String, timeoutSeconds: Double = 60) -> Int {
        connections.reduce(0) { $0 + deleteKeys(prefix: prefix, on: $1, timeoutSeconds: timeoutSeconds) }
    }

    private func deleteKeys(prefix: String, on connection: RedisConnection, timeoutSeconds: Double) -> Int {
        if connection.isBroken { try? connection.reconnect() }
        let deadline = MonotonicClock.nowNs() + Int64(timeoutSeconds * 1e9)
        var cursor = "0"
        var deleted = 0
        repeat {
            guard MonotonicClock.nowNs() < deadline,
                  let reply = try? connection.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "2000"),
                  let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
            else { break }
            let names = keys.compactMap(\.string)
            // One key per UNLINK: on a cluster node, keys of one SCAN page are in different slots.
            if !names.isEmpty, let replies = try? connection.pipeline(names.map { RedisCommand(["UNLINK", $0]) }) {
                deleted += replies.reduce(0) { $0 + Int($1.int ?? 0) }
            }
            cursor = next
        } while cursor != "0"
        return deleted
    }
}
