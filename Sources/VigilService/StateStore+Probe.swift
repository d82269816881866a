import Redis

extension StateStore {
    /// Whether Redis takes writes now: nil if it does, else what it said. A write (`SET {prefix}:probe`, expiring in
    /// 10 s), not a `PING`, because a Redis out of memory, a read-only replica or one that cannot persist answers
    /// `PING` but refuses the batch script.
    func probeWrite() -> RedisCondition? {
        let key = "\(prefix):probe"
        let result = Result { () throws(StateStoreError) in
            try run { c throws(RedisError) in try c.send("SET", key, "1", "PX", "10000") }
        }
        switch result {
        case .success(.error(let text)): return RedisCondition.of(errorReply: text)
        case .success: return nil
        case .failure(let error): return RedisCondition.of(error) ?? .unreachable("\(error)")
        }
    }
}
