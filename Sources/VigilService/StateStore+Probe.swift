import Redis

extension StateStore {
    /// Whether Redis takes writes now: nil if it does, else what it said. A write (`SET <prefix>:probe`, expiring in
    /// 10 s), not a `PING`, because a Redis out of memory, a read-only replica or one that cannot persist answers
    /// `PING` but refuses the batch script. On a Redis Cluster one probe key per partition, on that partition's slot,
    /// one on the merchant-risk slot (every batch of catalog 2 reads there) and one on the deployment key's slot
    /// (every claim checks it), so Vigil resumes only once every node its batches need takes writes (after a
    /// failover: once the replica is promoted and the client has the new slot map).
    func probeWrite(partitions: [Int32] = []) -> RedisCondition? {
        let probeKeys = endpoint.cluster
            ? Set(partitions).sorted().map { keys.probe(partition: $0) } + [keys.merchantRiskProbe, keys.deploymentProbe]
            : [keys.probe]
        let result = Result { () throws(StateStoreError) in
            try run { c throws(RedisError) in
                try c.pipelineEach(probeKeys.map { RedisCommand(["SET", $0, "1", "PX", "10000"]) })
            }
        }
        switch result {
        case .success(let replies):
            for reply in replies {
                switch reply {
                case .success(.error(let text)): return RedisCondition.of(errorReply: text)
                case .success: continue
                case .failure(let error): return RedisCondition.of(error)
                }
            }
            return nil
        case .failure(let error): return RedisCondition.of(error) ?? .unreachable("\(error)")
        }
    }
}
