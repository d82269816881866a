import Dispatch
import Foundation
import Logging
import VigilCore

/// Keeps an instance on the models published in Redis (`ModelChannel`): polls the slots' versions, and when one
/// changes fetches that slot's JSON, compiles and validates it, and swaps it in. A model that does not load is refused
/// and logged, and the running one stays, as with files; it is fetched again only when its version changes (or on
/// SIGHUP). An emptied shadow slot ends shadow scoring; an emptied active slot changes nothing.
///
/// Blocking, with its own Redis connection; `ModelWatcher` calls it on a serial queue of its own, off the
/// cooperative pool and the hot path.
public final class ModelFollower: @unchecked Sendable {
    public let channel: ModelChannel
    public let holder: ModelHolder
    let logger: Logger
    /// The version last fetched per slot (whether accepted or refused; nil: the slot was empty). No entry until Redis
    /// has answered for that slot.
    var fetched: [ModelSlot: String?] = [:]
    /// Set while Redis does not answer, so the outage is logged once, not every poll.
    var unreachableSince: Date?
    let queue = DispatchQueue(label: "vigil.model-follower")

    /// Starts from the published active model if Redis has a valid one; otherwise (nothing published yet, Redis
    /// unreachable, or a published model that does not load) from `fallbackPath`, which must then load. Then
    /// follows the shadow slot too.
    /// Every model taken must be served by `catalog`.
    public init(channel: ModelChannel, fallbackPath: String, logger: Logger, catalog: FeatureCatalog = .default) throws {
        self.channel = channel
        self.logger = logger
        var initial: CompiledModel?
        var initialVersion: String??
        do {
            let published = try channel.fetch(.active)
            initialVersion = .some(published?.version)
            if let published {
                initial = Self.compile(published, slot: .active, channel: channel, logger: logger, catalog: catalog)
            }
        } catch {
            logger.warning("model channel unreachable at start, using the model file until it answers", metadata: [
                "redis": "\(channel.address)", "error": "\(error)",
            ])
            unreachableSince = Date()
        }
        if let initial {
            holder = ModelHolder(model: initial, catalog: catalog)
            logger.info("model loaded", metadata: [
                "model.slot": "active", "model.source": "redis \(channel.address) \(channel.jsonKey(.active))",
                "model.version": "\(initial.version)",
            ])
        } else {
            let (model, _) = try ModelHolder.load(fallbackPath, catalog: catalog)
            holder = ModelHolder(model: model, catalog: catalog)
            logger.info("model loaded", metadata: [
                "model.slot": "active", "model.source": "file \(fallbackPath) (nothing usable published in redis yet)",
                "model.version": "\(model.version)",
            ])
        }
        if let initialVersion { fetched[.active] = initialVersion }
        if unreachableSince == nil { poll(force: false) }
    }

    /// One poll: one MGET of the versions, plus one MGET per slot whose version changed (every slot with `force`).
    public func poll(force: Bool) {
        let versions: [ModelSlot: String]
        do {
            versions = try channel.versions()
        } catch {
            if unreachableSince == nil {
                logger.warning("model channel unreachable, keeping the running models", metadata: [
                    "redis": "\(channel.address)", "error": "\(error)",
                ])
                unreachableSince = Date()
            }
            return
        }
        if let since = unreachableSince {
            logger.info("model channel reachable again", metadata: [
                "redis": "\(channel.address)", "unreachable.seconds": "\(Int(Date().timeIntervalSince(since)))",
            ])
            unreachableSince = nil
        }
        for slot in ModelSlot.allCases {
            let version = versions[slot]
            if !force, let known = fetched[slot], known == version { continue }
            follow(slot, publishedVersion: version)
        }
    }

    /// `poll` on the follower's own queue.
    func pollOffThePool(force: Bool) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async {
                self.poll(force: force)
                done.resume()
            }
        }
    }

    private func follow(_ slot: ModelSlot, publishedVersion: String?) {
        let published: PublishedModel?
        if publishedVersion == nil {
            published = nil
        } else {
            do {
                published = try channel.fetch(slot)
            } catch {
                logger.warning("fetching the published model failed, will retry", metadata: [
                    "model.slot": "\(slot.rawValue)", "redis": "\(channel.address)", "error": "\(error)",
                ])
                return
            }
        }
        fetched[slot] = .some(published?.version)
        guard let published else {
            if slot == .shadow, let withdrawn = holder.shadow {
                holder.swapShadow(nil)
                logger.info("shadow model withdrawn, shadow scoring stopped", metadata: ["model.version": "\(withdrawn.version)"])
            }
            return
        }
        guard let model = Self.compile(
            published, slot: slot, channel: channel, logger: logger, catalog: holder.catalog,
            running: holder.model(in: slot))
        else {
            holder.noteRefusal()
            return
        }
        if holder.model(in: slot)?.version == model.version, holder.model(in: slot)?.file == model.file { return }
        holder.install(model, in: slot, from: "redis \(channel.address) \(channel.jsonKey(slot))", logger: logger)
    }

    /// The published model compiled, or nil (logged) if it does not load or its JSON names another version than
    /// its version key.
    static func compile(
        _ published: PublishedModel, slot: ModelSlot, channel: ModelChannel, logger: Logger, catalog: FeatureCatalog,
        running: CompiledModel? = nil
    ) -> CompiledModel? {
        do {
            let model = try CompiledModel(ModelFile.parse(Data(published.json)), servedBy: catalog)
            guard model.version == published.version else {
                throw ModelError.malformed(
                    "\(channel.versionKey(slot)) says \(published.version) but the model's version is \(model.version)")
            }
            return model
        } catch {
            logger.error("model rejected, keeping the running model", metadata: [
                "model.slot": "\(slot.rawValue)", "model.source": "redis \(channel.address) \(channel.jsonKey(slot))",
                "model.published": "\(published.version)", "error": "\(error)",
                "model.version": "\(running?.version ?? "none")",
            ])
            return nil
        }
    }
}
