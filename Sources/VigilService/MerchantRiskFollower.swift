import Dispatch
import Foundation
import Logging
import Redis
import Synchronization
import VigilCore

/// The merchant-risk snapshot the pipeline serves: its version and where its hash is.
public struct ServedMerchantRisk: Sendable, Equatable {
    public var version: String
    /// `<prefix>:{mrisk}:<version>`.
    public var hashKey: String
    /// The cut time the version names (`MerchantRiskVersion.cutTimeMs`), nil if it names none.
    public var cutMs: Int64?
}

/// Keeps an instance on the merchant-risk snapshot published in Redis (`docs/merchant-risk.md`): polls
/// `<prefix>:{mrisk}:current` (the model poll interval) and serves the version it names from then on. Every batch reads
/// `current` once and looks all its merchants up in that version, so a batch never mixes two snapshots; every
/// instance switches within one poll interval of a publish.
///
/// Nothing here ever stops the pipeline: when Redis cannot be asked the running version stays; when nothing is
/// published no snapshot is served (the no-snapshot defaults). Problems (here, and lookups that found no usable
/// table, reported by the pipeline) are counted in `vigil_merchant_risk_errors_total` and logged at most once a
/// minute.
///
/// Polls with its own connection on its own queue, off the hot path.
public final class MerchantRiskFollower: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    public let prefix: String
    let logger: Logger
    let stats: PipelineStats
    let queue = DispatchQueue(label: "vigil.merchant-risk")
    /// Only used on `queue`.
    private var connection: (any RedisClient)?
    private var timer: DispatchSourceTimer?
    private let served = Mutex<ServedMerchantRisk?>(nil)
    private let problemLog = Mutex(ProblemLogGate())

    /// Longest version accepted from `current` (a version is `{cut}-{12 hex}`, 33 bytes).
    static let maxVersionBytes = 128

    public init(endpoint: RedisEndpoint, prefix: String, logger: Logger, stats: PipelineStats) {
        self.endpoint = endpoint
        self.prefix = prefix
        self.logger = logger
        self.stats = stats
    }

    public var currentKey: String { RedisKeys(prefix: prefix).merchantRiskCurrent }
    public func hashKey(_ version: String) -> String { RedisKeys(prefix: prefix).merchantRiskSnapshot(version: version) }

    /// The snapshot batches use now; nil when none is served.
    public var current: ServedMerchantRisk? { served.withLock { $0 } }

    /// Polls once now, then every `intervalMs` on the follower's queue until `stop()`.
    public func start(intervalMs: Int) {
        queue.sync { pollOnQueue() }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(
            deadline: .now() + .milliseconds(intervalMs), repeating: .milliseconds(intervalMs), leeway: .milliseconds(10))
        timer.setEventHandler { [weak self] in self?.pollOnQueue() }
        timer.resume()
        queue.sync { self.timer = timer }
    }

    public func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
            connection?.close()
            connection = nil
        }
    }

    /// One poll, now (on the follower's queue).
    public func poll() { queue.sync { pollOnQueue() } }

    private func pollOnQueue() {
        let reply: RedisReply
        do {
            if connection == nil || connection!.isBroken {
                connection?.close()
                connection = try endpoint.open(connectTimeoutMs: 1000, commandTimeoutMs: 1000)
            }
            reply = try connection!.send("GET", currentKey)
        } catch {
            if connection?.isBroken == true { connection = nil }
            report("cannot read the served version, keeping the running snapshot", metadata: ["error": "\(error)"])
            return
        }
        let next: ServedMerchantRisk?
        switch reply {
        case .null:
            next = nil
        case .bulk(let bytes) where !bytes.isEmpty && bytes.count <= Self.maxVersionBytes:
            let version = String(decoding: bytes, as: UTF8.self)
            next = ServedMerchantRisk(
                version: version, hashKey: hashKey(version), cutMs: MerchantRiskVersion.cutTimeMs(of: version))
        default:
            report("the served version is not a version, keeping the running snapshot", metadata: [
                "key": "\(currentKey)", "reply": "\(String(describing: reply).prefix(200))",
            ])
            return
        }
        let previous = served.withLock { held in
            defer { held = next }
            return held
        }
        guard previous != next else { return }
        stats.update {
            $0.merchantRiskVersion = next?.version
            $0.merchantRiskCutMs = next?.cutMs
        }
        logger.info(next == nil ? "merchant-risk snapshot withdrawn, serving the no-snapshot defaults" : "merchant-risk snapshot served", metadata: [
            "merchant_risk.version": "\(next?.version ?? MerchantRiskVersion.none)",
            "merchant_risk.previous": "\(previous?.version ?? MerchantRiskVersion.none)",
        ])
        if let next, next.cutMs == nil {
            report("the served version names no cut time; its age is unknown", metadata: ["merchant_risk.version": "\(next.version)"])
        }
    }

    /// Counts a problem and logs it, at most once a minute (with how many were not logged since).
    func report(_ message: Logger.Message, metadata: Logger.Metadata = [:]) {
        stats.update { $0.merchantRiskErrors += 1 }
        guard let suppressed = problemLog.withLock({ $0.admit(now: Date()) }) else { return }
        var metadata = metadata
        metadata["merchant_risk.problems_not_logged"] = "\(suppressed)"
        logger.warning(message, metadata: metadata)
    }
}

/// Lets one log line through per interval and counts the others.
struct ProblemLogGate {
    var interval: TimeInterval = 60
    private var lastLogged: Date?
    private var suppressed = 0

    /// The number of problems not logged since the last line, when this one may be logged; nil otherwise.
    mutating func admit(now: Date) -> Int? {
        if let last = lastLogged, now.timeIntervalSince(last) < interval {
            suppressed += 1
            return nil
        }
        defer { suppressed = 0 }
        lastLogged = now
        return suppressed
    }
}
