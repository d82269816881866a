import Redis

/// Reads Redis's memory figures and counts Vigil's keys. One connection, used by one thread at a time.
final class RedisProbe: @unchecked Sendable {
    // @unchecked Sendable: the connection moves between threads but is never shared at once (monitor thread
    // during the run, main thread after it).
    let host: String
    let port: Int
    private let connection: RedisConnection

    init(host: String, port: Int) throws {
        self.host = host
        self.port = port
        do {
            connection = try RedisConnection(host: host, port: port, connectTimeoutMs: 2000, commandTimeoutMs: 5000)
            let pong = try connection.send("PING")
            guard pong == .status("PONG") else {
                throw LoadTestError("Redis at \(host):\(port) answered PING with \(pong)")
            }
        } catch let error as RedisError {
            throw LoadTestError("Redis at \(host):\(port) is unreachable: \(error)")
        }
    }

    /// `used_memory` from INFO memory, bytes; nil if Redis does not answer (reconnects on the next call).
    func usedMemory() -> Int64? {
        if connection.isBroken { try? connection.reconnect() }
        guard let info = (try? connection.send("INFO", "memory"))?.string else { return nil }
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("used_memory:") {
            return Int64(line.dropFirst("used_memory:".count))
        }
        return nil
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

    /// Counts `{prefix}:card:*` and `{prefix}:part:*` keys with SCAN (bounded by `timeoutSeconds`) and samples the
    /// memory of some card keys.
    func keyFigures(prefix: String, timeoutSeconds: Double = 30) -> KeyFigures? {
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
                if name.hasPrefix("\(prefix):card:") {
                    cards += 1
                    if sample.count < 500 { sample.append(name) }
                } else if name.hasPrefix("\(prefix):part:") {
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
            if !names.isEmpty, let count = (try? connection.send(RedisCommand(["UNLINK"] + names)))?.int {
                deleted += Int(count)
            }
            cursor = next
        } while cursor != "0"
        return deleted
    }
}
