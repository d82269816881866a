import Foundation
import Logging
import Synchronization
import VigilCore

/// The models in force: the active model, which decides, and optionally a shadow candidate scored beside it. Each is
/// swapped atomically; a batch reads each once and scores every record with the same models. Every model it takes
/// must be served by `catalog`: one naming a feature the running catalog does not serve is refused at load.
public final class ModelHolder: Sendable {
    /// The running feature catalog.
    public let catalog: FeatureCatalog
    /// Models refused on reload (file or Redis) since start; the running model stayed each time.
    let refusedCount = Atomic<Int>(0)
    let refusalStats = Mutex<PipelineStats?>(nil)
    let current: Mutex<CompiledModel>
    let candidate: Mutex<CompiledModel?>
    let source: Mutex<FileFingerprint?>
    let shadowSource: Mutex<FileFingerprint?>
    public let path: String?
    /// The shadow model's file (`--shadow-model`), if it comes from a file.
    public let shadowPath: String?

    /// Loads and compiles `path` (and `shadowPath`); throws with the reason if a file is missing or invalid, or names
    /// a feature `catalog` does not serve.
    public init(path: String, shadowPath: String? = nil, catalog: FeatureCatalog = .default) throws {
        self.catalog = catalog
        let (model, fingerprint) = try Self.load(path, catalog: catalog)
        current = Mutex(model)
        source = Mutex(fingerprint)
        self.path = path
        if let shadowPath {
            let (shadow, shadowFingerprint) = try Self.load(shadowPath, catalog: catalog)
            candidate = Mutex(shadow)
            shadowSource = Mutex(shadowFingerprint)
        } else {
            candidate = Mutex(nil)
            shadowSource = Mutex(nil)
        }
        self.shadowPath = shadowPath
    }

    /// Holds compiled models as they are; the caller has checked them against `catalog`.
    public init(model: CompiledModel, shadow: CompiledModel? = nil, catalog: FeatureCatalog = .default) {
        self.catalog = catalog
        current = Mutex(model)
        candidate = Mutex(shadow)
        source = Mutex(nil)
        shadowSource = Mutex(nil)
        path = nil
        shadowPath = nil
    }

    public var model: CompiledModel { current.withLock { $0 } }

    /// Models refused on reload since start.
    public var refusals: Int { refusedCount.load(ordering: .relaxed) }

    func noteRefusal() {
        refusedCount.add(1, ordering: .relaxed)
        refusalStats.withLock { $0 }?.update { $0.modelsRefused += 1 }
    }

    /// Counts refusals in `stats` (`vigil_models_refused_total`), from those so far on.
    func reportRefusals(to stats: PipelineStats) {
        refusalStats.withLock { $0 = stats }
        let soFar = refusals
        stats.update { $0.modelsRefused = soFar }
    }

    /// The candidate scored in shadow, if any.
    public var shadow: CompiledModel? { candidate.withLock { $0 } }

    public func swap(_ model: CompiledModel) { current.withLock { $0 = model } }

    public func swapShadow(_ model: CompiledModel?) { candidate.withLock { $0 = model } }

    /// The model in `slot`.
    public func model(in slot: ModelSlot) -> CompiledModel? {
        switch slot {
        case .active: model
        case .shadow: shadow
        }
    }

    /// Puts `model` in `slot` and logs where it came from.
    func install(_ model: CompiledModel, in slot: ModelSlot, from origin: String, logger: Logger) {
        let previous = self.model(in: slot)?.version ?? "none"
        switch slot {
        case .active: swap(model)
        case .shadow: swapShadow(model)
        }
        logger.info(slot == .active ? "model loaded" : "shadow model loaded", metadata: [
            "model.slot": "\(slot.rawValue)", "model.source": "\(origin)", "model.version": "\(model.version)",
            "model.previous": "\(previous)",
        ])
    }

    /// Reloads the files if they changed (or always, with `force`). A bad file is rejected and the running model stays.
    /// Returns the new version if a new active model was swapped in.
    @discardableResult
    public func reloadIfChanged(force: Bool = false, logger: Logger) -> String? {
        if let shadowPath { reload(.shadow, from: shadowPath, fingerprint: shadowSource, force: force, logger: logger) }
        guard let path else { return nil }
        return reload(.active, from: path, fingerprint: source, force: force, logger: logger)
    }

    private func reload(
        _ slot: ModelSlot, from path: String, fingerprint known: borrowing Mutex<FileFingerprint?>, force: Bool, logger: Logger
    ) -> String? {
        let fingerprint = FileFingerprint(path: path)
        if !force, fingerprint == known.withLock({ $0 }) { return nil }
        do {
            let (model, loaded) = try Self.load(path, catalog: catalog)
            known.withLock { $0 = loaded }
            install(model, in: slot, from: "file \(path)", logger: logger)
            return model.version
        } catch {
            // Remember the bad file so it is not retried every poll, only when it changes again.
            known.withLock { $0 = fingerprint }
            noteRefusal()
            logger.error("model rejected, keeping the running model", metadata: [
                "model.slot": "\(slot.rawValue)", "model.path": "\(path)", "error": "\(error)",
                "model.version": "\(self.model(in: slot)?.version ?? "none")",
            ])
            return nil
        }
    }

    static func load(_ path: String, catalog: FeatureCatalog) throws -> (CompiledModel, FileFingerprint?) {
        let fingerprint = FileFingerprint(path: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError(path: path, reason: "cannot read the file")
        }
        do {
            return (try CompiledModel(ModelFile.parse(data), servedBy: catalog), fingerprint)
        } catch {
            throw ModelLoadError(path: path, reason: error.description)
        }
    }
}

public struct ModelLoadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "model \(path): \(reason)" }
}

/// Size and modification time of a file, to notice changes cheaply.
struct FileFingerprint: Equatable, Sendable {
    var size: UInt64
    var modified: Double

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? UInt64,
              let date = attributes[.modificationDate] as? Date else { return nil }
        self.size = size
        modified = date.timeIntervalSince1970
    }
}
