import Foundation
import Logging
import Synchronization
import VigilCore

/// The models in force: the active model, which decides, and optionally a shadow candidate scored beside it. Each is
/// swapped atomically; a batch reads each once and scores every record with the same models.
public final class ModelHolder: Sendable {
    let current: Mutex<CompiledModel>
    let candidate: Mutex<CompiledModel?>
    let source: Mutex<FileFingerprint?>
    let shadowSource: Mutex<FileFingerprint?>
    public let path: String?
    /// The shadow model's file (`--shadow-model`), if it comes from a file.
    public let shadowPath: String?

    /// Loads and compiles `path` (and `shadowPath`); throws with the reason if a file is missing or invalid.
    public init(path: String, shadowPath: String? = nil) throws {
        let (model, fingerprint) = try Self.load(path)
        current = Mutex(model)
        source = Mutex(fingerprint)
        self.path = path
        if let shadowPath {
            let (shadow, shadowFingerprint) = try Self.load(shadowPath)
            candidate = Mutex(shadow)
            shadowSource = Mutex(shadowFingerprint)
        } else {
            candidate = Mutex(nil)
            shadowSource = Mutex(nil)
        }
        self.shadowPath = shadowPath
    }

    public init(model: CompiledModel, shadow: CompiledModel? = nil) {
        current = Mutex(model)
        candidate = Mutex(shadow)
        source = Mutex(nil)
        shadowSource = Mutex(nil)
        path = nil
        shadowPath = nil
    }

    public var model: CompiledModel { current.withLock { $0 } }

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
            let (model, loaded) = try Self.load(path)
            known.withLock { $0 = loaded }
            install(model, in: slot, from: "file \(path)", logger: logger)
            return model.version
        } catch {
            // Remember the bad file so it is not retried every poll, only when it changes again.
            known.withLock { $0 = fingerprint }
            logger.error("model rejected, keeping the running model", metadata: [
                "model.slot": "\(slot.rawValue)", "model.path": "\(path)", "error": "\(error)",
                "model.version": "\(self.model(in: slot)?.version ?? "none")",
            ])
            return nil
        }
    }

    static func load(_ path: String) throws -> (CompiledModel, FileFingerprint?) {
        let fingerprint = FileFingerprint(path: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError(path: path, reason: "cannot read the file")
        }
        do {
            return (try CompiledModel(ModelFile.parse(data)), fingerprint)
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
