import Dispatch
import Logging
import ServiceLifecycle

/// For an instance that started while Redis did not answer: checks Redis's `maxmemory-policy` as soon as Redis
/// answers, as the check at start would have. A policy that may evict (unless allowed) stops Vigil: the group shuts
/// down gracefully (batches in flight finish) and `vigil serve` exits with the reason. Then, or once the policy
/// passed, it has nothing more to do.
public struct RedisPolicyWatch: Service {
    let checks: StartupChecks
    let logger: Logger

    public init(checks: StartupChecks, logger: Logger) {
        self.checks = checks
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if let findings = await ask() {
                try checks.report(findings, heading: "Vigil stops")
                logger.info("redis answered, its maxmemory-policy is checked", metadata: ["redis": "\(checks.redisAddress)"])
                return
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// One attempt, off the cooperative pool (it blocks for up to a second).
    private func ask() async -> [StartupChecks.Finding]? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: checks.policyFindingsOnceRedisAnswers()) }
        }
    }
}
